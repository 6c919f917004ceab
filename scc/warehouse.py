"""The warehouse: where the raw tables and the marts live, and the one way to reach it.

DuckDB (a file under the data folder) is the embedded default; setting ``SCC_WAREHOUSE_URL`` to a
PostgreSQL URL moves everything there. Pipelines load through :func:`dlt_destination`; dbt writes through
its profile; readers of the marts (the API, the agents, the semantic layer) use :func:`read_marts`.

**Published marts (DuckDB).** One DuckDB file has one writer *process* at a time, and a reader process
locks writers out. So readers never open the warehouse file itself once marts exist: each successful
build copies the marts into a file of their own (:func:`publish_marts`), under
``<data>/published/<generation>/warehouse.duckdb`` with a ``current`` link switched atomically. Readers
keep long-lived read-only connections to it (warm caches, no per-request open), sync and dbt write
undisturbed, and a build whose tests fail is never shown: readers keep the last good marts.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from scc.config import Settings, get_settings

RAW_SALESFORCE = "raw_salesforce"
RAW_NETSUITE = "raw_netsuite"
MARTS_SCHEMA = "marts"

log = logging.getLogger("scc.warehouse")


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


# --- the marts as readers see them (see the module's docstring) ----------------------------------------


def published_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "published"


def marts_path(settings: Settings | None = None) -> Path:
    """The DuckDB file readers open: the last published marts, or the warehouse itself before any publish."""
    settings = settings or get_settings()
    current = published_dir(settings) / "current"
    # Resolved, so each generation has a path of its own: DuckDB caches open databases by path.
    return current.resolve() / duckdb_path(settings).name if current.exists() else duckdb_path(settings)


def publish_marts(settings: Settings | None = None, *, timeout: float = 120.0) -> Path | None:
    """Copy the marts into a new published generation and make it current; returns its file (DuckDB only).

    Called after every successful build. Waits up to ``timeout`` seconds for another writer (a sync) to
    let go of the warehouse file. The generation before keeps serving readers that still hold it and is
    removed at the next publish.
    """
    import duckdb

    settings = settings or get_settings()
    if is_postgres(settings):
        return None
    source = duckdb_path(settings)
    root = published_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name) for p in root.iterdir() if p.name.isdigit()]
    number = max(numbers, default=0) + 1
    while True:  # another build publishing at the same moment takes the next number, never the same one
        generation = root / f"{number:08d}"
        try:
            generation.mkdir()
            break
        except FileExistsError:
            number += 1
    target = generation / source.name
    conn = duckdb.connect(str(target))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn.execute(f"ATTACH '{source}' AS source_warehouse (READ_ONLY)")
                break
            except duckdb.Error as error:  # a sync or build in another process holds the file
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        tables = [row[0] for row in conn.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'source_warehouse' AND schema_name = ? "
            "ORDER BY table_name", [MARTS_SCHEMA]).fetchall()]
        conn.execute(f"CREATE SCHEMA {MARTS_SCHEMA}")
        for name in tables:
            conn.execute(f'CREATE TABLE {MARTS_SCHEMA}."{name}" AS SELECT * FROM source_warehouse.{MARTS_SCHEMA}."{name}"')
        conn.execute("DETACH source_warehouse")
        conn.execute("CHECKPOINT")
    except BaseException:
        conn.close()
        _remove_tree(generation)
        raise
    conn.close()
    link = root / f"current.{generation.name}"
    link.symlink_to(generation.name)
    os.replace(link, root / "current")  # atomic: a reader opens either generation, whole
    for older in numbers:
        if older < number - 1:
            _remove_tree(root / f"{older:08d}")
    log.info("published %d marts to %s", len(tables), target)
    return target


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def reader_budget(settings: Settings | None = None) -> dict[str, str | int]:
    """The resource budget of every read-only connection to the marts (DuckDB settings)."""
    settings = settings or get_settings()
    return {"memory_limit": settings.reader_memory_limit,
            "max_temp_directory_size": settings.reader_temp_directory_limit,
            "threads": settings.reader_threads}


def _open_read_only(path: Path):
    """A read-only DuckDB connection with external access disabled, the resource budget set and then the
    configuration locked, so no query run on it (the agents' included) can read files, reach the network,
    load extensions or take the host's memory."""
    import duckdb

    conn = duckdb.connect(str(path), read_only=True)
    try:
        locked, external = conn.execute(
            "SELECT current_setting('lock_configuration'), current_setting('enable_external_access')"
        ).fetchone()
        if str(external).lower() in ("true", "1"):
            if str(locked).lower() in ("true", "1"):
                raise PermissionError("the warehouse connection allows external access and is locked that way")
            conn.execute("SET enable_external_access = false")
        if str(locked).lower() not in ("true", "1"):
            for name, value in reader_budget().items():
                conn.execute(f"SET {name} = ?", [value])
            conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


class ReadConnections:
    """One read-only connection per DuckDB file, shared by this process's readers; each use gets a cursor
    of its own (cursors are independent connections to the same database, safe across threads).

    A published file is kept open for ``published_idle`` seconds without use (nothing ever writes it);
    the warehouse file itself, read only before the first publish, is let go after ``idle`` seconds so
    that a build (a writer) is never locked out for long.
    """

    def __init__(self, idle: float = 1.0, published_idle: float = 600.0):
        self.idle = idle
        self.published_idle = published_idle
        self._lock = threading.Lock()
        self._entries: dict[str, dict] = {}
        self._reaper: threading.Thread | None = None

    def acquire(self, path: Path):
        """(an entry to hand back to :meth:`release`, a fresh cursor) for the file ``path``."""
        key = str(path)
        stat = path.stat()
        stamp = (stat.st_ino, stat.st_dev)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry["stamp"] != stamp:  # the file was replaced: reopen
                entry["stale"] = True
                if entry["users"] == 0:
                    entry["conn"].close()
                del self._entries[key]
                entry = None
            if entry is None:
                idle = self.published_idle if path.parent.parent.name == "published" else self.idle
                entry = {"conn": _open_read_only(path), "stamp": stamp, "users": 0, "last": 0.0, "stale": False,
                         "idle": idle}
                self._entries[key] = entry
            entry["users"] += 1
            entry["last"] = time.monotonic()
            self._start_reaper()
            return entry, entry["conn"].cursor()

    def release(self, entry, cursor) -> None:
        try:
            cursor.close()
        finally:
            with self._lock:
                entry["users"] -= 1
                entry["last"] = time.monotonic()
                if entry["stale"] and entry["users"] == 0:
                    entry["conn"].close()

    def close_all(self) -> None:
        with self._lock:
            for key, entry in list(self._entries.items()):
                if entry["users"] == 0:
                    entry["conn"].close()
                else:
                    entry["stale"] = True
                del self._entries[key]

    def _start_reaper(self) -> None:
        if self._reaper is not None and self._reaper.is_alive():
            return
        self._reaper = threading.Thread(target=self._reap, name="scc-warehouse-readers", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        while True:
            time.sleep(min(0.25, self.idle))
            with self._lock:
                now = time.monotonic()
                for key, entry in list(self._entries.items()):
                    if entry["users"] == 0 and now - entry["last"] >= entry["idle"]:
                        entry["conn"].close()
                        del self._entries[key]
                if not self._entries:
                    self._reaper = None
                    return


READERS = ReadConnections()


def release_readers() -> None:
    """Close this process's idle reader connections now (before it writes the warehouse, in tests)."""
    READERS.close_all()


class WarehouseMissing(RuntimeError):
    """No DuckDB warehouse file yet (nothing synced or built)."""


@contextmanager
def read_marts(settings: Settings | None = None):
    """A read-only cursor over the marts for one unit of work (DB-API: ``execute``, ``fetchall``,
    ``description``). DuckDB: from a shared connection to the published marts. PostgreSQL: a read-only
    connection of its own."""
    settings = settings or get_settings()
    if is_postgres(settings):
        with connect(settings, read_only=True) as conn:
            cursor = conn.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        return
    path = marts_path(settings)
    if not path.exists():
        raise WarehouseMissing(f"no warehouse at {path}: run `scc sync` and `scc build`")
    entry, cursor = READERS.acquire(path)
    try:
        yield cursor
    finally:
        READERS.release(entry, cursor)
