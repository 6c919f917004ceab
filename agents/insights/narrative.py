"""Words around the numbers: every insight comes with a template narrative written by its detector from the
query's rows; with an LLM configured (``SCC_LLM_MODEL``, the agents' litellm path) the top insights are
reworded by the model. The model only sees each insight's facts and template text, never the rows, and its
wording is kept only when every number in it is one of the facts' (otherwise the template stays): numbers
always come from the query, never from the model.
"""

from __future__ import annotations

import json
import logging
import os
import re

from agents.insights.model import Insight, plain

log = logging.getLogger("scc.insights.narrative")

NARRATIVE_SCHEMA = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "text": {"type": "string"}},
                "required": ["id", "text"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["items"],
    "additionalProperties": False,
}

SYSTEM = (
    "You write the narrative of sales insights for a sales executive's dashboard and e-mail digest. For each "
    "insight you get its id, kind, headline, facts (from the warehouse queries) and a plain template text. Write "
    "one or two short sentences per insight that say what happened and why it matters, in plain business English. "
    "Use only numbers that appear in the headline, the facts or the template, written the same way; never "
    "compute, round differently or invent a number, a date or a name. Reply with JSON: "
    '{"items": [{"id": "<insight id>", "text": "<narrative>"}]}.'
)

_NUMBER = re.compile(r"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.\d+)?\s*(?:%|[kKmMbB](?![a-zA-Z])|x(?![a-zA-Z]))?")


def _values(token: str) -> float | None:
    t = token.strip().replace("$", "").replace(",", "").replace(" ", "")
    scale = 1.0
    if t and t[-1] in "kK":
        scale, t = 1e3, t[:-1]
    elif t and t[-1] in "mM":
        scale, t = 1e6, t[:-1]
    elif t and t[-1] in "bB":
        scale, t = 1e9, t[:-1]
    elif t and t[-1] in "%x":
        t = t[:-1]
    try:
        return float(t) * scale
    except ValueError:
        return None


def numbers_in(text: str) -> list[float]:
    out = []
    for match in _NUMBER.finditer(text or ""):
        value = _values(match.group(0))
        if value is not None:
            out.append(value)
    return out


def _fact_numbers(value, out: set) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        v = float(value)
        out.update({v, abs(v)})
        if abs(v) <= 1.5:  # a share or rate: also as a percentage
            out.update({v * 100, abs(v * 100)})
        return
    if isinstance(value, dict):
        for v in value.values():
            _fact_numbers(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _fact_numbers(v, out)
    elif isinstance(value, str):
        out.update(abs(v) for v in numbers_in(value))
        out.update(numbers_in(value))


def allowed_numbers(insight: Insight) -> set[float]:
    allowed: set[float] = set()
    _fact_numbers(plain(insight.facts), allowed)
    for text in (insight.headline, insight.narrative):
        _fact_numbers(text, allowed)
    return allowed


def _matches(value: float, allowed: set[float]) -> bool:
    for a in allowed:
        tolerance = max(abs(a) * 0.005, 0.051 if abs(a) < 1000 else 0.5)
        if abs(abs(value) - abs(a)) <= tolerance:
            return True
    return False


def numbers_supported(text: str, insight: Insight) -> bool:
    """Whether every number in ``text`` is one of the insight's (its facts, headline or template text)."""
    allowed = allowed_numbers(insight)
    return all(_matches(v, allowed) for v in numbers_in(text))


def _complete(client, messages: list[dict]) -> str:
    """One chat completion with structured output, through litellm, with the agents' client settings."""
    import scc  # noqa: F401 - the offline switches, before litellm is imported

    from agents.llm import LLMUnavailable

    try:
        import litellm
    except ImportError as error:  # pragma: no cover
        raise LLMUnavailable("litellm is not installed") from error
    litellm.suppress_debug_info = True
    kwargs = {"model": client.model, "messages": messages, "timeout": client.timeout, "temperature": 0,
              "response_format": {"type": "json_schema",
                                  "json_schema": {"name": "insight_narratives", "schema": NARRATIVE_SCHEMA,
                                                  "strict": False}},
              "drop_params": True, "num_retries": 0}
    if client.api_base:
        kwargs["api_base"] = client.api_base
    if client.api_key:
        kwargs["api_key"] = client.api_key
    elif client.api_base and client.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
        kwargs["api_key"] = "no-key"
    try:
        response = litellm.completion(**kwargs)
    except Exception as error:  # noqa: BLE001 - network, auth, provider errors
        raise LLMUnavailable(f"the model {client.model} could not be reached: {type(error).__name__}",
                             detail=str(error)[:500]) from error
    return response.choices[0].message.content or ""


def _parse(content: str) -> dict[str, str]:
    text = content.strip()
    if text.startswith("```"):
        text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    data = json.loads(text)
    items = data.get("items", []) if isinstance(data, dict) else data
    return {str(i["id"]): str(i["text"]).strip()
            for i in items if isinstance(i, dict) and i.get("id") and i.get("text")}


def narrate_with_llm(insights: list[Insight], *, settings, llm=None) -> int:
    """Reword ``insights`` with the model; returns how many narratives the model's wording replaced. The
    template stays for any insight whose reworded text has a number that is not among its own."""
    if not insights:
        return 0
    if llm is None:
        if not settings.llm_model:
            return 0
        from agents.llm import LLMClient

        llm = LLMClient.from_settings(settings)
    payload = [{"id": i.id, "kind": i.kind, "severity": i.severity, "headline": i.headline,
                "facts": plain({k: v for k, v in i.facts.items() if k != "segments"}), "template": i.narrative}
               for i in insights]
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": json.dumps({"insights": payload}, default=str)}]
    try:
        texts = _parse(_complete(llm, messages))
    except Exception as error:  # noqa: BLE001 - unreachable model or a reply that is not JSON: templates
        log.warning("insight narratives by LLM unavailable (%s); templates are used", error)
        return 0
    replaced = 0
    for insight in insights:
        text = texts.get(insight.id)
        if not text or len(text) > 1200:
            continue
        if numbers_supported(text, insight):
            insight.narrative, insight.narrative_source = text, "llm"
            replaced += 1
        else:
            log.info("LLM narrative of %s dropped: a number is not among the insight's", insight.id)
    return replaced
