"""The warehouse: where the raw tables and the marts live, and the one way to reach it.

DuckDB (a file under the data folder) is the embedded default; setting ``SCC_WAREHOUSE_URL`` to a
PostgreSQL URL moves everything there. Pipelines load through :func:`dlt_destination`; readers use
:func:`connect`.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from scc.config import Settings, get_settings

RAW_SALESFORCE = "raw_salesforce"
RAW_NETSUITE = "raw_netsuite"


def is_postgres(settings: Settings | None = None) -> bool:
    url = (settings or get_settings()).warehouse_url
    return bool(url) and url.startswith(("postgres://", "postgresql://"))


def duckdb_path(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "warehouse.duckdb"


def warehouse_key(settings: Settings | None = None) -> str:
    """A short name that tells warehouses apart (for per-warehouse working folders)."""
    import hashlib

    settings = settings or get_settings()
    if is_postgres(settings):
        return "postgres-" + hashlib.sha256(settings.warehouse_url.encode()).hexdigest()[:10]
    return "duckdb"


def dlt_destination(settings: Settings | None = None):
    import dlt

    settings = settings or get_settings()
    if is_postgres(settings):
        return dlt.destinations.postgres(credentials=settings.warehouse_url)
    path = duckdb_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return dlt.destinations.duckdb(str(path))


@contextmanager
def connect(settings: Settings | None = None, *, read_only: bool = True):
    """A DB-API connection to the warehouse (DuckDB or PostgreSQL), closed on exit."""
    settings = settings or get_settings()
    if is_postgres(settings):
        import psycopg

        conn = psycopg.connect(settings.warehouse_url.replace("postgres://", "postgresql://", 1))
        if read_only:
            conn.read_only = True
    else:
        import duckdb

        conn = duckdb.connect(str(duckdb_path(settings)), read_only=read_only)
    try:
        yield conn
    finally:
        conn.close()


def fetch_all(sql: str, params: tuple = (), settings: Settings | None = None) -> list[tuple]:
    with connect(settings) as conn:
        cursor = conn.cursor() if is_postgres(settings) else conn
        cursor.execute(sql, params)
        return cursor.fetchall()
