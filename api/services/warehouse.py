"""Read-only access to the marts for the API: scoped queries, the same SQL on DuckDB and PostgreSQL.

Queries are written with ``?`` placeholders (DuckDB's style) and turned into ``%s`` for PostgreSQL. Reads go
through :func:`scc.warehouse.read_marts`: on DuckDB a cursor on the published marts, a connection kept open
between requests; before the first publish, the warehouse file itself, whose opening is retried briefly
while a writer holds it.
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from decimal import Decimal

from scc.config import Settings, get_settings
from scc.warehouse import WarehouseMissing, is_postgres, read_marts


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be read (not built yet, or locked by a writer for too long): answered with 503."""


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


class Reader:
    def __init__(self, cursor, postgres: bool):
        self.cursor = cursor
        self.postgres = postgres

    def all(self, sql: str, params: list | tuple = ()) -> list[dict]:
        if self.postgres:
            sql = sql.replace("%", "%%").replace("?", "%s")
        started = time.perf_counter()
        try:
            self.cursor.execute(sql, list(params))
            names = [d[0] for d in self.cursor.description]
            return [{n: _plain(v) for n, v in zip(names, row)} for row in self.cursor.fetchall()]
        except Exception as error:
            if _is_missing_relation(error):
                raise WarehouseUnavailable(
                    f"the marts are not built yet ({_first_line(error)}); run `scc sync` and `scc build`"
                ) from error
            if self.postgres:  # a failed statement aborts the transaction: let the next one run
                self.cursor.connection.rollback()
            raise
        finally:
            from api.observability import get_metrics

            get_metrics().warehouse_queries.labels("postgres" if self.postgres else "duckdb").observe(
                time.perf_counter() - started)

    def one(self, sql: str, params: list | tuple = ()) -> dict | None:
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def value(self, sql: str, params: list | tuple = ()):
        row = self.one(sql, params)
        return next(iter(row.values())) if row else None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def _is_missing_relation(error: Exception) -> bool:
    name = type(error).__name__
    text = str(error)
    return name in ("CatalogException", "UndefinedTable", "InvalidSchemaName") or (
        "does not exist" in text and ("Table" in text or "relation" in text or "Schema" in text)
    )


@contextmanager
def reader(settings: Settings | None = None, timeout: float = 5.0):
    """A read-only :class:`Reader` on the warehouse for one unit of work."""
    settings = settings or get_settings()
    postgres = is_postgres(settings)
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        try:
            manager = read_marts(settings)
            cursor = manager.__enter__()
            break
        except WarehouseMissing as error:
            raise WarehouseUnavailable("the warehouse does not exist yet; run `scc sync` and `scc build`") from error
        except Exception as error:  # DuckDB: IOException while a writer holds the lock
            text = str(error)
            locked = "lock" in text.lower() or "Conflicting" in text
            if locked and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
                continue
            if not locked and ("No such file" in text or "does not exist" in text):
                raise WarehouseUnavailable("the warehouse does not exist yet; run `scc sync` and `scc build`") from error
            raise WarehouseUnavailable(f"the warehouse cannot be opened: {_first_line(error)}") from error
    try:
        yield Reader(cursor, postgres)
    finally:
        manager.__exit__(None, None, None)


def fetch_dicts(sql: str, params: list | tuple = (), settings: Settings | None = None) -> list[dict]:
    with reader(settings) as r:
        return r.all(sql, params)


def json_default(value):
    """orjson's fallback for the warehouse's value types."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"cannot serialise {type(value).__name__}")
