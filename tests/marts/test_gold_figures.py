"""The marts and the semantic layer against figures computed straight from the emulators' stores.

Every figure is computed a second way (tests/marts/gold.py: SQL on the SQLite stores, no dbt) and must
agree to the cent with the marts (SQL on the warehouse) and with scc.semantic's answers (MetricFlow).
"""

from __future__ import annotations

import datetime as dt

import pytest

from scc.config import today
from scc.warehouse import fetch_all

from . import gold
from .gold import cents, month_key, quarter_key

pytestmark = pytest.mark.slow

# The contract (shared/contracts/marts.md): every mart, every column it must hold.
CONTRACT = {
    "dim_customers": "customer_id, customer_name, industry, region, territory, rep_id, rep_name, "
    "salesforce_account_id, netsuite_customer_id, credit_limit, open_balance, first_order_date, last_order_date, "
    "lifetime_revenue, revenue_last_90d, revenue_prior_90d, health",
    "dim_products": "product_id, sku, product_name, category, list_price, min_price, quantity_on_hand, "
    "quantity_available, is_active",
    "dim_sales_reps": "rep_id, rep_name, email, role, territory, region, manager_id, quarterly_quota",
    "fct_orders": "order_id, order_number, customer_id, rep_id, territory, region, order_date, status, status_group, "
    "total_amount, fulfillment_pct, days_open, source_system, external_id",
    "fct_order_lines": "order_line_id, order_id, line_number, product_id, customer_id, rep_id, territory, region, "
    "order_date, quantity, unit_price, amount, quantity_fulfilled, quantity_billed",
    "fct_opportunities": "opportunity_id, opportunity_name, customer_id, rep_id, territory, region, stage, "
    "forecast_category, amount, probability, weighted_amount, created_date, close_date, is_closed, is_won, "
    "stage_entered_at, days_in_stage, is_stalled, close_date_pushes",
    "fct_opportunity_history": "opportunity_id, changed_at, from_stage, to_stage, amount, close_date, rep_id, "
    "territory, region",
    "fct_invoices": "invoice_id, invoice_number, customer_id, order_id, rep_id, territory, region, invoice_date, "
    "due_date, amount, amount_remaining, status, days_overdue",
    "fct_activities": "activity_id, activity_type, subject, customer_id, opportunity_id, rep_id, territory, region, "
    "activity_date, status",
}
MONEY = {
    "dim_customers": ["credit_limit", "open_balance", "lifetime_revenue", "revenue_last_90d", "revenue_prior_90d"],
    "dim_products": ["list_price", "min_price"],
    "dim_sales_reps": ["quarterly_quota"],
    "fct_orders": ["total_amount"],
    "fct_order_lines": ["unit_price", "amount"],
    "fct_opportunities": ["amount", "weighted_amount"],
    "fct_opportunity_history": ["amount"],
    "fct_invoices": ["amount", "amount_remaining"],
}
DATES = {
    "dim_customers": ["first_order_date", "last_order_date"],
    "fct_orders": ["order_date"],
    "fct_order_lines": ["order_date"],
    "fct_opportunities": ["created_date", "close_date"],
    "fct_opportunity_history": ["close_date"],
    "fct_invoices": ["invoice_date", "due_date"],
    "fct_activities": ["activity_date"],
}
INSTANTS = {"fct_opportunities": ["stage_entered_at"], "fct_opportunity_history": ["changed_at"]}


def mart_columns(settings=None) -> dict[str, dict[str, str]]:
    """{mart: {column: normalised type}} from the warehouse's information schema (DuckDB or PostgreSQL)."""
    rows = fetch_all(
        "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale "
        "FROM information_schema.columns WHERE table_schema = 'marts'", settings=settings,
    )
    out: dict[str, dict[str, str]] = {}
    for table, column, data_type, precision, scale in rows:
        kind = data_type.lower()
        if kind.startswith(("decimal", "numeric")):
            kind = f"decimal({precision},{scale})"
        elif kind in ("timestamp", "timestamp without time zone"):
            kind = "timestamp"
        out.setdefault(table, {})[column] = kind
    return out


def check_contract(settings=None) -> None:
    columns = mart_columns(settings)
    for mart, names in CONTRACT.items():
        assert mart in columns, f"mart {mart} missing from schema marts"
        missing = [c.strip() for c in names.split(",") if c.strip() not in columns[mart]]
        assert not missing, f"{mart} lacks {missing}"
    for group, expected in ((MONEY, "decimal(18,2)"), (DATES, "date"), (INSTANTS, "timestamp")):
        for mart, names in group.items():
            for name in names:
                assert columns[mart][name] == expected, f"{mart}.{name} is {columns[mart][name]}, not {expected}"
    for mart in CONTRACT:
        if mart.startswith("fct_"):
            assert {"rep_id", "territory", "region"} <= set(columns[mart]), mart


def check_descriptions() -> None:
    """Every mart and every column of it (as built) has a description in the dbt project."""
    import json

    from scc.marts import dbt_dir

    manifest = json.loads((dbt_dir() / "target" / "manifest.json").read_text())
    built = mart_columns()
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for mart, columns in built.items():
        node = nodes[mart]
        assert node["description"].strip(), mart
        described = {name for name, c in node["columns"].items() if c.get("description", "").strip()}
        assert set(columns) <= described, f"{mart}: no description for {sorted(set(columns) - described)}"


def test_build_passes_and_marts_follow_the_contract(marts_built):
    assert marts_built.models_built >= 20
    assert marts_built.tests_failed == 0 and marts_built.tests_passed > 100
    unit_tests = {r.name for r in marts_built.results if r.resource_type == "unit_test"}
    assert {"order_status_mapping", "customer_matching", "stalled_deal_rule", "customer_health",
            "customer_health_cannot_contradict_the_trend", "close_date_pushes"} <= unit_tests
    check_contract()
    check_descriptions()


def test_bookings_by_month(emulators, marts_built):
    from scc.semantic import query_metrics

    expected = gold.bookings_by_month(emulators.netsuite_store)
    marts = {
        month_key(month): cents(total) for month, total in fetch_all(
            "SELECT date_trunc('month', order_date), sum(total_amount) FROM marts.fct_orders "
            "WHERE status <> 'cancelled' GROUP BY 1"
        )
    }
    semantic = {month_key(m): cents(v) for m, v in query_metrics(["bookings"], group_by=["metric_time__month"]).rows}
    assert marts == expected
    assert semantic == expected
    assert len(expected) >= 36


def test_win_rate_by_quarter(emulators, marts_built):
    from scc.semantic import query_metrics

    expected = gold.win_rate_by_quarter(emulators.salesforce_store)
    marts = {
        quarter_key(q): (int(won), int(closed)) for q, won, closed in fetch_all(
            "SELECT date_trunc('quarter', close_date), sum(CASE WHEN is_won THEN 1 ELSE 0 END), count(*) "
            "FROM marts.fct_opportunities WHERE is_closed GROUP BY 1"
        )
    }
    assert marts == expected
    result = query_metrics(["win_rate", "won_opportunities", "closed_opportunities"],
                           group_by=["metric_time__quarter"])
    semantic = {quarter_key(q): (rate, int(won or 0), int(closed or 0)) for q, rate, won, closed in result.rows}
    for quarter, (won, closed) in expected.items():
        rate, s_won, s_closed = semantic[quarter]
        assert (s_won, s_closed) == (won, closed), quarter
        assert rate == pytest.approx(won / closed, abs=1e-12), quarter


def test_open_and_weighted_pipeline_by_stage(emulators, marts_built):
    from scc.semantic import query_metrics

    expected = gold.pipeline_by_stage(emulators.salesforce_store)
    marts = {
        stage: (cents(amount), cents(weighted)) for stage, amount, weighted in fetch_all(
            "SELECT stage, sum(amount), sum(weighted_amount) FROM marts.fct_opportunities "
            "WHERE NOT is_closed GROUP BY 1"
        )
    }
    result = query_metrics(["open_pipeline", "weighted_pipeline"], group_by=["opportunity__stage"],
                           where=[("opportunity__is_open", "=", True)])
    semantic = {stage: (cents(a), cents(w)) for stage, a, w in result.rows}
    assert marts == expected
    assert semantic == expected
    assert "Negotiation/Review" in expected


def test_open_receivables(emulators, marts_built):
    from scc.semantic import query_metrics

    expected = gold.open_receivables(emulators.netsuite_store)
    assert expected > 0
    marts = cents(fetch_all("SELECT sum(amount_remaining) FROM marts.fct_invoices WHERE status = 'open'")[0][0])
    semantic = cents(query_metrics(["open_receivables"]).rows[0][0])
    assert marts == semantic == expected


def test_units_sold_by_category(emulators, marts_built):
    from scc.semantic import query_metrics

    expected = {k: round(v, 4) for k, v in gold.units_sold_by_category(emulators.netsuite_store).items()}
    marts = {
        category: round(float(units), 4) for category, units in fetch_all(
            "SELECT p.category, sum(l.quantity) FROM marts.fct_order_lines l "
            "JOIN marts.dim_products p ON p.product_id = l.product_id "
            "WHERE l.order_status <> 'cancelled' GROUP BY 1"
        )
    }
    semantic = {
        category: round(float(units), 4)
        for category, units in query_metrics(["units_sold"], group_by=["product__category"]).rows
        if units
    }
    assert marts == expected
    assert semantic == expected


def test_stalled_deals_and_their_days_in_stage(emulators, marts_built):
    story = next(s for s in emulators.stories if s["kind"] == "stalled_deals")
    planted = [d["opportunity_id"] for d in story["opportunities"]]
    expected = gold.days_in_current_stage(emulators.salesforce_store, planted, today())
    assert expected == {d["opportunity_id"]: d["days_in_stage"] for d in story["opportunities"]}
    rows = fetch_all("SELECT opportunity_id, days_in_stage, is_stalled, stage FROM marts.fct_opportunities "
                     "WHERE is_stalled OR opportunity_id IN (?, ?, ?)", tuple(planted))
    assert {r[0]: r[1] for r in rows} == expected
    assert all(r[2] and r[3] == "Negotiation/Review" for r in rows)
    # The rule flags the planted deals and nothing else in the demo company.
    assert {r[0] for r in rows if r[2]} == set(planted)

    from scc.semantic import query_metrics

    result = query_metrics(["stalled_deals", "stalled_pipeline"])
    assert int(result.rows[0][0]) == 3
    assert cents(result.rows[0][1]) == sum(cents(d["amount"]) for d in story["opportunities"])


def test_customer_stories_health_and_windows(emulators, marts_built):
    """The planted decline and growth: 90-day windows to the cent, and the health they imply."""
    for kind, health in (("customer_decline", "declining"), ("customer_growth", "healthy")):
        story = next(s for s in emulators.stories if s["kind"] == kind)
        expected = gold.customer_revenue_windows(emulators.netsuite_store, story["netsuite_customer_id"], today())
        row = fetch_all("SELECT revenue_last_90d, revenue_prior_90d, health, customer_id FROM marts.dim_customers "
                        "WHERE netsuite_customer_id = ?", (story["netsuite_customer_id"],))[0]
        assert (cents(row[0]), cents(row[1])) == expected, kind
        assert row[2] == health, kind
        assert row[3] == story["salesforce_account_id"]


def test_matching_finds_name_variants_and_one_sided_records(emulators, marts_built):
    story = next(s for s in emulators.stories if s["kind"] == "mismatches")
    rows = fetch_all("SELECT salesforce_account_id, netsuite_customer_id, match_method FROM marts.dim_customers")
    by_account = {r[0]: (r[1], r[2]) for r in rows if r[0]}
    for variant in story["name_variants"]:
        assert by_account[variant["salesforce_account_id"]] == (variant["netsuite_customer_id"], "name")
    netsuite_only = {r[1] for r in rows if r[2] == "netsuite_only"}
    assert netsuite_only == {c["netsuite_customer_id"] for c in story["netsuite_only"]}
    prospects = set(story["salesforce_only_prospects"]["salesforce_account_ids"])
    assert prospects <= {r[0] for r in rows if r[2] == "salesforce_only"}


def test_today_comes_from_the_product_clock(marts_built):
    """Nothing in the models reads the database's clock; days are counted to SCC_TODAY."""
    from pathlib import Path

    from scc.config import PROJECT_ROOT

    for path in Path(PROJECT_ROOT, "models").rglob("*.sql"):
        text = path.read_text().lower()
        assert "current_date" not in text and "now()" not in text and "current_timestamp" not in text, path
    assert today() == dt.date(2026, 5, 20)
    days = fetch_all("SELECT min(days_since_invoice) FROM marts.fct_invoices")[0][0]
    newest = fetch_all("SELECT max(invoice_date) FROM marts.fct_invoices")[0][0]
    assert days == (today() - newest).days
