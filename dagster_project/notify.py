"""What orchestration tells the rest of the product: marts rebuilt, runs failed.

The one seam between Dagster and the API. :func:`marts_refreshed` is called by the dbt assets once a run
has rebuilt some marts (and its tests passed): it publishes them to the readers (DuckDB), drops the dashboard cache for them and lets every API worker push the changed
figures to its WebSocket clients (``api.cache.invalidate_dashboards``: Redis pub/sub when ``SCC_REDIS_URL``
is set). :func:`run_failed` pushes a failed run to the dashboards as a notable event. Both are best effort:
a missing API (or Redis) never fails a pipeline run; they return what happened for the run's log.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("scc.orchestration.notify")
LOG_PREFIX = "scc notify:"  # the run log line written once the dashboards were told (benchmarks time it)


def marts_refreshed(marts: list[str], *, reason: str | None = None) -> dict:
    """The marts ``marts`` (names like ``fct_opportunities``) were just rebuilt: invalidate and push."""
    started = time.perf_counter()
    names = sorted(set(marts))
    if not names:
        return {"notified": False, "dropped": 0, "seconds": 0.0}
    from scc.warehouse import publish_marts

    publish_marts()  # the readers (API, agents) see the new marts from here on
    try:
        from api.cache import invalidate_dashboards
    except ImportError as error:  # the API is not part of this installation
        log.info("marts refreshed (%s); no API to notify: %s", ", ".join(names), error)
        return {"notified": False, "dropped": 0, "seconds": time.perf_counter() - started}
    from scc.config import get_settings

    try:
        dropped = invalidate_dashboards(None, reason=reason or "marts refreshed: " + ", ".join(names), metrics=None)
    except Exception as error:  # noqa: BLE001 - Redis down, say: the data is in the marts all the same
        log.warning("could not notify the dashboards that %s were refreshed: %s", ", ".join(names), error)
        return {"notified": False, "dropped": 0, "seconds": time.perf_counter() - started, "error": str(error)}
    # Without Redis only an API in this very process hears it (tests); a separate `scc serve` does not.
    via = "redis" if get_settings().redis_url else "in-process"
    from agents.insights import refresh_and_publish  # notable new insights pushed too (never raises)
    refresh_and_publish(names)
    return {"notified": True, "via": via, "dropped": dropped, "seconds": time.perf_counter() - started}


def run_failed(run_id: str, job_name: str, message: str, *, tags: dict | None = None) -> bool:
    """Tell the dashboards (the roles that see everything) that a pipeline run failed."""
    try:
        from api.cache import publish_event
    except ImportError:
        return False
    try:
        publish_event("pipeline_run_failed", {"run_id": run_id, "job": job_name, "message": message[:500],
                                              "trigger": (tags or {}).get("scc/trigger")})
    except Exception as error:  # noqa: BLE001
        log.warning("could not report the failed run %s to the dashboards: %s", run_id, error)
        return False
    return True
