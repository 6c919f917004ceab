"""The LLM path end to end over real HTTP, against a local OpenAI-compatible server that plays back
scripted model replies (tests/agents/llm_server.py); litellm makes the calls."""

from __future__ import annotations

import json

import pytest

from agents import Scope, ask
from agents.conversations import SQLiteConversationStore

REP = Scope.rep("005A")


@pytest.fixture
def llm_settings(synthetic, scripted_llm):
    return synthetic.model_copy(update={"llm_model": "openai/scripted", "llm_api_base": scripted_llm.url,
                                        "llm_api_key": None, "llm_max_corrections": 2})


@pytest.fixture
def store(tmp_path):
    return SQLiteConversationStore(tmp_path / "conversations.sqlite")


def plan(sql: str, title: str = "Answer") -> str:
    return json.dumps({"kind": "sql", "title": title, "sql": sql})


def test_a_good_plan_answers_in_one_call_within_the_callers_scope(llm_settings, scripted_llm, store):
    scripted_llm.script([plan("SELECT order_number, total_amount, rep_id FROM marts.fct_orders "
                              "WHERE status_group = 'pending' AND total_amount >= 100000", "Pending orders over $100K")])
    answer = ask("Show me pending orders over $100K", REP, settings=llm_settings, store=store)
    assert answer.ok and answer.path == "llm_sql" and answer.llm_calls == 1 and answer.llm_tokens > 0
    assert answer.rows and {row[2] for row in answer.rows} == {"005A"}
    assert "rep_id = '005A'" in answer.sql
    request = scripted_llm.requests[0]
    assert request["model"] == "scripted"
    assert request["response_format"]["type"] == "json_schema"
    prompt = json.dumps(request["messages"])
    assert "fct_orders" in prompt and "total_amount" in prompt            # the catalogue's descriptions
    assert "SO-1001" not in prompt and "125000" not in prompt              # but no table rows


def test_invalid_sql_is_corrected_on_the_second_try(llm_settings, scripted_llm, store):
    scripted_llm.script([plan("SELEC count(*) FROM marts.fct_orders"),
                         plan("SELECT count(*) AS orders FROM marts.fct_orders", "Orders")])
    answer = ask("How many orders do I have?", REP, settings=llm_settings, store=store)
    assert answer.ok and answer.rows == [[16]] and answer.llm_calls == 2
    assert answer.extra["corrections"] == 1
    correction = scripted_llm.requests[1]["messages"][-1]["content"]
    assert "did not work" in correction and "SELEC" in json.dumps(scripted_llm.requests[1]["messages"])


def test_an_sql_error_and_bad_json_are_corrected_too(llm_settings, scripted_llm, store):
    scripted_llm.script(["this is not json",
                         plan("SELECT no_such_column FROM marts.fct_orders"),
                         plan("SELECT count(*) AS orders FROM marts.fct_orders", "Orders")])
    answer = ask("How many orders do I have?", REP, settings=llm_settings, store=store)
    assert answer.ok and answer.llm_calls == 3 and answer.rows == [[16]]


def test_at_most_two_corrections(llm_settings, scripted_llm, store):
    scripted_llm.script([plan("SELECT nope FROM marts.fct_orders")] * 5)
    answer = ask("How many orders do I have?", REP, settings=llm_settings, store=store)
    assert answer.error and answer.llm_calls == 3 and "after 2 corrections" in answer.text
    assert len(scripted_llm.requests) == 3


@pytest.mark.parametrize("sql, message", [
    ("DROP TABLE marts.fct_orders", "Only SELECT"),
    ("SELECT * FROM read_csv('/etc/passwd')", "reads files"),
    ("SELECT * FROM marts.fct_orders; DELETE FROM marts.fct_orders", "Exactly one statement"),
])
def test_a_reply_that_writes_or_reads_a_file_is_refused_without_another_try(llm_settings, scripted_llm, store,
                                                                              sql, message):
    scripted_llm.script([plan(sql), plan("SELECT count(*) FROM marts.fct_orders")])
    answer = ask("How many orders do I have?", REP, settings=llm_settings, store=store)
    assert answer.refused and message in answer.text and answer.rows == []
    assert answer.llm_calls == 1


def test_a_clarifying_question_comes_back_as_the_answer(llm_settings, scripted_llm, store):
    scripted_llm.script([json.dumps({"kind": "clarify", "title": "Which period?",
                                     "message": "Which period do you mean?"})])
    answer = ask("How are our orders doing?", REP, settings=llm_settings, store=store)
    assert answer.text == "Which period do you mean?" and not answer.error


def test_a_tool_plan_calls_a_registered_tool(llm_settings, scripted_llm, store):
    scripted_llm.script([json.dumps({"kind": "tool", "title": "Draft", "tool": "draft_sales_order",
                                     "arguments": {"sentence": "500 hats for Disney at $50 each"}})])
    answer = ask("Put together an order of 500 hats for Disney at $50 each", REP, settings=llm_settings, store=store)
    assert answer.draft and answer.draft["customer"]["customer_name"] == "Disney"


def test_an_unreachable_model_falls_back_to_the_planner(llm_settings, scripted_llm, store):
    scripted_llm.script([{"status": 500}])
    answer = ask("How many orders did I receive today?", REP, settings=llm_settings, store=store)
    assert answer.ok and answer.path == "planner" and "could not be reached" in answer.text
