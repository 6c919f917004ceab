"""The LLM path: the model plans from the catalogue's descriptions and replies with a structured plan.

Any model litellm speaks to works by one setting, ``SCC_LLM_MODEL`` (``openai/gpt-4o-mini``,
``anthropic/claude-3-5-sonnet-latest``, or ``openai/<name>`` with ``SCC_LLM_API_BASE`` for a local
OpenAI-compatible server). litellm is imported lazily (its import costs seconds) and only after
``scc`` has set ``LITELLM_LOCAL_MODEL_COST_MAP`` so it never fetches anything.

What the model sees: the agent's role, today's date, the marts and columns with their descriptions, the
metrics with their definitions, the entities recognised in the question (matched against the warehouse's
values) and, for a follow-up, the previous question and its SQL. No table rows, unless
``SCC_LLM_SEND_SAMPLE_ROWS`` is on.

What it returns (JSON, checked against :data:`PLAN_SCHEMA`): a ``metric`` plan (compiled by the semantic
layer), a ``sql`` plan (one SELECT over the marts), a ``tool`` call, or a ``clarify`` question. Whatever it
says goes through the guard. An invalid plan, a SQL error or a correctable refusal (SQL that does not
parse, an unknown table) is sent back with the error, at most ``SCC_LLM_MAX_CORRECTIONS`` times; a policy
refusal (a write, a file, another schema) ends the question at once.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass

from agents.answer import Answer
from agents.base import Plan
from agents.errors import AgentError, QueryFailed, Refusal
from agents.metrics import MetricQuery, semantic_error_types

log = logging.getLogger(__name__)

PLAN_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["metric", "sql", "tool", "clarify"]},
        "title": {"type": "string", "description": "A short title for the answer, e.g. 'Pending orders over $100K'"},
        "metrics": {"type": "array", "items": {"type": "string"}},
        "group_by": {"type": "array", "items": {"type": "string"}},
        "where": {"type": "array", "items": {"type": "string"}},
        "order_by": {"type": "array", "items": {"type": "string"}},
        "limit": {"type": ["integer", "null"]},
        "sql": {"type": ["string", "null"]},
        "tool": {"type": ["string", "null"]},
        "arguments": {"type": ["object", "null"]},
        "message": {"type": ["string", "null"]},
    },
    "required": ["kind", "title"],
    "additionalProperties": False,
}


class LLMUnavailable(AgentError):
    """The model could not be reached or configured (the planner answers instead)."""

    code = "llm_unavailable"


class PlanInvalid(AgentError):
    code = "invalid_plan"

    def __init__(self, message: str):
        super().__init__(message, detail=message, correctable=True)


@dataclass
class Completion:
    content: str
    tokens: int


class LLMClient:
    """A thin wrapper over ``litellm.completion`` with structured output."""

    def __init__(self, model: str, *, api_base: str | None = None, api_key: str | None = None, timeout: float = 30.0,
                 max_corrections: int = 2, send_sample_rows: bool = False):
        self.model = model
        self.api_base = api_base
        self.api_key = api_key
        self.timeout = timeout
        self.max_corrections = max_corrections
        self.send_sample_rows = send_sample_rows

    @classmethod
    def from_settings(cls, settings) -> "LLMClient":
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(settings.llm_model, api_base=settings.llm_api_base, api_key=key, timeout=settings.llm_timeout,
                   max_corrections=settings.llm_max_corrections, send_sample_rows=settings.llm_send_sample_rows)

    def complete(self, messages: list[dict]) -> Completion:
        import scc  # noqa: F401 - sets LITELLM_LOCAL_MODEL_COST_MAP before litellm is imported

        try:
            import litellm
        except ImportError as error:  # pragma: no cover
            raise LLMUnavailable("litellm is not installed") from error
        litellm.suppress_debug_info = True
        kwargs = {"model": self.model, "messages": messages, "timeout": self.timeout, "temperature": 0,
                  "response_format": {"type": "json_schema",
                                      "json_schema": {"name": "query_plan", "schema": PLAN_SCHEMA, "strict": False}},
                  "drop_params": True, "num_retries": 0}
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        elif self.api_base and self.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
            kwargs["api_key"] = "no-key"  # a local OpenAI-compatible server needs none, the client wants one
        try:
            response = litellm.completion(**kwargs)
        except Exception as error:  # noqa: BLE001 - network, auth, provider errors
            raise LLMUnavailable(f"the model {self.model} could not be reached: {type(error).__name__}",
                                 detail=str(error)[:500]) from error
        content = response.choices[0].message.content or ""
        usage = getattr(response, "usage", None)
        tokens = int(getattr(usage, "total_tokens", 0) or 0) if usage else 0
        return Completion(content=content, tokens=tokens)


# --- prompt ----------------------------------------------------------------------------------------------

def system_prompt(context, agent) -> str:
    catalog = context.catalog
    first = [m for m in agent.marts if catalog.mart(m)]
    rest = [m for m in sorted(catalog.marts) if m not in first and m != "metricflow_time_spine"]
    dims = ", ".join(catalog.dimensions[:60])
    lines = [
        f"You are the {agent.title or agent.name} of Sales Command Center. {agent.description}",
        f"Today is {context.today.isoformat()}. Amounts are in USD.",
        "Plan how to answer the user's question and reply with ONE JSON object, nothing else:",
        '- {"kind": "metric", "title": ..., "metrics": [...], "group_by": [...], "where": [...], "order_by": [...], '
        '"limit": n} when the question asks for metrics of the semantic layer (listed below); group_by names are '
        "metric_time__day|week|month|quarter|year or <entity>__<dimension> (order__region, rep__rep_name, "
        "customer__customer_name, product__category, opportunity__stage ...); where filters look like "
        "\"metric_time__day >= '2026-01-01'\" or \"customer__customer_name = 'Disney'\".",
        '- {"kind": "sql", "title": ..., "sql": "SELECT ..."} otherwise: exactly one DuckDB SELECT reading only '
        "marts.<table> tables below. Never write, never read files or settings.",
        '- {"kind": "clarify", "title": ..., "message": "..."} when the question cannot be answered from these tables.',
        "The caller's data scope (their own rows or territory) is applied to every query automatically.",
        "",
        catalog.describe(first + rest),
    ]
    if dims:
        lines.append(f"\nDimensions of the semantic models: {dims}")
    if context.tools:
        lines.append("\nTools (kind \"tool\", with \"tool\" and \"arguments\"): " + "; ".join(
            f"{t.name}: {t.description}" for t in context.tools.values()))
    return "\n".join(lines)


def user_prompt(context, route) -> str:
    ents = route.entities
    lines = [f"Question: {route.text}"]
    if route.refinement:
        lines.append(f"This refines the previous question: {route.base_text}")
    if context.previous:
        prev_sql = (context.previous.get("answer") or {}).get("sql")
        lines.append(f"Previous question: {context.previous.get('question')}" + (f"\nIts SQL: {prev_sql}" if prev_sql else ""))
    found = []
    for m in ents.customers:
        found.append(f"customer {m.value!r} (customer_id {m.id!r})")
    for m in ents.products:
        found.append(f"item {m.value!r}" + (f" (product_id {m.id!r})" if m.id else f" ({len(m.ids)} items)"))
    found += [f"category {c!r}" for c in ents.categories] + [f"rep {r.value!r} (rep_id {r.id!r})" for r in ents.reps]
    found += [f"territory {t!r}" for t in ents.territories] + [f"region {r!r}" for r in ents.regions]
    found += [f"stage {s!r}" for s in ents.stages] + [f"industry {i!r}" for i in ents.industries]
    if ents.time:
        found.append(f"period {ents.time.describe()}")
    if found:
        lines.append("Recognised in the warehouse: " + "; ".join(found))
    if ents.unknown:
        lines.append("Not found in the warehouse: " + ", ".join(ents.unknown))
    if context.llm is not None and getattr(context.llm, "send_sample_rows", False):
        agent = context.agents.get(route.agent)
        for mart in (agent.marts if agent else ())[:3]:
            try:
                sample = context.run_sql(f"SELECT * FROM marts.{mart} LIMIT 3")
                lines.append(f"Sample rows of {mart}: {json.dumps(sample.rows, default=str)[:1500]}")
            except AgentError:
                pass
    return "\n".join(lines)


# --- plans ------------------------------------------------------------------------------------------------

def parse_plan(content: str) -> dict:
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.S)
    if fenced:
        text = fenced.group(1)
    elif not text.startswith("{"):
        start, end = text.find("{"), text.rfind("}")
        if start >= 0 and end > start:
            text = text[start:end + 1]
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanInvalid(f"the reply is not valid JSON ({error.msg} at position {error.pos})") from error
    if not isinstance(plan, dict):
        raise PlanInvalid("the reply must be a JSON object")
    kind = plan.get("kind")
    if kind not in ("metric", "sql", "tool", "clarify"):
        raise PlanInvalid("'kind' must be one of metric, sql, tool, clarify")
    if kind == "sql" and not isinstance(plan.get("sql"), str):
        raise PlanInvalid("a sql plan needs 'sql' (one SELECT)")
    if kind == "metric":
        metrics = plan.get("metrics")
        if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
            raise PlanInvalid("a metric plan needs 'metrics': a list of metric names")
        for key in ("group_by", "where", "order_by"):
            value = plan.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise PlanInvalid(f"'{key}' must be a list of strings")
        limit = plan.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise PlanInvalid("'limit' must be a whole number")
    if kind == "tool" and not isinstance(plan.get("tool"), str):
        raise PlanInvalid("a tool plan needs 'tool' (a tool name) and 'arguments'")
    return plan


def _run(context, plan: dict):
    kind = plan["kind"]
    if kind == "metric":
        query = MetricQuery(metrics=plan["metrics"], group_by=plan.get("group_by") or [], where=plan.get("where") or [],
                            order_by=plan.get("order_by") or [], limit=plan.get("limit"))
        return context.run_metrics(query), "semantic_layer"
    if kind == "sql":
        return context.run_sql(plan["sql"]), "llm_sql"
    tool = context.tools.get(plan["tool"])
    if tool is None:
        raise PlanInvalid(f"there is no tool named {plan['tool']!r}; the tools are: {', '.join(context.tools)}")
    return context.call_tool(plan["tool"], **(plan.get("arguments") or {})), "agent"


def answer_with_llm(context, agent, route) -> Answer:
    llm = context.llm
    messages = [{"role": "system", "content": system_prompt(context, agent)},
                {"role": "user", "content": user_prompt(context, route)}]
    errors = semantic_error_types()
    last_error: AgentError | None = None
    for attempt in range(llm.max_corrections + 1):
        context.llm_calls += 1
        completion = llm.complete(messages)
        context.llm_tokens += completion.tokens
        try:
            plan = parse_plan(completion.content)
            if plan["kind"] == "clarify":
                return Answer(question=route.text, text=plan.get("message") or plan.get("title") or "Could you rephrase?",
                              path="llm_sql", agent=agent.name, intent=f"{agent.name}.clarify",
                              entities=route.entities.filters(), follow_ups=list(agent.examples[:3]))
            result, path = _run(context, plan)
            if path == "agent":
                return _tool_answer(context, agent, route, plan, result)
            metrics_used = plan.get("metrics") or [m for m in context.catalog.metrics
                                                   if re.search(rf"\b{m}\b", plan.get("sql") or "")]
            shaped = Plan(title=plan.get("title") or route.text, kind="list" if len(result.columns) > 3 else "",
                          metrics_used=list(metrics_used), intent=f"{agent.name}.llm")
            answer = context.make_answer(agent, route, shaped, result, path)
            answer.extra["corrections"] = attempt
            return answer
        except Refusal as error:
            if not error.correctable:
                raise
            last_error = error
        except (PlanInvalid, QueryFailed) as error:
            if isinstance(error, QueryFailed) and not error.correctable:
                raise
            last_error = error
        except errors as error:
            last_error = QueryFailed(f"The semantic layer refused the plan: {error}", detail=str(error))
        except TypeError as error:  # a tool called with the wrong arguments
            last_error = PlanInvalid(f"wrong arguments: {error}")
        log.info("LLM plan attempt %d failed: %s", attempt + 1, last_error)
        messages += [
            {"role": "assistant", "content": completion.content},
            {"role": "user", "content": f"That did not work: {_plain(last_error.detail or last_error.message)}\n"
                                        "Reply with a corrected plan, as one JSON object."},
        ]
    if isinstance(last_error, Refusal):  # what the model kept asking for is not allowed: say so, as a refusal
        raise last_error
    raise QueryFailed(f"The model's plan still failed after {llm.max_corrections} corrections: {last_error.message}",
                      detail=last_error.detail, correctable=False)


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", str(text))[:2000]


def _tool_answer(context, agent, route, plan, output) -> Answer:
    if isinstance(output, dict) and output.get("type") == "sales_order":
        return Answer(question=route.text, text="Draft sales order prepared for review.", path="agent",
                      agent=agent.name, intent="transactions.draft", draft=output, entities=route.entities.filters())
    if isinstance(output, dict) and "columns" in output and "rows" in output:
        from agents.guard import QueryResult

        result = QueryResult(columns=output["columns"], rows=output["rows"], sql=output.get("sql", ""),
                             truncated=output.get("truncated", False))
        return context.make_answer(agent, route, Plan(title=plan.get("title") or route.text), result, "llm_sql")
    return Answer(question=route.text, text=plan.get("title") or "Done.", path="agent", agent=agent.name,
                  intent=f"{agent.name}.tool", extra={"tool_output": json.loads(json.dumps(output, default=str))})
