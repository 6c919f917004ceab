"""Metrics of the platform around the API, read at scrape time from what each part leaves behind, so they are
right whichever process did the work (``scc sync``/``scc build`` on the command line or a Dagster run worker)
and whichever API worker answers the scrape:

- ``scc_api_dashboard_cache_hit_ratio``: hits (fresh or stale) of every dashboard cache look-up so far, over
  all workers (the alert uses the counters' rate instead);
- ``scc_marts_age_seconds`` and ``scc_marts_published_timestamp_seconds``: the marts the API reads, from the
  last publish (``<data dir>/published/refresh[.<warehouse>].json``) or dbt's last successful build;
- ``scc_build_duration_seconds``, ``scc_build_failed_nodes``, ``scc_build_finished_timestamp_seconds``: dbt's
  last build (its ``run_results.json``);
- ``scc_sync_duration_seconds``, ``scc_sync_failed``, ``scc_sync_finished_timestamp_seconds`` by source: each
  source's last sync (dlt's trace of the pipeline);
- ``scc_orchestration_failed_runs_total`` by kind (sync, build, other): Dagster's failed runs
  (``<data dir>/orchestration/failed_runs.jsonl``, appended to by ``failed_runs_sensor``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
import time
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from scc.config import Settings

log = logging.getLogger("scc.api.metrics")
SOURCES = ("salesforce", "netsuite")


def _instant(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()


def _stamp(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    try:  # pendulum and friends
        return float(value.timestamp())
    except (AttributeError, TypeError, ValueError):
        return None


class PlatformCollector:
    def __init__(self, settings: Settings, registry):
        self.settings = settings
        self.registry = registry

    def collect(self):
        for produce in (self._cache_ratio, self._build_and_marts, self._syncs, self._failed_runs):
            try:
                yield from produce()
            except Exception as error:  # noqa: BLE001 - a part's metrics missing, never a failed scrape
                log.warning("metrics of %s not collected: %s", produce.__name__, error)

    def _cache_ratio(self):
        counts: dict[str, float] = {}
        for family in self.registry.collect():
            if family.name == "scc_api_dashboard_cache":
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        result = sample.labels.get("result", "")
                        counts[result] = counts.get(result, 0.0) + sample.value
        looked_up = sum(v for k, v in counts.items() if k != "off")
        gauge = GaugeMetricFamily("scc_api_dashboard_cache_hit_ratio",
                                  "Share of dashboard cache look-ups answered from the cache (fresh or stale) "
                                  "since the API started")
        if looked_up:
            gauge.add_metric([], (counts.get("hit", 0.0) + counts.get("stale", 0.0)) / looked_up)
            yield gauge

    def _build_and_marts(self):
        from scc.warehouse import warehouse_key

        data = self.settings.data_dir
        results = data / "dbt" / warehouse_key(self.settings) / "target" / "run_results.json"
        built_ok = None
        if results.is_file():
            run = json.loads(results.read_text())
            finished = _instant(run.get("metadata", {}).get("generated_at"))
            failed = sum(1 for r in run.get("results", []) if r.get("status") in ("error", "fail", "runtime error"))
            for name, text, value in (
                ("scc_build_duration_seconds", "Seconds the last dbt build took", run.get("elapsed_time")),
                ("scc_build_failed_nodes", "Models and tests that failed or errored in the last dbt build", failed),
                ("scc_build_finished_timestamp_seconds", "When the last dbt build finished (Unix time)", finished),
            ):
                if value is not None:
                    gauge = GaugeMetricFamily(name, text)
                    gauge.add_metric([], float(value))
                    yield gauge
            if not failed:
                built_ok = finished
        published = None
        for refresh in (data / "published" / f"refresh.{warehouse_key(self.settings)}.json",
                        data / "published" / "refresh.json"):  # one per warehouse, or the one of earlier versions
            if refresh.is_file():
                published = _instant((json.loads(refresh.read_text()).get("published") or {}).get("at"))
                break
        published = published or built_ok
        if published is not None:
            stamp = GaugeMetricFamily("scc_marts_published_timestamp_seconds",
                                      "When the marts the API reads were last refreshed (Unix time)")
            stamp.add_metric([], published)
            age = GaugeMetricFamily("scc_marts_age_seconds", "Seconds since the marts the API reads were refreshed")
            age.add_metric([], max(0.0, time.time() - published))
            yield stamp
            yield age

    def _syncs(self):
        from scc.warehouse import warehouse_key

        duration = GaugeMetricFamily("scc_sync_duration_seconds", "Seconds the last sync of a source took", labels=["source"])
        failed = GaugeMetricFamily("scc_sync_failed", "1 when the last sync of a source failed, else 0", labels=["source"])
        finished = GaugeMetricFamily("scc_sync_finished_timestamp_seconds", "When the last sync of a source ended "
                                     "(Unix time)", labels=["source"])
        any_found = False
        for source in SOURCES:
            trace_file = self.settings.data_dir / "dlt" / warehouse_key(self.settings) / f"scc_{source}" / "trace.pickle"
            if not trace_file.is_file():
                continue
            with trace_file.open("rb") as handle:
                trace = pickle.load(handle)  # noqa: S301 - dlt's own trace in the product's data folder
            start, end = _stamp(getattr(trace, "started_at", None)), _stamp(getattr(trace, "finished_at", None))
            broken = any(getattr(step, "step_exception", None) for step in getattr(trace, "steps", []) or [])
            if start is not None and end is not None:
                duration.add_metric([source], max(0.0, end - start))
                finished.add_metric([source], end)
            failed.add_metric([source], 1.0 if broken else 0.0)
            any_found = True
        if any_found:
            yield duration
            yield failed
            yield finished

    def _failed_runs(self):
        path: Path = self.settings.data_dir / "orchestration" / "failed_runs.jsonl"
        counts = {"sync": 0, "build": 0, "other": 0}
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                counts[_kind(record)] += 1
        counter = CounterMetricFamily("scc_orchestration_failed_runs", "Dagster runs that failed, by what failed",
                                      labels=["kind"])
        for kind, count in counts.items():
            counter.add_metric([kind], count)
        yield counter


def _kind(record: dict) -> str:
    """A failed run is a sync's when a raw table's step or asset failed, a build's when a dbt step did."""
    steps = " ".join(str(s.get("step", "")) for s in record.get("failed_steps") or [])
    assets = " ".join(record.get("assets") or [])
    text = f"{steps} {assets} {record.get('job', '')}".lower()
    if "raw_" in text or "sync" in text or "dlt" in text:
        return "sync"
    if "dbt" in text or "build" in text or "marts" in text:
        return "build"
    return "other"
