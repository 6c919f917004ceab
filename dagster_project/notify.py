"""What orchestration tells the rest of the product: marts rebuilt, runs failed.

The one seam between Dagster and the API. :func:`marts_refreshed` is called by the dbt assets once a run
has rebuilt some marts (and its tests passed): it publishes them to the readers (DuckDB), drops the
dashboard cache and lets every API worker push the changed figures to its WebSocket clients, through
``scc.publish.marts_published``, the one function ``scc build`` calls too. :func:`build_failed` records a
run's failed build, so the dashboards say their figures are from the last good one. :func:`run_failed`
pushes a failed run to the dashboards as a notable event. All are best effort: a missing API (or Redis)
never fails a pipeline run; they return what happened for the run's log.
"""

from __future__ import annotations

import logging

log = logging.getLogger("scc.orchestration.notify")
LOG_PREFIX = "scc notify:"  # the run log line written once the dashboards were told (benchmarks time it)


def marts_refreshed(marts: list[str], *, reason: str | None = None, run_id: str | None = None) -> dict:
    """The marts ``marts`` (names like ``fct_opportunities``) were just rebuilt and tested: publish them,
    invalidate the cache and push, through the one function ``scc build`` uses too (scc.publish)."""
    from scc.publish import marts_published

    names = sorted(set(marts))
    if not names:
        return {"notified": False, "dropped": 0, "seconds": 0.0}
    by = f"Dagster run {run_id[:8]}" if run_id else "Dagster"
    return marts_published(names, by=by, reason=reason)


def build_failed(run_id: str, message: str) -> bool:
    """A run's dbt build failed (nothing published): record it for the dashboards' banner and tell them."""
    from scc.publish import refresh_failed

    return refresh_failed(message, by=f"Dagster run {run_id[:8]}")


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
