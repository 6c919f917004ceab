"""Publishing the marts: the one function every successful build goes through, and what readers learn of it.

:func:`marts_published` is called once a build of the marts passed, by ``scc build`` (``scc.marts.build``)
and by Dagster's dbt assets (``dagster_project.notify.marts_refreshed``) alike: it copies the marts to the
readers (DuckDB, ``scc.warehouse.publish_marts``), records when the figures are from, drops the API's
dashboard cache and makes every API worker push the changed figures to its WebSocket clients
(``api.cache.invalidate_dashboards``, Redis pub/sub when ``SCC_REDIS_URL`` is set), then pushes notable new
insights. :func:`refresh_failed` records a build that failed (nothing published) and tells the dashboards,
which then say "figures as of 09:12; the latest refresh failed" (:func:`refresh_status`).

The record is ``<data dir>/published/refresh.<warehouse>.json`` (``refresh.duckdb.json``), written whole (a reader sees the old or the new one).
Telling the API is best effort: a missing API or Redis never fails a build; the outcome says what happened.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from pathlib import Path

from scc.config import Settings, get_settings

log = logging.getLogger("scc.publish")


def status_path(settings: Settings | None = None) -> Path:
    """One record per warehouse: a failed build on PostgreSQL says nothing about the DuckDB figures."""
    from scc.warehouse import warehouse_key

    settings = settings or get_settings()
    return settings.data_dir / "published" / f"refresh.{warehouse_key(settings)}.json"


def refresh_status(settings: Settings | None = None) -> dict:
    """``figures_as_of`` (the last successful publish, ISO UTC, or None), ``last_refresh_failed`` and, when
    it did, ``failed_at``, ``failed_by`` (``scc build`` or the Dagster run) and ``error`` (one line)."""
    try:
        record = json.loads(status_path(settings).read_text())
    except (FileNotFoundError, ValueError):
        record = {}
    failed = record.get("failed") or None
    published = record.get("published") or {}
    if failed and published.get("at") and failed.get("at", "") < published["at"]:
        failed = None  # a later build passed
    return {
        "figures_as_of": published.get("at"),
        "published_by": published.get("by"),
        "last_refresh_failed": failed is not None,
        "failed_at": failed and failed.get("at"),
        "failed_by": failed and failed.get("by"),
        "error": failed and failed.get("error"),
    }


def _record(settings: Settings, **changes) -> None:
    path = status_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        record = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        record = {}
    record.update(changes)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(record, indent=2))
    os.replace(temporary, path)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def marts_published(marts: list[str], *, by: str, reason: str | None = None,
                    settings: Settings | None = None) -> dict:
    """The marts ``marts`` were just rebuilt and their tests passed: publish them to the readers, record
    it, invalidate the API's cache and push. Raises only when the copy to the readers fails (the build
    then failed); returns what happened for the caller's log."""
    from scc.warehouse import publish_marts

    settings = settings or get_settings()
    started = time.perf_counter()
    names = sorted(set(marts))
    published = publish_marts(settings)  # the readers (API, agents) see the new marts from here on
    _record(settings, published={"at": _now(), "by": by, "marts": names}, failed=None)
    outcome = {"published": str(published) if published else None, "notified": False, "dropped": 0}
    reason = reason or f"marts refreshed by {by}: " + ", ".join(names)
    try:
        from api.cache import invalidate_dashboards
    except ImportError as error:  # the API is not part of this installation
        log.info("marts published (%s); no API to notify: %s", ", ".join(names), error)
        return {**outcome, "seconds": time.perf_counter() - started}
    try:
        outcome["dropped"] = invalidate_dashboards(None, reason=reason, settings=settings, metrics=None)
    except Exception as error:  # noqa: BLE001 - Redis down, say: the marts are published all the same
        log.warning("could not tell the dashboards that %s were refreshed: %s", ", ".join(names), error)
        return {**outcome, "error": str(error), "seconds": time.perf_counter() - started}
    # Without Redis only an API in this very process hears it (tests); a separate `scc serve` does not.
    outcome.update(notified=True, via="redis" if settings.redis_url else "in-process")
    from agents.insights import refresh_and_publish  # notable new insights pushed too (never raises)

    refresh_and_publish(names, settings=settings)
    return {**outcome, "seconds": time.perf_counter() - started}


def refresh_failed(error: str, *, by: str, settings: Settings | None = None) -> bool:
    """A build of the marts failed and published nothing: record it and tell the dashboards (each then
    shows its figures' time and that the latest refresh failed). Never raises; True if the API was told."""
    settings = settings or get_settings()
    line = " ".join(str(error).split())[:300]
    try:
        _record(settings, failed={"at": _now(), "by": by, "error": line})
    except OSError as problem:
        log.warning("could not record the failed refresh: %s", problem)
    try:
        from api.cache import invalidate_dashboards
    except ImportError:
        return False
    try:  # the dashboards re-read their figures and with them the refresh status
        invalidate_dashboards(None, reason=f"the latest refresh failed ({by})", settings=settings, metrics=None)
    except Exception as problem:  # noqa: BLE001
        log.warning("could not tell the dashboards that the refresh failed: %s", problem)
        return False
    return True
