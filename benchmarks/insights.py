"""Insights: time to compute every insight (all detectors, all data) at scale 1 and 10, per detector, for a
rep's scope, and to build a digest.

For each scale the emulators are started, both sources synced and the marts built; then the insights are
computed cold (first call: the catalogue is read) and warm (median of several runs, no cache). The baseline in
the same run is the detectors' own SQL (the evidence queries, after the guard) run straight on an open DuckDB
connection: no guard, no Python statistics, no insight objects; the ratio is what the engine adds.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import prepare_warehouse, table

TITLE = "Insights: detectors over the marts"
REPEAT = 3


def _baseline(settings, sqls: list[str]) -> float:
    import duckdb

    from scc.warehouse import duckdb_path

    con = duckdb.connect(str(duckdb_path(settings)), read_only=True)
    try:
        runs = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            for sql in sqls:
                con.execute(sql).fetchall()
            runs.append(time.perf_counter() - started)
        return statistics.median(runs)
    finally:
        con.close()


def _measure(scale: float) -> dict:
    from agents import Scope
    from agents.digest import build_digest
    from agents.guard import release_connections
    from agents.insights import compute_insights

    settings = prepare_warehouse(scale)
    started = time.perf_counter()
    report = compute_insights(Scope.all(), settings=settings, use_cache=False, narrate=False)
    cold = time.perf_counter() - started
    warm, timings = [], {}
    for _ in range(REPEAT):
        started = time.perf_counter()
        report = compute_insights(Scope.all(), settings=settings, use_cache=False, narrate=False)
        warm.append(time.perf_counter() - started)
        for name, seconds in report.timings.items():
            timings.setdefault(name, []).append(seconds)
    rep_id = next((i.rep_id for i in report.insights if i.rep_id), None)
    rep_seconds = None
    if rep_id:
        started = time.perf_counter()
        compute_insights(Scope.rep(rep_id), settings=settings, use_cache=False, narrate=False)
        rep_seconds = time.perf_counter() - started
    started = time.perf_counter()
    build_digest("weekly", Scope.all(), settings=settings, report=report)
    digest_seconds = time.perf_counter() - started
    sqls = list(dict.fromkeys(e.sql for i in report.insights for e in i.evidence if e.sql))
    release_connections()
    baseline = _baseline(settings, sqls)
    return {"scale": scale, "cold": cold, "warm": statistics.median(warm), "rep": rep_seconds, "digest": digest_seconds,
            "baseline": baseline, "queries": report.queries, "sqls": len(sqls), "counts": report.counts(),
            "errors": report.errors, "timings": {k: statistics.median(v) for k, v in timings.items()}}


def run(quick: bool) -> dict:
    scales = [0.1] if quick else [1, 10]
    results = [_measure(scale) for scale in scales]
    rows = []
    for r in results:
        c = r["counts"]
        rows.append([r["scale"], f"{r['cold']:.2f}", f"{r['warm']:.2f}", f"{r['rep']:.2f}" if r["rep"] else "n/a",
                     f"{r['digest']:.2f}", r["queries"], f"{r['baseline']:.2f}",
                     f"{r['warm'] / r['baseline']:.1f}x" if r["baseline"] else "n/a",
                     f"{c['high']} / {c['medium']} / {c['low']}"])
    body = table(["scale", "all insights, cold (s)", "warm (s)", "a rep's (s)", "weekly digest (s)", "queries",
                  "baseline: the SQL alone (s)", "ratio", "high / medium / low"], rows)
    detectors = sorted({name for r in results for name in r["timings"]})
    body += "\n\nPer detector, warm (s):\n\n" + table(
        ["detector", *[f"scale {r['scale']}" for r in results]],
        [[name, *[f"{r['timings'].get(name, 0):.3f}" for r in results]] for name in detectors])
    errors = {r["scale"]: r["errors"] for r in results if r["errors"]}
    if errors:
        body += f"\n\nDetector errors: {errors}"
    last = results[-1]
    body += "\n\nAim: all insights in under 5 s at scale 10."
    return {
        "title": TITLE,
        "body": body,
        "summary": f"scale {last['scale']}: {last['warm']:.2f} s warm, {last['cold']:.2f} s cold "
                   f"({last['warm'] / last['baseline']:.1f}x the bare SQL)" if last["baseline"] else "",
    }
