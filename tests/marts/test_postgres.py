"""The same dbt project builds on a real PostgreSQL server, and metric queries answer the same there."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from scc.config import get_settings, reset_settings_cache

from . import gold
from .conftest import build_or_fail, sync_all
from .gold import cents, month_key
from .test_gold_figures import check_contract

pytestmark = pytest.mark.slow

# Queries the dashboard and the agents ask: (metrics, group by).
QUERIES = [
    (["bookings", "orders", "average_order_value"], ["metric_time__month"]),
    (["billings", "open_receivables", "overdue_receivables"], ["metric_time__quarter", "rep__region"]),
    (["win_rate", "won_amount", "average_deal_size"], ["metric_time__quarter", "rep__territory"]),
    (["open_pipeline", "weighted_pipeline"], ["opportunity__stage"]),
    (["open_pipeline"], ["opportunity__forecast_category"]),
    (["units_sold", "product_revenue", "average_selling_price"], ["product__category"]),
    (["quota_attainment", "pipeline_coverage", "quota"], ["metric_time__quarter"]),
    (["fill_rate", "unit_fill_rate", "order_aging_days", "open_orders"], ["order__status_group"]),
    (["sales_velocity", "days_sales_outstanding", "customer_concentration_hhi", "top10_customer_share",
      "average_sales_cycle_days", "commit_forecast", "best_case_forecast"], []),
    (["stalled_deals", "slipped_deals", "close_date_pushes", "stage_changes", "activities"], ["rep__territory"]),
    (["customers", "at_risk_customers", "declining_customers", "customer_lifetime_revenue"], ["customer__health"]),
    (["bookings"], ["customer__customer_name"]),
]


def _normalise(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, decimal.Decimal):
        return value.normalize() if value == value.to_integral_value() else value
    return value


def _answers() -> list[list[tuple]]:
    from scc.semantic import query_metrics

    out = []
    for metrics, group_by in QUERIES:
        result = query_metrics(metrics, group_by=group_by)
        rows = [tuple(_normalise(v) for v in row) for row in result.rows]
        # Sorted here, not in SQL: text collations differ between the two databases.
        out.append(sorted(rows, key=lambda row: tuple(str(v) for v in row[: len(group_by)])))
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-9)
    if isinstance(a, decimal.Decimal) and isinstance(b, decimal.Decimal):
        # Money sums are exact on both; quotients of decimals differ only past the 6th decimal place.
        return a == b or abs(a - b) <= decimal.Decimal("1e-6") * max(1, abs(a))
    return a == b


def test_build_on_postgresql_and_metric_queries_agree(emulators, marts_built, postgres_url, monkeypatch):
    sync_all()
    build_or_fail()
    on_duckdb = _answers()

    monkeypatch.setenv("SCC_WAREHOUSE_URL", postgres_url)
    reset_settings_cache()
    try:
        sync_all()
        summary = build_or_fail()
        assert summary.target == "postgres"
        assert summary.tests_failed == 0 and summary.models_built >= 20
        check_contract(get_settings())

        from scc.warehouse import fetch_all

        expected = gold.bookings_by_month(emulators.netsuite_store)
        marts = {month_key(m): cents(t) for m, t in fetch_all(
            "SELECT date_trunc('month', order_date), sum(total_amount) FROM marts.fct_orders "
            "WHERE status <> 'cancelled' GROUP BY 1")}
        assert marts == expected

        on_postgres = _answers()

        # A full reload of the raw tables must not trip over the marts built on them, and the next
        # (incremental) build follows it.
        from pipelines.run import sync

        sync("salesforce", full_refresh=True)
        second = build_or_fail()
        assert second.models_failed == 0
    finally:
        monkeypatch.delenv("SCC_WAREHOUSE_URL")
        reset_settings_cache()

    for (metrics, group_by), duck, pg in zip(QUERIES, on_duckdb, on_postgres):
        assert len(duck) == len(pg), (metrics, group_by)
        for d_row, p_row in zip(duck, pg):
            assert all(_same(a, b) for a, b in zip(d_row, p_row)), (metrics, group_by, d_row, p_row)
