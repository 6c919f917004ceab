"""End to end on the real marts: the emulators synced into the warehouse, `dbt build`, then the question
set (tests/agents/questions.yaml, each question with a hand-written gold SQL) answered by the no-LLM
planner, the semantic-layer path, scope on real data, the LLM's metric plans, and `scc ask`."""

from __future__ import annotations

import json

import duckdb
import pytest

from agents import Scope, ask
from agents.conversations import SQLiteConversationStore

from .evaluation import compare, evaluate, load_questions

pytestmark = pytest.mark.slow

# The example queries of the design document (shared/seed/architecture.md): all must be in the set.
DESIGN_EXAMPLES = [
    "How many orders did I receive today?", "Show me pending orders over $100K",
    "What's the average order value this month?", "What's in my pipeline for Q1 2026?",
    "Show me deals stuck in negotiation", "What's my win rate this quarter?",
    "Who are my top 10 customers by revenue?", "Show me customers with declining purchases",
    "Which accounts need attention?", "Which products are selling best this quarter?",
    "Show me Cologuard sales trends", "What's the average selling price for Product A?",
    "Show me pending orders for Disney this month", "Create a sales order for 500 hats for Disney at $50 each",
    "Show me pending orders today", "Create sales order for Disney, 500 hats, $50 each",
]
ACCURACY_FLOOR = 0.90


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return SQLiteConversationStore(tmp_path_factory.mktemp("question-set") / "conversations.sqlite")


@pytest.fixture(scope="module")
def warehouse(marts):
    from scc.warehouse import duckdb_path

    return duckdb_path(marts)


def gold(warehouse, sql):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_question_set_covers_every_agent_and_the_design_examples():
    questions = load_questions()
    assert len(questions) >= 120
    assert {q["agent"] for q in questions} >= {"orders", "pipeline", "customers", "products", "transactions", "insights"}
    texts = {q["question"] for q in questions}
    assert not [e for e in DESIGN_EXAMPLES if e not in texts]
    assert len({q["id"] for q in questions}) == len(questions)


def test_planner_execution_accuracy(marts, store, warehouse):
    report = evaluate(load_questions(), settings=marts, store=store)
    lines = [f"{o.id} [{o.routed_to}/{o.path}] {o.question}: {o.why}" for o in report.failures()]
    print(f"\nplanner execution accuracy {report.accuracy:.1%}; per agent {report.by('agent')}; "
          f"per path {report.by('path')}\n" + "\n".join(lines))
    assert report.accuracy >= ACCURACY_FLOOR, "\n".join(lines)
    assert all(o.llm_calls == 0 for o in report.outcomes)
    design = [o for o in report.outcomes if o.design]
    assert sum(o.correct for o in design) / len(design) >= ACCURACY_FLOOR
    # Metric questions are compiled by the semantic layer.
    paths = report.by("path")
    assert paths.get("semantic_layer", (0, 0))[1] >= 20


def test_metric_questions_compile_through_the_semantic_layer(marts, store):
    answer = ask("What's my win rate this quarter?", Scope.all(), settings=marts, store=store)
    assert answer.path == "semantic_layer" and answer.metrics[0]["name"] == "win_rate"
    assert "won / (won + lost)" in answer.metrics[0]["definition"]


def test_a_rep_sees_only_their_rows_on_the_real_marts(marts, store, warehouse):
    (rep_id, territory), = gold(warehouse, "SELECT rep_id, territory FROM marts.fct_opportunities WHERE NOT is_closed "
                                           "GROUP BY ALL ORDER BY count(*) DESC, rep_id LIMIT 1")
    rep = Scope.rep(rep_id)
    deals = ask("Show me open deals", rep, settings=marts, store=store)
    mine = {r[0] for r in gold(warehouse, f"SELECT opportunity_name FROM marts.fct_opportunities WHERE NOT is_closed "
                                          f"AND rep_id = '{rep_id}'")}
    assert deals.rows and {r[0] for r in deals.rows} == mine
    bookings = ask("What were bookings this year?", rep, settings=marts, store=store)
    expected = gold(warehouse, f"SELECT sum(total_amount) FROM marts.fct_orders WHERE rep_id = '{rep_id}' AND "
                               "status <> 'cancelled' AND order_date >= DATE '2026-01-01'")
    assert compare(expected, bookings.columns[:1], [r[:1] for r in bookings.rows])[0], bookings.rows
    manager = ask("Bookings by territory this year", Scope.manager(territory), settings=marts, store=store)
    assert [r[0] for r in manager.rows] == [territory]
    customers = ask("Show me all customers", rep, settings=marts, store=store)
    theirs = {r[0] for r in gold(warehouse, f"SELECT customer_name FROM marts.dim_customers WHERE rep_id = '{rep_id}'")}
    assert {r[0] for r in customers.rows} <= theirs


def test_the_llm_can_plan_a_metric_through_the_semantic_layer(marts, store, scripted_llm, warehouse):
    settings = marts.model_copy(update={"llm_model": "openai/scripted", "llm_api_base": scripted_llm.url})
    scripted_llm.script([json.dumps({"kind": "metric", "title": "Win rate by region last quarter",
                                     "metrics": ["win_rate"], "group_by": ["opportunity__region"],
                                     "where": ["metric_time__day >= '2026-01-01'", "metric_time__day <= '2026-03-31'",
                                               "opportunity__is_open = false"]})])
    answer = ask("win rate by region last quarter", Scope.all(), settings=settings, store=store)
    assert answer.path == "semantic_layer" and answer.llm_calls == 1
    expected = gold(warehouse, "SELECT region, avg(CASE WHEN is_won THEN 1.0 ELSE 0.0 END) FROM marts.fct_opportunities "
                               "WHERE is_closed AND close_date BETWEEN DATE '2026-01-01' AND DATE '2026-03-31' GROUP BY 1")
    assert compare(expected, answer.columns, answer.rows)[0], answer.rows
    system = scripted_llm.requests[0]["messages"][0]["content"]
    assert "win_rate" in system and "won / (won + lost)" in system


def test_scc_ask_prints_the_answer_with_a_table(marts):
    from typer.testing import CliRunner

    from scc.cli import app

    result = CliRunner().invoke(app, ["ask", "Bookings by region last quarter"])
    assert result.exit_code == 0, result.output
    assert "Bookings by region" in result.output and "West" in result.output and "SQL" in result.output
    assert "Read as: " in result.output and "by region" in result.output
    typed = CliRunner().invoke(app, ["ask", "hw many ordrs last quarter?"])
    assert "Spelling: hw → how, ordrs → orders" in typed.output, typed.output
    as_json = CliRunner().invoke(app, ["ask", "DROP TABLE marts.fct_orders", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["refused"] is True
