"""Syncs that run while the sources change lose nothing: the cursor discipline of pipelines/cursors.py.

Writes go to the emulators through their APIs at chosen points of a running scan (right after a page of
a given read came back), or in a loop beside a series of syncs; then plain incremental syncs run, and the
warehouse must equal the emulators' stores exactly: updates, deletions and creations all present.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import threading
from contextlib import contextmanager

import pytest

from pipelines.netsuite.client import NetSuiteClient
from pipelines.run import sync
from pipelines.salesforce.client import SalesforceClient
from scc.warehouse import connect

from .exactness import assert_exact, netsuite_comparisons, salesforce_comparisons
from .test_ingestion import check_exact, store_value

pytestmark = pytest.mark.slow


def store_rows(path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as store:
        return store.execute(sql, params).fetchall()


def warehouse_value(sql: str, params=()):
    with connect() as warehouse:
        row = warehouse.execute(sql, params).fetchone()
    return row[0] if row else None


@contextmanager
def write_after_netsuite_page(monkeypatch, matches, page: int, write):
    """Run ``write()`` once, right after the ``page``-th SuiteQL page of a query ``matches`` accepts came
    back, before the scan asks for the next one."""
    original = NetSuiteClient.suiteql
    seen = 0

    def suiteql(self, query, **kwargs):
        nonlocal seen
        result = original(self, query, **kwargs)
        if matches(query):
            seen += 1
            if seen == page:
                write()
        return result

    monkeypatch.setattr(NetSuiteClient, "suiteql", suiteql)
    yield
    monkeypatch.setattr(NetSuiteClient, "suiteql", original)
    assert seen >= page, f"the scan read {seen} pages, fewer than {page}: the writes never happened"


@contextmanager
def write_after_salesforce_page(monkeypatch, sobject: str, write):
    """Run ``write()`` once, right after the first page of the scan of ``sobject`` was read."""
    original = SalesforceClient.query_pages
    done = []

    def query_pages(self, soql, **kwargs):
        for page in original(self, soql, **kwargs):
            yield page
            if not done and f" FROM {sobject} " in soql:
                done.append(write())

    monkeypatch.setattr(SalesforceClient, "query_pages", query_pages)
    yield
    monkeypatch.setattr(SalesforceClient, "query_pages", original)
    assert done, f"the {sobject} scan never ran: the writes never happened"


def deletable_orders(emulators) -> list[int]:
    """Sales orders NetSuite lets us delete (nothing created from them), lowest id first."""
    return [r[0] for r in store_rows(emulators.netsuite_store, """
        SELECT id FROM "transaction" t WHERE type = 'SalesOrd'
        AND NOT EXISTS (SELECT 1 FROM "transaction" c WHERE c.createdfrom = t.id) ORDER BY id""")]


def create_order(emulators, memo: str) -> int:
    """A new sales order through the record API, as the product's write path creates one."""
    entity, item, location = store_rows(emulators.netsuite_store, """
        SELECT (SELECT id FROM customer WHERE isinactive = 'F' ORDER BY id LIMIT 1), item, location
        FROM inventoryitemlocations WHERE quantityonhand - quantitycommitted >= 1 ORDER BY item LIMIT 1""")[0]
    session = emulators.requests_session()
    session.auth = emulators.netsuite_auth()
    response = session.post(f"{emulators.netsuite_url}/record/v1/salesOrder", json={
        "entity": {"id": str(entity)}, "tranDate": "2026-05-19", "memo": memo,
        "item": {"items": [{"item": {"id": str(item)}, "quantity": 1, "rate": 12.5,
                            "location": {"id": str(location)}}]},
    }, timeout=30)
    assert response.status_code == 204, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_netsuite_changes_made_during_a_full_refresh_arrive_on_the_next_sync(emulators, monkeypatch):
    """The issue's case: during `scc sync netsuite --full-refresh`, an order the scan had read is changed,
    another one it had read is deleted, and an order it had not reached yet is changed; one is created."""
    ns = emulators.netsuite_store
    orders = deletable_orders(emulators)
    page_size = emulators.settings.sync_page_size
    assert store_value(ns, "SELECT count(*) FROM \"transaction\" WHERE type = 'SalesOrd'") > 2 * page_size
    low_changed, low_deleted, high_changed = orders[0], orders[1], orders[-1]
    created = []

    def writes():
        emulators.admin("netsuite", "PATCH", f"records/transaction/{low_changed}", {"memo": "changed after read"})
        emulators.admin("netsuite", "DELETE", f"records/salesorder/{low_deleted}")
        emulators.admin("netsuite", "PATCH", f"records/transaction/{high_changed}", {"memo": "changed ahead"})
        created.append(create_order(emulators, "created mid-scan"))

    # After the first page of sales orders: the deletion also moves every later row one place up.
    with write_after_netsuite_page(monkeypatch, lambda q: "r.type = 'SalesOrd'" in q and "deletedrecord" not in q,
                                   1, writes):
        sync("netsuite", full_refresh=True)
    # The scan itself skipped nothing the store still has, though the deletion moved its later pages.
    with connect() as warehouse:
        loaded = {r[0] for r in warehouse.execute("SELECT id FROM raw_netsuite.sales_orders").fetchall()}
    in_store = {r[0] for r in store_rows(ns, "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd'")}
    assert in_store - loaded == set()

    sync("netsuite")
    with connect() as warehouse:
        assert_exact(netsuite_comparisons(ns, warehouse))
    memo = "SELECT memo FROM raw_netsuite.sales_orders WHERE id = ?"
    assert warehouse_value(memo, (low_changed,)) == "changed after read"
    assert warehouse_value(memo, (high_changed,)) == "changed ahead"
    assert warehouse_value(memo, (created[0],)) == "created mid-scan"
    assert warehouse_value("SELECT count(*) FROM raw_netsuite.sales_orders WHERE id = ?", (low_deleted,)) == 0
    assert warehouse_value("SELECT count(*) FROM raw_netsuite.sales_order_lines WHERE transaction = ?",
                           (low_deleted,)) == 0
    assert warehouse_value("SELECT count(*) FROM raw_netsuite.sales_order_lines WHERE transaction = ?",
                           (created[0],)) == 1


@pytest.fixture
def small_pages(monkeypatch):
    """SuiteQL pages of 50 rows, so an incremental read of a few changed orders spans several pages."""
    from scc.config import reset_settings_cache

    monkeypatch.setenv("SCC_SYNC_PAGE_SIZE", "50")
    reset_settings_cache()
    yield 50
    monkeypatch.delenv("SCC_SYNC_PAGE_SIZE")
    reset_settings_cache()


def test_netsuite_lines_of_an_incremental_read_survive_writes_between_its_pages(emulators, monkeypatch, small_pages):
    """Lines are merged on their transaction: a line the scan skipped (its page moved under it when an
    order was deleted) would be removed with the others of its order and never come back."""
    ns = emulators.netsuite_store
    sync("netsuite")
    changed = deletable_orders(emulators)[5:40]
    for order in changed:
        emulators.admin("netsuite", "PATCH", f"records/transaction/{order}", {"memo": "changed before the sync"})
    marks = ", ".join("?" * len(changed))
    lines = store_rows(ns, f'SELECT "transaction" FROM transactionline WHERE "transaction" IN ({marks}) '
                       "AND mainline = 'F' ORDER BY uniquekey", changed)
    assert len(lines) > 2 * small_pages, "the read must span several pages"
    deleted = lines[0][0]  # its lines are on the first page
    created = []

    def writes():
        emulators.admin("netsuite", "DELETE", f"records/salesorder/{deleted}")
        emulators.admin("netsuite", "PATCH", f"records/transaction/{changed[-1]}", {"memo": "changed again"})
        created.append(create_order(emulators, "created during lines"))

    with write_after_netsuite_page(monkeypatch, lambda q: "FROM transactionline" in q, 1, writes):
        sync("netsuite")
    kept = ", ".join(str(o) for o in changed if o != deleted)  # every line of these must be there already
    assert warehouse_value(f"SELECT count(*) FROM raw_netsuite.sales_order_lines WHERE transaction IN ({kept})") == (
        store_value(ns, f"SELECT count(*) FROM transactionline WHERE mainline = 'F' AND \"transaction\" IN ({kept})"))

    sync("netsuite")
    with connect() as warehouse:
        assert_exact(netsuite_comparisons(ns, warehouse))
    lines_of = "SELECT count(*) FROM raw_netsuite.sales_order_lines WHERE transaction = ?"
    assert warehouse_value(lines_of, (deleted,)) == 0 and warehouse_value(lines_of, (created[0],)) == 1


def test_salesforce_changes_committed_during_a_scan_arrive_on_the_next_sync(emulators, monkeypatch):
    """A change stamped before the newest record the scan read, but committed after the scan read the
    object (a transaction that ran a while), is behind a cursor taken from the data: never read again."""
    sf = emulators.salesforce_store
    sync("salesforce")
    live = 'SELECT "Id" FROM "{}" WHERE "IsDeleted" = 0 ORDER BY "Id"'
    opportunities = [r[0] for r in store_rows(sf, live.format("Opportunity"))]
    late, newest, deleted = opportunities[0], opportunities[1], opportunities[2]
    contact = store_rows(sf, live.format("Contact"))[0][0]
    account = store_rows(sf, live.format("Account"))[0][0]
    owner = store_value(sf, 'SELECT "OwnerId" FROM "Account" WHERE "Id" = ?', (account,))
    lag = emulators.settings.salesforce_cursor_lag_seconds
    emulators.admin("salesforce", "PATCH", f"records/Opportunity/{newest}", {"Name": "Newest before the scan"})
    newest_stamp = store_value(sf, 'SELECT "SystemModstamp" FROM "Opportunity" WHERE "Id" = ?', (newest,))
    created = []

    def writes():
        # Stamped a second before the newest opportunity the scan read; committed now, after the read.
        stamp = dt.datetime.fromisoformat(newest_stamp.replace("+0000", "+00:00"))
        latency = (dt.datetime.now(dt.timezone.utc) - stamp).total_seconds() + 1
        assert latency < lag, "the scan took longer than the lag the test relies on"
        emulators.admin("salesforce", "PATCH", f"records/Opportunity/{late}?commit_latency={latency}",
                        {"Name": "Committed late"})
        emulators.admin("salesforce", "DELETE", f"records/Opportunity/{deleted}")
        emulators.admin("salesforce", "PATCH", f"records/Contact/{contact}", {"LastName": "Changed after read"})
        created.append(emulators.admin("salesforce", "POST", "records/Account",
                                       {"Name": "Created after read", "OwnerId": owner})["id"])
        return True

    with write_after_salesforce_page(monkeypatch, "Opportunity", writes):
        sync("salesforce")
    sync("salesforce")
    with connect() as warehouse:
        assert_exact(salesforce_comparisons(sf, warehouse))
    assert warehouse_value("SELECT name FROM raw_salesforce.opportunity WHERE id = ?", (late,)) == "Committed late"
    assert warehouse_value("SELECT count(*) FROM raw_salesforce.opportunity WHERE id = ?", (deleted,)) == 0
    assert warehouse_value("SELECT last_name FROM raw_salesforce.contact WHERE id = ?",
                           (contact,)) == "Changed after read"
    assert warehouse_value("SELECT name FROM raw_salesforce.account WHERE id = ?",
                           (created[0],)) == "Created after read"


class RandomWriter(threading.Thread):
    """Random updates, deletions and creations in both emulators, in a loop, until stopped."""

    def __init__(self, emulators, seed: int):
        super().__init__(daemon=True)
        self.emulators, self.rng = emulators, random.Random(seed)
        self.stop = threading.Event()
        self.writes = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.rng.choice(self.steps)()
                self.writes += 1
                self.stop.wait(self.rng.uniform(0, 0.03))
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    @property
    def steps(self):
        return [self.ns_change, self.ns_change, self.ns_delete, self.ns_create,
                self.sf_change, self.sf_change, self.sf_delete, self.sf_create]

    def _pick(self, path, sql: str):
        return self.rng.choice(store_rows(path, sql))[0]

    def ns_change(self):
        order = self._pick(self.emulators.netsuite_store, "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd'")
        self.emulators.admin("netsuite", "PATCH", f"records/transaction/{order}", {"memo": f"w{self.writes}"})

    def ns_delete(self):
        order = self.rng.choice(deletable_orders(self.emulators))
        self.emulators.admin("netsuite", "DELETE", f"records/salesorder/{order}")

    def ns_create(self):
        create_order(self.emulators, f"w{self.writes}")

    def sf_change(self):
        opportunity = self._pick(self.emulators.salesforce_store,
                                 'SELECT "Id" FROM "Opportunity" WHERE "IsDeleted" = 0')
        latency = self.rng.choice([0, 0, self.rng.uniform(0, 3)])  # some transactions run a while
        self.emulators.admin("salesforce", "PATCH", f"records/Opportunity/{opportunity}?commit_latency={latency}",
                             {"Name": f"w{self.writes}"})

    def sf_delete(self):
        contact = self._pick(self.emulators.salesforce_store, 'SELECT "Id" FROM "Contact" WHERE "IsDeleted" = 0')
        self.emulators.admin("salesforce", "DELETE", f"records/Contact/{contact}")

    def sf_create(self):
        owner = self._pick(self.emulators.salesforce_store, 'SELECT "OwnerId" FROM "Account" LIMIT 20')
        self.emulators.admin("salesforce", "POST", "records/Account",
                             {"Name": f"w{self.writes}", "OwnerId": owner})


def test_random_writes_beside_a_series_of_syncs_end_exact_after_a_quiet_sync(emulators):
    writer = RandomWriter(emulators, seed=18)
    writer.start()
    try:
        for _ in range(3):
            for source in ("salesforce", "netsuite"):
                sync(source)
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert writer.error is None, repr(writer.error)
    assert writer.writes > 20, "the writer hardly ran beside the syncs"
    for source in ("salesforce", "netsuite"):  # quiet: nothing writes now
        sync(source)
    check_exact(emulators)
