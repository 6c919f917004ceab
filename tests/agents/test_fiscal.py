"""A fiscal year that starts in April (SCC_FISCAL_YEAR_START_MONTH=4): "FY2026", "Q3", "last fiscal year"
and "this quarter" follow it, in the ranges, the labels and the answers."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from agents import Scope, ask
from agents.conversations import SQLiteConversationStore
from agents.timeparse import find_time
from scc.config import reset_settings_cache

TODAY = dt.date(2026, 5, 20)  # in FY2027 (1 Apr 2026 - 31 Mar 2027), its first quarter


@pytest.fixture
def april(monkeypatch):
    monkeypatch.setenv("SCC_FISCAL_YEAR_START_MONTH", "4")
    reset_settings_cache()
    yield
    monkeypatch.delenv("SCC_FISCAL_YEAR_START_MONTH")
    reset_settings_cache()


def read(text: str):
    (rng,) = find_time(text, TODAY)
    return rng.start.isoformat(), rng.end.isoformat(), rng.label


@pytest.mark.parametrize("text, expected", [
    ("bookings in FY2026", ("2025-04-01", "2026-03-31", "FY2026")),
    ("FY25 revenue", ("2024-04-01", "2025-03-31", "FY2025")),
    ("last fiscal year", ("2025-04-01", "2026-03-31", "last fiscal year (FY2026)")),
    ("this fiscal year", ("2026-04-01", "2027-03-31", "this fiscal year (FY2027)")),
    ("orders in Q3", ("2026-10-01", "2026-12-31", "Q3 FY2027")),
    ("Q1 FY2026", ("2025-04-01", "2025-06-30", "Q1 FY2026")),
    ("this quarter", ("2026-04-01", "2026-06-30", "this quarter")),
    ("last quarter", ("2026-01-01", "2026-03-31", "last quarter")),
    ("fiscal year to date", ("2026-04-01", "2026-05-20", "fiscal year to date")),
    ("Q4 of last year", ("2026-01-01", "2026-03-31", "Q4 FY2026")),
])
def test_periods_follow_the_fiscal_year(april, text, expected):
    assert read(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("bookings in FY2025", ("2025-01-01", "2025-12-31", "FY2025")),
    ("orders in Q3", ("2026-07-01", "2026-09-30", "Q3 2026")),
    ("the last 6 full months", ("2025-11-01", "2026-04-30", "the last 6 full months")),
    ("first half of 2025", ("2025-01-01", "2025-06-30", "first half of 2025")),
])
def test_the_default_fiscal_year_is_the_calendar_year(text, expected):
    assert read(text) == expected


def test_an_answer_for_last_fiscal_year_counts_its_months(april, synthetic, tmp_path):
    store = SQLiteConversationStore(tmp_path / "c.sqlite")
    settings = synthetic.model_copy(update={"fiscal_year_start_month": 4})
    answer = ask("How many orders did we get last fiscal year?", Scope.all(), settings=settings, store=store)
    con = duckdb.connect(str(synthetic.data_dir / "warehouse.duckdb"), read_only=True)
    (expected,), = con.execute("SELECT count(*) FROM marts.fct_orders WHERE status <> 'cancelled' AND order_date "
                               "BETWEEN DATE '2025-04-01' AND DATE '2026-03-31'").fetchall()
    con.close()
    assert answer.rows and answer.rows[0][0] == expected
    assert "FY2026" in answer.text and "1 Apr 2025–31 Mar 2026" in answer.text
