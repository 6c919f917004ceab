"""What agents are made of: the :class:`Agent` base class, the :class:`Plan` a planner returns, the
:class:`Tool` plugins can add, and the :class:`AgentContext` every agent works through.

An agent scores questions (``score``), plans the common ones without an LLM (``plan``) and may take
over answering completely (``answer``: the transactions and insights agents do). Everything it reads
goes through ``context.run_sql`` / ``context.run_metrics``, i.e. through the guard with the caller's
scope; an agent never opens a connection itself.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from agents.answer import NOT_ADDITIVE, Answer, chart_for, describe_result, display_name
from agents.catalog import Catalog
from agents.compose import rank_plan
from agents.entities import Vocabulary
from agents.errors import AgentError, QueryFailed
from agents.guard import QueryResult, run_sql
from agents.metrics import MetricQuery, SemanticUnavailable, compile_query, semantic_error_types
from agents.router import Route
from agents.scope import Scope, limit_to_scope

log = logging.getLogger(__name__)

# What each scope may see, by (warehouse state, scope, mart, column): see AgentContext.visible_ids.
_VISIBLE: dict[tuple, set[str]] = {}


@dataclass
class Plan:
    """How to answer one question: a metric query of the semantic layer and/or SQL over the marts."""

    title: str
    sql: str | None = None                 # SQL over the marts (the planner's, or the fallback of a metric)
    metric: MetricQuery | None = None      # compiled by the semantic layer when it is available
    wrap: str | None = None                # SQL around the semantic layer's query: "SELECT ... FROM ({sql}) m"
    intent: str = ""
    kind: str = "value"                    # value, list, breakdown, trend
    metrics_used: list[str] = field(default_factory=list)
    empty_text: str = ""
    describe: Callable[[QueryResult], str] | None = None
    chart: dict | None = None
    notes: list[str] = field(default_factory=list)   # said after the main text (e.g. "no product matches X")


@dataclass
class Tool:
    """A function agents (and the LLM, through a ``tool`` plan) may call: ``fn(context, **arguments)``."""

    name: str
    description: str
    fn: Callable[..., Any]
    parameters: dict = field(default_factory=lambda: {"type": "object", "properties": {}})


class Agent:
    """Base class of every agent. Subclass it, set the class attributes, override ``plan``."""

    name: str = ""
    title: str = ""
    description: str = ""
    marts: tuple[str, ...] = ()                 # the marts it plans over (what the LLM is shown first)
    keywords: dict[str, float] = {}             # regular expression -> weight, for ``score``
    examples: tuple[str, ...] = ()              # questions it answers (docs and the LLM prompt)
    uses_llm: bool = True                       # plan with the LLM when one is configured
    checks_reading: bool = True                 # ask back when a word that looks like a filter went unused
                                                # (agents.reading); off for agents that read sentences freely

    def score(self, text: str, route: Route) -> float:
        """How much this agent owns ``text`` (0: not at all). The router picks the highest."""
        lowered = text.lower()
        return sum(w for rx, w in self.keywords.items() if re.search(rx, lowered))

    def plan(self, route: Route, context: "AgentContext") -> Plan | None:
        """The deterministic plan for a question, or None when this agent has none."""
        return None

    def follow_ups(self, route: Route, plan: Plan | None, result: QueryResult | None) -> list[str]:
        return []

    def answer(self, route: Route, context: "AgentContext") -> Answer:
        """Answer a routed question. The default: LLM when configured (falling back to the planner when
        the model cannot be reached), else the deterministic planner."""
        if context.llm is not None and self.uses_llm:
            from agents.llm import LLMUnavailable

            try:
                return context.llm_answer(self, route)
            except LLMUnavailable as error:
                log.warning("LLM unavailable (%s); the planner answers", error)
                context.notes.append("The language model could not be reached; the built-in planner answered.")
        plan = self.plan(route, context)
        if plan is None:
            return context.cannot_answer(self, route)
        return context.answer_plan(self, route, plan)


class AgentContext:
    """What an agent works with while answering one question for one caller."""

    def __init__(self, *, scope: Scope, settings, catalog: Catalog, vocabulary: Vocabulary, today,
                 tools: dict[str, Tool] | None = None, llm=None, previous: dict | None = None,
                 agents: dict | None = None):
        self.scope = scope
        self.settings = settings
        self.catalog = catalog
        self.vocabulary = vocabulary
        self.today = today
        self.tools = tools or {}
        self.llm = llm
        self.previous = previous           # the previous turn of the conversation (route + answer), if any
        self.agents = agents or {}
        self.notes: list[str] = []
        self.llm_calls = 0
        self.llm_tokens = 0

    # --- reading data (always through the guard) -----------------------------------------------------
    def run_sql(self, sql: str, *, max_rows: int | None = None) -> QueryResult:
        return run_sql(sql, self.scope, self.catalog, settings=self.settings, max_rows=max_rows)

    def compile_metrics(self, query: MetricQuery) -> str:
        return compile_query(query, self.settings)

    def run_metrics(self, query: MetricQuery, wrap: str | None = None) -> QueryResult:
        sql = self.compile_metrics(query)
        if wrap:
            sql = wrap.replace("{sql}", sql)
        return self.run_sql(sql)

    def call_tool(self, name: str, **arguments):
        """Run a tool (built-in or a plugin's) and pass its output through the caller's scope: whatever the
        tool read, a customer, rep or territory the caller may not see never leaves it."""
        tool = self.tools.get(name)
        if tool is None:
            raise QueryFailed(f"There is no tool named {name!r}.")
        return limit_to_scope(tool.fn(self, **arguments), self.visible_entities())

    def visible_entities(self) -> dict[str, set[str]] | None:
        """Customer ids, rep ids and territories the caller may see, or None for a role that sees everything."""
        if self.scope.sees_everything:
            return None
        return {"customer": self.visible_ids("dim_customers", "customer_id"),
                "rep": self.visible_ids("dim_sales_reps", "rep_id"),
                "territory": self.visible_ids("dim_sales_reps", "territory")}

    def visible_ids(self, mart: str, column: str) -> set[str] | None:
        """The values of ``mart.column`` the caller may see (read through the guard, so with the caller's
        scope), or None for a role that sees everything; cached per warehouse state, scope and column."""
        if self.scope.sees_everything:
            return None
        from agents.catalog import _fingerprint

        key = (_fingerprint(self.settings), self.scope.key, mart, column)
        if key not in _VISIBLE:
            if len(_VISIBLE) > 256:
                _VISIBLE.clear()
            found = self.catalog.mart(mart)
            try:
                rows = self.run_sql(f"SELECT DISTINCT {column} FROM marts.{mart}", max_rows=1_000_000).rows \
                    if found is not None and found.built and found.has(column) else []
            except AgentError:
                rows = []
            _VISIBLE[key] = {str(r[0]) for r in rows if r[0] is not None}
        return _VISIBLE[key]

    # --- plans to answers ----------------------------------------------------------------------------
    def execute_plan(self, plan: Plan) -> tuple[QueryResult, str]:
        """Run a plan: through the semantic layer when it has a metric query, else its SQL."""
        if plan.metric is not None:
            try:
                return self.run_metrics(plan.metric, plan.wrap), "semantic_layer"
            except semantic_error_types() as error:
                if not plan.sql:
                    raise QueryFailed(f"The semantic layer cannot answer this: {error}") from error
                if not isinstance(error, SemanticUnavailable):
                    log.warning("semantic layer refused %s (%s); running the planner's SQL", plan.metric, error)
        if not plan.sql:
            raise QueryFailed("This plan has no query to run.")
        return self.run_sql(plan.sql), "planner"

    def metric_definitions(self, names: list[str]) -> list[dict]:
        out = []
        for name in names:
            metric = self.catalog.metrics.get(name)
            if metric is not None:
                out.append({"name": metric.name, "label": metric.label or metric.name,
                            "definition": metric.description})
            else:
                out.append({"name": name, "label": name.replace("_", " "), "definition": ""})
        return out

    def answer_plan(self, agent: Agent, route: Route, plan: Plan) -> Answer:
        ranked = rank_plan(plan, route)  # "which territory ... the most": the breakdown, ranked (agents.compose)
        result, path = self.execute_plan(ranked or plan)
        answer = self.make_answer(agent, route, ranked or plan, result, path)
        if ranked is not None:
            answer.extra["ranked"] = route.entities.ranking
        return answer

    def make_answer(self, agent: Agent, route: Route, plan: Plan, result: QueryResult, path: str) -> Answer:
        result = zero_empty_totals(result, plan)
        columns = [display_name(c) for c in result.columns]
        rows = [list(r) for r in result.rows]
        if plan.describe is not None:
            text = plan.describe(result)
        else:
            text = describe_result(plan.title, result.columns, result.rows, kind=plan.kind,
                                   empty=plan.empty_text, truncated=result.truncated)
        notes = plan.notes + self.notes
        unknown = [u for u in route.entities.unknown if u not in (plan.title + plan.empty_text)]
        if unknown:
            names = ", ".join(f"'{u}'" for u in unknown)
            notes.append(f"(Nothing in your data is called {names}, so it was left out.)")
        if notes:
            text = " ".join([text, *notes])
        chart = plan.chart if plan.chart is not None else chart_for(result.columns, result.rows, title=plan.title,
                                                                     kind=plan.kind)
        follow = agent.follow_ups(route, plan, result) + generic_follow_ups(route, result)
        seen, follow_ups = {route.text.strip(" ?!.").lower(), route.question.strip(" ?!.").lower()}, []
        for f in follow:  # never the question itself again
            if f.strip(" ?!.").lower() not in seen:
                seen.add(f.strip(" ?!.").lower())
                follow_ups.append(f)
        return Answer(
            question=route.text, text=text, columns=columns, rows=rows, chart=chart, sql=result.sql,
            metrics=self.metric_definitions(plan.metrics_used), path=path, agent=agent.name,
            intent=plan.intent or agent.name, entities=route.entities.filters(), follow_ups=follow_ups[:4],
            truncated=result.truncated,
        )

    def cannot_answer(self, agent: Agent, route: Route) -> Answer:
        examples = "; ".join(f'"{e}"' for e in agent.examples[:3])
        text = (f"I could not work out a query for that with the built-in planner ({agent.title or agent.name}). "
                + (f"Questions like {examples} work." if examples else ""))
        if self.llm is None:
            text += " Configuring an LLM (SCC_LLM_MODEL) lets the agents answer freer questions."
        return Answer(question=route.text, text=text.strip(), path="planner", agent=agent.name,
                      intent=f"{agent.name}.unknown", entities=route.entities.filters(),
                      follow_ups=list(agent.examples[:3]), error="no_plan")

    def llm_answer(self, agent: Agent, route: Route) -> Answer:
        from agents.llm import answer_with_llm

        return answer_with_llm(self, agent, route)


def zero_empty_totals(result: QueryResult, plan: Plan) -> QueryResult:
    """A total over no rows is 0, not unknown: "open pipeline for Disney: $0 in 0 deals", never "n/a, n/a".
    (SQL's sum over nothing is NULL; a rate or an average of nothing stays unknown.)"""
    if plan.kind != "value" or len(result.rows) != 1 or not result.columns:
        return result
    row = list(result.rows[0])
    changed = False
    for i, column in enumerate(result.columns):
        if row[i] is None and not NOT_ADDITIVE.search(column):
            row[i], changed = 0, True
    if not changed:
        return result
    from dataclasses import replace

    return replace(result, rows=[tuple(row)])


def generic_follow_ups(route: Route, result: QueryResult) -> list[str]:
    ents = route.entities
    out = []
    if ents.time is None:
        out.append("What about last quarter?")
    elif "quarter" not in ents.time.label:
        out.append("What about this quarter?")
    else:
        out.append("What about last year?" if "last" in ents.time.label else "What about last quarter?")
    if not ents.group_by:
        out.append("Break that down by region")
    return out
