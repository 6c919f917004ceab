"""The API's one seam to the agents (``agents/``): asking, insights, and turning a sentence into an order.

Everything the API needs from the agent layer goes through the three functions here, so the agents can
change without the API noticing. Where an agent entry point is not available, a small built-in fallback
keeps the endpoint working (a plain parser for order sentences; scoped SQL for insights).
"""

from __future__ import annotations

import importlib
import logging
import re

from api.security import Scope
from scc.config import Settings

log = logging.getLogger("scc.api.ask")


def agent_scope(scope: Scope):
    """The agents' scope (agents.Scope) of an API caller."""
    from agents.scope import Scope as AgentScope

    return AgentScope(role=scope.role, rep_id=scope.rep_id, territory=scope.territory)


def _entry_point(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _jsonable(value):
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return value


# --- ask --------------------------------------------------------------------------------------------


class AgentsUnavailable(RuntimeError):
    pass


class ConversationNotFound(LookupError):
    pass


class AppConversationStore:
    """The agents' conversation store (``agents.conversations.ConversationStore``) in the API's database.

    A conversation belongs to the user who started it: to anyone else it looks like someone else's scope, so
    the agents refuse to continue it.
    """

    def __init__(self, db, scope: Scope, agent_scope_key: str):
        self.db = db
        self.scope = scope
        self.agent_scope_key = agent_scope_key

    def start(self, scope_key: str, title: str) -> str:
        import uuid

        return uuid.uuid4().hex

    def owner(self, conversation_id: str) -> str | None:
        from sqlalchemy import select

        from api.models import Conversation

        with self.db.session() as session:
            user = session.scalar(select(Conversation.user_id).where(Conversation.conversation_id == conversation_id)
                                  .limit(1))
        if user is None:
            return None
        return self.agent_scope_key if user == self.scope.user else f"user:{user}"

    def last_turn(self, conversation_id: str) -> dict | None:
        from sqlalchemy import select

        from api.models import Conversation

        with self.db.session() as session:
            row = session.scalars(select(Conversation).where(Conversation.conversation_id == conversation_id,
                                                             Conversation.user_id == self.scope.user)
                                  .order_by(Conversation.turn.desc()).limit(1)).first()
        if row is None:
            return None
        return {"turn": row.turn, "question": row.question, "answer": row.answer, "routes": row.routes or []}

    def add_turn(self, conversation_id: str, question: str, answer: dict, routes: list[dict]) -> int:
        from sqlalchemy import func, select

        from api.models import Conversation, utcnow

        agents_used = answer.get("agent")
        with self.db.session() as session:
            last = session.scalar(select(func.max(Conversation.turn))
                                  .where(Conversation.conversation_id == conversation_id)) or 0
            session.add(Conversation(
                conversation_id=conversation_id, turn=last + 1, user_id=self.scope.user, role=self.scope.role,
                scope_key=self.agent_scope_key, question=question[:10000],
                answer_text=str(answer.get("text") or "")[:10000], answer=_plain_json(answer),
                intent=str(answer.get("intent") or "")[:64] or None,
                agents_used=str(agents_used)[:255] if agents_used else None,
                path=str(answer.get("path") or "")[:32] or None, routes=_plain_json(routes), created_at=utcnow()))
            session.commit()
        return last + 1


def _plain_json(value):
    import json

    return json.loads(json.dumps(value, default=str))


def ask(question: str, scope: Scope, *, db, conversation_id: str | None = None,
        settings: Settings | None = None) -> dict:
    """The agents' answer to a question, within the caller's scope; the turn is stored in the app database."""
    entry = _entry_point("agents", "ask")
    if entry is None:
        raise AgentsUnavailable("the question-answering agents are not installed")
    scope_of_agents = agent_scope(scope)
    store = AppConversationStore(db, scope, scope_of_agents.key)
    if conversation_id and store.owner(conversation_id) not in (None, scope_of_agents.key):
        raise ConversationNotFound(conversation_id)
    try:
        answer = entry(question, scope_of_agents, conversation_id=conversation_id, settings=settings, store=store)
    except Exception as error:  # noqa: BLE001 - the agents promise an answer for every question; keep it
        log.exception("agents.ask failed on %r", question[:200])
        return {"question": question, "text": "Sorry, something went wrong while answering that question.",
                "path": "error", "error": f"{type(error).__name__}: {str(error)[:200]}", "conversation_id": None}
    data = _jsonable(answer)
    return data if isinstance(data, dict) else {"text": str(data)}


# --- insights ---------------------------------------------------------------------------------------


def insights(scope: Scope, settings: Settings | None = None) -> dict:
    entry = _entry_point("agents.insights", "insights_payload")  # the insights engine (agents/insights/)
    if entry is not None:  # (a scope always names its book: api.security.Scope refuses one that does not)
        try:
            data = _jsonable(entry(agent_scope(scope), settings=settings))
            items = data if isinstance(data, list) else data.get("insights", [])
            return {**({} if isinstance(data, list) else data), "source": "agents",
                    "insights": [_jsonable(i) for i in items]}
        except Exception as error:  # noqa: BLE001 - the built-in list below still answers
            log.warning("the insights engine failed: %s", error)
    out = {"source": "built-in", "insights": _builtin_insights(scope, settings)}
    ask_entry = _entry_point("agents", "ask")
    if ask_entry is not None:  # the insights agent's summary, as it would answer in the chat
        try:
            answer = _jsonable(ask_entry("what should I worry about?", agent_scope(scope), settings=settings,
                                         store=_NoConversation()))
            out["summary"] = answer.get("text")
            out["source"] = "built-in + insights agent"
        except Exception as error:  # noqa: BLE001 - the list stands on its own
            log.warning("the insights agent failed: %s", error)
    return out


class _NoConversation:
    """A conversation store that keeps nothing (the insights summary is not a conversation)."""

    def start(self, scope_key: str, title: str) -> str:
        return "insights"

    def owner(self, conversation_id: str):
        return None

    def last_turn(self, conversation_id: str):
        return None

    def add_turn(self, conversation_id: str, question: str, answer: dict, routes: list) -> int:
        return 0


def _builtin_insights(scope: Scope, settings: Settings | None) -> list[dict]:
    """A few scoped facts worth a look: declining customers, stalled big deals, items short of stock."""
    from api.services.warehouse import reader

    where, params = scope.where()
    out: list[dict] = []
    with reader(settings) as r:
        for row in r.all(
            f"SELECT customer_id, customer_name, rep_id, territory, revenue_last_90d, revenue_prior_90d, health "
            f"FROM marts.dim_customers WHERE {where} AND health IN ('at_risk', 'declining') AND revenue_prior_90d > revenue_last_90d "
            f"ORDER BY revenue_prior_90d - revenue_last_90d DESC, customer_id LIMIT 3",
            params,
        ):
            change = 100 * (row["revenue_last_90d"] - row["revenue_prior_90d"]) / row["revenue_prior_90d"]
            out.append({"kind": "customer_decline", "severity": "high" if change < -30 else "medium",
                        "title": f"{row['customer_name']}: orders {change:+.0f}% over the last 90 days",
                        "customer_id": row["customer_id"], "rep_id": row["rep_id"], "territory": row["territory"],
                        "data": row})
        for row in r.all(
            f"SELECT opportunity_id, opportunity_name, customer_id, rep_id, territory, stage, amount, days_in_stage "
            f"FROM marts.fct_opportunities WHERE {where} AND NOT is_closed AND is_stalled "
            f"ORDER BY amount DESC NULLS LAST, opportunity_id LIMIT 3",
            params,
        ):
            out.append({"kind": "stalled_deal", "severity": "medium",
                        "title": f"{row['opportunity_name']} has been in {row['stage']} for {row['days_in_stage']} days",
                        "rep_id": row["rep_id"], "territory": row["territory"], "data": row})
        for row in r.all(
            "SELECT product_id, sku, product_name, quantity_available FROM marts.dim_products "
            "WHERE is_active AND quantity_available <= 0 ORDER BY quantity_available, product_id LIMIT 3"
        ):
            out.append({"kind": "stock_out", "severity": "high",
                        "title": f"{row['sku']} {row['product_name']} is out of stock", "data": row})
    return out


# --- a sentence into an order ----------------------------------------------------------------------

NUMBER = r"(\d[\d,]*(?:\.\d+)?)\s*(k|thousand)?"
PRICE = re.compile(r"(?:at|@|for)?\s*\$\s*(\d[\d,]*(?:\.\d+)?)\s*(?:each|apiece|ea\.?|per\s+(?:unit|item|piece)|a\s+piece|/\s*(?:unit|ea|each))?",
                   re.I)
LINE = re.compile(rf"^\s*{NUMBER}\s+(?:x\s+|units?\s+of\s+|pieces?\s+of\s+)?(.+?)\s*$", re.I)
PREFIX = re.compile(r"^\s*(?:please\s+)?(?:create|make|place|enter|book|draft|raise|add|new|put\s+in)?\s*(?:a|an|new)?\s*"
                    r"(?:new\s+)?(?:sales\s+)?order\s+(?:for|from|to)\s+", re.I)


def _number(text: str, suffix: str | None) -> float:
    value = float(text.replace(",", ""))
    return value * 1000 if suffix else value


def parse_order_sentence(sentence: str) -> dict:
    """"Create a sales order for Disney, 500 hats, $50 each; 20 tumblers at $12" → customer and lines."""
    text = sentence.strip().rstrip(".!")
    match = PREFIX.match(text)
    rest = text[match.end():] if match else text
    # the customer runs up to the first comma, colon or " with " before the first quantity
    split = re.search(r"\s*(?:,|:|;|\s+with\s+|\s+-\s+)\s*(?=\d)", rest)
    if split:
        customer, items = rest[: split.start()], rest[split.end():]
    else:
        first_number = re.search(r"\s\d", rest)
        customer, items = (rest[: first_number.start()], rest[first_number.start():]) if first_number else (rest, "")
    chunks = [c for c in re.split(r"\s*(?:;|(?<!\d),|,(?!\d{3}\b)|\band\b|\bplus\b)\s*", items) if c and c.strip()]
    lines: list[dict] = []
    for chunk in chunks:
        price_match = PRICE.search(chunk)
        price = float(price_match.group(1).replace(",", "")) if price_match else None
        body = (chunk[: price_match.start()] + chunk[price_match.end():]) if price_match else chunk
        line_match = LINE.match(body)
        if line_match and line_match.group(3).strip():
            lines.append({"query": line_match.group(3).strip(), "quantity": _number(line_match.group(1),
                                                                                   line_match.group(2)),
                          "unit_price": price})
        elif price is not None and lines and lines[-1]["unit_price"] is None:
            lines[-1]["unit_price"] = price  # "500 hats, $50 each"
    return {"customer": {"query": customer.strip(" ,") or None}, "lines": lines, "memo": None}


def extract_order(sentence: str, scope: Scope, settings: Settings | None = None) -> tuple[dict, dict]:
    """(the requested order, how it was extracted) from a sentence: the transactions agent when it is
    installed (its picks become suggestions the write path checks), else the built-in parser."""
    parsed = parse_order_sentence(sentence)
    entry = _entry_point("agents", "draft_order")
    if entry is not None:
        try:
            draft = _jsonable(entry(sentence, agent_scope(scope), settings=settings))
            request = _request_from_agent(draft, parsed)
            if request["lines"]:
                return request, {"by": "transactions agent", "problems": draft.get("problems") or []}
        except Exception as error:  # noqa: BLE001 - fall back to the parser, say so in the draft
            log.warning("the transactions agent failed on %r: %s", sentence, error)
            return parsed, {"by": "parser", "agent_error": str(error)[:300]}
    return parsed, {"by": "parser"}


def _request_from_agent(draft: dict, parsed: dict) -> dict:
    customer = draft.get("customer") or {}
    if isinstance(customer, str):
        customer = {"query": customer}
    lines = []
    for line in draft.get("lines") or []:
        lines.append({
            "query": line.get("query"),
            "product_id": line.get("product_id"),
            "suggested": True,  # the agent's pick: preferred, but the checks may choose a fitting alternative
            "quantity": line.get("quantity") or 0,
            "unit_price": line.get("unit_price"),
        })
    wanted = {"customer_id": customer.get("customer_id"), "query": customer.get("query")}
    if not wanted["customer_id"]:
        wanted = parsed["customer"]  # let the write path list the customers to choose from
    return {"customer": wanted, "lines": lines, "memo": None}
