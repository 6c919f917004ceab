"""The Salesforce emulator's store: one SQLite file (see :mod:`emulators.schema`), read with SOQL, written the way
Salesforce writes (audit stamps, derived Opportunity fields, stage history, recycle bin, change events).

Thread-safe: every thread reads through its own connection (WAL lets readers run beside the writer); writes
are serialised by a lock and run in ``BEGIN IMMEDIATE`` transactions, so other processes writing the same
file are serialised too.

Every write stamps ``LastModifiedDate`` / ``SystemModstamp`` with the monotonic :meth:`SalesforceStore.now`
(``max(real UTC now, newest stamp in the store + 1 ms)``) and then calls the listeners with a Change Data
Capture event::

    {"ChangeEventHeader": {"entityName", "recordIds", "changeType", "changedFields", "commitTimestamp",
                           "commitUser", "sequenceNumber", "transactionKey"}, <changed field values>}

As in Salesforce, ``changedFields`` lists the fields an UPDATE changed (with ``LastModifiedDate``); CREATE and
UNDELETE events carry every non-null field and an empty ``changedFields``; DELETE events carry no fields.
Values are JSON-ready (booleans as booleans, datetimes in the store's text form). OpportunityHistory rows
are written with their Opportunity but, as in Salesforce, have no change events.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulators.salesforce.errors import SalesforceError, not_found
from emulators.salesforce.soql import (
    FIELD_TYPES,
    CompiledQuery,
    ObjectInfo,
    build_schema,
    compile_soql,
    format_datetime,
    id18,
    normalize_id,
    parse_datetime,
)
from emulators.schema import (
    FORECAST_CATEGORIES,
    OPPORTUNITY_STAGES,
    SALESFORCE_OBJECTS,
    STAGE_FORECAST_CATEGORY,
    STAGE_PROBABILITY,
    Column,
    open_store,
)

log = logging.getLogger(__name__)

Listener = Callable[[dict], None]

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ONE_MS = dt.timedelta(milliseconds=1)
_AUDIT_FIELDS = {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById"}
_READ_ONLY = {
    "Opportunity": {"IsClosed", "IsWon"},
    "Task": {"IsClosed"},
    "Contact": {"Name"},
    "User": {"Name"},
}
_REQUIRED = {
    "Account": ("Name",),
    "Contact": ("LastName",),
    "Opportunity": ("Name", "StageName", "CloseDate"),
    "User": ("Username", "LastName", "Email"),
    "Task": (),
    "Event": (),
}
_RESTRICTED_PICKLISTS = {("Opportunity", "StageName"), ("Opportunity", "ForecastCategoryName")}
_NOT_CREATEABLE = {"OpportunityHistory"}
_NOT_DELETABLE = {"User", "OpportunityHistory"}
_CUSTOM_FIELD_RE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*__c$")
_HISTORY_TRIGGERS = ("StageName", "Amount", "CloseDate")
DEFAULT_COMMIT_USER = id18("005000000000000")


@dataclass
class QueryResult:
    """The rows of one SOQL query, and how to render them as Salesforce records."""

    compiled: CompiledQuery
    rows: list[tuple]
    total_size: int

    @property
    def object(self) -> str:
        return self.compiled.object

    @property
    def kind(self) -> str:
        return self.compiled.kind

    def records(self, start: int = 0, stop: int | None = None, version: str = "59.0") -> list[dict]:
        build = self.compiled.builder(version)
        return [build(r) for r in self.rows[start:stop]]


class SalesforceStore:
    """Read and write a Salesforce store file. See the module docstring for the write semantics."""

    def __init__(
        self,
        path: Path | str,
        *,
        today: Callable[[], dt.date] | None = None,
        commit_user: str | None = None,
    ):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"no Salesforce store at {self.path}")
        self._today = today or (lambda: dt.datetime.now(dt.UTC).date())
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._conn_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._schema: dict[str, ObjectInfo] | None = None
        self._schema_version: int | None = None
        self._commit_user = commit_user
        self._last_stamp: dt.datetime | None = None

    # -- connections and schema -------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_store(self.path)
            self._local.conn = conn
            with self._conn_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._conn_lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.ProgrammingError:  # opened in another thread; closing is best effort
                    pass
            self._connections.clear()
        self._local = threading.local()

    def schema(self) -> dict[str, ObjectInfo]:
        """Objects by lower-case name, with custom fields (reloaded when the file's schema changes)."""
        conn = self._conn()
        version = conn.execute("PRAGMA schema_version").fetchone()[0]
        if self._schema is None or version != self._schema_version:
            rows = conn.execute("SELECT object, name, type, label FROM _custom_fields").fetchall()
            self._schema = build_schema(rows)
            self._schema_version = version
        return self._schema

    def object_info(self, obj: str) -> ObjectInfo:
        info = self.schema().get(obj.lower())
        if info is None:
            raise not_found()
        return info

    def today(self) -> dt.date:
        return self._today()

    # -- clock ------------------------------------------------------------------------------------
    def _newest_stamp(self, conn: sqlite3.Connection) -> dt.datetime | None:
        parts = [
            f'SELECT MAX("SystemModstamp") AS m FROM "{obj}"'
            for obj, (_, cols) in SALESFORCE_OBJECTS.items()
            if any(c.name == "SystemModstamp" for c in cols)
        ]
        newest = conn.execute(f"SELECT MAX(m) FROM ({' UNION ALL '.join(parts)})").fetchone()[0]
        return parse_datetime(newest) if newest else None

    def _next_stamp(self, conn: sqlite3.Connection) -> dt.datetime:
        wall = dt.datetime.now(dt.UTC)
        wall = wall.replace(microsecond=wall.microsecond // 1000 * 1000)
        stamp = wall
        for known in (self._newest_stamp(conn), self._last_stamp):
            if known is not None and known + _ONE_MS > stamp:
                stamp = known + _ONE_MS
        return stamp

    def now(self) -> dt.datetime:
        """The store's monotonic clock: ``max(real UTC now, newest stamp in the store + 1 ms)``."""
        return self._next_stamp(self._conn())

    def now_text(self) -> str:
        return format_datetime(self.now())

    # -- reads ------------------------------------------------------------------------------------
    def compile(self, soql: str, include_deleted: bool = False) -> CompiledQuery:
        return compile_soql(soql, self.schema(), include_deleted=include_deleted, today=self._today())

    def query(self, soql: str, include_deleted: bool = False) -> QueryResult:
        """Run SOQL (``include_deleted``: queryAll, recycle-bin rows too). Raises :class:`SalesforceError`."""
        compiled = self.compile(soql, include_deleted)
        rows = self._conn().execute(compiled.sql, compiled.params).fetchall()
        if compiled.kind == "count":
            return QueryResult(compiled, [], rows[0][0])
        return QueryResult(compiled, rows, len(rows))

    def sql(self, query: str, params: Iterable[Any] = ()) -> list[tuple]:
        """Raw read-only SQL over the store (for live mode, admin tools and tests; not an API surface)."""
        if not query.lstrip().upper().startswith(("SELECT", "WITH")):
            raise ValueError("SalesforceStore.sql is for reads; write through create/update/delete")
        return self._conn().execute(query, tuple(params)).fetchall()

    def get(
        self, obj: str, record_id: str, fields: Iterable[str] | None = None, version: str = "59.0"
    ) -> dict:
        """One record with ``attributes`` (all fields, or ``fields``). 404 NOT_FOUND / ENTITY_IS_DELETED."""
        info = self.object_info(obj)
        rid = self._existing_id(info, record_id, allow_deleted=False)
        names = [c.name for c in info.columns] if fields is None else list(fields)
        soql = f"SELECT {', '.join(names)} FROM {info.name} WHERE Id = '{rid}'"
        result = self.query(soql)
        return result.records(version=version)[0]

    def _existing_id(self, info: ObjectInfo, record_id: str, allow_deleted: bool) -> str:
        rid = normalize_id(record_id)
        if rid is None or not rid.startswith(info.key_prefix):
            raise not_found(
                f"Provided external ID field does not exist or is not accessible: {record_id}"
                if rid is None
                else "The requested resource does not exist"
            )
        deleted_col = ', "IsDeleted"' if info.has_is_deleted else ", 0"
        row = (
            self._conn()
            .execute(f'SELECT "Id"{deleted_col} FROM "{info.name}" WHERE "Id" = ?', (rid,))
            .fetchone()
        )
        if row is None:
            raise not_found()
        if row[1] and not allow_deleted:
            raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return rid

    def deleted_between(
        self, obj: str, start: dt.datetime | str, end: dt.datetime | str
    ) -> list[tuple[str, str]]:
        """``(id, deletedDate)`` of records deleted in ``[start, end]``, oldest first."""
        info = self.object_info(obj)
        if not info.has_is_deleted:
            return []
        rows = (
            self._conn()
            .execute(
                f'SELECT "Id", "SystemModstamp" FROM "{info.name}" WHERE "IsDeleted" = 1 '
                'AND "SystemModstamp" >= ? AND "SystemModstamp" <= ? ORDER BY "SystemModstamp"',
                (_stamp_text(start), _stamp_text(end)),
            )
            .fetchall()
        )
        return [(r[0], r[1]) for r in rows]

    def earliest_deleted(self, obj: str) -> str | None:
        info = self.object_info(obj)
        if not info.has_is_deleted:
            return None
        row = (
            self._conn()
            .execute(f'SELECT MIN("SystemModstamp") FROM "{info.name}" WHERE "IsDeleted" = 1')
            .fetchone()
        )
        return row[0]

    def updated_between(self, obj: str, start: dt.datetime | str, end: dt.datetime | str) -> list[str]:
        """Ids of live records created or changed in ``[start, end]`` (by ``SystemModstamp``)."""
        info = self.object_info(obj)
        live = ' AND "IsDeleted" = 0' if info.has_is_deleted else ""
        rows = (
            self._conn()
            .execute(
                f'SELECT "Id" FROM "{info.name}" WHERE "SystemModstamp" >= ? AND "SystemModstamp" <= ?{live} '
                'ORDER BY "SystemModstamp"',
                (_stamp_text(start), _stamp_text(end)),
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def picklist_values(self, obj: str, field: str) -> list[str]:
        """A picklist's values: the schema's, else the distinct values in the store."""
        info = self.object_info(obj)
        col = info.column(field)
        if col is None:
            return []
        if col.picklist:
            return list(col.picklist)
        if col.name == "Industry":
            return list(STANDARD_INDUSTRIES)
        rows = (
            self._conn()
            .execute(
                f'SELECT DISTINCT "{col.name}" FROM "{info.name}" WHERE "{col.name}" IS NOT NULL ORDER BY 1 LIMIT 500'
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    # -- ids --------------------------------------------------------------------------------------
    def new_id(self, obj: str, conn: sqlite3.Connection | None = None) -> str:
        """A fresh 18-character id with the object's key prefix, unique in its table."""
        info = self.object_info(obj)
        conn = conn or self._conn()
        while True:
            body = "".join(secrets.choice(_B62) for _ in range(9))
            rid = id18(f"{info.key_prefix}Dn0{body}")
            if conn.execute(f'SELECT 1 FROM "{info.name}" WHERE "Id" = ?', (rid,)).fetchone() is None:
                return rid

    def commit_user(self) -> str:
        """The user writes are attributed to: the configured one, else the store's integration user."""
        if self._commit_user:
            return self._commit_user
        conn = self._conn()
        row = conn.execute(
            """SELECT "Id" FROM "User" ORDER BY CASE WHEN "Sales_Role__c" = 'Integration' THEN 0 ELSE 1 END,
               "CreatedDate", "Id" LIMIT 1"""
        ).fetchone()
        if row is None:
            return DEFAULT_COMMIT_USER
        self._commit_user = row[0]
        return row[0]

    # -- writes -----------------------------------------------------------------------------------
    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(event)`` after every committed write (keep it quick: it runs under the write lock)."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _transaction(
        self, work: Callable[[sqlite3.Connection, dt.datetime], list[dict]], commit_latency: float = 0.0
    ) -> Any:
        """Run ``work(conn, stamp)`` in one write transaction; it returns ``(result, events)``. The stamp is
        ``commit_latency`` seconds older than the commit (0: the store's monotonic clock)."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                stamp = self._next_stamp(conn)
                if commit_latency:
                    stamp -= dt.timedelta(seconds=commit_latency)
                result, events = work(conn, stamp)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._last_stamp = stamp
            for event in events:
                for listener in list(self._listeners):
                    try:
                        listener(event)
                    except Exception:  # a listener must not break the write
                        log.exception("change listener failed")
            return result

    def create(self, obj: str, fields: dict, *, user_id: str | None = None) -> str:
        """Create a record; returns its id. Raises :class:`SalesforceError` for bad fields or values."""
        info = self.object_info(obj)
        if info.name in _NOT_CREATEABLE:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {info.name} does not support create"
            )
        user = user_id or self.commit_user()
        values = self._coerce(info, fields, creating=True)

        def work(conn: sqlite3.Connection, stamp: dt.datetime):
            text = format_datetime(stamp)
            row = self._defaults(info, values, user)
            row.update(values)
            self._derive(info, row, values, {})
            missing = [f for f in _REQUIRED.get(info.name, ()) if row.get(f) in (None, "")]
            if missing:
                raise SalesforceError(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            self._check_references(conn, info, values)
            rid = self.new_id(info.name, conn)
            row["Id"] = rid
            for audit in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                if info.column(audit):
                    row[audit] = text
            if info.has_is_deleted:
                row["IsDeleted"] = 0
            self._insert(conn, info, row)
            if info.name == "Opportunity":
                self._history(conn, row, user, text)
            body = {k: _json_value(info, k, v) for k, v in row.items() if v is not None and k not in {"Id"}}
            event = self._event(info.name, rid, "CREATE", [], body, stamp, user)
            return rid, [event]

        return self._transaction(work)

    def update(
        self, obj: str, record_id: str, fields: dict, *, user_id: str | None = None, commit_latency: float = 0.0
    ) -> list[str]:
        """Update a record; returns the changed field names (derived ones included).

        ``commit_latency`` (seconds; tests, through the admin API) stamps the change that long before it
        commits, as Salesforce does with a transaction that ran that long: a reader that started in between
        sees neither the change nor, until then, anything stamped after it."""
        info = self.object_info(obj)
        if info.name in _NOT_CREATEABLE:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {info.name} does not support update"
            )
        user = user_id or self.commit_user()
        values = self._coerce(info, fields, creating=False)

        def work(conn: sqlite3.Connection, stamp: dt.datetime):
            rid = self._existing_id(info, record_id, allow_deleted=False)
            text = format_datetime(stamp)
            cur = self._row(conn, info, rid)
            row = dict(cur)
            row.update(values)
            self._derive(info, row, values, cur)
            for req in _REQUIRED.get(info.name, ()):
                if row.get(req) in (None, ""):
                    raise SalesforceError(
                        400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{req}]", [req]
                    )
            self._check_references(conn, info, values)
            changed = [k for k, v in row.items() if k not in _AUDIT_FIELDS and cur.get(k) != v]
            sets = {k: row[k] for k in changed}
            for audit in ("LastModifiedDate", "SystemModstamp"):
                if info.column(audit):
                    sets[audit] = text
            assignments = ", ".join(f'"{k}" = ?' for k in sets)
            conn.execute(f'UPDATE "{info.name}" SET {assignments} WHERE "Id" = ?', (*sets.values(), rid))
            if info.name == "Opportunity" and any(f in changed for f in _HISTORY_TRIGGERS):
                self._history(conn, row, user, text)
            event_fields = changed + (["LastModifiedDate"] if info.column("LastModifiedDate") else [])
            body = {k: _json_value(info, k, sets[k]) for k in event_fields}
            event = self._event(info.name, rid, "UPDATE", event_fields, body, stamp, user)
            return changed, [event]

        return self._transaction(work, commit_latency)

    def delete(self, obj: str, record_id: str, *, user_id: str | None = None) -> None:
        """Move a record to the recycle bin (``IsDeleted = 1``, ``SystemModstamp`` = deletion time)."""
        info = self.object_info(obj)
        if info.name in _NOT_DELETABLE or not info.has_is_deleted:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {info.name} does not support delete"
            )
        user = user_id or self.commit_user()

        def work(conn: sqlite3.Connection, stamp: dt.datetime):
            rid = self._existing_id(info, record_id, allow_deleted=False)
            text = format_datetime(stamp)
            conn.execute(
                f'UPDATE "{info.name}" SET "IsDeleted" = 1, "SystemModstamp" = ? WHERE "Id" = ?', (text, rid)
            )
            if info.name == "Opportunity":
                conn.execute(
                    'UPDATE "OpportunityHistory" SET "IsDeleted" = 1, "SystemModstamp" = ? '
                    'WHERE "OpportunityId" = ? AND "IsDeleted" = 0',
                    (text, rid),
                )
            return None, [self._event(info.name, rid, "DELETE", [], {}, stamp, user)]

        self._transaction(work)

    def undelete(self, obj: str, record_id: str, *, user_id: str | None = None) -> None:
        """Restore a record from the recycle bin."""
        info = self.object_info(obj)
        if not info.has_is_deleted:
            raise SalesforceError(
                400, "INVALID_TYPE_FOR_OPERATION", f"entity type {info.name} does not support undelete"
            )
        user = user_id or self.commit_user()

        def work(conn: sqlite3.Connection, stamp: dt.datetime):
            rid = self._existing_id(info, record_id, allow_deleted=True)
            cur = self._row(conn, info, rid)
            if not cur.get("IsDeleted"):
                raise SalesforceError(400, "UNDELETE_FAILED", "Entity is not in the recycle bin", [])
            text = format_datetime(stamp)
            conn.execute(
                f'UPDATE "{info.name}" SET "IsDeleted" = 0, "SystemModstamp" = ? WHERE "Id" = ?', (text, rid)
            )
            if info.name == "Opportunity":
                conn.execute(
                    'UPDATE "OpportunityHistory" SET "IsDeleted" = 0, "SystemModstamp" = ? '
                    'WHERE "OpportunityId" = ? AND "IsDeleted" = 1',
                    (text, rid),
                )
            cur.update({"IsDeleted": 0, "SystemModstamp": text})
            body = {k: _json_value(info, k, v) for k, v in cur.items() if v is not None and k != "Id"}
            return None, [self._event(info.name, rid, "UNDELETE", [], body, stamp, user)]

        self._transaction(work)

    def add_custom_field(self, obj: str, name: str, type: str = "string", label: str | None = None) -> Column:
        """Add a custom field (``Name__c``) to an object: a new column, recorded in ``_custom_fields``."""
        info = self.object_info(obj)
        if not _CUSTOM_FIELD_RE.match(name or ""):
            raise SalesforceError(
                400, "INVALID_FIELD", f"Invalid custom field name: {name!r} (expected Name__c)"
            )
        if type not in FIELD_TYPES or type in {"id", "reference"}:
            raise SalesforceError(400, "INVALID_TYPE", f"Unsupported custom field type: {type!r}")
        if info.column(name) is not None:
            raise SalesforceError(
                400, "DUPLICATE_DEVELOPER_NAME", f"There is already a field named {name} on {info.name}."
            )
        column = Column(name, type, label or name.removesuffix("__c").replace("_", " "))

        def work(conn: sqlite3.Connection, stamp: dt.datetime):
            conn.execute(f'ALTER TABLE "{info.name}" ADD COLUMN "{name}" {column.sqlite_type}')
            conn.execute(
                "INSERT INTO _custom_fields (object, name, type, label) VALUES (?, ?, ?, ?)",
                (info.name, name, type, column.label),
            )
            return column, []

        result = self._transaction(work)
        self._schema = None
        return result

    # -- write helpers ----------------------------------------------------------------------------
    def _row(self, conn: sqlite3.Connection, info: ObjectInfo, rid: str) -> dict:
        names = [c.name for c in info.columns]
        cols = ", ".join(f'"{n}"' for n in names)
        row = conn.execute(f'SELECT {cols} FROM "{info.name}" WHERE "Id" = ?', (rid,)).fetchone()
        return dict(zip(names, row))

    def _insert(self, conn: sqlite3.Connection, info: ObjectInfo, row: dict) -> None:
        names = [c.name for c in info.columns if c.name in row]
        cols = ", ".join(f'"{n}"' for n in names)
        marks = ", ".join("?" for _ in names)
        conn.execute(f'INSERT INTO "{info.name}" ({cols}) VALUES ({marks})', [row[n] for n in names])

    def _defaults(self, info: ObjectInfo, values: dict, user: str) -> dict:
        row: dict[str, Any] = {}
        for col in info.columns:
            if col.type == "boolean" and col.name != "IsDeleted":
                row[col.name] = 0
        if info.column("OwnerId") is not None:
            row["OwnerId"] = user
        if info.name == "User":
            row["IsActive"] = 1
        if info.name == "Task":
            row.update({"Status": "Not Started", "Priority": "Normal", "TaskSubtype": "Task"})
        return row

    def _derive(self, info: ObjectInfo, row: dict, given: dict, cur: dict) -> None:
        """Fields Salesforce computes: Opportunity stage fields, Task IsClosed, Contact/User Name."""
        if info.name == "Opportunity" and "StageName" in given:
            stage = row.get("StageName")
            if stage != cur.get("StageName") and stage in STAGE_PROBABILITY:
                row["IsClosed"] = 1 if stage in ("Closed Won", "Closed Lost") else 0
                row["IsWon"] = 1 if stage == "Closed Won" else 0
                if "Probability" not in given:
                    row["Probability"] = float(STAGE_PROBABILITY[stage])
                if "ForecastCategoryName" not in given:
                    row["ForecastCategoryName"] = STAGE_FORECAST_CATEGORY[stage]
        if info.name == "Task" and "Status" in given:
            row["IsClosed"] = 1 if row.get("Status") == "Completed" else 0
        if info.name in ("Contact", "User") and ("FirstName" in given or "LastName" in given):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)

    def _history(self, conn: sqlite3.Connection, opp: dict, user: str, text: str) -> None:
        amount = opp.get("Amount")
        probability = opp.get("Probability")
        expected = amount * probability / 100.0 if amount is not None and probability is not None else None
        row = {
            "Id": self.new_id("OpportunityHistory", conn),
            "OpportunityId": opp["Id"],
            "StageName": opp.get("StageName"),
            "Amount": amount,
            "ExpectedRevenue": expected,
            "CloseDate": opp.get("CloseDate"),
            "Probability": probability,
            "ForecastCategory": opp.get("ForecastCategoryName"),
            "CreatedById": user,
            "CreatedDate": text,
            "SystemModstamp": text,
            "IsDeleted": 0,
        }
        self._insert(conn, self.object_info("OpportunityHistory"), row)

    def _check_references(self, conn: sqlite3.Connection, info: ObjectInfo, values: dict) -> None:
        for name, value in values.items():
            col = info.column(name)
            if col is None or col.type != "reference" or value is None:
                continue
            target = self.object_info(col.reference_to)
            if not value.startswith(target.key_prefix):
                raise SalesforceError(
                    400,
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"field integrity exception: unknown ({col.label}: id value of incorrect type: {value})",
                    [col.name],
                )
            if conn.execute(f'SELECT 1 FROM "{target.name}" WHERE "Id" = ?', (value,)).fetchone() is None:
                raise SalesforceError(
                    400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [col.name]
                )

    def _coerce(self, info: ObjectInfo, fields: dict, creating: bool) -> dict:
        """Validate names (case-insensitive, answered in canonical case) and convert values to store form."""
        if not isinstance(fields, dict):
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", "Can not deserialize SObject out of non-object token"
            )
        out: dict[str, Any] = {}
        read_only = []
        for key, value in fields.items():
            if key == "attributes":
                continue
            col = info.column(key)
            if col is None:
                raise SalesforceError(
                    400, "INVALID_FIELD", f"No such column '{key}' on sobject of type {info.name}"
                )
            if col.name in _AUDIT_FIELDS or col.name in _READ_ONLY.get(info.name, set()):
                read_only.append(col.name)
                continue
            out[col.name] = _coerce_value(info, col, value)
        if read_only:
            raise SalesforceError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please check the security settings of this "
                "field and verify that it is read-only or that the field is accessible.",
                read_only,
            )
        return out

    def _event(
        self,
        entity: str,
        rid: str,
        change: str,
        changed: list[str],
        body: dict,
        stamp: dt.datetime,
        user: str,
    ) -> dict:
        header = {
            "entityName": entity,
            "recordIds": [rid],
            "changeType": change,
            "changedFields": list(changed),
            "commitTimestamp": int(stamp.timestamp() * 1000),
            "commitUser": user,
            "sequenceNumber": 1,
            "transactionKey": str(uuid.uuid4()),
        }
        return {"ChangeEventHeader": header, **body}


STANDARD_INDUSTRIES = (
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
)


def _stamp_text(value: dt.datetime | str) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    return format_datetime(value)


def _json_value(info: ObjectInfo, name: str, value: Any) -> Any:
    col = info.column(name)
    if col is not None and col.type == "boolean" and value is not None:
        return bool(value)
    return value


def _parse_error(col: Column, value: Any) -> SalesforceError:
    kind = (
        "VALUE_STRING"
        if isinstance(value, str)
        else ("VALUE_TRUE" if value is True else "VALUE_FALSE" if value is False else "VALUE_NUMBER")
    )
    return SalesforceError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {col.type} from {kind} value {value} or request may be missing a "
        "required field at [line:1, column:1]",
    )


def _coerce_value(info: ObjectInfo, col: Column, value: Any) -> Any:
    """One value in the store's form (booleans 0/1, numbers, date/datetime text), or a SalesforceError."""
    if value is None:
        return None
    t = col.type
    if t == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return int(value.lower() == "true")
        raise _parse_error(col, value)
    if t in {"currency", "double", "percent", "int"}:
        if isinstance(value, (bool, list, dict)):
            raise _parse_error(col, value)
        try:
            number = float(value) if isinstance(value, str) else value
        except ValueError:
            raise _parse_error(col, value) from None
        if t == "int":
            if float(number) != int(number):
                raise _parse_error(col, value)
            return int(number)
        return float(number)
    if t == "date":
        if not isinstance(value, str) or len(value) != 10:
            raise _parse_error(col, value)
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise _parse_error(col, value) from None
    if t == "datetime":
        if not isinstance(value, str):
            raise _parse_error(col, value)
        try:
            return format_datetime(parse_datetime(value))
        except ValueError:
            raise _parse_error(col, value) from None
    if t in {"reference", "id"}:
        rid = normalize_id(value) if isinstance(value, str) else None
        if rid is None:
            if value == "":
                return None
            raise SalesforceError(
                400, "MALFORMED_ID", f"{col.label}: id value of incorrect type: {value}", [col.name]
            )
        return rid
    # string-like
    if isinstance(value, (bool, list, dict)):
        raise _parse_error(col, value)
    text = str(value) if not isinstance(value, str) else value
    if (info.name, col.name) in _RESTRICTED_PICKLISTS:
        allowed = OPPORTUNITY_STAGES if col.name == "StageName" else FORECAST_CATEGORIES
        if text not in allowed:
            raise SalesforceError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{col.label}: bad value for restricted picklist field: {text}",
                [col.name],
            )
    return text

