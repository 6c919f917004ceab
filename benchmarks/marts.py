"""The marts: `dbt build` time and peak memory on DuckDB and PostgreSQL, an incremental build after
1,000 source changes, and metric-query compile and run latency (DuckDB against PostgreSQL).

Baselines in the same run: copying every raw table into a scratch schema on the same warehouse (what
materialising the data costs at least), against which the build's ratio is given; and the dashboard's
metric queries timed on both warehouses, DuckDB's speed-up being the ratio.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import bench_scales, start_emulators, table

TITLE = "Marts: dbt build and metric queries (DuckDB and PostgreSQL)"

# The dashboard's metric queries: (label, metrics, group by).
DASHBOARD_QUERIES = [
    ("bookings by month", ["bookings", "orders", "average_order_value"], ["metric_time__month"]),
    ("win rate by quarter and region", ["win_rate"], ["metric_time__quarter", "rep__region"]),
    ("pipeline by stage", ["open_pipeline", "weighted_pipeline"], ["opportunity__stage"]),
    ("units by category", ["units_sold", "average_selling_price"], ["product__category"]),
    ("receivables by territory", ["open_receivables", "billings"], ["rep__territory"]),
    ("top customers", ["bookings"], ["customer__customer_name"]),
]

CHILD_BUILD = r"""
import json
from scc.marts import build
summary = build(full_refresh={full_refresh})
print(json.dumps(summary.as_dict()))
"""


def _child_peak(code: str, env: dict | None = None) -> tuple[dict, float, float]:
    """Like _child, with the child's own peak memory (ru_maxrss from wait4)."""
    out_file = tempfile.NamedTemporaryFile("w+", delete=False, suffix=".out")
    err_file = tempfile.NamedTemporaryFile("w+", delete=False, suffix=".err")
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], stdout=out_file, stderr=err_file,
                               env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    out = Path(out_file.name).read_text()
    err = Path(err_file.name).read_text()
    for handle in (out_file, err_file):
        handle.close()
        os.unlink(handle.name)
    if process.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{err[-3000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), seconds, usage.ru_maxrss / 1024


class _Postgres:
    """A throw-away PostgreSQL server on a free port (as the postgres user when running as root)."""

    def __init__(self) -> None:
        import glob

        from scc.processes import free_port

        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bins:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = Path(bins[-1])
        self.root = Path(tempfile.mkdtemp(prefix="scc-bench-pg-"))
        self.data = self.root / "data"
        sockets = self.root / "run"
        sockets.mkdir()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
            shutil.chown(sockets, "postgres")
        subprocess.run([*self.as_postgres, self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "scc",
                        "--no-sync"], check=True, capture_output=True)
        port = free_port()
        subprocess.run([*self.as_postgres, self.bin / "pg_ctl", "-D", self.data, "-l", self.root / "server.log",
                        "-w", "-t", "60", "start", "-o", f"-p {port} -h 127.0.0.1 -k {sockets} -F"],
                       check=True, capture_output=True)
        subprocess.run([self.bin / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "scc", "warehouse"],
                       check=True, capture_output=True)
        self.url = f"postgresql://scc:scc@127.0.0.1:{port}/warehouse"

    def stop(self) -> None:
        subprocess.run([*self.as_postgres, self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def _on(url: str | None):
    """Point this process's settings at a warehouse (None: the DuckDB file)."""
    from scc.config import reset_settings_cache

    if url:
        os.environ["SCC_WAREHOUSE_URL"] = url
    else:
        os.environ.pop("SCC_WAREHOUSE_URL", None)
    reset_settings_cache()


def _sync_all() -> None:
    from pipelines.run import sync

    for source in ("salesforce", "netsuite"):
        sync(source)


def _copy_baseline() -> float:
    """Seconds to copy every raw table into a scratch schema with CREATE TABLE AS (the write floor)."""
    from scc.warehouse import connect, is_postgres

    postgres = is_postgres()
    with connect(read_only=False) as conn:
        cursor = conn.cursor() if postgres else conn
        cursor.execute("SELECT table_schema, table_name FROM information_schema.tables "
                       "WHERE table_schema IN ('raw_salesforce', 'raw_netsuite') AND table_name NOT LIKE '\\_dlt%' "
                       "ESCAPE '\\' AND table_type = 'BASE TABLE'")
        tables = cursor.fetchall()
        cursor.execute("DROP SCHEMA IF EXISTS bench_copy CASCADE")
        cursor.execute("CREATE SCHEMA bench_copy")
        started = time.perf_counter()
        for schema, name in tables:
            cursor.execute(f'CREATE TABLE bench_copy."{schema}__{name}" AS SELECT * FROM {schema}."{name}"')
        if postgres:
            conn.commit()
        seconds = time.perf_counter() - started
        cursor.execute("DROP SCHEMA bench_copy CASCADE")
        if postgres:
            conn.commit()
    return seconds


def _make_changes(info, settings, wanted: int) -> int:
    """Advance live mode (deals move, orders placed, shipped, billed, paid) until `wanted` changes happened."""
    import ssl

    import httpx

    context = ssl.create_default_context(cafile=str(settings.tls_dir / "ca.pem"))
    happened, failed = 0, 0
    with httpx.Client(verify=context, trust_env=False, timeout=300) as client:
        while happened < wanted and failed < 1000:
            # Small batches: a step the emulator fails (500) loses only its own batch.
            response = client.post(f"{info.salesforce_url}/__admin/live/step", params={"steps": 5})
            if response.status_code == 500:
                failed += 1
                continue
            response.raise_for_status()
            happened += len(response.json()["happened"])
    return happened


def _time_queries(repeat: int) -> dict[str, tuple[float, float]]:
    """Per dashboard query: mean compile ms (warm, engine cached) and median run ms on an open connection."""
    from scc.semantic import compile_metrics, query_metrics, reset_cache
    from scc.warehouse import connect

    reset_cache()
    compile_metrics(["bookings"])  # build the engine once
    out = {}
    with connect() as conn:
        for label, metrics, group_by in DASHBOARD_QUERIES:
            compile_metrics(metrics, group_by=group_by)
            started = time.perf_counter()
            for _ in range(repeat):
                sql = compile_metrics(metrics, group_by=group_by)
            compile_ms = (time.perf_counter() - started) / repeat * 1000
            query_metrics(metrics, group_by=group_by, connection=conn)  # warm the warehouse's caches
            runs = []
            for _ in range(max(5, repeat // 3)):
                cursor = conn.cursor()
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                runs.append((time.perf_counter() - started) * 1000)
            out[label] = (compile_ms, statistics.median(runs))
    return out


def _scale_run(scale: float, changes: int, repeat: int) -> dict:
    supervisor, info, settings = start_emulators(scale)
    postgres = _Postgres()
    result: dict = {"scale": scale}
    try:
        for name, url in (("DuckDB", None), ("PostgreSQL", postgres.url)):
            _on(url)
            started = time.perf_counter()
            _sync_all()
            result[f"{name} sync s"] = time.perf_counter() - started
            env = {"SCC_WAREHOUSE_URL": url} if url else {}
            summary, seconds, peak = _child_peak(CHILD_BUILD.format(full_refresh=True), env)
            if not summary.get("success"):
                raise RuntimeError(f"dbt build failed on {name}: {summary}")
            result[name] = {"full_s": seconds, "dbt_s": summary["seconds"], "peak_mib": peak,
                            "models": summary["models_built"], "tests": summary["tests_passed"],
                            "copy_s": _copy_baseline()}
        _on(None)
        result["changes"] = _make_changes(info, settings, changes)
        for name, url in (("DuckDB", None), ("PostgreSQL", postgres.url)):
            _on(url)
            _sync_all()
            env = {"SCC_WAREHOUSE_URL": url} if url else {}
            summary, seconds, peak = _child_peak(CHILD_BUILD.format(full_refresh=False), env)
            if not summary.get("success"):
                raise RuntimeError(f"incremental dbt build failed on {name}: {summary}")
            result[name].update({"incremental_s": seconds, "incremental_dbt_s": summary["seconds"]})
            result[name]["queries"] = _time_queries(repeat)
    finally:
        _on(None)
        supervisor.stop_all()
        postgres.stop()
    return result


def run(quick: bool) -> dict:
    scales = bench_scales(quick, [1, 10], [0.1])
    results = [_scale_run(scale, changes=1000 if not quick else 300, repeat=10 if quick else 30) for scale in scales]

    build_rows, query_rows = [], []
    for r in results:
        for name in ("DuckDB", "PostgreSQL"):
            w = r[name]
            build_rows.append([
                r["scale"], name, f"{w['full_s']:.1f}", f"{w['peak_mib']:,.0f}", f"{w['models']}/{w['tests']}",
                f"{w['copy_s']:.2f}", f"{w['full_s'] / max(w['copy_s'], 1e-3):.0f}x",
                f"{w['incremental_s']:.1f} ({r['changes']:,} changes)",
            ])
        duck, pg = r["DuckDB"]["queries"], r["PostgreSQL"]["queries"]
        for label, *_ in DASHBOARD_QUERIES:
            query_rows.append([
                r["scale"], label, f"{duck[label][0]:.1f}", f"{duck[label][1]:.1f}", f"{pg[label][1]:.1f}",
                f"{pg[label][1] / max(duck[label][1], 1e-3):.1f}x",
            ])
    body = "\n\n".join([
        table(["scale", "warehouse", "full build (s)", "peak memory (MiB)", "models/tests",
               "baseline: copy raw tables (s)", "ratio", "incremental build (s)"], build_rows),
        table(["scale", "dashboard query", "compile (ms, warm)", "run on DuckDB (ms)", "run on PostgreSQL (ms)",
               "PostgreSQL / DuckDB"], query_rows),
        "Builds run `scc build` in a fresh process (time includes start-up; peak memory is that process's). "
        "Aims: scale 10 full build under 90 s on DuckDB, incremental under 15 s, DuckDB at least 5x faster "
        "than PostgreSQL on the dashboard's metric queries at scale 10.",
    ])
    last = results[-1]
    speedups = [last["PostgreSQL"]["queries"][q][1] / max(last["DuckDB"]["queries"][q][1], 1e-3)
                for q, *_ in DASHBOARD_QUERIES]
    summary = (
        f"scale {last['scale']}: DuckDB full build {last['DuckDB']['full_s']:.1f} s "
        f"({last['DuckDB']['peak_mib']:,.0f} MiB), incremental {last['DuckDB']['incremental_s']:.1f} s; "
        f"PostgreSQL {last['PostgreSQL']['full_s']:.1f} s; metric queries DuckDB "
        f"{statistics.median(speedups):.1f}x faster (median)"
    )
    return {"title": TITLE, "body": body, "summary": summary}
