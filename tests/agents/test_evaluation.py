"""The yardstick of the question set: an answer cut by the row limit is right only if every row it shows is right."""

from __future__ import annotations

from tests.agents.evaluation import compare

GOLD = [("SO-1", 10.0), ("SO-2", 20.0), ("SO-3", 30.0)]


def test_a_whole_answer_must_equal_the_gold_rows_in_any_order_and_column_order():
    assert compare(GOLD, ["amount", "number"], [(30.0, "SO-3"), (10.0, "SO-1"), (20.0, "SO-2")])[0]
    assert not compare(GOLD, ["number", "amount"], GOLD[:2])[0]  # rows missing, and it does not say so


def test_an_answer_cut_by_the_row_limit_is_right_when_each_shown_row_is_a_gold_row():
    assert compare(GOLD, ["number", "amount"], GOLD[:2], truncated=True)[0]
    assert not compare(GOLD, ["number", "amount"], [("SO-1", 10.0), ("SO-9", 20.0)], truncated=True)[0]
    assert not compare(GOLD, ["number", "amount"], [("SO-1", 10.0), ("SO-1", 10.0)], truncated=True)[0]
    assert not compare(GOLD, ["number", "amount"], [], truncated=True)[0]
