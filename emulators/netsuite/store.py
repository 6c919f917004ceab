"""The NetSuite emulator's data: a SQLite file in the shape of :mod:`emulators.schema`.

:class:`NetSuiteStore` serves SuiteQL (translated by :mod:`emulators.netsuite.suiteql` and executed by
SQLite), renders records the way the REST record service shows them, and performs the writes the
emulator supports: sales order create / upsert by external id / patch, fulfilment, billing (invoices),
payment and deletion. Every write stamps ``lastmodifieddate`` with a monotonic clock and tells the
registered listeners (record notifications in the shape of ``docs/emulators-contract.md``).

Thread-safe: readers use one connection per thread; writers share one connection under a lock and
``BEGIN IMMEDIATE``, so concurrent upserts of one external id create exactly one order.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulators.netsuite.suiteql import (
    SuiteQLError,
    TranslationCache,
    format_number,
    register_functions,
)
from emulators.schema import (
    NETSUITE_INVOICE_STATUS,
    NETSUITE_PRIMARY_KEYS,
    NETSUITE_SALES_ORDER_STATUS,
    NETSUITE_TABLES,
)

log = logging.getLogger(__name__)

STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
SUITEQL_MAX_ROWS = 100_000
QUERY_TIMEOUT_S = 120.0  # a SuiteQL query running longer is stopped (NetSuite times out too)
SALES_ORDER, INVOICE = "SalesOrd", "CustInvc"
_OPEN_ORDER_STATUSES = ("B", "D", "E", "F")  # statuses in which an order's unfulfilled lines hold stock

# REST record type -> (table, transaction type or None)
RECORD_TYPES = {
    "salesorder": ("transaction", SALES_ORDER),
    "invoice": ("transaction", INVOICE),
    "customer": ("customer", None),
    "item": ("item", None),
    "inventoryitem": ("item", None),
    "employee": ("employee", None),
    "location": ("location", None),
}
_REST_NAME = {
    "salesorder": "salesOrder",
    "invoice": "invoice",
    "customer": "customer",
    "item": "item",
    "inventoryitem": "inventoryItem",
    "employee": "employee",
    "location": "location",
}
_DELETED_TYPE = {SALES_ORDER: "salesorder", INVOICE: "invoice"}
_NOTIFY_TYPE = {SALES_ORDER: "salesOrder", INVOICE: "invoice"}
_STAMP_COLUMN = {
    "employee": "lastmodifieddate",
    "location": "lastmodifieddate",
    "customer": "lastmodifieddate",
    "item": "lastmodifieddate",
    "inventoryitemlocations": "lastmodifieddate",
    "transaction": "lastmodifieddate",
    "transactionline": "linelastmodifieddate",
    "deletedrecord": "deleteddate",
}

# Fields of a sales order payload the emulator uses, and ones NetSuite accepts that it ignores.
_ORDER_FIELDS = {
    "entity",
    "tranDate",
    "externalId",
    "memo",
    "item",
    "location",
    "salesRep",
    "orderStatus",
    "tranId",
}
_IGNORED_ORDER_FIELDS = {
    "otherRefNum",
    "shipDate",
    "department",
    "class",
    "subsidiary",
    "currency",
    "terms",
    "dueDate",
    "startDate",
    "endDate",
    "email",
    "shipMethod",
    "shipAddress",
    "billAddress",
    "customForm",
    "exchangeRate",
    "discountItem",
    "discountRate",
    "links",
    "id",
}
_LINE_FIELDS = {"item", "quantity", "rate", "amount", "location", "line", "description", "isClosed"}
_IGNORED_LINE_FIELDS = {
    "price",
    "taxCode",
    "units",
    "links",
    "quantityFulfilled",
    "quantityBilled",
    "createPo",
    "department",
    "class",
}


class NotFound(Exception):
    def __init__(self, record_type: str, record_id: Any):
        super().__init__(f"{record_type} {record_id}")
        self.record_type = record_type
        self.record_id = record_id


class ValidationError(Exception):
    """A write NetSuite would refuse: 400 with ``o:errorCode`` ``code`` at ``path``."""

    def __init__(self, detail: str, code: str = "USER_ERROR", path: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.path = path


def _iso(stamp: str | None) -> str | None:
    if not stamp:
        return None
    return stamp.replace(" ", "T")[:19] + "Z" if len(stamp) > 10 else stamp


def _parse_stamp(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp[:19].replace("T", " "), STAMP_FORMAT)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# Newest stamp issued per store file, shared by every store object of this process on that file.
_NEWEST: dict[str, str] = {}
_NEWEST_LOCK = threading.Lock()


class _Write:
    """One write transaction: its connection, its stamp and the notifications it will send."""

    def __init__(self, conn: sqlite3.Connection, stamp: str):
        self.conn = conn
        self.stamp = stamp
        self.events: list[dict] = []

    def notify(self, record_type: str, record_id, action: str, changed: Iterable[str], **extra) -> None:
        event = {
            "eventId": str(uuid.uuid4()),
            "recordType": record_type,
            "recordId": str(record_id),
            "action": action,
            "changedFields": sorted(set(changed)),
            "timestamp": _iso(self.stamp),
        }
        event.update(extra)
        self.events.append(event)


class NetSuiteStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"NetSuite store not found: {self.path}")
        self._key = str(self.path.resolve())
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._wconn = self._connect(readonly=False)
        self._listeners: list[Callable[[dict], None]] = []
        self._translations = TranslationCache()
        # totalResults per query text, as NetSuite keeps a query's result set while it is paged;
        # any committed write starts a new generation and so invalidates every count.
        self._counts: dict[tuple[str, int], int] = {}
        self._generation = 0
        self._analyze_if_missing()
        self._tranid_next: dict[str, tuple[str, int, int]] = {}
        with _NEWEST_LOCK:
            if self._key not in _NEWEST:
                _NEWEST[self._key] = self._scan_newest_stamp()

    # -- connections -------------------------------------------------------------------------

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        else:
            conn.execute("PRAGMA query_only=ON")
            conn.set_progress_handler(self._check_deadline, 100_000)
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("PRAGMA mmap_size=268435456")
        conn.execute("PRAGMA temp_store=MEMORY")
        register_functions(conn)
        return conn

    def _analyze_if_missing(self) -> None:
        """Give SQLite's planner table statistics (older companies were generated without them):
        without them it sorts every remaining transaction line for each keyset page."""
        with self._write_lock:
            if not self._wconn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
                self._wconn.execute("ANALYZE")

    def _check_deadline(self) -> int:
        deadline = getattr(self._local, "deadline", None)
        return 1 if deadline is not None and time.monotonic() > deadline else 0

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect(readonly=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def close(self) -> None:
        with self._readers_lock:
            for conn in self._readers:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._readers.clear()
        with self._write_lock:
            self._wconn.close()

    # -- listeners and clock ---------------------------------------------------------------

    def add_listener(self, callback: Callable[[dict], None]) -> None:
        """``callback(notification)`` after every committed write, one call per changed record."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[dict], None]) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _emit(self, events: list[dict]) -> None:
        for event in events:
            for cb in list(self._listeners):
                try:
                    cb(event)
                except Exception:  # a listener must not break a committed write
                    log.exception("NetSuite store listener failed")

    def _scan_newest_stamp(self) -> str:
        conn = self._wconn
        newest = ""
        for table, column in _STAMP_COLUMN.items():
            row = conn.execute(f'SELECT MAX("{column}") FROM "{table}"').fetchone()
            if row and row[0] and row[0] > newest:
                newest = row[0]
        return newest[:19]

    def _candidate_stamp(self, newest: str) -> str:
        now = _utcnow()
        if newest:
            try:
                floor = _parse_stamp(newest) + dt.timedelta(seconds=1)
            except ValueError:
                floor = now
            now = max(now, floor)
        return now.strftime(STAMP_FORMAT)

    def now(self) -> str:
        """The stamp the next write gets: max(real UTC now, newest stamp in the store + 1 s).

        Stamps are whole seconds ('YYYY-MM-DD HH:MM:SS'), so strictly later means a second later.
        """
        with _NEWEST_LOCK:
            newest = _NEWEST.get(self._key, "")
        row = self._reader().execute('SELECT MAX(lastmodifieddate) FROM "transaction"').fetchone()
        if row and row[0] and row[0][:19] > newest:
            newest = row[0][:19]
        return self._candidate_stamp(newest)

    @contextmanager
    def _write(self):
        with self._write_lock:
            conn = self._wconn
            conn.execute("BEGIN IMMEDIATE")
            try:
                with _NEWEST_LOCK:
                    newest = _NEWEST.get(self._key, "")
                row = conn.execute('SELECT MAX(lastmodifieddate) FROM "transaction"').fetchone()
                if row and row[0] and row[0][:19] > newest:
                    newest = row[0][:19]
                w = _Write(conn, self._candidate_stamp(newest))
                yield w
                conn.execute("COMMIT")
                self._generation += 1
                self._counts.clear()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            with _NEWEST_LOCK:
                if w.stamp > _NEWEST.get(self._key, ""):
                    _NEWEST[self._key] = w.stamp
        self._emit(w.events)

    # -- SuiteQL -----------------------------------------------------------------------------

    def suiteql(self, q: str, limit: int = 1000, offset: int = 0) -> tuple[list[dict], int, bool]:
        """Run a SuiteQL query: (items as NetSuite renders them, totalResults, hasMore)."""
        t = self._translations.get(q)
        conn = self._reader()
        self._local.deadline = time.monotonic() + QUERY_TIMEOUT_S
        try:
            key = (q, self._generation)
            total = self._counts.get(key)
            if total is None:
                total = conn.execute(t.count_sql).fetchone()[0]
                if len(self._counts) > 256:
                    self._counts.clear()
                self._counts[key] = total
            total = max(0, total - t.own_offset)
            if t.own_limit is not None:
                total = min(total, t.own_limit)
            page = max(0, min(limit, total - offset))
            rows = (
                conn.execute(f"{t.sql} LIMIT ? OFFSET ?", (page, t.own_offset + offset)).fetchall()
                if page
                else []
            )
        except sqlite3.Error as e:
            raise SuiteQLError(_sqlite_message(e)) from None
        finally:
            self._local.deadline = None
        names = t.names
        items = []
        append = items.append
        for row in rows:
            item: dict[str, Any] = {"links": []}
            for name, value in zip(names, row):
                if value is None:
                    continue
                kind = type(value)
                if kind is str:
                    item[name] = value
                elif kind is int:
                    item[name] = str(value)
                elif kind is float:
                    item[name] = format_number(value)
                elif kind is bytes:
                    item[name] = value.decode("utf-8", "replace")
                else:
                    item[name] = str(value)
            append(item)
        return items, total, offset + len(items) < total

    def query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        """Plain SQLite read over the store (for admin and tests)."""
        return self._reader().execute(sql, tuple(params)).fetchall()

    # -- records: reading --------------------------------------------------------------------

    def get_record(self, record_type: str, record_id, expand: bool = False, base_url: str = "") -> dict:
        """A record as the REST record service shows it (``base_url`` ends in ``/services/rest``)."""
        kind = record_type.lower()
        if kind not in RECORD_TYPES:
            raise NotFound(record_type, record_id)
        conn = self._reader()
        rid = self._resolve_id(conn, kind, record_id)
        if kind in ("salesorder", "invoice"):
            return self._render_transaction(conn, kind, rid, expand, base_url)
        table = RECORD_TYPES[kind][0]
        row = _row(conn, f'SELECT * FROM "{table}" WHERE id = ?', (rid,))
        if row is None:
            raise NotFound(record_type, record_id)
        return self._render_simple(conn, kind, row, base_url)

    def get_sublist(self, record_type: str, record_id, base_url: str = "") -> dict:
        kind = record_type.lower()
        if kind not in ("salesorder", "invoice"):
            raise NotFound(record_type, record_id)
        conn = self._reader()
        rid = self._resolve_id(conn, kind, record_id)
        record = self._render_transaction(conn, kind, rid, True, base_url)
        return record["item"]

    def find_by_external_id(self, record_type: str, external_id: str) -> int | None:
        kind = record_type.lower()
        if kind not in RECORD_TYPES:
            return None
        table, ttype = RECORD_TYPES[kind]
        if ttype:
            row = _row(
                self._reader(),
                'SELECT id FROM "transaction" WHERE externalid = ? AND type = ?',
                (external_id, ttype),
            )
        elif "externalid" in _columns(table):
            row = _row(self._reader(), f'SELECT id FROM "{table}" WHERE externalid = ?', (external_id,))
        else:
            row = None
        return row["id"] if row else None

    def _resolve_id(self, conn, kind: str, record_id) -> int:
        table, ttype = RECORD_TYPES[kind]
        text = str(record_id)
        if text.startswith("eid:"):
            eid = text[4:]
            if ttype:
                row = _row(
                    conn, 'SELECT id FROM "transaction" WHERE externalid = ? AND type = ?', (eid, ttype)
                )
            elif "externalid" in _columns(table):
                row = _row(conn, f'SELECT id FROM "{table}" WHERE externalid = ?', (eid,))
            else:
                row = None
            if row is None:
                raise NotFound(kind, record_id)
            return row["id"]
        try:
            rid = int(text)
        except ValueError:
            raise NotFound(kind, record_id) from None
        if ttype:
            row = _row(conn, 'SELECT id FROM "transaction" WHERE id = ? AND type = ?', (rid, ttype))
            if row is None:
                raise NotFound(kind, record_id)
        return rid

    def _ref(self, conn, target: str, rid, base_url: str) -> dict | None:
        if rid is None:
            return None
        name = None
        if target == "customer":
            r = _row(conn, "SELECT COALESCE(companyname, entityid) AS n FROM customer WHERE id = ?", (rid,))
        elif target == "employee":
            r = _row(
                conn,
                "SELECT COALESCE(entityid, TRIM(COALESCE(firstname,'') || ' ' || COALESCE(lastname,''))) "
                "AS n FROM employee WHERE id = ?",
                (rid,),
            )
        elif target in ("item", "inventoryItem"):
            r = _row(conn, "SELECT COALESCE(itemid, displayname) AS n FROM item WHERE id = ?", (rid,))
        elif target == "location":
            r = _row(conn, "SELECT name AS n FROM location WHERE id = ?", (rid,))
        elif target in ("salesOrder", "invoice"):
            r = _row(
                conn,
                "SELECT CASE type WHEN 'SalesOrd' THEN 'Sales Order #' WHEN 'CustInvc' THEN 'Invoice #' "
                "ELSE '' END || tranid AS n FROM \"transaction\" WHERE id = ?",
                (rid,),
            )
        else:
            r = None
        if r is not None:
            name = r["n"]
        ref = {"links": [{"rel": "self", "href": f"{base_url}/record/v1/{target}/{rid}"}], "id": str(rid)}
        if name is not None:
            ref["refName"] = name
        return ref

    def _render_transaction(self, conn, kind: str, rid: int, expand: bool, base_url: str) -> dict:
        tx = _row(conn, 'SELECT * FROM "transaction" WHERE id = ?', (rid,))
        if tx is None:
            raise NotFound(kind, rid)
        rest = _REST_NAME[kind]
        self_href = f"{base_url}/record/v1/{rest}/{rid}"
        labels = NETSUITE_SALES_ORDER_STATUS if tx["type"] == SALES_ORDER else NETSUITE_INVOICE_STATUS
        status = {"id": tx["status"], "refName": labels.get(tx["status"], tx["status"])}
        main = _row(
            conn, "SELECT * FROM transactionline WHERE \"transaction\" = ? AND mainline = 'T'", (rid,)
        )
        lines = self._item_lines(conn, rid)
        subtotal = round(sum(line["foreignamount"] or 0 for line in lines), 2)
        record: dict[str, Any] = {
            "links": [{"rel": "self", "href": self_href}],
            "id": str(rid),
            "tranId": tx["tranid"],
            "tranDate": tx["trandate"],
            "entity": self._ref(conn, "customer", tx["entity"], base_url),
            "salesRep": self._ref(conn, "employee", tx["employee"], base_url),
            "status": status,
            "total": tx["foreigntotal"],
            "subtotal": subtotal,
            "externalId": tx["externalid"],
            "memo": tx["memo"],
            "source": {"id": tx["source"], "refName": tx["source"]} if tx["source"] else None,
            "createdDate": _iso(tx["createddate"]),
            "lastModifiedDate": _iso(tx["lastmodifieddate"]),
            "location": self._ref(conn, "location", main["location"] if main else None, base_url),
        }
        if tx["type"] == SALES_ORDER:
            record["orderStatus"] = dict(status)
        else:
            record["dueDate"] = tx["duedate"]
            record["amountRemaining"] = tx["foreignamountunpaid"]
            record["createdFrom"] = self._ref(conn, "salesOrder", tx["createdfrom"], base_url)
        sub_href = f"{self_href}/item"
        if expand:
            items = []
            for line in lines:
                entry: dict[str, Any] = {
                    "links": [{"rel": "self", "href": f"{sub_href}/{line['id']}"}],
                    "line": line["id"],
                    "item": self._ref(conn, "inventoryItem", line["item"], base_url),
                    "quantity": line["quantity"],
                    "rate": line["rate"],
                    "amount": line["foreignamount"],
                    "location": self._ref(conn, "location", line["location"], base_url),
                    "isClosed": line["isclosed"] == "T",
                }
                if tx["type"] == SALES_ORDER:
                    entry["quantityFulfilled"] = line["quantityshiprecv"] or 0.0
                    entry["quantityBilled"] = line["quantitybilled"] or 0.0
                items.append({k: v for k, v in entry.items() if v is not None})
            record["item"] = {
                "links": [{"rel": "self", "href": sub_href}],
                "count": len(items),
                "hasMore": False,
                "offset": 0,
                "totalResults": len(items),
                "items": items,
            }
        else:
            record["item"] = {"links": [{"rel": "self", "href": sub_href}]}
        return {k: v for k, v in record.items() if v is not None}

    def _render_simple(self, conn, kind: str, row: sqlite3.Row, base_url: str) -> dict:
        rest = _REST_NAME[kind]
        out: dict[str, Any] = {
            "links": [{"rel": "self", "href": f"{base_url}/record/v1/{rest}/{row['id']}"}],
            "id": str(row["id"]),
        }
        table = RECORD_TYPES[kind][0]
        for col in NETSUITE_TABLES[table]:
            name = col.name
            if name == "id" or name.startswith("_"):
                continue
            value = row[name]
            if value is None:
                continue
            key = _camel(name)
            if (table, name) == ("customer", "salesrep"):
                out["salesRep"] = self._ref(conn, "employee", value, base_url)
                continue
            if col.type == "checkbox":
                value = value == "T"
            elif col.type == "datetime":
                value = _iso(value)
            out[key] = value
        return out

    # -- records: writing --------------------------------------------------------------------

    def create_sales_order(self, payload: dict) -> int:
        """Create a sales order from a REST payload; returns its internal id."""
        with self._write() as w:
            return self._create_order(w, payload)

    def upsert_sales_order_by_external_id(self, external_id: str, payload: dict) -> tuple[int, bool]:
        """``PUT salesOrder/eid:{external_id}``: update the order with that external id or create it.

        Returns (id, created). One write transaction, so concurrent calls create exactly one order.
        """
        if not external_id:
            raise ValidationError("The external ID is empty.", "INVALID_CONTENT", "externalId")
        if not isinstance(payload, dict):
            raise ValidationError("The request body must be a JSON object.", "INVALID_CONTENT")
        body_eid = payload.get("externalId")
        if body_eid is not None and str(body_eid) != external_id:
            raise ValidationError(
                "The external ID in the request body does not match the one in the URL.",
                "INVALID_CONTENT",
                "externalId",
            )
        payload = {**payload, "externalId": external_id}
        with self._write() as w:
            row = _row(w.conn, 'SELECT id, type FROM "transaction" WHERE externalid = ?', (external_id,))
            if row is not None:
                if row["type"] != SALES_ORDER:
                    raise ValidationError(
                        f"A record of another type already has the external ID '{external_id}'.",
                        "USER_ERROR",
                        "externalId",
                    )
                self._patch_order(w, row["id"], payload, replace_lines=True)
                return row["id"], False
            return self._create_order(w, payload), True

    def patch_sales_order(self, order_id, payload: dict, replace: Iterable[str] = ()) -> int:
        """``PATCH salesOrder/{id}``: change the given fields. Item lines with a ``line`` update that
        line, lines without one are added; ``replace=("item",)`` replaces the whole sublist."""
        with self._write() as w:
            rid = self._resolve_id(w.conn, "salesorder", order_id)
            self._patch_order(w, rid, payload, replace_lines="item" in set(replace))
            return rid

    def fulfil(self, order_id, fraction: float = 1.0) -> None:
        """Ship ``fraction`` of every line's unfulfilled quantity (item fulfilment)."""
        if not 0 < fraction <= 1:
            raise ValidationError("fraction must be in (0, 1].", "INVALID_CONTENT", "fraction")
        with self._write() as w:
            conn = w.conn
            rid = self._resolve_id(conn, "salesorder", order_id)
            tx = _row(conn, 'SELECT * FROM "transaction" WHERE id = ?', (rid,))
            if tx["status"] not in _OPEN_ORDER_STATUSES:
                raise ValidationError(
                    f"Sales order {tx['tranid']} cannot be fulfilled in status "
                    f"'{NETSUITE_SALES_ORDER_STATUS.get(tx['status'], tx['status'])}'.",
                    "USER_ERROR",
                )
            shipped_any = False
            for line in self._item_lines(conn, rid):
                qty = line["quantity"] or 0.0
                done = line["quantityshiprecv"] or 0.0
                remaining = qty - done
                if remaining <= 0 or line["isclosed"] == "T":
                    continue
                ship = (
                    remaining if fraction >= 1 else min(remaining, max(1.0, float(int(remaining * fraction))))
                )
                shipped_any = True
                conn.execute(
                    "UPDATE transactionline SET quantityshiprecv = ?, linelastmodifieddate = ? WHERE uniquekey = ?",
                    (done + ship, w.stamp, line["uniquekey"]),
                )
                self._ship_stock(w, line["item"], line["location"], ship)
            if not shipped_any:
                raise ValidationError(f"Sales order {tx['tranid']} has nothing left to fulfil.", "USER_ERROR")
            new_status = self._order_status(conn, rid, tx["status"])
            conn.execute(
                'UPDATE "transaction" SET status = ?, lastmodifieddate = ? WHERE id = ?',
                (new_status, w.stamp, rid),
            )
            w.notify("salesOrder", rid, "update", ["status", "item.quantityFulfilled"])

    def bill(self, order_id) -> int:
        """Invoice what is fulfilled and not yet billed; returns the invoice's id."""
        with self._write() as w:
            conn = w.conn
            rid = self._resolve_id(conn, "salesorder", order_id)
            tx = _row(conn, 'SELECT * FROM "transaction" WHERE id = ?', (rid,))
            billable = []
            for line in self._item_lines(conn, rid):
                qty = (line["quantityshiprecv"] or 0.0) - (line["quantitybilled"] or 0.0)
                if qty > 0:
                    billable.append((line, qty))
            if not billable:
                raise ValidationError(f"Sales order {tx['tranid']} has nothing to bill.", "USER_ERROR")
            inv_id = self._next_transaction_id(conn)
            tranid = self._next_tranid(conn, INVOICE)
            trandate = w.stamp[:10]
            customer = _row(conn, "SELECT * FROM customer WHERE id = ?", (tx["entity"],))
            days = _terms_days(customer["terms"] if customer else None)
            duedate = (dt.date.fromisoformat(trandate) + dt.timedelta(days=days)).isoformat()
            amounts = [round(qty * (line["rate"] or 0.0), 2) for line, qty in billable]
            total = round(sum(amounts), 2)
            conn.execute(
                'INSERT INTO "transaction" (id, tranid, type, entity, employee, trandate, duedate, status, foreigntotal, '
                "foreignamountunpaid, createdfrom, memo, externalid, source, createddate, lastmodifieddate) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'A', ?, ?, ?, ?, NULL, ?, ?, ?)",
                (
                    inv_id,
                    tranid,
                    INVOICE,
                    tx["entity"],
                    tx["employee"],
                    trandate,
                    duedate,
                    total,
                    total,
                    rid,
                    tx["memo"],
                    "Web Services",
                    w.stamp,
                    w.stamp,
                ),
            )
            key = self._next_uniquekey(conn)
            main_location = _row(
                conn,
                "SELECT location FROM transactionline WHERE \"transaction\" = ? AND mainline = 'T'",
                (rid,),
            )
            self._insert_line(
                conn,
                key,
                inv_id,
                0,
                "T",
                None,
                main_location["location"] if main_location else None,
                None,
                None,
                total,
                None,
                None,
                w.stamp,
            )
            for n, ((line, qty), amount) in enumerate(zip(billable, amounts), start=1):
                self._insert_line(
                    conn,
                    key + n,
                    inv_id,
                    n,
                    "F",
                    line["item"],
                    line["location"],
                    qty,
                    line["rate"],
                    amount,
                    None,
                    None,
                    w.stamp,
                )
                conn.execute(
                    "UPDATE transactionline SET quantitybilled = ?, linelastmodifieddate = ? WHERE uniquekey = ?",
                    ((line["quantitybilled"] or 0.0) + qty, w.stamp, line["uniquekey"]),
                )
            new_status = self._order_status(conn, rid, tx["status"])
            conn.execute(
                'UPDATE "transaction" SET status = ?, lastmodifieddate = ? WHERE id = ?',
                (new_status, w.stamp, rid),
            )
            if customer is not None:
                conn.execute(
                    "UPDATE customer SET balance = COALESCE(balance, 0) + ?, lastmodifieddate = ? WHERE id = ?",
                    (total, w.stamp, customer["id"]),
                )
                w.notify("customer", customer["id"], "update", ["balance"])
            w.notify(
                "invoice",
                inv_id,
                "create",
                [
                    "tranid",
                    "entity",
                    "trandate",
                    "duedate",
                    "status",
                    "foreigntotal",
                    "foreignamountunpaid",
                    "createdfrom",
                    "item",
                ],
            )
            w.notify("salesOrder", rid, "update", ["status", "item.quantityBilled"])
            return inv_id

    def pay(self, invoice_id) -> None:
        """Record full payment of an invoice."""
        with self._write() as w:
            conn = w.conn
            rid = self._resolve_id(conn, "invoice", invoice_id)
            tx = _row(conn, 'SELECT * FROM "transaction" WHERE id = ?', (rid,))
            unpaid = tx["foreignamountunpaid"] or 0.0
            if tx["status"] == "B" or unpaid <= 0:
                raise ValidationError(f"Invoice {tx['tranid']} is already paid in full.", "USER_ERROR")
            conn.execute(
                "UPDATE \"transaction\" SET status = 'B', foreignamountunpaid = 0, lastmodifieddate = ? "
                "WHERE id = ?",
                (w.stamp, rid),
            )
            conn.execute(
                "UPDATE customer SET balance = COALESCE(balance, 0) - ?, lastmodifieddate = ? WHERE id = ?",
                (unpaid, w.stamp, tx["entity"]),
            )
            w.notify("invoice", rid, "update", ["status", "foreignamountunpaid"])
            w.notify("customer", tx["entity"], "update", ["balance"])

    def delete_record(self, record_type: str, record_id) -> None:
        """Delete a record and write ``deletedrecord``, as NetSuite does."""
        kind = record_type.lower()
        if kind == "transaction":
            row = _row(
                self._reader(), 'SELECT type FROM "transaction" WHERE id = ?', (_int_or_none(record_id),)
            )
            if row is None:
                raise NotFound(record_type, record_id)
            kind = "salesorder" if row["type"] == SALES_ORDER else "invoice"
        if kind not in RECORD_TYPES or kind in ("employee", "location"):
            raise NotFound(record_type, record_id)
        with self._write() as w:
            conn = w.conn
            rid = self._resolve_id(conn, kind, record_id)
            table, ttype = RECORD_TYPES[kind]
            row = _row(conn, f'SELECT * FROM "{table}" WHERE id = ?', (rid,))
            if row is None:
                raise NotFound(record_type, record_id)
            if ttype == SALES_ORDER:
                if _row(conn, 'SELECT 1 FROM "transaction" WHERE createdfrom = ?', (rid,)):
                    raise ValidationError(
                        "This record cannot be deleted because it has dependent records.", "USER_ERROR"
                    )
                if row["status"] in _OPEN_ORDER_STATUSES:
                    for line in self._item_lines(conn, rid):
                        self._release_stock(w, line)
                name = row["tranid"]
            elif ttype == INVOICE:
                self._unbill(w, row)
                name = row["tranid"]
            elif table == "customer":
                if _row(conn, 'SELECT 1 FROM "transaction" WHERE entity = ? LIMIT 1', (rid,)):
                    raise ValidationError(
                        "This record cannot be deleted because it has dependent records.", "USER_ERROR"
                    )
                name = row["companyname"] or row["entityid"]
            else:
                if _row(conn, "SELECT 1 FROM transactionline WHERE item = ? LIMIT 1", (rid,)):
                    raise ValidationError(
                        "This record cannot be deleted because it has dependent records.", "USER_ERROR"
                    )
                conn.execute("DELETE FROM inventoryitemlocations WHERE item = ?", (rid,))
                name = row["itemid"]
            if ttype:
                conn.execute('DELETE FROM transactionline WHERE "transaction" = ?', (rid,))
            conn.execute(f'DELETE FROM "{table}" WHERE id = ?', (rid,))
            del_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM deletedrecord").fetchone()[0]
            conn.execute(
                "INSERT INTO deletedrecord (id, recordid, recordtype, name, deleteddate) VALUES (?, ?, ?, ?, ?)",
                (del_id, rid, _DELETED_TYPE.get(ttype, table), name, w.stamp),
            )
            w.notify(_NOTIFY_TYPE.get(ttype, table), rid, "delete", [])

    def admin_update(self, table: str, key, fields: dict) -> dict:
        """Change columns of one row and stamp it (test helper behind ``PATCH /__admin/records``).

        ``key``: the id; for ``inventoryitemlocations`` ``"item:location"``; for ``transactionline`` the
        uniquekey. A stamp column given in ``fields`` is kept as given.
        """
        table = table.lower()
        if table not in NETSUITE_TABLES:
            raise NotFound(table, key)
        cols = _columns(table)
        if not isinstance(fields, dict) or not fields:
            raise ValidationError("Give the fields to change as a JSON object.", "INVALID_CONTENT")
        pk = NETSUITE_PRIMARY_KEYS[table]
        for name in fields:
            if name not in cols or name.startswith("_"):
                raise ValidationError(
                    f"Unknown field '{name}' for record '{table}'.", "INVALID_CONTENT", name
                )
            if name in pk:
                raise ValidationError(f"Field '{name}' is the record's key.", "INVALID_CONTENT", name)
        try:
            key_values = tuple(int(k) for k in str(key).split(":"))
        except ValueError:
            raise NotFound(table, key) from None
        if len(key_values) != len(pk):
            raise NotFound(table, key)
        where = " AND ".join(f'"{k}" = ?' for k in pk)
        with self._write() as w:
            conn = w.conn
            if _row(conn, f'SELECT 1 FROM "{table}" WHERE {where}', key_values) is None:
                raise NotFound(table, key)
            changes = dict(fields)
            stamp_col = _STAMP_COLUMN.get(table)
            if stamp_col and stamp_col not in changes:
                changes[stamp_col] = w.stamp
            sets = ", ".join(f'"{k}" = ?' for k in changes)
            conn.execute(f'UPDATE "{table}" SET {sets} WHERE {where}', (*changes.values(), *key_values))
            changed = list(fields)
            if table == "transaction":
                tx = _row(conn, 'SELECT type FROM "transaction" WHERE id = ?', key_values)
                w.notify(_NOTIFY_TYPE.get(tx["type"], "transaction"), key_values[0], "update", changed)
            elif table == "transactionline":
                line = _row(
                    conn, 'SELECT "transaction" AS t FROM transactionline WHERE uniquekey = ?', key_values
                )
                tx = _row(conn, 'SELECT type FROM "transaction" WHERE id = ?', (line["t"],))
                conn.execute(
                    'UPDATE "transaction" SET lastmodifieddate = ? WHERE id = ?', (w.stamp, line["t"])
                )
                w.notify(
                    _NOTIFY_TYPE.get(tx["type"] if tx else "", "transaction"),
                    line["t"],
                    "update",
                    [f"item.{c}" for c in changed],
                )
            elif table == "inventoryitemlocations":
                w.notify("inventory", key_values[0], "update", changed, location=str(key_values[1]))
            else:
                w.notify(table, key_values[0], "update", changed)
            row = _row(conn, f'SELECT * FROM "{table}" WHERE {where}', key_values)
            return dict(row)

    # -- write internals ----------------------------------------------------------------------

    def _create_order(self, w: _Write, payload: dict) -> int:
        conn = w.conn
        order = self._validate_order(conn, payload, creating=True)
        if order.get("externalid") and _row(
            conn, 'SELECT 1 FROM "transaction" WHERE externalid = ?', (order["externalid"],)
        ):
            raise ValidationError(
                f"A record with the external ID '{order['externalid']}' already exists.",
                "USER_ERROR",
                "externalId",
            )
        rid = self._next_transaction_id(conn)
        tranid = self._next_tranid(conn, SALES_ORDER)
        lines = order["lines"]
        total = round(sum(line["amount"] for line in lines), 2)
        status = order.get("status") or "B"
        conn.execute(
            'INSERT INTO "transaction" (id, tranid, type, entity, employee, trandate, duedate, status, foreigntotal, '
            "foreignamountunpaid, createdfrom, memo, externalid, source, createddate, lastmodifieddate) "
            "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, ?, ?, ?, ?, ?)",
            (
                rid,
                tranid,
                SALES_ORDER,
                order["entity"],
                order.get("employee"),
                order.get("trandate") or w.stamp[:10],
                status,
                total,
                order.get("memo"),
                order.get("externalid"),
                "Web Services",
                w.stamp,
                w.stamp,
            ),
        )
        key = self._next_uniquekey(conn)
        self._insert_line(
            conn, key, rid, 0, "T", None, order.get("location"), None, None, total, None, None, w.stamp
        )
        self._insert_item_lines(conn, key + 1, rid, lines, w.stamp)
        if status in _OPEN_ORDER_STATUSES:
            for line in lines:
                self._commit_stock(w, line["item"], line["location"], line["quantity"])
        w.notify(
            "salesOrder",
            rid,
            "create",
            [
                "tranid",
                "entity",
                "employee",
                "trandate",
                "status",
                "foreigntotal",
                "memo",
                "externalid",
                "item",
            ],
        )
        return rid

    def _patch_order(self, w: _Write, rid: int, payload: dict, replace_lines: bool) -> None:
        conn = w.conn
        tx = _row(conn, 'SELECT * FROM "transaction" WHERE id = ?', (rid,))
        if tx is None:
            raise NotFound("salesOrder", rid)
        order = self._validate_order(conn, payload, creating=False)
        sets: dict[str, Any] = {}
        changed: list[str] = []
        for field in ("entity", "employee", "trandate", "memo", "externalid"):
            if field in order and order[field] != tx[field]:
                sets[field] = order[field]
                changed.append(field)
        if (
            "externalid" in sets
            and sets["externalid"]
            and _row(
                conn,
                'SELECT 1 FROM "transaction" WHERE externalid = ? AND id <> ?',
                (sets["externalid"], rid),
            )
        ):
            raise ValidationError(
                f"A record with the external ID '{sets['externalid']}' already exists.",
                "USER_ERROR",
                "externalId",
            )
        status = tx["status"]
        was_open = status in _OPEN_ORDER_STATUSES
        if "location" in order:
            conn.execute(
                "UPDATE transactionline SET location = ?, linelastmodifieddate = ? "
                "WHERE \"transaction\" = ? AND mainline = 'T'",
                (order["location"], w.stamp, rid),
            )
            changed.append("location")
        lines_changed = False
        if "lines" in order:
            existing = self._item_lines(conn, rid)
            if replace_lines:
                same = len(existing) == len(order["lines"]) and all(
                    old["item"] == new["item"]
                    and old["quantity"] == new["quantity"]
                    and old["rate"] == new["rate"]
                    and old["location"] == new["location"]
                    for old, new in zip(existing, order["lines"])
                )
                if not same:
                    if any(
                        (old["quantityshiprecv"] or 0) > 0 or (old["quantitybilled"] or 0) > 0
                        for old in existing
                    ):
                        raise ValidationError(
                            "You cannot replace the item lines of an order that has been fulfilled or billed.",
                            "USER_ERROR",
                            "item",
                        )
                    if was_open:
                        for old in existing:
                            self._release_stock(w, old)
                    conn.execute(
                        "DELETE FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F'", (rid,)
                    )
                    self._insert_item_lines(conn, self._next_uniquekey(conn), rid, order["lines"], w.stamp)
                    lines_changed = True
            else:
                by_line = {old["id"]: old for old in existing}
                next_line = max([old["id"] for old in existing] + [0]) + 1
                key = self._next_uniquekey(conn)
                for idx, line in enumerate(order["lines"]):
                    if line.get("line") is not None:
                        old = by_line.get(line["line"])
                        if old is None:
                            raise ValidationError(
                                f"Line {line['line']} does not exist.",
                                "INVALID_CONTENT",
                                f"item.items[{idx}].line",
                            )
                        if line["quantity"] < (old["quantityshiprecv"] or 0):
                            raise ValidationError(
                                "The quantity is less than the quantity already fulfilled.",
                                "USER_ERROR",
                                f"item.items[{idx}].quantity",
                            )
                        if was_open:
                            self._release_stock(w, old)
                        conn.execute(
                            "UPDATE transactionline SET item = ?, location = ?, quantity = ?, rate = ?, "
                            "foreignamount = ?, isclosed = ?, linelastmodifieddate = ? WHERE uniquekey = ?",
                            (
                                line["item"],
                                line["location"],
                                line["quantity"],
                                line["rate"],
                                line["amount"],
                                "T" if line.get("isclosed") else "F",
                                w.stamp,
                                old["uniquekey"],
                            ),
                        )
                        if was_open:
                            updated = _row(
                                conn, "SELECT * FROM transactionline WHERE uniquekey = ?", (old["uniquekey"],)
                            )
                            self._commit_line(w, updated)
                    else:
                        self._insert_line(
                            conn,
                            key,
                            rid,
                            next_line,
                            "F",
                            line["item"],
                            line["location"],
                            line["quantity"],
                            line["rate"],
                            line["amount"],
                            0.0,
                            0.0,
                            w.stamp,
                        )
                        if was_open:
                            self._commit_stock(w, line["item"], line["location"], line["quantity"])
                        key += 1
                        next_line += 1
                lines_changed = True
            if lines_changed and was_open and replace_lines:
                for line in self._item_lines(conn, rid):
                    self._commit_line(w, line)
        if lines_changed:
            total = round(sum(line["foreignamount"] or 0 for line in self._item_lines(conn, rid)), 2)
            sets["foreigntotal"] = total
            conn.execute(
                "UPDATE transactionline SET foreignamount = ?, linelastmodifieddate = ? "
                "WHERE \"transaction\" = ? AND mainline = 'T'",
                (total, w.stamp, rid),
            )
            changed += ["item", "foreigntotal"]
            if status in _OPEN_ORDER_STATUSES:
                status = self._order_status(conn, rid, status)
        if "status" in order and order["status"] != status:
            status = self._status_change(w, rid, status, order["status"])
        if status != tx["status"]:
            sets["status"] = status
            changed.append("status")
        if not changed:
            return  # nothing changed (an idempotent retry): no new stamp, no notification
        sets["lastmodifieddate"] = w.stamp
        assignments = ", ".join(f'"{k}" = ?' for k in sets)
        conn.execute(f'UPDATE "transaction" SET {assignments} WHERE id = ?', (*sets.values(), rid))
        w.notify("salesOrder", rid, "update", changed)

    def _status_change(self, w: _Write, rid: int, old: str, new: str) -> str:
        conn = w.conn
        lines = self._item_lines(conn, rid)
        touched = any((line["quantityshiprecv"] or 0) > 0 for line in lines)
        if new == "B" and old == "A":
            for line in lines:
                self._commit_line(w, line)
            return "B"
        if new == "A" and old == "B" and not touched:
            for line in lines:
                self._release_stock(w, line)
            return "A"
        if new == "C" and old in ("A", "B") and not touched:
            if old == "B":
                for line in lines:
                    self._release_stock(w, line)
            return "C"
        if new == "H" and old not in ("C", "G", "H"):
            if old in _OPEN_ORDER_STATUSES:
                for line in lines:
                    self._release_stock(w, line)
            conn.execute(
                "UPDATE transactionline SET isclosed = 'T', linelastmodifieddate = ? WHERE \"transaction\" = ?",
                (w.stamp, rid),
            )
            return "H"
        raise ValidationError(
            f"The order status cannot change from '{NETSUITE_SALES_ORDER_STATUS.get(old, old)}' to "
            f"'{NETSUITE_SALES_ORDER_STATUS.get(new, new)}'.",
            "USER_ERROR",
            "orderStatus",
        )

    def _validate_order(self, conn, payload, creating: bool) -> dict:
        if not isinstance(payload, dict):
            raise ValidationError("The request body must be a JSON object.", "INVALID_CONTENT")
        for name in payload:
            if (
                name not in _ORDER_FIELDS
                and name not in _IGNORED_ORDER_FIELDS
                and not name.startswith("cust")
            ):
                raise ValidationError(
                    f"Invalid field name '{name}' for record 'salesOrder'.", "INVALID_CONTENT", name
                )
        out: dict[str, Any] = {}
        if "entity" in payload or creating:
            if payload.get("entity") in (None, "", {}):
                raise ValidationError("Please enter value(s) for: Customer", "FIELD_PARAM_REQD", "entity")
            customer = self._lookup_ref(conn, "customer", payload["entity"], "entity")
            out["entity"] = customer["id"]
            if "salesRep" not in payload and creating:
                out["employee"] = customer["salesrep"]
        if payload.get("salesRep") not in (None, "", {}):
            out["employee"] = self._lookup_ref(conn, "employee", payload["salesRep"], "salesRep")["id"]
        if "tranDate" in payload:
            value = payload["tranDate"]
            if value is None and creating:
                pass
            else:
                try:
                    out["trandate"] = dt.date.fromisoformat(str(value)[:10]).isoformat()
                except ValueError:
                    raise ValidationError(
                        f"Invalid value '{value}' for the field tranDate; use YYYY-MM-DD.",
                        "INVALID_CONTENT",
                        "tranDate",
                    ) from None
        if "memo" in payload:
            memo = payload["memo"]
            if memo is not None and not isinstance(memo, str):
                raise ValidationError("The field memo must be text.", "INVALID_CONTENT", "memo")
            out["memo"] = memo
        if "externalId" in payload:
            eid = payload["externalId"]
            if eid is not None and not isinstance(eid, str | int):
                raise ValidationError("The field externalId must be text.", "INVALID_CONTENT", "externalId")
            out["externalid"] = str(eid) if eid not in (None, "") else None
        if "orderStatus" in payload:
            status = payload["orderStatus"]
            code = status.get("id") if isinstance(status, dict) else status
            code = str(code or "")
            if code not in NETSUITE_SALES_ORDER_STATUS:
                reverse = {v.lower(): k for k, v in NETSUITE_SALES_ORDER_STATUS.items()}
                code = reverse.get(code.lower().replace("_", " "), code)
            if code not in NETSUITE_SALES_ORDER_STATUS or (creating and code not in ("A", "B")):
                raise ValidationError(
                    f"Invalid value '{status}' for the field orderStatus.", "INVALID_CONTENT", "orderStatus"
                )
            out["status"] = code
        order_location = None
        if payload.get("location") not in (None, "", {}):
            order_location = self._lookup_ref(conn, "location", payload["location"], "location")["id"]
            out["location"] = order_location
        if "item" in payload or creating:
            sub = payload.get("item")
            items = sub.get("items") if isinstance(sub, dict) else None
            if sub is not None and not isinstance(sub, dict):
                raise ValidationError(
                    "The field item must be an object with 'items'.", "INVALID_CONTENT", "item"
                )
            if not items:
                if creating or items is not None:
                    raise ValidationError(
                        "You must enter at least one line item for this transaction.", "USER_ERROR", "item"
                    )
            else:
                if not isinstance(items, list):
                    raise ValidationError("item.items must be a list.", "INVALID_CONTENT", "item.items")
                out["lines"] = [
                    self._validate_line(conn, i, line, order_location) for i, line in enumerate(items)
                ]
        return out

    def _validate_line(self, conn, i: int, line, order_location) -> dict:
        path = f"item.items[{i}]"
        if not isinstance(line, dict):
            raise ValidationError("Each line must be an object.", "INVALID_CONTENT", path)
        for name in line:
            if name not in _LINE_FIELDS and name not in _IGNORED_LINE_FIELDS and not name.startswith("cust"):
                raise ValidationError(
                    f"Invalid field name '{name}' for sublist 'item'.", "INVALID_CONTENT", f"{path}.{name}"
                )
        if line.get("item") in (None, "", {}):
            raise ValidationError("Please enter value(s) for: Item", "FIELD_PARAM_REQD", f"{path}.item")
        item = self._lookup_ref(conn, "item", line["item"], f"{path}.item")
        quantity = _number(line.get("quantity", 1), f"{path}.quantity")
        if quantity <= 0:
            raise ValidationError(
                "The quantity must be greater than zero.", "INVALID_CONTENT", f"{path}.quantity"
            )
        if line.get("rate") is not None:
            rate = _number(line["rate"], f"{path}.rate")
        elif line.get("amount") is not None:
            rate = round(_number(line["amount"], f"{path}.amount") / quantity, 6)
        else:
            rate = item["baseprice"] or 0.0
        if rate < 0:
            raise ValidationError("The rate must not be negative.", "INVALID_CONTENT", f"{path}.rate")
        amount = (
            _number(line["amount"], f"{path}.amount")
            if line.get("amount") is not None
            else round(quantity * rate, 2)
        )
        if line.get("location") not in (None, "", {}):
            location = self._lookup_ref(conn, "location", line["location"], f"{path}.location")["id"]
        elif order_location is not None:
            location = order_location
        else:
            best = _row(
                conn,
                "SELECT location FROM inventoryitemlocations WHERE item = ? "
                "ORDER BY quantityavailable DESC, location LIMIT 1",
                (item["id"],),
            )
            location = best["location"] if best else None
        out = {
            "item": item["id"],
            "quantity": quantity,
            "rate": rate,
            "amount": round(amount, 2),
            "location": location,
        }
        if line.get("line") is not None:
            try:
                out["line"] = int(line["line"])
            except (TypeError, ValueError):
                raise ValidationError(
                    "The line number must be a whole number.", "INVALID_CONTENT", f"{path}.line"
                ) from None
        if line.get("isClosed") is not None:
            out["isclosed"] = bool(line["isClosed"])
        return out

    def _lookup_ref(self, conn, table: str, ref, path: str) -> sqlite3.Row:
        if isinstance(ref, dict):
            rid, eid = ref.get("id"), ref.get("externalId")
        else:
            rid, eid = ref, None
        row = None
        if rid not in (None, ""):
            try:
                row = _row(conn, f'SELECT * FROM "{table}" WHERE id = ?', (int(str(rid)),))
            except ValueError:
                row = None
            shown = rid
        elif eid not in (None, "") and "externalid" in _columns(table):
            row = _row(conn, f'SELECT * FROM "{table}" WHERE externalid = ?', (str(eid),))
            shown = eid
        else:
            raise ValidationError(f"Please enter value(s) for: {path}", "FIELD_PARAM_REQD", path)
        if row is None or ("isinactive" in _columns(table) and row["isinactive"] == "T"):
            field = path.rsplit(".", 1)[-1]
            raise ValidationError(
                f"Invalid Field Value {shown} for the following field: {field}", "INVALID_CONTENT", path
            )
        return row

    def _item_lines(self, conn, rid: int) -> list[sqlite3.Row]:
        cur = conn.execute(
            "SELECT * FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F' ORDER BY linesequencenumber, id",
            (rid,),
        )
        cur.row_factory = sqlite3.Row
        return cur.fetchall()

    @staticmethod
    def _order_status(conn, rid: int, current: str) -> str:
        if current in ("A", "C", "H"):
            return current
        lines = conn.execute(
            "SELECT quantity, quantityshiprecv, quantitybilled FROM transactionline "
            "WHERE \"transaction\" = ? AND mainline = 'F' AND isclosed = 'F'",
            (rid,),
        ).fetchall()
        if not lines:
            return current
        qty = [(r[0] or 0.0) for r in lines]
        shipped = [(r[1] or 0.0) for r in lines]
        billed = [(r[2] or 0.0) for r in lines]
        all_shipped = all(s >= q for s, q in zip(shipped, qty))
        any_shipped = any(s > 0 for s in shipped)
        all_billed = all(b >= q for b, q in zip(billed, qty))
        unbilled_shipped = any(s > b for s, b in zip(shipped, billed))
        if all_shipped:
            return "G" if all_billed else "F"
        if any_shipped:
            return "E" if unbilled_shipped else "D"
        return "B"

    def _insert_item_lines(self, conn, first_key: int, rid: int, lines: list[dict], stamp: str) -> None:
        """Write an order's item lines 1..n (nothing shipped or billed yet), keys from ``first_key``."""
        for n, line in enumerate(lines, start=1):
            self._insert_line(conn, first_key + n - 1, rid, n, "F", line["item"], line["location"],
                              line["quantity"], line["rate"], line["amount"], 0.0, 0.0, stamp)

    def _insert_line(
        self,
        conn,
        key,
        tx_id,
        line_id,
        mainline,
        item,
        location,
        quantity,
        rate,
        amount,
        shipped,
        billed,
        stamp,
    ) -> None:
        conn.execute(
            'INSERT INTO transactionline (uniquekey, "transaction", id, linesequencenumber, mainline, item, location, '
            "quantity, rate, foreignamount, quantityshiprecv, quantitybilled, isclosed, linelastmodifieddate) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'F', ?)",
            (
                key,
                tx_id,
                line_id,
                line_id,
                mainline,
                item,
                location,
                quantity,
                rate,
                amount,
                shipped,
                billed,
                stamp,
            ),
        )

    def _stock_row(self, w: _Write, item, location, create: bool):
        if item is None or location is None:
            return None
        row = _row(
            w.conn, "SELECT * FROM inventoryitemlocations WHERE item = ? AND location = ?", (item, location)
        )
        if row is None and create:
            kind = _row(w.conn, "SELECT itemtype FROM item WHERE id = ?", (item,))
            if kind is None or (kind["itemtype"] or "") not in (
                "InvtPart",
                "inventoryitem",
                "Inventory Item",
            ):
                return None
            w.conn.execute(
                "INSERT INTO inventoryitemlocations (item, location, quantityonhand, quantityavailable, "
                "quantitycommitted, quantitybackordered, lastmodifieddate) VALUES (?, ?, 0, 0, 0, 0, ?)",
                (item, location, w.stamp),
            )
            row = _row(
                w.conn,
                "SELECT * FROM inventoryitemlocations WHERE item = ? AND location = ?",
                (item, location),
            )
        return row

    def _set_stock(self, w: _Write, row, onhand, committed, backordered, changed) -> None:
        available = onhand - committed
        w.conn.execute(
            "UPDATE inventoryitemlocations SET quantityonhand = ?, quantityavailable = ?, quantitycommitted = ?, "
            "quantitybackordered = ?, lastmodifieddate = ? WHERE item = ? AND location = ?",
            (onhand, available, committed, max(0.0, backordered), w.stamp, row["item"], row["location"]),
        )
        w.notify("inventory", row["item"], "update", changed, location=str(row["location"]))

    def _commit_stock(self, w: _Write, item, location, quantity) -> None:
        row = self._stock_row(w, item, location, create=True)
        if row is None or not quantity:
            return
        onhand = row["quantityonhand"] or 0.0
        committed = row["quantitycommitted"] or 0.0
        free = max(0.0, onhand - committed)
        commit = min(quantity, free)
        self._set_stock(
            w,
            row,
            onhand,
            committed + commit,
            (row["quantitybackordered"] or 0.0) + quantity - commit,
            ["quantitycommitted", "quantityavailable", "quantitybackordered"],
        )

    def _commit_line(self, w: _Write, line) -> None:
        outstanding = (line["quantity"] or 0.0) - (line["quantityshiprecv"] or 0.0)
        if outstanding > 0 and line["isclosed"] != "T":
            self._commit_stock(w, line["item"], line["location"], outstanding)

    def _release_stock(self, w: _Write, line) -> None:
        outstanding = (line["quantity"] or 0.0) - (line["quantityshiprecv"] or 0.0)
        if outstanding <= 0 or line["isclosed"] == "T":
            return
        row = self._stock_row(w, line["item"], line["location"], create=False)
        if row is None:
            return
        committed = row["quantitycommitted"] or 0.0
        release = min(outstanding, committed)
        self._set_stock(
            w,
            row,
            row["quantityonhand"] or 0.0,
            committed - release,
            (row["quantitybackordered"] or 0.0) - (outstanding - release),
            ["quantitycommitted", "quantityavailable", "quantitybackordered"],
        )

    def _ship_stock(self, w: _Write, item, location, quantity) -> None:
        row = self._stock_row(w, item, location, create=False)
        if row is None:
            return
        onhand = row["quantityonhand"] or 0.0
        committed = row["quantitycommitted"] or 0.0
        from_committed = min(quantity, committed)
        backordered = (row["quantitybackordered"] or 0.0) - (quantity - from_committed)
        self._set_stock(
            w,
            row,
            onhand - quantity,
            committed - from_committed,
            backordered,
            ["quantityonhand", "quantitycommitted", "quantityavailable", "quantitybackordered"],
        )

    def _unbill(self, w: _Write, invoice) -> None:
        """Undo what an invoice billed on its sales order (when the invoice is deleted)."""
        conn = w.conn
        if invoice["createdfrom"] is not None:
            order_lines = self._item_lines(conn, invoice["createdfrom"])
            for inv_line in self._item_lines(conn, invoice["id"]):
                left = inv_line["quantity"] or 0.0
                for line in order_lines:
                    if left <= 0:
                        break
                    if line["item"] != inv_line["item"]:
                        continue
                    billed = (
                        _row(
                            conn,
                            "SELECT quantitybilled FROM transactionline WHERE uniquekey = ?",
                            (line["uniquekey"],),
                        )["quantitybilled"]
                        or 0.0
                    )
                    take = min(left, billed)
                    if take > 0:
                        conn.execute(
                            "UPDATE transactionline SET quantitybilled = ?, linelastmodifieddate = ? "
                            "WHERE uniquekey = ?",
                            (billed - take, w.stamp, line["uniquekey"]),
                        )
                        left -= take
            order = _row(conn, 'SELECT status FROM "transaction" WHERE id = ?', (invoice["createdfrom"],))
            if order is not None:
                status = self._order_status(conn, invoice["createdfrom"], order["status"])
                conn.execute(
                    'UPDATE "transaction" SET status = ?, lastmodifieddate = ? WHERE id = ?',
                    (status, w.stamp, invoice["createdfrom"]),
                )
                w.notify("salesOrder", invoice["createdfrom"], "update", ["status", "item.quantityBilled"])
        unpaid = invoice["foreignamountunpaid"] or 0.0
        if unpaid:
            conn.execute(
                "UPDATE customer SET balance = COALESCE(balance, 0) - ?, lastmodifieddate = ? WHERE id = ?",
                (unpaid, w.stamp, invoice["entity"]),
            )
            w.notify("customer", invoice["entity"], "update", ["balance"])

    def _next_transaction_id(self, conn) -> int:
        top = conn.execute('SELECT COALESCE(MAX(id), 0) FROM "transaction"').fetchone()[0]
        gone = conn.execute(
            "SELECT COALESCE(MAX(recordid), 0) FROM deletedrecord "
            "WHERE recordtype IN ('salesorder', 'invoice')"
        ).fetchone()[0]
        return max(top, gone) + 1

    def _next_uniquekey(self, conn) -> int:
        return conn.execute("SELECT COALESCE(MAX(uniquekey), 0) + 1 FROM transactionline").fetchone()[0]

    def _next_tranid(self, conn, ttype: str) -> str:
        cached = self._tranid_next.get(ttype)
        if cached is None:
            default_prefix = "SO" if ttype == SALES_ORDER else "INV"
            sample = _row(
                conn,
                'SELECT tranid FROM "transaction" WHERE type = ? AND tranid IS NOT NULL '
                "ORDER BY id DESC LIMIT 1",
                (ttype,),
            )
            prefix, width = default_prefix, 0
            if sample is not None:
                m = re.fullmatch(r"(\D*)(\d+)", sample["tranid"])
                if m:
                    prefix = m.group(1)
                    width = len(m.group(2)) if m.group(2).startswith("0") else 0
            top = conn.execute(
                'SELECT MAX(CAST(SUBSTR(tranid, ?) AS INTEGER)) FROM "transaction" WHERE type = ? AND tranid LIKE ?',
                (len(prefix) + 1, ttype, prefix + "%"),
            ).fetchone()[0]
            cached = (prefix, width, max(int(top or 1000), 1000) + 1)
        prefix, width, number = cached
        while True:
            tranid = f"{prefix}{str(number).zfill(width)}"
            if not _row(conn, 'SELECT 1 FROM "transaction" WHERE type = ? AND tranid = ?', (ttype, tranid)):
                break
            number += 1
        self._tranid_next[ttype] = (prefix, width, number + 1)
        return tranid


def _sqlite_message(e: sqlite3.Error) -> str:
    text = str(e)
    m = re.match(r"no such function: (\w+)", text)
    if m:
        return f"Unknown function '{m.group(1).upper()}'."
    if "user-defined function raised exception" in text:
        return "Invalid value passed to a date or conversion function."
    if "interrupted" in text:
        return "The search took too long and was stopped."
    return f"The query could not be run: {text}."


def _row(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> sqlite3.Row | None:
    cur = conn.execute(sql, params)
    cur.row_factory = sqlite3.Row
    return cur.fetchone()


def _columns(table: str) -> set[str]:
    return {c.name for c in NETSUITE_TABLES[table]}


def _camel(name: str) -> str:
    known = {
        "entityid": "entityId",
        "companyname": "companyName",
        "salesrep": "salesRep",
        "creditlimit": "creditLimit",
        "isinactive": "isInactive",
        "externalid": "externalId",
        "datecreated": "dateCreated",
        "lastmodifieddate": "lastModifiedDate",
        "itemid": "itemId",
        "displayname": "displayName",
        "salesdescription": "salesDescription",
        "itemtype": "itemType",
        "baseprice": "basePrice",
        "createddate": "createdDate",
        "firstname": "firstName",
        "lastname": "lastName",
        "issalesrep": "isSalesRep",
    }
    return known.get(name, name)


def _number(value, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValidationError(f"Invalid number '{value}'.", "INVALID_CONTENT", path)
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"Invalid number '{value}'.", "INVALID_CONTENT", path) from None


def _int_or_none(value) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _terms_days(terms: str | None) -> int:
    m = re.search(r"(\d+)", terms or "")
    return int(m.group(1)) if m else 30


__all__ = ["SUITEQL_MAX_ROWS", "NetSuiteStore", "NotFound", "SuiteQLError", "ValidationError"]
