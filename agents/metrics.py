"""The bridge to the semantic layer (``scc.semantic``): metric queries compiled by MetricFlow.

Agents never run the semantic layer's SQL directly: it is compiled here, then guarded (scope, limits)
and run like every other query. When the semantic layer is not available (no manifest yet) the planner's
equivalent SQL answers instead, and the answer says so (path ``planner``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class MetricQuery:
    """A query of the semantic layer: metric names, group-by names, filters, order, limit."""

    metrics: list[str]
    group_by: list[str] = field(default_factory=list)
    where: list = field(default_factory=list)       # strings or (name, operator, value) tuples
    order_by: list[str] = field(default_factory=list)
    limit: int | None = None

    def to_dict(self) -> dict:
        return {"metrics": self.metrics, "group_by": self.group_by,
                "where": [list(w) if isinstance(w, tuple) else w for w in self.where],
                "order_by": self.order_by, "limit": self.limit}


class SemanticUnavailable(RuntimeError):
    pass


def available(settings) -> bool:
    try:
        from scc import semantic
    except ImportError:
        return False
    try:
        return semantic.manifest_path(settings).exists()
    except Exception:  # noqa: BLE001
        return False


_compiled: "OrderedDict[tuple, str]" = OrderedDict()
_compiled_lock = threading.Lock()
CACHE_SIZE = 512


def compile_query(query: MetricQuery, settings) -> str:
    """The semantic layer's SQL for ``query`` (raises SemanticUnavailable or the layer's own error).

    Compiled SQL is cached per query and manifest (MetricFlow's compile is deterministic): a question
    asked again, or a dashboard tile, does not pay the compile twice."""
    if not available(settings):
        raise SemanticUnavailable("the semantic layer has no manifest yet (run `scc build`)")
    from scc import semantic

    manifest = semantic.manifest_path(settings)
    key = (str(manifest), manifest.stat().st_mtime_ns, settings.warehouse_url or "",
           repr(query.to_dict()))
    with _compiled_lock:
        if key in _compiled:
            _compiled.move_to_end(key)
            return _compiled[key]
    sql = _stored(settings, key)
    if sql is None:
        sql = semantic.compile_metrics(query.metrics, query.group_by, query.where, query.order_by, query.limit,
                                       settings=settings)
        _store(settings, key, sql)
    with _compiled_lock:
        _compiled[key] = sql
        while len(_compiled) > CACHE_SIZE:
            _compiled.popitem(last=False)
    return sql


# Compiled SQL kept on disk too: a new process (`scc ask`, a new API worker) asking a query compiled before
# does not load MetricFlow (most of a cold `scc ask`). Keyed by the manifest's path and mtime, so a rebuilt
# semantic layer is compiled afresh; rows of older manifests are dropped as new ones are written.

def _store_path(settings):
    return settings.data_dir / "cache" / "metric-sql.sqlite"


def _store_key(key: tuple) -> str:
    import hashlib

    return hashlib.sha256(repr(key).encode()).hexdigest()


def _connect(settings):
    import sqlite3

    path = _store_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=2)
    connection.execute("CREATE TABLE IF NOT EXISTS compiled (key TEXT PRIMARY KEY, manifest TEXT, sql TEXT)")
    return connection


def _stored(settings, key: tuple) -> str | None:
    import sqlite3

    if not _store_path(settings).exists():
        return None
    try:
        with contextlib.closing(_connect(settings)) as connection:
            row = connection.execute("SELECT sql FROM compiled WHERE key = ?", (_store_key(key),)).fetchone()
        return row[0] if row else None
    except sqlite3.Error as error:  # a cache: compiling again is always right
        log.debug("metric SQL cache unreadable: %s", error)
        return None


def _store(settings, key: tuple, sql: str) -> None:
    import sqlite3

    manifest = f"{key[0]}@{key[1]}"
    try:
        with contextlib.closing(_connect(settings)) as connection, connection:
            connection.execute("DELETE FROM compiled WHERE manifest <> ? AND manifest LIKE ?",
                               (manifest, f"{key[0]}@%"))
            connection.execute("INSERT OR REPLACE INTO compiled VALUES (?, ?, ?)", (_store_key(key), manifest, sql))
    except (sqlite3.Error, OSError) as error:
        log.debug("metric SQL cache not written: %s", error)


def semantic_error_types() -> tuple[type, ...]:
    try:
        from scc.semantic import SemanticLayerError

        return (SemanticLayerError, SemanticUnavailable)
    except ImportError:  # pragma: no cover
        return (SemanticUnavailable,)
