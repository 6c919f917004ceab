"""Ingestion: exact, incremental, resumable, fault-tolerant, on DuckDB and PostgreSQL.

The tests run in file order and share the emulators: the first one loads everything, the later ones
change the emulators' data and check that the warehouse follows.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from pipelines.arrow import parse_datetime
from pipelines.netsuite import TABLES as NETSUITE_TABLES
from pipelines.run import pipeline_for, sync
from scc.config import reset_settings_cache
from scc.warehouse import connect

from .exactness import assert_exact, netsuite_comparisons, salesforce_comparisons

pytestmark = pytest.mark.slow


def check_exact(emulators) -> None:
    with connect() as warehouse:
        assert_exact(salesforce_comparisons(emulators.salesforce_store, warehouse))
        assert_exact(netsuite_comparisons(emulators.netsuite_store, warehouse))


def store_value(path, sql: str, params=()):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as store:
        return store.execute(sql, params).fetchone()[0]


def incremental_rows(result) -> int:
    """Rows an incremental sync read, leaving out the small reference tables it re-reads whole by design."""
    reread_whole = {t.name for t in NETSUITE_TABLES if not t.incremental}
    return sum(r.rows for r in result.progress.resources.values() if r.name not in reread_whole)


def test_full_then_incremental_sync_is_exact(emulators):
    first = {s: sync(s, full_refresh=True) for s in ("salesforce", "netsuite")}
    assert first["salesforce"].progress.resources["Opportunity"].rows > 100
    assert first["netsuite"].progress.resources["sales_order_lines"].rows > 1000
    check_exact(emulators)
    with connect() as warehouse:  # columns typed from describe / the SuiteQL column list, not left as text
        types = dict(warehouse.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE table_schema IN ('raw_salesforce', 'raw_netsuite')").fetchall())
    assert types["opportunity.system_modstamp"] == "TIMESTAMP WITH TIME ZONE"
    assert (types["opportunity.amount"], types["opportunity.is_won"]) == ("DOUBLE", "BOOLEAN")
    assert (types["sales_orders.trandate"], types["sales_order_lines.quantity"]) == ("DATE", "DOUBLE")
    assert types["sales_orders.lastmodifieddate"] == "TIMESTAMP WITH TIME ZONE"
    # dlt's own columns, which the dbt models read (_dlt_load_id) and existing warehouses have
    assert all(types[f"{t}.{c}"] == "VARCHAR" for t in ("opportunity", "sales_order_lines")
               for c in ("_dlt_load_id", "_dlt_id"))

    again = {s: sync(s) for s in ("salesforce", "netsuite")}
    check_exact(emulators)
    # Nothing changed: only rows stamped in the lag before the last read started are read again.
    for result, full in zip(again.values(), first.values()):
        assert incremental_rows(result) < 0.01 * full.progress.total_rows, result.progress


def test_cursors_saved_by_earlier_versions_still_resume(emulators):
    """Earlier versions kept a ``dlt.sources.incremental`` cursor per resource (the newest stamp read; as
    the vendor's datetime text before the sources yielded arrow tables): a warehouse they loaded resumes
    from it, less the lag, and saves the start-time cursor from then on."""
    as_text = {
        "salesforce": lambda v: v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}+0000",
        "netsuite": lambda v: v.strftime("%Y-%m-%d %H:%M:%S"),
    }
    for source, text in as_text.items():
        with pipeline_for(source).managed_state() as state:
            resources = state["sources"][source]["resources"]
            for name, resource in resources.items():
                if "read_window" in resource:
                    started = parse_datetime(resource.pop("read_window")["started"])
                    column = {"salesforce": "SystemModstamp"}.get(source) or (
                        "transaction_lastmodified" if name.endswith("_lines") else "lastmodifieddate")
                    resource["incremental"] = {column: {"last_value": text(started)}}
        assert any("incremental" in r for r in resources.values())
        result = sync(source)
        assert incremental_rows(result) < 100, result.progress
        resources = pipeline_for(source).state["sources"][source]["resources"]
        assert not any("incremental" in r for r in resources.values())
        assert all("read_window" in r for r in resources.values() if r)
    check_exact(emulators)


def test_changes_between_syncs_arrive_and_only_they_are_fetched(emulators):
    sf, ns = emulators.salesforce_store, emulators.netsuite_store
    account_id = store_value(sf, 'SELECT "Id" FROM "Account" WHERE "IsDeleted" = 0 ORDER BY "Id" LIMIT 1')
    owner_id = store_value(sf, 'SELECT "OwnerId" FROM "Account" WHERE "Id" = ?', (account_id,))
    contact_id = store_value(sf, 'SELECT "Id" FROM "Contact" WHERE "IsDeleted" = 0 ORDER BY "Id" DESC LIMIT 1')
    order_id = store_value(ns, "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd' AND status = 'B' LIMIT 1")
    invoice_id = store_value(ns, "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' ORDER BY id LIMIT 1")
    sf_before = store_value(sf, 'SELECT max("SystemModstamp") FROM "Opportunity"')

    emulators.admin("salesforce", "POST", "fields/Account", {"name": "Tier__c", "type": "string", "label": "Tier"})
    emulators.admin("salesforce", "PATCH", f"records/Account/{account_id}", {"Name": "Renamed Account", "Tier__c": "Gold"})
    created = emulators.admin("salesforce", "POST", "records/Opportunity", {
        "Name": "New hats deal", "AccountId": account_id, "OwnerId": owner_id, "StageName": "Prospecting",
        "Amount": 12345.67, "CloseDate": "2026-07-31",
    })
    emulators.admin("salesforce", "DELETE", f"records/Contact/{contact_id}")
    emulators.admin("netsuite", "PATCH", f"records/transaction/{order_id}", {"memo": "rush order"})
    emulators.admin("netsuite", "DELETE", f"records/invoice/{invoice_id}")

    sf_result, ns_result = sync("salesforce"), sync("netsuite")
    check_exact(emulators)

    with connect() as warehouse:
        row = warehouse.execute(
            "SELECT name, tier__c FROM raw_salesforce.account WHERE id = ?", (account_id,)
        ).fetchone()
        assert row == ("Renamed Account", "Gold")
        assert warehouse.execute("SELECT count(*) FROM raw_salesforce.opportunity WHERE id = ?",
                                 (created["id"],)).fetchone()[0] == 1
        assert warehouse.execute("SELECT count(*) FROM raw_salesforce.contact WHERE id = ?",
                                 (contact_id,)).fetchone()[0] == 0
        assert warehouse.execute("SELECT count(*) FROM raw_netsuite.invoices WHERE id = ?", (invoice_id,)).fetchone()[0] == 0
        assert warehouse.execute("SELECT count(*) FROM raw_netsuite.invoice_lines WHERE transaction = ?",
                                 (invoice_id,)).fetchone()[0] == 0
        assert warehouse.execute("SELECT memo FROM raw_netsuite.sales_orders WHERE id = ?", (order_id,)).fetchone()[0] == "rush order"

    # Only what changed was read: one new opportunity (and any row stamped within the lag), not the table.
    fetched = sf_result.progress.resources
    assert fetched["Opportunity"].rows <= 1 + store_value(
        sf, 'SELECT count(*) FROM "Opportunity" WHERE "SystemModstamp" = ?', (sf_before,)
    )
    assert fetched["Account"].rows <= 3 and fetched["Contact"].rows <= 3
    assert ns_result.progress.resources["sales_orders"].rows <= 3
    assert incremental_rows(ns_result) < 100


def test_sync_under_faults_completes_and_is_exact(clean_faults):
    emulators = clean_faults
    emulators.set_faults(error_rate=0.07, rate_limit_rate=0.03, drop_rate=0.02, latency_ms=2,
                         expire_session_after=6, retry_after_s=0.05, seed=11)
    results = [sync(s, full_refresh=True) for s in ("salesforce", "netsuite")]
    injected_sf = emulators.admin("salesforce", "GET", "faults")["injected"]
    injected_ns = emulators.admin("netsuite", "GET", "faults")["injected"]
    emulators.reset_faults()
    check_exact(emulators)
    assert injected_sf["session_expired"] == 1
    assert injected_sf["server_error"] + injected_ns["server_error"] > 0
    assert injected_ns["rate_limited"] + injected_sf["rate_limited"] > 0
    assert sum(r.progress.requests for r in results) > 0


def _run_sync_killed_in(phase: str, source: str, tmp_path) -> None:
    """Start `scc sync all --full-refresh` as a user would and SIGKILL it once ``source``'s sync is in
    ``phase`` (tests/pipelines/killpoint.py stops it there)."""
    marker = tmp_path / f"stopped-{phase}-{source}"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.pipelines.killpoint", phase, source, str(marker), "sync", "all", "--full-refresh"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 180
    try:
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.poll() is None, f"the sync ended before its {phase} phase: {process.stderr.read()[-2000:]}"
        assert marker.exists(), f"the sync of {source} did not reach its {phase} phase in time"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _change_both_stores(emulators, label: str) -> None:
    """Changes made after the crash, which the one following sync must also bring."""
    sf, ns = emulators.salesforce_store, emulators.netsuite_store
    account_id = store_value(sf, 'SELECT "Id" FROM "Account" WHERE "IsDeleted" = 0 ORDER BY "Id" LIMIT 1 OFFSET 3')
    owner_id = store_value(sf, 'SELECT "OwnerId" FROM "Account" WHERE "Id" = ?', (account_id,))
    order_id = store_value(ns, "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd' ORDER BY id DESC LIMIT 1")
    emulators.admin("salesforce", "PATCH", f"records/Account/{account_id}", {"Name": f"Renamed after {label}"})
    emulators.admin("salesforce", "POST", "records/Opportunity", {
        "Name": f"Deal after {label}", "AccountId": account_id, "OwnerId": owner_id, "StageName": "Prospecting",
        "Amount": 4321.0, "CloseDate": "2026-08-31"})
    emulators.admin("netsuite", "PATCH", f"records/transaction/{order_id}", {"memo": f"after {label}"})


@pytest.mark.parametrize("phase, source", [("extract", "salesforce"), ("normalize", "netsuite"),
                                           ("load", "salesforce"), ("load", "netsuite")],
                         ids=["extract-salesforce", "normalize-netsuite", "load-salesforce", "load-netsuite"])
def test_sync_killed_in_any_phase_is_exact_after_one_sync(emulators, tmp_path, phase, source):
    """kill -9 while extracting, normalising or loading; the stores change meanwhile; exactly one `scc sync`
    then finishes what the killed sync left, reads what changed, and says so."""
    _run_sync_killed_in(phase, source, tmp_path)
    left = pipeline_for(source).has_pending_data
    assert left == (phase != "extract"), "a package is pending exactly when the kill came after the extract"
    _change_both_stores(emulators, f"a kill in {phase}")
    result = subprocess.run([sys.executable, "-m", "scc", "sync", "all"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    check_exact(emulators)
    note = f"{source}: first finished 1 load package an interrupted sync had left, then read what changed since"
    assert (note in result.stdout) == left, result.stdout
    assert not pipeline_for(source).has_pending_data


def test_the_same_pipelines_load_into_postgresql(emulators, postgres_url, monkeypatch):
    for source in ("salesforce", "netsuite"):
        sync(source)  # DuckDB up to date, to compare with
    with connect() as duck:
        duck_counts = {
            t: duck.execute(f"SELECT count(*) FROM raw_netsuite.{t}").fetchone()[0]
            for t in ("sales_orders", "sales_order_lines", "customers")
        }
    monkeypatch.setenv("SCC_WAREHOUSE_URL", postgres_url)
    reset_settings_cache()
    try:
        for source in ("salesforce", "netsuite"):
            sync(source)
        with connect() as pg:
            assert_exact(salesforce_comparisons(emulators.salesforce_store, pg))
            assert_exact(netsuite_comparisons(emulators.netsuite_store, pg))
            cursor = pg.cursor()
            for table, count in duck_counts.items():
                cursor.execute(f"SELECT count(*) FROM raw_netsuite.{table}")
                assert cursor.fetchone()[0] == count
            cursor.execute(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                "WHERE table_schema IN ('raw_salesforce', 'raw_netsuite')")
            types = dict(cursor.fetchall())
        timestamps = (types["opportunity.system_modstamp"], types["sales_orders.lastmodifieddate"])
        assert timestamps == ("timestamp with time zone",) * 2
        assert (types["opportunity.amount"], types["opportunity.is_won"]) == ("double precision", "boolean")
        assert (types["sales_orders.trandate"], types["sales_order_lines.uniquekey"]) == ("date", "bigint")
        assert types["opportunity._dlt_load_id"] == types["sales_order_lines._dlt_id"] == "character varying"
    finally:
        monkeypatch.delenv("SCC_WAREHOUSE_URL")
        reset_settings_cache()


def test_salesforce_daily_budget_is_respected_and_the_next_run_resumes(emulators):
    limit = emulators.admin("salesforce", "GET", "api-usage")["limit"]
    share = emulators.settings.salesforce_daily_budget_share
    emulators.admin("salesforce", "POST", "api-usage", {"used": int(limit * share)})
    try:
        result = _scc_sync("salesforce")
        assert result.returncode == 1, result.stdout
        assert "API usage" in result.stdout and "resumes" in result.stdout, result.stdout
        spent = emulators.admin("salesforce", "GET", "api-usage")["used"] - int(limit * share)
        assert spent <= 3, "the sync must stop as soon as it sees the budget spent"
    finally:
        emulators.admin("salesforce", "POST", "api-usage", {"used": 0})
    assert _scc_sync("salesforce").returncode == 0
    with connect() as warehouse:
        assert_exact(salesforce_comparisons(emulators.salesforce_store, warehouse))


def _scc_sync(source: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scc", "sync", source], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})


def test_wrong_credentials_fail_clearly(emulators):
    result = _scc_sync("netsuite", SCC_NETSUITE_TOKEN_SECRET="wrong")
    assert result.returncode == 1
    assert "rejected" in result.stdout and "NETSUITE_TOKEN" in result.stdout, result.stdout
    result = _scc_sync("salesforce", SCC_SALESFORCE_PASSWORD="wrong")
    assert result.returncode == 1 and "rejected the credentials" in result.stdout, result.stdout


def test_unreachable_source_fails_fast_with_one_line(emulators):
    """A connection refused on the first call is not retried: a few seconds, one line per source, exit 1.
    (Retries are for a source that answered: the fault tests above.)"""
    from scc.processes import free_port

    started = time.monotonic()
    result = _scc_sync("all", SCC_SALESFORCE_EMULATOR_PORT=str(free_port()),
                       SCC_NETSUITE_EMULATOR_PORT=str(free_port()), COLUMNS="80")
    seconds = time.monotonic() - started
    assert result.returncode == 1, result.stdout
    lines = [line for line in result.stdout.splitlines() if "not reachable" in line]
    assert len(lines) == 2 and all(line.endswith(": connection refused") for line in lines), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert seconds < 12, f"{seconds:.1f} s to give up on two sources that refuse connections"
