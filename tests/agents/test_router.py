"""The router and the answer: time ranges, amounts, entities matched against the warehouse's values,
two-part questions, follow-ups that refine the previous question, charts by rule, conversations."""

from __future__ import annotations

import datetime as dt

import pytest

from agents import Scope, ask
from agents.answer import chart_for
from agents.catalog import get_catalog
from agents.conversations import SQLiteConversationStore
from agents.entities import load_vocabulary
from agents.router import extract_entities, find_amounts
from agents.timeparse import parse_time

TODAY = dt.date(2026, 5, 20)
D = dt.date


@pytest.mark.parametrize("text, start, end", [
    ("orders today", D(2026, 5, 20), D(2026, 5, 20)),
    ("orders yesterday", D(2026, 5, 19), D(2026, 5, 19)),
    ("this week", D(2026, 5, 18), D(2026, 5, 24)),
    ("last week", D(2026, 5, 11), D(2026, 5, 17)),
    ("this month", D(2026, 5, 1), D(2026, 5, 31)),
    ("last month", D(2026, 4, 1), D(2026, 4, 30)),
    ("this quarter", D(2026, 4, 1), D(2026, 6, 30)),
    ("last quarter", D(2026, 1, 1), D(2026, 3, 31)),
    ("next quarter", D(2026, 7, 1), D(2026, 9, 30)),
    ("Q1 2026", D(2026, 1, 1), D(2026, 3, 31)),
    ("q4 of 2025", D(2025, 10, 1), D(2025, 12, 31)),
    ("2025 Q3", D(2025, 7, 1), D(2025, 9, 30)),
    ("YTD", D(2026, 1, 1), D(2026, 5, 20)),
    ("year to date", D(2026, 1, 1), D(2026, 5, 20)),
    ("QTD", D(2026, 4, 1), D(2026, 5, 20)),
    ("the last 30 days", D(2026, 4, 21), D(2026, 5, 20)),
    ("past 90 days", D(2026, 2, 20), D(2026, 5, 20)),
    ("last 12 months", D(2025, 5, 21), D(2026, 5, 20)),
    ("in March", D(2026, 3, 1), D(2026, 3, 31)),
    ("in September", D(2025, 9, 1), D(2025, 9, 30)),
    ("January 2026", D(2026, 1, 1), D(2026, 1, 31)),
    ("in 2025", D(2025, 1, 1), D(2025, 12, 31)),
    ("last year", D(2025, 1, 1), D(2025, 12, 31)),
    ("since February", D(2026, 2, 1), D(2026, 5, 20)),
    ("H1 2026", D(2026, 1, 1), D(2026, 6, 30)),
    ("from 2026-01-05 to 2026-02-01", D(2026, 1, 5), D(2026, 2, 1)),
])
def test_time_ranges(text, start, end):
    rng = parse_time(text, TODAY)
    assert (rng.start, rng.end) == (start, end), rng


@pytest.mark.parametrize("text, low, high", [
    ("orders over $100K", 100_000, None), ("deals above $1.5M", 1_500_000, None),
    ("orders under 5,000 dollars", None, 5_000), ("between $10k and $50K", 10_000, 50_000),
    ("at least $250", 250, None), ("500 hats", None, None),
])
def test_amounts(text, low, high):
    assert find_amounts(text) == (low, high)


@pytest.fixture(scope="module")
def vocab(synthetic):
    return load_vocabulary(get_catalog(synthetic), synthetic)


def test_entities_match_the_warehouses_own_values(vocab):
    e = extract_entities("pending orders for disney over $100K in the west this month", vocab, TODAY)
    assert [c.value for c in e.customers] == ["Disney"] and e.regions == ["West"]
    assert e.order_status == ("group", "pending") and e.amount_min == 100_000
    assert e.time.label == "this month"
    assert extract_entities("how many hats did we sell", vocab, TODAY).categories == ["Hats"]
    caps = extract_entities("caps sold last month", vocab, TODAY).products[0]
    assert caps.kind == "product_group" and set(caps.ids) == {"501", "502"}
    assert extract_entities("deals stuck in negotiation", vocab, TODAY).stages == ["Negotiation/Review"]
    assert extract_entities("orders for Pinecrest Foods", vocab, TODAY).customers[0].value == "Pinecrest Foods Inc."
    assert extract_entities("Alice Adams' pipeline", vocab, TODAY).reps[0].id == "005A"
    assert extract_entities("orders in the Pacific territory", vocab, TODAY).territories == ["Pacific"]
    assert extract_entities("orders for Disnye", vocab, TODAY).customers[0].value == "Disney"  # a typo
    assert extract_entities("Show me Cologuard sales trends", vocab, TODAY).unknown == ["Cologuard"]
    e = extract_entities("top 5 customers by region", vocab, TODAY)
    assert e.top_n == 5 and e.group_by == ["region"]


@pytest.fixture
def store(tmp_path):
    return SQLiteConversationStore(tmp_path / "conversations.sqlite")


def test_a_two_part_question_gets_two_answers(synthetic, store):
    answer = ask("How many orders did I receive today and what's my win rate this quarter?", Scope.all(),
                 settings=synthetic, store=store)
    assert [p.agent for p in answer.parts] == ["orders", "pipeline"]
    assert all(p.ok for p in answer.parts)
    assert answer.parts[1].entities["time"]["label"] == "this quarter"


def test_follow_ups_refine_the_previous_question(synthetic, store):
    first = ask("What were bookings this quarter?", Scope.all(), settings=synthetic, store=store)
    cid = first.conversation_id
    steps = [("what about last quarter?", {"time": "last quarter"}),
             ("only Disney", {"customers": ["Disney"], "time": "last quarter"}),
             ("break that down by region", {"group_by": ["region"], "customers": ["Disney"]})]
    for text, expect in steps:
        answer = ask(text, Scope.all(), settings=synthetic, store=store, conversation_id=cid)
        assert answer.agent == "orders" and answer.conversation_id == cid and answer.ok, answer.text
        for key, value in expect.items():
            got = answer.entities[key]["label"] if key == "time" else answer.entities[key]
            assert got == value, (text, answer.entities)
    assert answer.columns[0] == "region" and answer.chart["type"] == ("bar" if len(answer.rows) > 1 else "kpi")
    assert [t["question"] for t in store.history(cid)] == ["What were bookings this quarter?"] + [s[0] for s in steps]


def test_a_conversation_belongs_to_its_scope(synthetic, store):
    mine = ask("How many orders today?", Scope.rep("005A"), settings=synthetic, store=store)
    other = ask("only Disney", Scope.rep("005C"), settings=synthetic, store=store, conversation_id=mine.conversation_id)
    assert other.refused and "someone else" in other.text


def test_charts_are_chosen_by_rule():
    assert chart_for(["month", "bookings"], [(D(2026, 1, 1), 1.0), (D(2026, 2, 1), 2.0)])["type"] == "line"
    assert chart_for(["stage", "open_pipeline"], [("Prospecting", 1.0), ("Negotiation/Review", 2.0)])["type"] == "funnel"
    assert chart_for(["region", "bookings"], [("West", 1.0), ("East", 2.0)])["type"] == "bar"
    assert chart_for(["orders"], [(3,)])["type"] == "kpi"
    assert chart_for(["region", "bookings"], [("West", 1.0)])["type"] == "kpi"  # one row: no two-axis chart
    assert chart_for(["order_number", "customer_name", "status", "total_amount"], [("SO-1", "x", "billed", 1.0)],
                     kind="list") is None


def test_an_answer_carries_everything(synthetic, store):
    answer = ask("Bookings by month this year", Scope.all(), settings=synthetic, store=store)
    data = answer.to_dict()
    assert data["text"] and data["columns"] == ["month", "orders", "bookings"] and data["rows"]
    assert data["chart"]["type"] == "line" and data["sql"].startswith("SELECT")
    assert {m["name"] for m in data["metrics"]} == {"orders", "bookings"}
    assert all(m["definition"] for m in data["metrics"])          # from the semantic layer's YAML
    assert data["path"] in ("semantic_layer", "planner") and data["follow_ups"]
    assert data["agent"] == "orders" and data["conversation_id"]


def test_transactions_draft_a_sales_order(synthetic, store):
    from agents import draft_order

    draft = draft_order("Create a sales order for Disney, 500 hats, $50 each", Scope.all(), settings=synthetic)
    assert draft["customer"]["customer_name"] == "Disney" and draft["status"] == "draft"
    (line,) = draft["lines"]
    assert (line["quantity"], line["unit_price"], line["category"]) == (500, 50.0, "Hats")
    assert line["min_price"] <= 50 <= line["list_price"] and line["product_name"] == "Premium Leather-Patch Cap"
    assert draft["total"] == 25_000.0 and not draft["problems"]
    answer = ask("Create a sales order for 500 hats for Disney at $50 each", Scope.rep("005C"), settings=synthetic,
                 store=store)
    assert answer.draft["customer"] is None and "not one of the customers" in answer.text
    unknown = draft_order("create order for Acme, 10 widgets", Scope.all(), settings=synthetic)
    assert unknown["customer"] is None and len(unknown["problems"]) == 2


def test_names_outside_the_scope_are_not_matched_or_suggested(synthetic, store):
    rep = Scope.rep("005A")
    answer = ask("Show me orders for pinecrest foods", rep, settings=synthetic, store=store)
    assert "Pinecrest Foods Inc." not in answer.text and answer.rows == []
    draft = ask("Create an order for Pinecrst, 10 hats at $12", rep, settings=synthetic, store=store)
    assert "Pinecrest" not in draft.text and draft.draft["customer"] is None
    mine = ask("Show me orders for disney", rep, settings=synthetic, store=store)
    assert mine.rows and mine.entities["customers"] == ["Disney"]
