"""``ask``: from a question and the caller's scope to an answer.

1. The conversation's previous turn is loaded (a follow-up refines it).
2. The router splits a two-part question, finds each part's entities and the agent that owns it.
3. Each agent answers (LLM when configured, else the deterministic planner; metric questions through the
   semantic layer), every query through the guard with the caller's scope.
4. Plugins post-process each answer (``process_answer``); the turn is stored.

Nothing here raises for a bad question: refusals and failures come back as answers with ``refused`` or
``error`` set and a message for the person who asked.
"""

from __future__ import annotations

import logging
import re
import time

from agents.answer import Answer
from agents.base import AgentContext
from agents.catalog import get_catalog
from agents.compose import (MEASURE_WORDS, compare_answers, find_comparison, find_share, share_answer,
                            share_by_group, side_label, whole_of, without_side)
from agents.conversations import check_owner, default_store
from agents.entities import Vocabulary, load_vocabulary
from agents.errors import AgentError, QueryFailed, Refusal
from agents.plugins import get_plugin_manager, registered_agents, registered_tools
from agents.reading import clarification, collecting, correct_spelling, lexicon, read
from agents.router import (DRAFT_EDIT, Entities, Route, extract_entities, is_refinement, merge_refinement,
                           split_question, time_shift)
from agents.scope import Scope
from agents.timeparse import find_time
from scc.config import get_settings

log = logging.getLogger(__name__)

ENTITY_BOOSTS = {
    "pipeline": lambda e: 1.5 * bool(e.stages or e.forecast) + 1.0 * (e.deal_state in ("won", "lost")),
    "customers": lambda e: 1.5 * bool(e.health) + 0.5 * bool(e.customers or e.industries),
    "orders": lambda e: 1.0 * bool(e.order_status) + 1.0 * bool(e.invoice_status),
    "products": lambda e: 1.0 * bool(e.categories or e.products),
}
MAX_QUESTION = 2000
HELP = "help"
PLANNER_PATHS = ("planner", "semantic_layer")  # answers the deterministic planner wrote (not the LLM's)


def _vocabulary(catalog, settings) -> Vocabulary:
    try:
        return load_vocabulary(catalog, settings)
    except AgentError as error:
        log.info("no vocabulary yet: %s", error)
        return Vocabulary().build()


def score_agents(text: str, entities: Entities, agents: dict) -> dict[str, float]:
    route = Route(text=text, agent="", entities=entities)
    scores = {}
    for name, agent in agents.items():
        try:
            score = float(agent.score(text, route))
        except Exception:  # noqa: BLE001 - a plugin's bug must not break routing
            log.exception("agent %s failed to score", name)
            score = 0.0
        scores[name] = score + ENTITY_BOOSTS.get(name, lambda e: 0)(entities)
    return scores


def route_question(question: str, *, agents: dict, vocabulary: Vocabulary, today, previous: dict | None = None,
                   llm: bool = False) -> list[Route]:
    """The routes of a question: one per part, each with its agent and entities."""

    def looks_complete(part: str) -> bool:
        ents = extract_entities(part, vocabulary, today)
        return max(score_agents(part, ents, agents).values() or [0]) >= 2.0

    parts = split_question(question, looks_complete) if len(question) < 400 else [question]
    prev_route = None
    if previous and previous.get("routes"):
        prev_route = Route.from_dict(previous["routes"][-1])
    routes: list[Route] = []
    for part in parts:
        ents = extract_entities(part, vocabulary, today)
        scores = score_agents(part, ents, agents)
        best = max(scores, key=lambda k: scores[k]) if scores else ""
        best_score = scores.get(best, 0.0)
        edits_draft = prev_route is not None and prev_route.agent == "transactions" and DRAFT_EDIT.search(part)
        if prev_route is not None and prev_route.agent in agents and (edits_draft or is_refinement(part, best_score, ents)):
            merged = merge_refinement(prev_route.entities, ents, part)
            shifted = time_shift(prev_route.entities.time, part)
            routes.append(Route(text=part, agent=prev_route.agent, entities=merged, scores=scores, refinement=True,
                                base_text=prev_route.question, composed=[shifted[1]] if shifted else []))
            continue
        if best_score <= 0 and not llm:
            best = HELP
        routes.append(Route(text=part, agent=best, entities=ents, scores=scores))
    # A period said once applies to every part: "orders today and my win rate" -> both today.
    times = [r.entities.time for r in routes if r.entities.time]
    if len(routes) > 1 and len(times) == 1:
        for r in routes:
            r.entities.time = r.entities.time or times[0]
    return routes


def limit_to_scope(route: Route, context: AgentContext) -> list[str]:
    """Customers and reps the caller cannot see are not matched: their names stay the caller's own words
    (so an answer never spells out, or suggests, a name from outside the caller's scope). Returns those
    words."""
    outside: list[str] = []
    for attr, mart, column in (("customers", "dim_customers", "customer_id"), ("reps", "dim_sales_reps", "rep_id")):
        matches = getattr(route.entities, attr)
        if not matches:
            continue
        visible = context.visible_ids(mart, column)
        if visible is None:
            continue
        keep = [m for m in matches if str(m.id) in visible]
        for m in matches:
            if m not in keep and m.phrase not in route.entities.unknown:
                route.entities.unknown.append(m.phrase)
                outside.append(m.phrase)
        setattr(route.entities, attr, keep)
    for attr, column in (("territories", "territory"), ("regions", "region")):  # "the Midwest", for a Pacific manager
        named = getattr(route.entities, attr)
        visible = context.visible_ids("dim_sales_reps", column) if named else None
        if visible is None:
            continue
        outside += [value for value in named if value not in visible]
        setattr(route.entities, attr, [value for value in named if value in visible])
    return outside


def not_in_scope(question: str, names: list[str], scope: Scope) -> Answer:
    """The answer for a question that names a customer or rep outside the caller's scope: it says so, in
    the caller's own words, and tells nothing about them (not even whether the name exists elsewhere)."""
    book = "your book" if scope.role == "sales_rep" else f"the {scope.territory} territory"
    said = " and ".join(f"“{n}”" for n in dict.fromkeys(names))
    verb = "is" if len(set(names)) == 1 else "are"
    return Answer(question=question, text=f"{said} {verb} not in {book}: I can only answer about {scope.describe()}.",
                  path="planner", agent="scope", intent="out_of_scope")


_lexicons: dict[int, set[str]] = {}


def _known_words(vocabulary: Vocabulary, agents: dict) -> set[str]:
    """The spelling lexicon, built once per vocabulary."""
    key = id(vocabulary)
    if key not in _lexicons:
        _lexicons.clear()
        _lexicons[key] = lexicon(vocabulary, agents)
    return _lexicons[key]


def _refusal(question: str, error: AgentError, agent: str = "") -> Answer:
    return Answer(question=question, text=error.message, path="refused", agent=agent, refused=True,
                  error=error.code, extra={"detail": error.detail} if error.detail else {})


def _failure(question: str, error: AgentError, agent: str = "") -> Answer:
    return Answer(question=question, text=error.message, path="error", agent=agent, error=error.code,
                  extra={"detail": error.detail} if error.detail else {})


def help_answer(route: Route, context: AgentContext) -> Answer:
    examples = [e for a in context.agents.values() for e in a.examples[:1]]
    text = ("I answer questions about orders, pipeline, customers and products, and draft sales orders. "
            "For example: " + "; ".join(f'"{e}"' for e in examples[:5]) + ".")
    return Answer(question=route.text, text=text, path="planner", agent="help", intent="help",
                  entities=route.entities.filters(), follow_ups=examples[:4])


def answer_route(route: Route, context: AgentContext, corrections: list[tuple[str, str]] = ()) -> Answer:
    if route.agent == HELP:
        return help_answer(route, context)
    agent = context.agents.get(route.agent)
    if agent is None:
        return Answer(question=route.text, text="No agent can answer that yet.", path="error", error="no_agent")
    context.notes = []
    try:
        with collecting() as planner_spans:
            answer = agent.answer(route, context)
    except Refusal as error:
        answer = _refusal(route.text, error, agent.name)
    except AgentError as error:
        answer = _failure(route.text, error, agent.name)
    except Exception as error:  # noqa: BLE001 - never a 500 for a question
        log.exception("agent %s failed on %r", agent.name, route.text)
        answer = _failure(route.text, QueryFailed(f"The {agent.name} agent failed on this question ({type(error).__name__}).",
                                                  detail=str(error)), agent.name)
    answer.agent = answer.agent or agent.name
    if not answer.entities:
        answer.entities = route.entities.filters()
    answer.llm_calls, answer.llm_tokens = context.llm_calls, context.llm_tokens
    if answer.ok and answer.path in PLANNER_PATHS and getattr(agent, "checks_reading", True):
        reading = read(route, agent, context.vocabulary, context.today, planner_spans, answer=answer,
                       corrections=corrections)
        answer.reading = reading.to_dict()
        if reading.questionable and not answer.draft:
            answer = clarification(route, reading, answer)
    pm = get_plugin_manager()
    for replacement in pm.hook.process_answer(answer=answer, route=route, context=context):
        if isinstance(replacement, Answer):
            answer = replacement
    return answer


def _edits_open_draft(previous: dict | None, question: str) -> bool:
    from agents.guard import SYSTEM_INTENT

    draft = ((previous or {}).get("answer") or {}).get("draft")
    return bool(draft) and bool(DRAFT_EDIT.search(question)) and not SYSTEM_INTENT.search(question) \
        and len(question) < 120


def answer_comparison(route: Route, comparison, context: AgentContext, corrections) -> Answer:
    """"X this quarter vs last quarter", "West versus East": the question answered once per side, then side
    by side (agents.compose); a side that does not answer as a figure or a table gets the question back."""
    sides = []
    for side in comparison.sides:
        one = Route(text=route.text, agent=route.agent, entities=without_side(route.entities, comparison, side),
                    scores=route.scores, composed=[*comparison.words, *_other_side_words(comparison, side)])
        sides.append(answer_route(one, context, corrections))
    combined = compare_answers(route.text, comparison, sides)
    if combined is None:
        failed = next((a for a in sides if not a.ok), sides[0])
        return failed if not failed.ok else Answer(
            question=route.text, text="I can compare two figures or two tables of the same kind, and these two "
            "answers are not: ask for each side on its own.", path="planner", agent=route.agent, intent="clarify",
            error="clarify", follow_ups=[])
    combined.reading = {**(sides[0].reading or {}), "comparison": [str(side_label(comparison, s))
                                                                    for s in comparison.sides]}
    return combined


def answer_share(route: Route, share, context: AgentContext, corrections) -> Answer:
    """"What share of bookings comes from Disney?": the part and the whole answered, and divided."""
    # A share is of a figure: "what percent of orders are cancelled" asks how many, not for the list.
    text = route.text if re.search(MEASURE_WORDS["money"], route.text, re.I) else f"how many {route.text}"
    if share.by_group:  # "share of pipeline by territory": the breakdown, each group's share beside it
        answer = answer_route(Route(text=text, agent=route.agent, entities=route.entities, scores=route.scores,
                                    composed=list(share.words)), context, corrections)
        combined = share_by_group(route.text, answer)
        if combined is None:
            return answer if not answer.ok else _no_share(route, "I can give each group's share of an amount or a "
                                                          "count, not of this figure: ask for the breakdown on its own.")
        combined.reading = answer.reading
        return combined
    part_route = Route(text=text, agent=route.agent, entities=route.entities, scores=route.scores,
                       composed=list(share.words))
    whole_route = Route(text=text, agent=route.agent, entities=whole_of(route.entities, share),
                        scores=route.scores, composed=list(share.words))
    part, whole = answer_route(part_route, context, corrections), answer_route(whole_route, context, corrections)
    combined = share_answer(route.text, share, part, whole)
    if combined is None:
        failed = part if not part.ok else whole
        return failed if not failed.ok else _no_share(route, "I can give the share of one figure, and this question "
                                                      "gives a list: ask for the part and the whole on their own.")
    combined.reading = part.reading
    return combined


def _no_share(route: Route, text: str) -> Answer:
    """A share the answers cannot give: said, with no figure."""
    return Answer(question=route.text, text=text, path="planner", agent=route.agent, intent="clarify", error="clarify")


def _other_side_words(comparison, side) -> list[str]:
    """The words naming the other side: used by the comparison, not by this side's answer."""
    out = []
    for other in comparison.sides:
        if other is side:
            continue
        out.append(other.phrase if comparison.kind == "time" else getattr(other, "phrase", None) or str(other))
    return [w for w in out if w]


def ask(question: str, scope: Scope, *, conversation_id: str | None = None, settings=None, store=None,
        llm=None) -> Answer:
    """Answer ``question`` for the caller ``scope``.

    ``conversation_id``: continue a conversation (a follow-up refines its last question); a new one is
    started when None and its id returned in ``answer.conversation_id``. ``store``: a conversation store
    (default: SQLite under the data folder). ``llm``: an LLM client (default: from the settings).
    """
    started = time.perf_counter()
    settings = settings or get_settings()
    question = (question or "").strip()
    if not isinstance(scope, Scope):
        raise TypeError("ask() needs the caller's Scope")
    if not question:
        return Answer(question="", text="Ask a question about orders, pipeline, customers or products.",
                      path="error", error="empty")
    if len(question) > MAX_QUESTION:
        return _refusal(question[:200], Refusal(f"Questions are limited to {MAX_QUESTION} characters."))
    from agents.guard import screen_question

    refusal = screen_question(question)
    store = store if store is not None else default_store(settings)
    previous = None
    try:
        if conversation_id and check_owner(store, conversation_id, scope.key):
            previous = store.last_turn(conversation_id)
        elif conversation_id:
            conversation_id = None
    except Refusal as error:
        return _refusal(question, error)
    if refusal is not None and _edits_open_draft(previous, question):
        refusal = None  # "remove the mugs" edits the draft on the table; it writes nothing
    if refusal is not None:
        answer = _refusal(question, refusal)
        for replacement in get_plugin_manager().hook.process_answer(answer=answer, route=None, context=None):
            if isinstance(replacement, Answer):
                answer = replacement
        return _record(answer, question, scope, store, conversation_id, [], started)
    if llm is None and settings.llm_model:
        from agents.llm import LLMClient

        llm = LLMClient.from_settings(settings)
    try:
        catalog = get_catalog(settings)
    except Exception as error:  # noqa: BLE001
        log.exception("catalogue")
        return _failure(question, QueryFailed("The catalogue of marts could not be read.", detail=str(error)))
    from scc.config import today as clock

    today = settings.today or clock()
    vocabulary = _vocabulary(catalog, settings)
    agents = registered_agents()
    context = AgentContext(scope=scope, settings=settings, catalog=catalog, vocabulary=vocabulary, today=today,
                           tools=registered_tools(), llm=llm, previous=previous, agents=agents)
    corrections: list[tuple[str, str]] = []
    if llm is None:
        question, corrections = correct_spelling(question, _known_words(vocabulary, agents))
    routes = route_question(question, agents=agents, vocabulary=vocabulary, today=today, previous=previous,
                            llm=llm is not None)
    if not routes:  # nothing recognisable (only punctuation, say): tell what can be asked
        examples = [e for a in agents.values() for e in a.examples[:1]]
        answer = Answer(question=question, text="I could not tell what you are asking. Try, for example: "
                        + "; ".join(f'"{e}"' for e in examples[:4]) + ".", path="planner", agent="help",
                        intent="help", follow_ups=examples[:4])
        return _record(answer, question, scope, store, conversation_id, routes, started)
    outside: list[str] = []
    for route in routes:
        dropped = limit_to_scope(route, context)
        if getattr(agents.get(route.agent), "checks_reading", False):  # (a draft says so on its own card)
            outside += dropped
    if outside:
        answer = not_in_scope(question, outside, scope)
        return _record(answer, question, scope, store, conversation_id, routes, started)
    comparison = find_comparison(routes[0].text, routes[0].entities, find_time(routes[0].text, today)) \
        if len(routes) == 1 and not routes[0].refinement else None
    if comparison is not None:
        answer = answer_comparison(routes[0], comparison, context, corrections)
        return _record(answer, question, scope, store, conversation_id, routes, started)
    share = find_share(routes[0].text, routes[0].entities) if len(routes) == 1 else None
    if share is not None:
        answer = answer_share(routes[0], share, context, corrections)
        return _record(answer, question, scope, store, conversation_id, routes, started)
    answers = [answer_route(route, context, corrections) for route in routes]
    if len(answers) == 1:
        answer = answers[0]
        answer.question = question
    else:
        answer = Answer(
            question=question, text=" ".join(a.text for a in answers), path=answers[0].path,
            agent="+".join(a.agent for a in answers), intent="multi", parts=answers,
            follow_ups=[f for a in answers for f in a.follow_ups][:4],
            refused=all(a.refused for a in answers), llm_calls=context.llm_calls, llm_tokens=context.llm_tokens,
        )
        first = next((a for a in answers if a.rows), answers[0])
        answer.columns, answer.rows, answer.chart, answer.sql = first.columns, first.rows, first.chart, first.sql
        answer.metrics = [m for a in answers for m in a.metrics]
    return _record(answer, question, scope, store, conversation_id, routes, started)


def _record(answer: Answer, question: str, scope: Scope, store, conversation_id, routes, started) -> Answer:
    answer.scope = scope.key
    if conversation_id is None:
        conversation_id = store.start(scope.key, question)
    answer.conversation_id = conversation_id
    answer.seconds = time.perf_counter() - started
    answer.turn = store.add_turn(conversation_id, question, answer.to_dict(), [r.to_dict() for r in routes])
    return answer


def draft_order(sentence: str, scope: Scope, *, settings=None) -> dict:
    """The transactions agent's draft sales order for ``sentence`` (customer, lines with item, quantity and
    unit price, and what it could not resolve). Validation and submission belong to the API."""
    settings = settings or get_settings()
    from plugins.transactions import build_draft
    from scc.config import today as clock

    catalog = get_catalog(settings)
    vocabulary = _vocabulary(catalog, settings)
    context = AgentContext(scope=scope, settings=settings, catalog=catalog, vocabulary=vocabulary,
                           today=settings.today or clock(), tools=registered_tools(), agents=registered_agents())
    return build_draft(sentence, context)
