"""Every tool, built-in or a plugin's, for every role: its output holds nothing outside the caller's scope
(issue 17, point 4), whether an agent calls it or the model does, and nothing of another scope is stored in
the conversation."""

from __future__ import annotations

import json

import duckdb
import pytest

from agents import Scope, ask
from agents.base import AgentContext
from agents.catalog import build_catalog
from agents.conversations import SQLiteConversationStore
from agents.entities import load_vocabulary
from agents.plugins import registered_agents, registered_tools
from tests.agents import synthetic as synthetic_warehouse

EVERY_NAME = " and ".join(name for _, name, _, _ in synthetic_warehouse.CUSTOMERS)
EVERY_REP = " and ".join(name for _, name, *_ in synthetic_warehouse.REPS)
# Arguments that would reach every scope, one set per tool; a new tool needs an entry (the test says so).
PROBES = {
    "run_sql": [{"sql": "SELECT c.customer_id, c.customer_name, c.rep_id FROM marts.dim_customers c"}],
    "query_metrics": [{"metrics": ["bookings"], "group_by": ["customer__customer_name"]}],
    "find_customer": [{"text": EVERY_NAME}, {"text": EVERY_REP}],
    "find_product": [{"text": "hats, tumblers and totes for " + EVERY_NAME}],
    "reps_without_activity": [{"start": "2020-01-01", "end": "2030-12-31"}],  # the example plugin's
    "draft_sales_order": [{"sentence": f"100 caps for {name} at $10 each"}
                          for _, name, _, _ in synthetic_warehouse.CUSTOMERS],
}
ROLES = [Scope.all(), Scope("finance_viewer"), Scope.manager("Pacific"), Scope.rep("005A"), Scope.rep("005D")]


@pytest.fixture(scope="module")
def catalog(synthetic, tmp_path_factory):
    return build_catalog(synthetic, models_dir=tmp_path_factory.mktemp("no-models"))


def outside(scope: Scope, settings) -> set[str]:
    """Names and ids of customers and reps the scope may not see, read straight from the warehouse."""
    con = duckdb.connect(str(settings.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        if scope.sees_everything:
            return set()
        column, value = ("rep_id", scope.rep_id) if scope.role == "sales_rep" else ("territory", scope.territory)
        customers = con.execute(f"SELECT customer_id, customer_name FROM marts.dim_customers WHERE {column} <> ?",
                                [value]).fetchall()
        reps = con.execute(f"SELECT rep_id, rep_name FROM marts.dim_sales_reps WHERE {column} <> ?", [value]).fetchall()
        return {str(v) for row in customers + reps for v in row}
    finally:
        con.close()


def leaked(output, scope, settings) -> list[str]:
    text = json.dumps(output, default=str)
    return sorted(v for v in outside(scope, settings) if f'"{v}"' in text)


def test_every_registered_tool_has_a_probe():
    assert set(registered_tools()) <= set(PROBES), f"add probes for {set(registered_tools()) - set(PROBES)}"


@pytest.mark.parametrize("scope", ROLES, ids=lambda s: s.key)
@pytest.mark.parametrize("name", sorted(PROBES))
def test_a_tool_returns_only_what_the_caller_may_see(catalog, synthetic, scope, name):
    tools = registered_tools()
    context = AgentContext(scope=scope, settings=synthetic, catalog=catalog,
                           vocabulary=load_vocabulary(catalog, synthetic), today=synthetic_warehouse.TODAY,
                           tools=tools, agents=registered_agents())
    seen_something = False
    for arguments in PROBES[name]:
        try:
            output = context.call_tool(name, **arguments)
        except Exception as error:  # noqa: BLE001 - a refusal or a failed query reveals nothing either
            output = str(error)
        assert not leaked(output, scope, synthetic), (name, arguments, output)
        seen_something = seen_something or bool(json.dumps(output, default=str).strip('"{}[]null'))
    assert seen_something


def test_the_models_find_customer_call_shows_and_stores_only_the_reps_customers(synthetic, scripted_llm, tmp_path):
    settings = synthetic.model_copy(update={"llm_model": "openai/scripted", "llm_api_base": scripted_llm.url,
                                            "llm_api_key": None, "llm_max_corrections": 0})
    store = SQLiteConversationStore(tmp_path / "conversations.sqlite")
    scripted_llm.script([json.dumps({"kind": "tool", "title": "Customers", "tool": "find_customer",
                                     "arguments": {"text": EVERY_NAME}})])
    rep = Scope.rep("005A")
    answer = ask("which customers are called like these?", rep, settings=settings, store=store)
    matches = answer.extra["tool_output"]["matches"]
    assert {m["value"] for m in matches} == {"Disney", "Harbor Dental Group"}
    stored = json.dumps(store.history(answer.conversation_id), default=str)
    assert "Disney" in stored
    assert not leaked(stored, rep, synthetic)
