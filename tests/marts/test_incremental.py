"""Incremental facts follow their sources exactly: a series of incremental builds after changes in the
emulators (updates, inserts, deletions, a rep moving territory) gives the same tables as a full refresh."""

from __future__ import annotations

import sqlite3

import pytest

from scc.warehouse import connect, fetch_all

from .conftest import build_or_fail, sync_all

pytestmark = pytest.mark.slow

INCREMENTAL = {
    "fct_order_lines": "order_line_id",
    "fct_activities": "activity_id",
    "fct_opportunity_history": "opportunity_history_id",
}


def _one(store, sql: str, params: tuple = ()):
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row, sql
    return row[0]


def _first_round(emulators) -> dict:
    """Updates, inserts and deletions on both sides, avoiding the planted stories."""
    sf, ns = emulators.salesforce_store, emulators.netsuite_store
    stalled = [d["opportunity_id"] for s in emulators.stories if s["kind"] == "stalled_deals"
               for d in s["opportunities"]]
    marks = ",".join("?" * len(stalled))
    open_opp = _one(sf, f'SELECT "Id" FROM "Opportunity" WHERE "IsClosed" = 0 AND "IsDeleted" = 0 '
                        f'AND "StageName" = \'Prospecting\' AND "Id" NOT IN ({marks}) ORDER BY "Id" LIMIT 1', tuple(stalled))
    doomed_opp = _one(sf, f'SELECT "Id" FROM "Opportunity" WHERE "IsClosed" = 1 AND "IsDeleted" = 0 '
                          f'AND "Id" NOT IN ({marks}) ORDER BY "Id" DESC LIMIT 1', tuple(stalled))
    task = _one(sf, 'SELECT "Id" FROM "Task" WHERE "IsDeleted" = 0 ORDER BY "Id" LIMIT 1')
    doomed_task = _one(sf, 'SELECT "Id" FROM "Task" WHERE "IsDeleted" = 0 ORDER BY "Id" DESC LIMIT 1')
    doomed_event = _one(sf, 'SELECT "Id" FROM "Event" WHERE "IsDeleted" = 0 ORDER BY "Id" LIMIT 1')
    owner = _one(sf, 'SELECT "OwnerId" FROM "Opportunity" WHERE "Id" = ?', (open_opp,))
    account = _one(sf, 'SELECT "AccountId" FROM "Opportunity" WHERE "Id" = ?', (open_opp,))
    pending = _one(ns, "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd' AND status = 'B' ORDER BY id LIMIT 1")
    doomed_order = _one(ns, "SELECT id FROM \"transaction\" t WHERE type = 'SalesOrd' AND status = 'A' "
                            "AND NOT EXISTS (SELECT 1 FROM \"transaction\" i WHERE i.createdfrom = t.id) "
                            "ORDER BY id DESC LIMIT 1")

    emulators.admin("salesforce", "PATCH", f"records/Opportunity/{open_opp}",
                    {"StageName": "Qualification", "CloseDate": "2026-09-30"})
    emulators.admin("salesforce", "DELETE", f"records/Opportunity/{doomed_opp}")
    emulators.admin("salesforce", "PATCH", f"records/Task/{task}", {"Subject": "Follow up on samples"})
    emulators.admin("salesforce", "DELETE", f"records/Task/{doomed_task}")
    emulators.admin("salesforce", "DELETE", f"records/Event/{doomed_event}")
    created = emulators.admin("salesforce", "POST", "records/Task", {
        "Subject": "Call about the reorder", "ActivityDate": "2026-05-20", "Status": "Not Started",
        "WhatId": open_opp, "AccountId": account, "OwnerId": owner,
    })
    emulators.admin("netsuite", "POST", f"salesorders/{pending}/fulfil")
    emulators.admin("netsuite", "DELETE", f"records/salesorder/{doomed_order}")
    emulators.admin("netsuite", "PATCH", f"records/transaction/{pending}", {"memo": "rush"})
    return {"opportunity": open_opp, "deleted_opportunity": doomed_opp, "task": created["id"],
            "deleted_task": doomed_task, "deleted_event": doomed_event, "deleted_order": doomed_order,
            "owner": owner}


def _second_round(emulators, changed: dict) -> None:
    """Live business for a while, and a rep moving territory (every fact of theirs changes territory)."""
    import httpx

    done = 0
    for _ in range(40):  # one step at a time: a step the emulator fails (500) must not stop the others
        try:
            done += len(emulators.admin("salesforce", "POST", "live/step?steps=1")["happened"])
        except httpx.HTTPStatusError as error:
            assert error.response.status_code == 500, error
    assert done > 20
    emulators.admin("salesforce", "PATCH", f"records/User/{changed['owner']}", {"Territory__c": "Mountain"})
    emulators.admin("salesforce", "PATCH", f"records/Opportunity/{changed['opportunity']}",
                    {"StageName": "Needs Analysis"})


def _snapshot(tables: dict[str, str]) -> dict[str, list[tuple]]:
    out = {}
    with connect() as conn:
        for table, key in tables.items():
            out[table] = conn.execute(f"SELECT * FROM marts.{table} ORDER BY {key}").fetchall()
    return out


def test_incremental_builds_equal_a_full_refresh(emulators, marts_built):
    before = {t: fetch_all(f"SELECT count(*) FROM marts.{t}")[0][0] for t in INCREMENTAL}

    changed = _first_round(emulators)
    sync_all()
    first = build_or_fail()
    assert not first.full_refresh
    with connect() as conn:
        assert conn.execute("SELECT count(*) FROM marts.fct_order_lines WHERE order_id = ?",
                            (changed["deleted_order"],)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM marts.fct_opportunity_history WHERE opportunity_id = ?",
                            (changed["deleted_opportunity"],)).fetchone()[0] == 0
        gone = conn.execute("SELECT count(*) FROM marts.fct_activities WHERE activity_id IN (?, ?)",
                            (changed["deleted_task"], changed["deleted_event"])).fetchone()[0]
        assert gone == 0
        assert conn.execute("SELECT count(*) FROM marts.fct_activities WHERE activity_id = ?",
                            (changed["task"],)).fetchone()[0] == 1
        stages = [r[0] for r in conn.execute(
            "SELECT to_stage FROM marts.fct_opportunity_history WHERE opportunity_id = ? ORDER BY changed_at",
            (changed["opportunity"],)).fetchall()]
        assert stages[-1] == "Qualification"

    _second_round(emulators, changed)
    sync_all()
    build_or_fail()
    incremental = _snapshot(INCREMENTAL)
    territories = {r[0] for r in fetch_all("SELECT DISTINCT territory FROM marts.fct_activities WHERE rep_id = ?",
                                           (changed["owner"],))}
    assert territories == {"Mountain"}
    assert incremental["fct_opportunity_history"] and len(incremental["fct_order_lines"]) != before["fct_order_lines"]

    full = build_or_fail(full_refresh=True)
    assert full.full_refresh
    refreshed = _snapshot(INCREMENTAL)
    for table in INCREMENTAL:
        assert len(incremental[table]) == len(refreshed[table]), table
        assert incremental[table] == refreshed[table], table
