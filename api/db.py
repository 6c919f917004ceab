"""The app database: engine, sessions and migrations (SQLite file by default, PostgreSQL by one setting)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scc.config import Settings, get_settings

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"


def database_url(settings: Settings | None = None) -> str:
    """The SQLAlchemy URL of the app database (``SCC_APP_DATABASE_URL``, else ``<data_dir>/app.sqlite``)."""
    settings = settings or get_settings()
    url = settings.app_database_url
    if not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{settings.data_dir / 'app.sqlite'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _time_queries(engine: Engine, backend: str) -> Engine:
    """Every statement's time into ``scc_app_database_query_seconds`` (api/observability.py)."""
    import time

    @event.listens_for(engine, "before_cursor_execute")
    def _started(_conn, _cursor, _statement, _parameters, context, _executemany):
        context._scc_started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(_conn, _cursor, _statement, _parameters, context, _executemany):
        from api.observability import get_metrics

        get_metrics().app_database_queries.labels(backend).observe(time.perf_counter() - context._scc_started)

    return engine


def make_engine(url: str) -> Engine:
    return _time_queries(_make_engine(url), "sqlite" if is_sqlite(url) else "postgresql")


def _make_engine(url: str) -> Engine:
    if is_sqlite(url):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=20,
                               max_overflow=20)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # WAL: readers never wait for the writer
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str | None = None) -> None:
    """Bring the app database to the newest schema (idempotent; ``scc serve`` runs it before starting)."""
    from alembic import command

    command.upgrade(alembic_config(url or database_url()), "head")


class Database:
    """One engine and session factory per process."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def get_database(url: str | None = None, *, migrate_first: bool = True) -> Database:
    """This process's :class:`Database` for ``url`` (default: the settings'), migrated on first use."""
    import time

    url = url or database_url()
    with _lock:
        if url not in _databases:
            if migrate_first:
                try:
                    migrate(url)
                except Exception:  # noqa: BLE001 - another process migrating at the same moment: once more
                    time.sleep(0.5)
                    migrate(url)
            _databases[url] = Database(url)
        return _databases[url]
