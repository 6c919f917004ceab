"""Materialising every asset in-process (dagster's ``materialize``) on the small demo company works: the dlt
steps load every raw table from the emulators, dbt builds every model with its tests as checks, the marts
hold the emulators' data, and the dashboards are told once. A mart older than its policy fails its check."""

from __future__ import annotations

import datetime as dt
import sqlite3
from unittest import mock

import pytest
from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetMaterialization,
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    materialize,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def materialized(definitions, emulators):
    notified: list[list[str]] = []

    def record(marts, **kwargs):
        notified.append(sorted(marts))
        return {"notified": True}

    with DagsterInstance.ephemeral() as instance, \
            mock.patch("dagster_project.notify.marts_refreshed", side_effect=record):
        result = materialize([*definitions.assets, *definitions.asset_checks], resources=definitions.resources,
                             instance=instance, raise_on_error=False)
        yield result, instance, notified


def test_materialising_everything_succeeds(materialized, asset_graph):
    result, _, _ = materialized
    failures = [e.message for e in result.all_events if e.is_failure]
    assert result.success, failures
    materialized_keys = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized_keys == set(asset_graph.get_all_asset_keys())
    checks = [e.event_specific_data for e in result.all_events
              if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION]
    assert len(checks) > 100
    failed = [f"{c.asset_key.to_user_string()}:{c.check_name}" for c in checks if not c.passed]
    assert not failed, failed
    freshness = [c for c in checks if c.check_name == "freshness_check"]
    assert len(freshness) == 10 and all(c.passed for c in freshness)


def test_raw_tables_report_what_they_loaded(materialized):
    result, _, _ = materialized
    by_key = {e.asset_key.to_user_string(): e.materialization.metadata
              for e in result.get_asset_materialization_events()}
    opportunity = by_key["raw_salesforce/opportunity"]
    # The session's warehouse was synced by earlier tests: an incremental read fetches only what changed since
    # the previous read started (pipelines/cursors.py), which may be nothing; what matters is that it says so.
    assert opportunity["read_rows"].value >= 0 and "dagster/column_schema" in opportunity
    assert {"read_rows", "read_pages", "read_deleted"} <= set(by_key["raw_netsuite/sales_order_lines"])


def test_the_marts_hold_the_emulators_data(materialized, emulators):
    from scc.warehouse import fetch_all

    result, _, _ = materialized
    assert result.success
    for mart in ("dim_customers", "dim_products", "dim_sales_reps", "fct_orders", "fct_order_lines",
                 "fct_opportunities", "fct_opportunity_history", "fct_invoices", "fct_activities", "fct_quotas"):
        assert fetch_all(f"SELECT count(*) FROM marts.{mart}")[0][0] > 0, mart
    # independent gold: the emulator's own store
    with sqlite3.connect(f"file:{emulators.salesforce_store}?mode=ro", uri=True) as store:
        opportunities = store.execute('SELECT count(*) FROM "Opportunity" WHERE "IsDeleted" = 0').fetchone()[0]
    assert fetch_all("SELECT count(*) FROM marts.fct_opportunities")[0][0] == opportunities


def test_the_dashboards_are_told_once_about_every_mart(materialized):
    _, _, notified = materialized
    assert len(notified) == 1
    assert {"fct_opportunities", "fct_orders", "dim_customers", "fct_invoices"} <= set(notified[0])


def test_a_mart_older_than_its_policy_fails_its_freshness_check(definitions):
    from dagster._core.test_utils import freeze_time

    key = AssetKey(["marts", "fct_orders"])
    check = next(c for c in definitions.asset_checks if key in {k.asset_key for k in c.check_keys})
    policy = definitions.resolve_asset_graph().get(key).freshness_policy
    window = dt.timedelta(seconds=policy.fail_window.to_timedelta().total_seconds())
    now = dt.datetime.now(dt.timezone.utc)
    with DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(AssetMaterialization(asset_key=key))

        def evaluate(at):
            with freeze_time(at):
                result = materialize([*definitions.assets, check], instance=instance,
                                     selection=AssetSelection.checks(AssetCheckKey(key, "freshness_check")),
                                     resources=definitions.resources, raise_on_error=False)
            return [e.event_specific_data for e in result.all_events
                    if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION]

        fresh = evaluate(now + window / 2)
        assert len(fresh) == 1 and fresh[0].passed
        stale = evaluate(now + window + dt.timedelta(minutes=1))
        assert len(stale) == 1 and not stale[0].passed
        assert stale[0].severity.value == "ERROR"


def test_a_failed_dbt_build_in_dagster_fails_the_run_and_says_so_on_the_dashboards(definitions, materialized):
    """A broken invariant (a deal whose owner Salesforce does not have) fails the run's dbt step, nothing
    is published, and the dashboards' record says the latest refresh failed."""
    from scc.publish import refresh_status
    from scc.warehouse import connect
    from tests.marts.conftest import build_or_fail

    dbt_keys = definitions.get_assets_def(AssetKey(["marts", "fct_opportunities"])).keys
    with connect() as warehouse:
        deal, owner = warehouse.execute(
            "SELECT id, owner_id FROM raw_salesforce.opportunity ORDER BY id LIMIT 1").fetchone()
    as_of = refresh_status()["figures_as_of"]

    def set_owner(value: str) -> None:
        with connect(read_only=False) as warehouse:
            warehouse.execute("UPDATE raw_salesforce.opportunity SET owner_id = ? WHERE id = ?", [value, deal])

    set_owner("005000000000999ZZZ")
    try:
        with DagsterInstance.ephemeral() as instance:
            result = materialize([*definitions.assets, *definitions.asset_checks], instance=instance,
                                 resources=definitions.resources, selection=AssetSelection.assets(*dbt_keys),
                                 raise_on_error=False)
        assert not result.success  # the run is failed in the console, its dbt step with it
        failed_steps = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE}
        assert any("dbt_models" in (step or "") for step in failed_steps), failed_steps
        status = refresh_status()
        assert status["last_refresh_failed"] and status["failed_by"].startswith("Dagster run")
        assert status["figures_as_of"] == as_of  # nothing published
    finally:
        set_owner(owner)
        build_or_fail()
    assert not refresh_status()["last_refresh_failed"]
