"""One odd source row never freezes the dashboards.

An account and deals owned by finance, the executive and a manager, created in the Salesforce emulator and
synced: the build passes and the rows are attributed (their owner's territory, else 'Unassigned'). A data
quality problem (a forecast category Salesforce never had) is a warning, still published. A broken invariant
(a deal owned by a user who does not exist) fails the build, nothing is published, and the record the
dashboards read says the figures are from the last good build and that the latest refresh failed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from tests.marts.conftest import build_or_fail, sync_all

pytestmark = pytest.mark.slow


def _user(store, role: str) -> str:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return db.execute('SELECT "Id" FROM "User" WHERE "Sales_Role__c" = ? ORDER BY "Id" LIMIT 1', (role,)).fetchone()[0]


def _scc_build() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scc", "build"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})


def _raw(sql: str, params=()) -> None:
    from scc.warehouse import connect

    with connect(read_only=False) as warehouse:
        warehouse.execute(sql, params)


def _marts(sql: str, params=()) -> list[tuple]:
    from scc.warehouse import read_marts

    with read_marts() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_rows_owned_by_non_reps_are_attributed_and_only_broken_invariants_fail_the_build(marts_built, emulators):
    from scc.publish import refresh_status

    store = emulators.salesforce_store
    finance, executive, manager = (_user(store, r) for r in ("Finance", "Sales Executive", "Sales Manager"))
    created: list[tuple[str, str]] = []

    def create(obj: str, **values) -> str:
        record_id = emulators.admin("salesforce", "POST", f"records/{obj}", values)["id"]
        created.append((obj, record_id))
        return record_id

    try:
        account = create("Account", Name="Odd Owners Inc", OwnerId=finance, Type="Prospect")
        deals = {
            "executive": create("Opportunity", Name="Exec's own deal", AccountId=account, OwnerId=executive,
                                StageName="Prospecting", Amount=50000, CloseDate="2026-06-30"),
            "manager": create("Opportunity", Name="Manager's own deal", AccountId=account, OwnerId=manager,
                              StageName="Qualification", Amount=25000, CloseDate="2026-06-30"),
        }
        sync_all()
        # Data quality: a stage the org added (the emulator's picklist is Salesforce's standard one, so it
        # is set in the raw table): a warning, and the build still publishes.
        _raw("UPDATE raw_salesforce.opportunity SET stage_name = 'Verbal Yes' WHERE id = ?", [deals["manager"]])
        result = _scc_build()
        assert result.returncode == 0, result.stdout + result.stderr
        assert "passed" in result.stdout and "accepted_values_fct_opportunities_stage" in result.stdout, result.stdout
        status = refresh_status()
        assert status["published_by"] == "scc build" and not status["last_refresh_failed"]
        good_as_of = status["figures_as_of"]

        assert _marts("SELECT rep_id, territory, region FROM marts.dim_customers WHERE customer_id = ?",
                      [account]) == [(finance, "Unassigned", "Unassigned")]
        manager_territory = _marts("SELECT territory, region FROM marts.dim_sales_reps WHERE rep_id = ?", [manager])
        owned = dict((r[0], r[1:]) for r in _marts(
            "SELECT opportunity_id, rep_id, territory, region FROM marts.fct_opportunities WHERE customer_id = ?",
            [account]))
        assert owned == {deals["executive"]: (executive, "Unassigned", "Unassigned"),
                         deals["manager"]: (manager, *manager_territory[0])}
        assert _marts("SELECT role, is_seller, territory FROM marts.dim_sales_reps WHERE rep_id = ?",
                      [finance]) == [("Finance", False, "Unassigned")]
        # The sellers' own rows are unchanged: the executive still covers every territory.
        assert _marts("SELECT territory FROM marts.dim_sales_reps WHERE rep_id = ?", [executive]) == [(None,)]

        # A broken invariant: a deal owned by a user Salesforce does not have (the emulator, as Salesforce,
        # refuses such an owner, so it is set in the raw table). The build fails, nothing is published, and
        # the record says so while keeping the time of the last good figures.
        orphan = create("Opportunity", Name="Orphan deal", AccountId=account, OwnerId=manager,
                        StageName="Prospecting", Amount=1000, CloseDate="2026-06-30")
        sync_all()
        _raw("UPDATE raw_salesforce.opportunity SET owner_id = '005000000000999ZZZ' WHERE id = ?", [orphan])
        result = _scc_build()
        assert result.returncode == 1, result.stdout
        assert "assert_facts_scoped_to_a_rep" in result.stdout, result.stdout  # a row no scope can see
        assert not _marts("SELECT 1 FROM marts.fct_opportunities WHERE opportunity_name = 'Orphan deal'")
        status = refresh_status()
        assert status["last_refresh_failed"] and status["failed_by"] == "scc build"
        assert status["figures_as_of"] == good_as_of and "assert_facts_scoped_to_a_rep" in status["error"]
    finally:
        for obj, record_id in reversed(created):
            emulators.admin("salesforce", "DELETE", f"records/{obj}/{record_id}")
        sync_all()
        build_or_fail()
    assert not refresh_status()["last_refresh_failed"]  # the next good build clears it
