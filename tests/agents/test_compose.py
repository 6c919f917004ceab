"""Rankings and comparisons compose with any agent's plan (agents/compose.py, issue 16): answers checked
against independent queries on the synthetic warehouse."""

from __future__ import annotations

import duckdb
import pytest

from agents import Scope, ask
from agents.compose import find_comparison, find_ranking
from agents.conversations import SQLiteConversationStore
from agents.router import Entities
from agents.timeparse import find_time
from tests.agents.synthetic import TODAY


@pytest.fixture
def store(tmp_path):
    return SQLiteConversationStore(tmp_path / "conversations.sqlite")


def column(answer, name: str) -> int:
    return [c.lower() for c in answer.columns].index(name)


def gold(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("question, dimension, direction, n", [
    ("which territory closed the most deals in Q2?", "territory", "desc", 1),
    ("who on my team has the best win rate?", "rep", "desc", 1),
    ("which customers owe us the most?", "customer", "desc", None),
    ("Which region has the lowest win rate?", "region", "asc", 1),
    ("the 3 reps with the fewest orders this year", "rep", "asc", 3),
    ("What are the 2 categories with the smallest revenue?", "category", "asc", 2),
    ("who sold the most last month", "rep", "desc", 1),
    ("top 5 reps by bookings", "rep", "desc", 5),
    ("top customers by bookings this year", "customer", "desc", None),
    ("bottom 3 territories by win rate", "territory", "asc", 3),
    ("rank reps by bookings this year", "rep", "desc", None),
    ("lowest performing territory by bookings", "territory", "asc", 1),
])
def test_rankings_are_read_without_by(question, dimension, direction, n):
    ranking = find_ranking(question, None)
    assert (ranking.dimension, ranking.direction, ranking.n) == (dimension, direction, n)


@pytest.mark.parametrize("question", ["top 5 reps by territory", "whose orders fell the most?", "show me the orders",
                                      "orders over $100K"])
def test_no_ranking_where_none_is_asked(question):
    assert find_ranking(question, None) is None


def test_which_region_has_the_lowest_win_rate(synthetic, store):
    answer = ask("Which region has the lowest win rate?", Scope.all(), settings=synthetic, store=store)
    expected = gold(synthetic, "SELECT region, sum(CASE WHEN is_won THEN 1 ELSE 0 END) * 1.0 / count(*) AS r "
                               "FROM marts.fct_opportunities WHERE is_closed GROUP BY 1 ORDER BY 2 ASC LIMIT 1")
    assert [r[0] for r in answer.rows] == [expected[0][0]]
    assert answer.reading["unused"] == [] and "lowest" in answer.reading["used"]


def test_the_three_reps_with_the_fewest_orders(synthetic, store):
    answer = ask("the 3 reps with the fewest orders this year", Scope.all(), settings=synthetic, store=store)
    expected = gold(synthetic, "SELECT r.rep_name, count(*) FROM marts.fct_orders o JOIN marts.dim_sales_reps r "
                               "USING (rep_id) WHERE o.status <> 'cancelled' AND year(o.order_date) = 2026 "
                               "GROUP BY 1 ORDER BY 2 ASC, 1")
    counts = [r[column(answer, "orders")] for r in answer.rows]
    assert len(answer.rows) == 3 and counts == [c for _, c in expected[:3]]


def test_top_five_customers_by_bookings_is_a_ranking_not_a_total(synthetic, store):
    answer = ask("top 5 customers by bookings", Scope.all(), settings=synthetic, store=store)
    expected = gold(synthetic, "SELECT customer_id, sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' "
                               "GROUP BY 1 ORDER BY 2 DESC LIMIT 5")
    bookings = column(answer, "bookings")
    assert [round(r[bookings], 2) for r in answer.rows] == [round(float(t), 2) for _, t in expected]
    assert answer.reading["unused"] == []


def test_bookings_this_quarter_vs_last_quarter(synthetic, store):
    answer = ask("Bookings this quarter vs last quarter", Scope.all(), settings=synthetic, store=store)
    expected = gold(synthetic, "SELECT quarter(order_date) AS q, sum(total_amount) FROM marts.fct_orders "
                               "WHERE status <> 'cancelled' AND year(order_date) = 2026 AND quarter(order_date) IN (1, 2) "
                               "GROUP BY 1 ORDER BY 1 DESC")
    bookings = column(answer, "bookings")
    assert [round(r[bookings], 2) for r in answer.rows] == [round(float(t), 2) for _, t in expected]
    assert answer.columns[0].lower() == "period" and "this quarter" in answer.rows[0][0] and "last quarter" in answer.rows[1][0]
    assert "%" in answer.text


def test_west_versus_east(synthetic, store):
    answer = ask("Bookings West versus East this year", Scope.all(), settings=synthetic, store=store)
    expected = dict(gold(synthetic, "SELECT region, sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' "
                                    "AND year(order_date) = 2026 GROUP BY 1"))
    bookings = column(answer, "bookings")
    assert {r[0]: round(r[bookings], 2) for r in answer.rows} == {k: round(float(expected[k]), 2) for k in ("West", "East")}


def test_year_to_date_against_last_year_to_date():
    text = "bookings year to date vs last year to date"
    comparison = find_comparison(text, Entities(), find_time(text, TODAY))
    first, second = comparison.sides
    assert (first.start.isoformat(), first.end.isoformat()) == ("2026-01-01", "2026-05-20")
    assert (second.start.isoformat(), second.end.isoformat()) == ("2025-01-01", "2025-05-20")


def test_same_month_last_year():
    text = "orders in April against the same month last year"
    comparison = find_comparison(text, Entities(), find_time(text, TODAY))
    assert [(s.start.isoformat(), s.end.isoformat()) for s in comparison.sides] == [
        ("2026-04-01", "2026-04-30"), ("2025-04-01", "2025-04-30")]


@pytest.mark.parametrize("question", ["orders over $10K", "more than 5 orders", "show me deals"])
def test_no_comparison_where_none_is_asked(question):
    assert find_comparison(question, Entities(), find_time(question, TODAY)) is None


@pytest.mark.parametrize("question, sql", [
    ("How many orders this year without Disney?",
     "SELECT count(*) FROM marts.fct_orders WHERE status <> 'cancelled' AND year(order_date) = 2026 AND customer_id <> 'C1'"),
    ("Bookings this year excluding Disney and Summit Schools",
     "SELECT sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' AND year(order_date) = 2026 "
     "AND customer_id NOT IN ('C1', 'C6')"),
    ("Win rate outside the West",
     "SELECT sum(CASE WHEN is_won THEN 1 ELSE 0 END) * 1.0 / count(*) FROM marts.fct_opportunities "
     "WHERE is_closed AND region <> 'West'"),
])
def test_exclusions_leave_out_what_they_name(synthetic, store, question, sql):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    (expected,), = gold(synthetic, sql)
    assert round(float(answer.rows[0][0]), 4) == round(float(expected), 4), (answer.text, answer.sql)
    assert "excluding" in answer.text and not answer.reading["unused"]
    assert any(c["text"].startswith("without") for c in answer.reading["chips"])


def test_follow_ups_shift_regroup_and_leave_out(synthetic, store):
    first = ask("Bookings in the last 12 months", Scope.all(), settings=synthetic, store=store)
    before = ask("and the 12 months before that?", Scope.all(), settings=synthetic, store=store,
                 conversation_id=first.conversation_id)
    (expected,), = gold(synthetic, "SELECT count(*) FROM marts.fct_orders WHERE status <> 'cancelled' AND "
                                   "order_date BETWEEN DATE '2024-05-21' AND DATE '2025-05-20'")
    assert "21 May 2024–20 May 2025" in before.text and before.rows[0][1] == expected
    last_year = ask("same for last year", Scope.all(), settings=synthetic, store=store,
                    conversation_id=first.conversation_id)
    by_rep = ask("by rep instead", Scope.all(), settings=synthetic, store=store, conversation_id=first.conversation_id)
    assert "by rep" in by_rep.text and "last year" in by_rep.text and len(by_rep.rows) == 4
    without = ask("without Disney", Scope.all(), settings=synthetic, store=store, conversation_id=first.conversation_id)
    expected_by_rep = dict(gold(synthetic, "SELECT r.rep_name, sum(o.total_amount) FROM marts.fct_orders o JOIN "
                                           "marts.dim_sales_reps r USING (rep_id) WHERE o.status <> 'cancelled' AND "
                                           "year(o.order_date) = 2025 AND o.customer_id <> 'C1' GROUP BY 1"))
    bookings = column(without, "bookings")
    assert {r[0]: round(r[bookings], 2) for r in without.rows} == {k: round(float(v), 2) for k, v in expected_by_rep.items()}
    assert last_year.ok and not without.reading["unused"]


@pytest.mark.parametrize("question, part_sql, whole_sql", [
    ("What share of bookings comes from Disney this year?",
     "SELECT sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' AND year(order_date) = 2026 "
     "AND customer_id = 'C1'",
     "SELECT sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' AND year(order_date) = 2026"),
    ("what percent of orders are cancelled?",
     "SELECT count(*) FROM marts.fct_orders WHERE status_group = 'cancelled'", "SELECT count(*) FROM marts.fct_orders"),
    ("What proportion of bookings is from the West?",
     "SELECT sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' AND region = 'West'",
     "SELECT sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled'"),
    ("what fraction of deals did we win?",
     "SELECT count(*) FROM marts.fct_opportunities WHERE is_won",
     "SELECT count(*) FROM marts.fct_opportunities WHERE is_closed"),
    ("how much of our bookings comes from the West?",
     "SELECT sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' AND region = 'West'",
     "SELECT sum(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled'"),
    ("what share of orders are over $100K?",
     "SELECT count(*) FROM marts.fct_orders WHERE status <> 'cancelled' AND total_amount >= 100000",
     "SELECT count(*) FROM marts.fct_orders WHERE status <> 'cancelled'"),
])
def test_shares_divide_the_part_by_the_whole(synthetic, store, question, part_sql, whole_sql):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    (part,), = gold(synthetic, part_sql)
    (whole,), = gold(synthetic, whole_sql)
    shares = {round(float(r[3]), 6) for r in answer.rows}
    assert round(float(part) / float(whole), 6) in shares, (answer.text, answer.rows)
    assert "%" in answer.text and answer.intent.endswith(".share")


def test_share_of_pipeline_by_territory_gives_each_territory_its_share(synthetic, store):
    answer = ask("share of pipeline by territory", Scope.all(), settings=synthetic, store=store)
    expected = dict(gold(synthetic, "SELECT territory, sum(amount) / (SELECT sum(amount) FROM marts.fct_opportunities "
                                    "WHERE NOT is_closed) FROM marts.fct_opportunities WHERE NOT is_closed GROUP BY 1"))
    share = column(answer, "share_of_open_pipeline")
    got = {r[column(answer, "territory")]: round(r[share], 6) for r in answer.rows}
    assert got == {k: round(float(v), 6) for k, v in expected.items()}
    assert answer.intent.endswith(".share") and not answer.reading["unused"]


def test_how_many_deals_did_we_close_counts_the_closed_ones(synthetic, store):
    answer = ask("how many deals did we close this quarter?", Scope.all(), settings=synthetic, store=store)
    (n,), = gold(synthetic, "SELECT count(*) FROM marts.fct_opportunities WHERE is_closed AND close_date BETWEEN "
                            "'2026-04-01' AND '2026-06-30'")
    assert n > 0 and answer.rows[0][column(answer, "closed_opportunities")] == n and not answer.reading["unused"]


@pytest.mark.parametrize("question, sql", [
    ("What was the largest order last year?",
     "SELECT order_number FROM marts.fct_orders WHERE year(order_date) = 2025 ORDER BY total_amount DESC LIMIT 1"),
    ("show me the 3 most recent orders",
     "SELECT order_number FROM marts.fct_orders ORDER BY order_date DESC, order_number LIMIT 3"),
    ("what did the last 5 orders look like",
     "SELECT order_number FROM marts.fct_orders ORDER BY order_date DESC, order_number LIMIT 5"),
    ("our oldest open invoice",
     "SELECT invoice_number FROM marts.fct_invoices WHERE status = 'open' ORDER BY invoice_date ASC LIMIT 1"),
])
def test_superlatives_pick_rows_of_a_list(synthetic, store, question, sql):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    expected = [r[0] for r in gold(synthetic, sql)]
    assert [r[0] for r in answer.rows] == expected, (answer.text, answer.sql)
    assert answer.extra["ranked"]["dimension"] == "item"


@pytest.mark.parametrize("question, sql", [
    ("What's the median order value this year?",
     "SELECT median(total_amount) FROM marts.fct_orders WHERE status <> 'cancelled' AND year(order_date) = 2026"),
    ("average size of won deals", "SELECT avg(amount) FROM marts.fct_opportunities WHERE is_won"),
    ("median deal size of open deals", "SELECT median(amount) FROM marts.fct_opportunities WHERE NOT is_closed"),
    ("What is the largest invoice amount for Disney?", "SELECT max(amount) FROM marts.fct_invoices WHERE customer_id = 'C1'"),
])
def test_aggregates_of_a_measure(synthetic, store, question, sql):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    (expected,), = gold(synthetic, sql)
    assert answer.agent == "measures" and round(float(answer.rows[0][0]), 2) == round(float(expected), 2), answer.text
    assert not answer.reading["unused"]


@pytest.mark.parametrize("question, sql", [
    ("accounts that bought last year but nothing in the last 3 months",
     "SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled' AND year(order_date) = 2025 EXCEPT "
     "SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled' AND order_date >= DATE '2026-02-21'"),
    ("customers who ordered in 2025 but not since",
     "SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled' AND year(order_date) = 2025 EXCEPT "
     "SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled' AND order_date >= DATE '2026-01-01'"),
    ("how many customers placed their first order in 2025?",
     "SELECT customer_id FROM marts.dim_customers WHERE year(first_order_date) = 2025"),
])
def test_cohorts_by_order_history(synthetic, store, question, sql):
    answer = ask(question, Scope.all(), settings=synthetic, store=store)
    expected = gold(synthetic, sql)
    assert answer.intent == "customers.cohort", answer.text
    got = answer.rows[0][0] if answer.columns == ["customers"] else len(answer.rows)
    assert got == len(expected), (answer.text, answer.sql)


def test_a_total_over_nothing_is_zero_not_unknown(synthetic, store):
    answer = ask("how many orders over $10M?", Scope.all(), settings=synthetic, store=store)
    (n,), = gold(synthetic, "SELECT count(*) FROM marts.fct_orders WHERE total_amount >= 10000000")
    assert n == 0 and "n/a" not in answer.text and "0 orders" in answer.text, answer.text
    assert answer.rows[0][column(answer, "orders")] == 0


@pytest.mark.parametrize("text, start, end", [
    ("revenue between January and March", "2026-01-01", "2026-03-31"),
    ("bookings from October to December", "2025-10-01", "2025-12-31"),  # the latest such stretch begun
    ("orders Nov 2025 through Feb 2026", "2025-11-01", "2026-02-28"),
    ("bookings in H1", "2026-01-01", "2026-06-30"),
    ("revenue over the last 6 months", "2025-11-21", "2026-05-20"),
])
def test_period_forms(text, start, end):
    (period, *_) = find_time(text, TODAY)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    assert period.phrase.lower() in text.lower()


def test_months_in_an_answer_read_as_months(synthetic, store):
    answer = ask("bookings by month over the last 3 months", Scope.all(), settings=synthetic, store=store)
    assert "Mar 2026" in answer.text and "-01" not in answer.text and not answer.reading["unused"], answer.text
