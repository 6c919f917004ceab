"""The semantic layer: MetricFlow validates it, every standard metric is there, and scc.semantic
compiles, runs and guards its filters."""

from __future__ import annotations

import pytest

from scc import semantic
from scc.semantic import SemanticLayerError, compile_metrics, query_metrics

# sales-metrics.md, one metric (at least) per definition.
STANDARD_METRICS = [
    "bookings", "billings", "average_order_value", "win_rate", "open_pipeline", "weighted_pipeline",
    "pipeline_coverage", "average_deal_size", "average_sales_cycle_days", "sales_velocity", "quota_attainment",
    "commit_forecast", "slipped_deals", "stalled_deals", "fill_rate", "order_aging_days",
    "days_sales_outstanding", "top10_customer_share", "customer_concentration_hhi", "at_risk_customers",
    "declining_customers", "average_selling_price",
]


@pytest.mark.slow
def test_metricflow_validates_the_semantic_layer(marts_built):
    assert semantic.validate() == []
    assert semantic.validate(data_warehouse=True) == []


@pytest.mark.slow
def test_every_standard_metric_and_dimension_is_defined(marts_built):
    metrics = {m["name"]: m for m in semantic.list_metrics()}
    missing = [name for name in STANDARD_METRICS if name not in metrics]
    assert not missing
    assert all(m["description"] for m in metrics.values())
    dims = set(semantic.list_dimensions(["bookings", "units_sold"]))
    assert {"customer", "customer__customer_name", "rep", "rep__territory", "rep__region",
            "order__status", "metric_time__day", "metric_time__week", "metric_time__month",
            "metric_time__quarter", "metric_time__year"} <= set(semantic.list_dimensions(["bookings"])) | dims
    assert {"product", "product__product_name", "product__category"} <= set(semantic.list_dimensions(["units_sold"]))
    assert {"opportunity__stage", "opportunity__forecast_category", "rep__territory", "customer"} <= set(
        semantic.list_dimensions(["open_pipeline", "win_rate"]))
    assert {"invoice__status", "customer__region"} <= set(semantic.list_dimensions(["billings"]))


@pytest.mark.slow
def test_query_shape_order_limit_and_filters(marts_built):
    result = query_metrics(["bookings", "orders"], group_by=["metric_time__month", "rep__region"],
                           where=["rep__region in ('West', 'East')", ("metric_time__month", ">=", "2026-01-01")],
                           order_by=["-bookings"], limit=3)
    assert result.columns == ["metric_time__month", "rep__region", "bookings", "orders"]
    assert len(result.rows) == 3
    assert [r[2] for r in result.rows] == sorted((r[2] for r in result.rows), reverse=True)
    assert {r[1] for r in result.rows} <= {"West", "East"}
    assert result.as_dicts()[0]["bookings"] == result.rows[0][2]
    assert "LIMIT 3" in result.sql.upper()
    # MetricFlow's own templates are accepted as well.
    same = query_metrics(["bookings"], where=["{{ Dimension('order__status') }} = 'billed'"])
    plain = query_metrics(["bookings"], where=[("order__status", "=", "billed")])
    assert same.rows == plain.rows


@pytest.mark.slow
@pytest.mark.parametrize("bad", [
    "order__status = 'x'; DROP TABLE marts.fct_orders",
    "order__status = (SELECT max(status) FROM marts.fct_orders)",
    "order__status IN (SELECT status FROM marts.fct_orders)",
    "lower(order__status) = 'billed'",
    "fct_orders.status = 'billed'",
    "\"order__status\" = 'billed'",
    "order__status = 'x' -- comment",
    "{{ config(materialized='table') }}",
    "{% for x in y %}1{% endfor %}",
    "order__no_such_dimension = 1",
    "order__status",
    "1",
    "EXISTS (SELECT 1)",
    "order__status = pg_sleep(5)",
])
def test_filters_outside_the_allowed_grammar_are_refused(marts_built, bad):
    with pytest.raises(SemanticLayerError):
        compile_metrics(["bookings"], where=[bad])


@pytest.mark.slow
def test_filter_values_are_quoted_by_the_module(marts_built):
    sql = compile_metrics(["bookings"], where=[("customer__customer_name", "in", ["O'Brien & Sons", "x'); --"])])
    assert "'O''Brien & Sons'" in sql and "'x''); --'" in sql
    result = query_metrics(["bookings"], where=[("customer__customer_name", "=", "Robert'); DROP TABLE x; --")])
    assert result.rows == [(None,)]
    with pytest.raises(SemanticLayerError, match="braces"):
        compile_metrics(["bookings"], where=[("customer__customer_name", "=", "{{ Dimension('x') }}")])


@pytest.mark.slow
def test_bad_requests_fail_clearly(marts_built):
    with pytest.raises(SemanticLayerError, match="unknown metric"):
        compile_metrics(["revenue_of_everything"])
    with pytest.raises(SemanticLayerError, match="unknown group-by name"):
        compile_metrics(["bookings"], group_by=["opportunity__stage"])
    with pytest.raises(SemanticLayerError, match="order by"):
        compile_metrics(["bookings"], order_by=["win_rate"])
    with pytest.raises(SemanticLayerError, match="limit"):
        compile_metrics(["bookings"], limit=-1)


@pytest.mark.slow
def test_the_engine_is_cached_and_follows_the_manifest(marts_built):
    import os
    import time

    compile_metrics(["bookings"])
    engine = semantic._engine()
    started = time.perf_counter()
    for _ in range(20):
        compile_metrics(["bookings"], group_by=["metric_time__month"])
    assert (time.perf_counter() - started) / 20 < 0.25
    assert semantic._engine() is engine
    path = semantic.manifest_path()
    os.utime(path, ns=(time.time_ns(), time.time_ns()))
    assert semantic._engine() is not engine
