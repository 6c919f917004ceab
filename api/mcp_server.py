"""The MCP server: any assistant that speaks the Model Context Protocol asks the data, reads the metrics and
insights, and drafts orders, within the caller's scope.

Built on the official Python SDK (``mcp``, its ``MCPServer``). One server definition, two transports:

- **stdio** (``scc mcp``): a local desktop assistant starts it; the caller is the holder of ``SCC_MCP_TOKEN``
  (an API access token) or, in demo mode, ``--user`` one of the demo logins.
- **streamable HTTP** at ``/mcp`` on the API (:class:`McpEndpoint`): every request carries a bearer token,
  checked by the same function as every other endpoint's (``api.deps.authenticate``: the token, then the
  caller's rate limit), and the tools run with that token's scope.

Every tool reads through the same code as the REST API (the agents' guard for SQL and metric queries, the
dashboard's figures, the write path for drafts), every call is written to the audit log, and results are cut
to a page a model can take (``SCC_MCP_PAGE_ROWS`` rows), with the total stated and the offset of the next
page. There is no tool to approve or submit an order: a draft made here waits for a person in the dashboard.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from api.routes.lists import OrderLineIn
from api.security import AuthError, Scope, decode_access_token
from scc.config import Settings

log = logging.getLogger("scc.api.mcp")

INSTRUCTIONS = """Sales Command Center: the sales data (Salesforce deals, NetSuite orders, invoices, stock) of
the signed-in user, cut to what their role may see (an executive or finance: everything; a manager: their
territory; a rep: their own book). Start with `ask` for a question in plain words; `list_metrics` and
`query_metrics` for exact figures from the semantic layer; `run_sql` for a read-only SQL query over the marts
(the resources `scc://marts` and `scc://metrics` describe them); `get_dashboard` for a tab's headline figures;
`get_insights` for what deserves attention. `draft_order` prepares a sales order for a person to review and
approve in the dashboard: nothing here submits an order. Results come a page at a time: pass `offset` for more."""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
DRAFTS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
TABS = ("overview", "pipeline", "orders", "customers", "products")

# Answering holds the GIL most of the time: a few at once per process, the others queue (as POST /query/ask).
WORKING_AT_ONCE = anyio.CapacityLimiter(4)


class McpToolError(ToolError):
    """A tool call that cannot be answered: the client gets this message as an MCP tool error."""


@dataclass
class Runtime:
    """What the tools work with: settings, the app database, and (over HTTP) the API application.

    ``caller`` is the fixed identity of a stdio server; over HTTP each request brings its own."""

    settings: Settings
    db: Any
    caller: Scope | None = None
    app: Any = None
    transport: str = "stdio"

    @property
    def page_rows(self) -> int:
        return max(1, self.settings.mcp_page_rows)


# --- who is calling ---------------------------------------------------------------------------------


def caller_of(ctx: Context, runtime: Runtime) -> Scope:
    """The caller's scope: the HTTP request's (set by :class:`McpEndpoint`), else the stdio server's."""
    request = ctx.request_context.request if ctx is not None else None
    if request is not None:
        scope = getattr(request, "scope", {}).get("scc.scope")
        if isinstance(scope, Scope):
            return scope
        raise McpToolError("not authenticated: send a bearer token (POST /api/v1/auth/token)")
    if runtime.caller is None:
        raise McpToolError("this MCP server has no identity: set SCC_MCP_TOKEN")
    return runtime.caller


def _audit(runtime: Runtime, scope: Scope, tool: str, arguments: dict, outcome: str) -> None:
    from api.writepath import audit

    detail = {"transport": runtime.transport, "outcome": outcome,
              "arguments": {k: (v if len(json.dumps(v, default=str)) <= 2000 else "(long)") for k, v in arguments.items()}}
    try:
        with runtime.db.session() as session:
            audit(session, scope, f"mcp.{tool}", None, detail, entity="mcp")
            session.commit()
    except Exception as error:  # noqa: BLE001 - an answer is not withheld because the log could not be written
        log.warning("could not write the audit log for mcp.%s: %s", tool, error)


async def _call(runtime: Runtime, ctx: Context, tool: str, arguments: dict, work) -> dict:
    """Run one tool's ``work(scope)`` in a worker thread, audited; every failure becomes a plain MCP error."""
    scope = caller_of(ctx, runtime)
    try:
        result = await anyio.to_thread.run_sync(work, scope, limiter=WORKING_AT_ONCE)
    except McpToolError as error:
        await anyio.to_thread.run_sync(_audit, runtime, scope, tool, arguments, f"refused: {error}"[:300])
        raise
    except Exception as error:  # noqa: BLE001 - a model gets one plain line, the log the whole story
        message = _plain_error(error)
        log.warning("mcp.%s failed for %s: %s", tool, scope.user, error, exc_info=not _expected(error))
        await anyio.to_thread.run_sync(_audit, runtime, scope, tool, arguments, f"failed: {message}"[:300])
        raise McpToolError(message) from None
    await anyio.to_thread.run_sync(_audit, runtime, scope, tool, arguments, "ok")
    return result


def _expected(error: BaseException) -> bool:
    from agents.errors import AgentError
    from api.services.warehouse import WarehouseUnavailable
    from api.writepath import WriteError

    return isinstance(error, (AgentError, WarehouseUnavailable, WriteError, ValueError, LookupError))


def _plain_error(error: BaseException) -> str:
    """One line a person (or a model) can act on, never a stack trace."""
    from agents.errors import AgentError
    from api.writepath import WriteError

    if isinstance(error, WriteError):
        return error.message
    if isinstance(error, AgentError):
        return str(getattr(error, "message", None) or error).splitlines()[0]
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, (ValueError, LookupError)):
        return text[:500]
    return f"the server could not do that ({type(error).__name__}); the API's log has the details"


# --- pages ------------------------------------------------------------------------------------------


def page_of(rows: list, offset: int, size: int, *, complete: bool = True) -> dict:
    """One page of ``rows``: the rows from ``offset``, how many there are, and where the next page starts."""
    offset = max(0, offset)
    chunk = rows[offset: offset + size]
    following = offset + len(chunk)
    return {"rows": chunk, "offset": offset, "returned": len(chunk),
            "total_rows": len(rows) if complete else None,
            "total_rows_at_least": None if complete else len(rows),
            "next_offset": following if following < len(rows) else None}


def _plain(value):
    from agents.answer import jsonable

    value = jsonable(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def table_page(columns: list[str], rows: list, offset: int, size: int, *, complete: bool = True) -> dict:
    page = page_of([[_plain(v) for v in row] for row in rows], offset, size, complete=complete)
    return {"columns": list(columns), **page}


# --- the tools --------------------------------------------------------------------------------------


def ask_tool(runtime: Runtime, scope: Scope, question: str, conversation_id: str | None, offset: int) -> dict:
    from api.services import ask as agents

    question = question.strip()
    if not question:
        raise McpToolError("the question is empty")
    if offset and conversation_id:  # the next page of the conversation's last answer, not a new question
        answer = _last_answer(runtime, scope, conversation_id)
        if answer is None or answer.get("question") != question:
            raise McpToolError("to page, send the same question and conversation_id as the answer being paged")
    else:
        try:
            answer = agents.ask(question, scope, db=runtime.db, conversation_id=conversation_id,
                                settings=runtime.settings)
        except agents.ConversationNotFound:
            raise McpToolError("no such conversation for this user (start without conversation_id)") from None
        except agents.AgentsUnavailable as error:
            raise McpToolError(f"the question-answering agents are not available: {error}") from None
    rows = answer.get("rows") or []
    out = {
        "text": answer.get("text"),
        "reading": answer.get("reading"),
        "conversation_id": answer.get("conversation_id"),
        "sql": answer.get("sql"),
        "metrics": answer.get("metrics"),
        "intent": answer.get("intent"),
        "follow_ups": answer.get("follow_ups") or [],
        "refused": answer.get("refused"),
        "error": answer.get("error"),
        **table_page(answer.get("columns") or [], rows, offset, runtime.page_rows,
                     complete=not answer.get("truncated")),
    }
    if answer.get("draft"):
        out["draft"] = answer["draft"]
    return out


def _last_answer(runtime: Runtime, scope: Scope, conversation_id: str) -> dict | None:
    """The caller's last answer in the conversation, with the question as asked (the app database keeps it)."""
    from api.services.ask import AppConversationStore, agent_scope

    turn = AppConversationStore(runtime.db, scope, agent_scope(scope).key).last_turn(conversation_id)
    return dict(turn["answer"] or {}, question=turn["question"]) if turn is not None else None


def guarded_rows(runtime: Runtime, scope: Scope, sql: str):
    """Run SQL through the agents' guard with the caller's scope: read-only, marts only, a row and time budget."""
    from agents.catalog import get_catalog
    from agents.guard import run_sql
    from api.services.ask import agent_scope

    return run_sql(sql, agent_scope(scope), get_catalog(runtime.settings), settings=runtime.settings)


def run_sql_tool(runtime: Runtime, scope: Scope, sql: str, offset: int) -> dict:
    result = guarded_rows(runtime, scope, sql)
    return {"sql": result.sql, **table_page(result.columns, result.rows, offset, runtime.page_rows,
                                            complete=not result.truncated)}


def query_metrics_tool(runtime: Runtime, scope: Scope, metrics: list[str], group_by: list[str], where: list[str],
                       order_by: list[str], limit: int | None, offset: int) -> dict:
    from agents.metrics import MetricQuery, compile_query

    if not metrics:
        raise McpToolError("name at least one metric (list_metrics lists them)")
    sql = compile_query(MetricQuery(metrics=list(metrics), group_by=list(group_by), where=list(where),
                                    order_by=list(order_by), limit=limit), runtime.settings)
    result = guarded_rows(runtime, scope, sql)
    return {"metrics": list(metrics), "group_by": list(group_by), "sql": result.sql,
            **table_page(result.columns, result.rows, offset, runtime.page_rows, complete=not result.truncated)}


def list_metrics_tool(runtime: Runtime) -> dict:
    from scc import semantic

    return {"metrics": semantic.list_metrics(runtime.settings)}


def list_dimensions_tool(runtime: Runtime, metrics: list[str] | None) -> dict:
    from scc import semantic

    names = semantic.list_dimensions(metrics or None, settings=runtime.settings)
    described = semantic.describe_dimensions(runtime.settings)
    return {"metrics": metrics or "all",
            "dimensions": [{"name": n, **described.get(_without_grain(n), {})} for n in names]}


def _without_grain(name: str) -> str:
    from scc.semantic import GRAINS

    head, _, last = name.rpartition("__")
    return head if head and last in GRAINS else name


def dashboard_tool(runtime: Runtime, scope: Scope, tab: str, period: str) -> dict:
    """A tab's figures: on the API, from its shared dashboard cache (as the dashboard would get them)."""
    from api.routes.dashboard import cached_dashboard, compute_figures

    params = {"period": period} if tab == "overview" else {}
    if runtime.app is not None:
        import anyio.from_thread

        dashboard, _found = anyio.from_thread.run(cached_dashboard, runtime.app, scope, tab, params)
        return {"tab": tab, **dashboard.data()}
    return {"tab": tab, **compute_figures(tab, scope, runtime.settings, **params)}


def insights_tool(runtime: Runtime, scope: Scope) -> dict:
    from api.services.ask import insights

    return insights(scope, runtime.settings)


def draft_order_tool(runtime: Runtime, scope: Scope, sentence: str | None, customer: str | None,
                     lines: list[dict] | None, memo: str | None) -> dict:
    from api import writepath
    from api.services.ask import extract_order

    if not scope.can_write:
        raise McpToolError(f"the role {scope.role} is read-only: it cannot draft orders")
    if lines:
        if not customer:
            raise McpToolError("name the customer the order is for")
        order = writepath.requested_order(None, customer, lines, memo)
        draft = writepath.create(runtime.db, scope, order, sentence=sentence, settings=runtime.settings,
                                 extraction={"by": "mcp lines"})
    elif sentence and sentence.strip():
        order, extraction = extract_order(sentence, scope, runtime.settings)
        if memo:
            order["memo"] = memo
        draft = writepath.create(runtime.db, scope, order, sentence=sentence, settings=runtime.settings,
                                 extraction=extraction)
    else:
        raise McpToolError("send the order as a sentence (\"Disney, 500 hats at $50 each\") or as customer and lines")
    base = (runtime.settings.api_public_url or f"http://{runtime.settings.api_host}:{runtime.settings.api_port}")
    return {
        "transaction_id": draft["id"], "status": draft["status"], "valid": draft.get("valid"),
        "total": draft.get("total"), "draft": draft.get("draft"), "checks": draft.get("checks"),
        "review_url": f"{base.rstrip('/')}/#assistant?draft={draft['id']}",
        "next_step": "A person reviews and approves this draft in the dashboard (review_url) or through the API; "
                     "this server cannot submit it to NetSuite.",
    }


# --- the server -------------------------------------------------------------------------------------


Offset = Annotated[int, Field(ge=0, description="Row to start from (the next_offset of the previous page).")]


def build_server(runtime: Runtime) -> MCPServer:
    """The MCP server's tools, resources and prompts over ``runtime`` (either transport)."""
    server = MCPServer("sales-command-center", title="Sales Command Center", instructions=INSTRUCTIONS,
                       version="1.0.0", log_level=_log_level(runtime.settings))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def ask(
        question: Annotated[str, Field(min_length=1, max_length=2000, description="The question in plain words, "
                                       "e.g. 'pending orders over $100K' or 'top 5 customers by bookings this year'.")],
        ctx: Context,
        conversation_id: Annotated[str | None, Field(pattern=r"^[0-9a-f]{32}$", description=(
            "The conversation_id of an earlier answer, for a follow-up ('and last quarter?').")) ] = None,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Ask the sales data a question in plain words. Returns the answer's text, how the question was read
        (`reading`: what each part was taken to mean, and any word not used), the result table (a page of it),
        the SQL that ran and a conversation_id for follow-ups. A question it cannot read gets a clarifying
        question back, not a guess. Only the caller's rows are ever used."""
        args = {"question": question, "conversation_id": conversation_id, "offset": offset}
        return await _call(runtime, ctx, "ask", args,
                           lambda scope: ask_tool(runtime, scope, question, conversation_id, offset))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def query_metrics(
        metrics: Annotated[list[str], Field(min_length=1, max_length=10, description="Metric names (list_metrics).")],
        ctx: Context,
        group_by: Annotated[list[str] | None, Field(max_length=5, description=(
            "Group-by names (list_dimensions), e.g. metric_time__quarter or rep__territory."))] = None,
        where: Annotated[list[str] | None, Field(max_length=10, description=(
            "Filters on group-by names, e.g. \"rep__region = 'West'\" or \"metric_time__month >= '2026-01-01'\"."))] = None,
        order_by: Annotated[list[str] | None, Field(max_length=5, description=(
            "Metric or group-by names; a leading '-' sorts descending."))] = None,
        limit: Annotated[int | None, Field(ge=1, le=10000, description="At most this many rows.")] = None,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Exact figures from the semantic layer (MetricFlow): metrics by dimensions, with filters, order and
        limit. The definitions are those of list_metrics; the rows are cut to the caller's scope."""
        args = {"metrics": metrics, "group_by": group_by, "where": where, "order_by": order_by, "limit": limit,
                "offset": offset}
        return await _call(runtime, ctx, "query_metrics", args, lambda scope: query_metrics_tool(
            runtime, scope, metrics, group_by or [], where or [], order_by or [], limit, offset))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def list_metrics(ctx: Context) -> dict[str, Any]:
        """Every metric of the semantic layer with its label, type and definition (bookings, billings,
        win_rate, open_pipeline, ...)."""
        return await _call(runtime, ctx, "list_metrics", {}, lambda scope: list_metrics_tool(runtime))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def list_dimensions(
        ctx: Context,
        metrics: Annotated[list[str] | None, Field(max_length=10, description=(
            "Only dimensions usable with all of these metrics; omit for every dimension."))] = None,
    ) -> dict[str, Any]:
        """The dimensions (group-by names) of the semantic layer, with their descriptions: time dimensions take
        a grain suffix (__day, __week, __month, __quarter, __year)."""
        return await _call(runtime, ctx, "list_dimensions", {"metrics": metrics},
                           lambda scope: list_dimensions_tool(runtime, metrics))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def run_sql(
        sql: Annotated[str, Field(min_length=1, max_length=20000, description=(
            "One SELECT over the marts (schema marts, e.g. marts.fct_orders; see the resource scc://marts)."))],
        ctx: Context,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Run one read-only SELECT over the marts. It goes through the same guard as the agents: only the
        marts, only allowed functions, the caller's rows only, a row, time and memory budget. Anything else
        is refused with the reason."""
        return await _call(runtime, ctx, "run_sql", {"sql": sql, "offset": offset},
                           lambda scope: run_sql_tool(runtime, scope, sql, offset))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def get_insights(ctx: Context) -> dict[str, Any]:
        """What deserves attention in the caller's book now: declining customers, stalled deals, items running
        out, anomalies; each with its severity and the figures behind it."""
        return await _call(runtime, ctx, "get_insights", {}, lambda scope: insights_tool(runtime, scope))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def get_dashboard(
        tab: Annotated[Literal[TABS], Field(description="The dashboard tab.")],  # type: ignore[valid-type]
        ctx: Context,
        period: Annotated[Literal["month", "quarter", "year"], Field(
            description="Overview only: the period to date, compared with the same stretch before.")] = "quarter",
    ) -> dict[str, Any]:
        """The figures of one dashboard tab, as the dashboard shows them to the caller: overview (bookings,
        billings, win rate, pipeline, receivables), pipeline, orders, customers or products."""
        return await _call(runtime, ctx, "get_dashboard", {"tab": tab, "period": period},
                           lambda scope: dashboard_tool(runtime, scope, tab, period))

    @server.tool(annotations=DRAFTS, structured_output=True)
    async def draft_order(
        ctx: Context,
        sentence: Annotated[str | None, Field(max_length=1000, description=(
            "The order in words: 'Disney, 500 hats at $50 each and 20 tumblers at $12'."))] = None,
        customer: Annotated[str | None, Field(max_length=200, description="Or: the customer's name ...")] = None,
        lines: Annotated[list[OrderLineIn] | None, Field(max_length=100, description="... and the lines.")] = None,
        memo: Annotated[str | None, Field(max_length=1000, description="A note on the order.")] = None,
    ) -> dict[str, Any]:
        """Prepare a sales order as a draft: the customer and items are matched, prices, stock and credit are
        checked, and the draft is saved for review. It is NOT sent to NetSuite: a person approves it in the
        dashboard (review_url) or the API. Read-only roles (finance) cannot draft."""
        plain_lines = [line.model_dump(exclude_none=True) for line in lines] if lines else None
        args = {"sentence": sentence, "customer": customer, "lines": plain_lines, "memo": memo}
        return await _call(runtime, ctx, "draft_order", args, lambda scope: draft_order_tool(
            runtime, scope, sentence, customer, plain_lines, memo))

    _add_resources(server, runtime)
    _add_prompts(server)
    return server



def _log_level(settings: Settings) -> str:
    level = str(settings.log_level).upper()
    return level if level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") else "WARNING"


def _add_resources(server: MCPServer, runtime: Runtime) -> None:
    @server.resource("scc://marts", name="marts", title="The marts", mime_type="text/markdown",
                     description="Every mart a query may read: its grain, columns and how it is scoped.")
    def marts_document() -> str:
        from agents.catalog import get_catalog

        return "# The marts\n\n" + get_catalog(runtime.settings).describe(with_metrics=False)

    @server.resource("scc://metrics", name="metrics", title="The metric definitions", mime_type="text/markdown",
                     description="Every metric of the semantic layer and how it is defined.")
    def metrics_document() -> str:
        from scc import semantic

        lines = ["# Metrics", "", "| metric | type | definition |", "| --- | --- | --- |"]
        for metric in semantic.list_metrics(runtime.settings):
            definition = " ".join(metric["description"].split()) or metric["label"]
            lines.append(f"| `{metric['name']}` ({metric['label']}) | {metric['type']} | {definition} |")
        return "\n".join(lines) + "\n"


def _add_prompts(server: MCPServer) -> None:
    @server.prompt(name="weekly_pipeline_review", title="Weekly pipeline review",
                   description="Review the pipeline: what changed, what is slipping, what to act on this week.")
    def weekly_pipeline_review() -> str:
        return ("Give me my weekly pipeline review. Use the Sales Command Center tools: get_dashboard with tab "
                "'pipeline' and tab 'overview', get_insights, and ask for 'deals closing this quarter', 'stalled "
                "deals' and 'win rate this quarter vs last quarter'. Then write: where the quarter stands against "
                "last quarter, the five deals that matter most this week and why, what is slipping or stalled, and "
                "three actions. Quote the figures as the tools give them; say when a figure is missing.")

    @server.prompt(name="account_brief", title="Account brief",
                   description="A brief on one customer before a call: orders, open deals, invoices, risks.")
    def account_brief(customer: Annotated[str, Field(description="The customer's name, e.g. Disney.")]) -> str:
        return (f"Prepare an account brief on {customer}. Use the Sales Command Center tools: ask '{customer} "
                f"bookings this year vs last year', 'open orders for {customer}', 'open deals for {customer}', "
                f"'overdue invoices for {customer}' and 'top products {customer} bought this year', and check "
                f"get_insights for anything about {customer}. Write: the relationship in three lines, open "
                "business, money owed, risks, and what to raise on the call. If the customer is not found or is "
                "outside what I may see, say so instead of guessing.")


# --- over HTTP: /mcp on the API -----------------------------------------------------------------------


class McpEndpoint:
    """``/mcp`` (streamable HTTP, stateless, JSON responses): the bearer token and the rate limit of every
    endpoint, then the SDK's transport. Stateless, so any API worker answers any request; follow-ups carry
    their conversation_id instead of a session."""

    def __init__(self, app):
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

        settings: Settings = app.state.settings
        self.runtime = Runtime(settings=settings, db=None, app=app, transport="http")
        self.server = build_server(self.runtime)
        self.manager = StreamableHTTPSessionManager(app=self.server._lowlevel_server, json_response=True,
                                                    stateless=True, security_settings=_transport_security(settings))

    @contextlib.asynccontextmanager
    async def running(self):
        self.runtime.db = self.runtime.app.state.db
        async with self.manager.run():
            yield

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        from fastapi import HTTPException

        from api.deps import authenticate

        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        kind, _, token = header.partition(" ")
        try:
            caller, _rate_limit = await authenticate(scope["app"], token.strip() if kind.lower() == "bearer" else None)
        except HTTPException as refusal:
            return await _refuse(send, refusal.status_code, str(refusal.detail), refusal.headers or {})
        scope["scc.scope"] = caller
        await self.manager.handle_request(scope, receive, send)


def _transport_security(settings: Settings):
    """DNS-rebinding protection when the API listens on loopback (as the SDK does by default)."""
    from mcp.server.transport_security import TransportSecuritySettings

    if settings.api_host not in ("127.0.0.1", "localhost", "::1"):
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True,
                                     allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
                                     allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"])


async def _refuse(send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *((k.lower().encode(), v.encode()) for k, v in headers.items())]})
    await send({"type": "http.response.body", "body": body})


# --- over stdio: `scc mcp` ------------------------------------------------------------------------------


def stdio_caller(settings: Settings, user: str | None) -> Scope:
    """Who a stdio server acts for: ``SCC_MCP_TOKEN`` (an API access token), or a demo login in demo mode."""
    from api.security import authenticate_demo_user

    if settings.mcp_token is not None and settings.mcp_token.get_secret_value():
        return decode_access_token(settings.mcp_token.get_secret_value(), settings)
    if user:
        return authenticate_demo_user(user, settings.api_demo_password.get_secret_value(), settings)
    raise AuthError("set SCC_MCP_TOKEN to an API access token (POST /api/v1/auth/token), or in demo mode pass "
                    "--user with a demo login (exec@, manager@, rep@ or finance@scc-demo.example)")


def run_stdio(settings: Settings, caller: Scope) -> None:
    from api.db import database_url, get_database, migrate

    url = database_url(settings)
    migrate(url)
    runtime = Runtime(settings=settings, db=get_database(url), caller=caller, transport="stdio")
    build_server(runtime).run("stdio")
