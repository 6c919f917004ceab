"""What the benchmarks share: machine description, timing in a child process, the results file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"
SCALES_VARIABLE = "SCC_BENCH_SCALES"
BENCH_TODAY = "2026-05-20"  # the demo company's "today" in every benchmark


def bench_scales(quick: bool, default: list[float], quick_scales: list[float] = (0.1,)) -> list[float]:
    """The scales a benchmark runs at: ``--scales`` when given, else small ones for ``--quick``, else its own."""
    chosen = os.environ.get(SCALES_VARIABLE)
    if chosen:
        return [float(x) if "." in x else int(x) for x in chosen.split(",")]
    return list(quick_scales) if quick else default


def machine_description() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        mem_kb = 0
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def run_child(code: str, env: dict | None = None, timeout: float = 1800) -> tuple[dict, float, float]:
    """Run Python ``code`` in a fresh interpreter; return (its JSON on stdout, seconds, peak RSS MiB).

    A fresh process per measurement gives an honest peak memory figure (ru_maxrss of the child alone).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far; good enough when runs grow in size.
    peak_mib = max(peak_kib, before) / 1024
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), seconds, peak_mib


def _scratch_dir() -> Path:
    """A fresh data folder for one measurement, removed when the benchmarks exit (scale 10 is gigabytes)."""
    import atexit
    import shutil
    import tempfile

    data_dir = Path(tempfile.mkdtemp(prefix="scc-bench-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    return data_dir


def start_emulators(scale: float, **env: str):
    """Start the emulators on a fresh data folder at ``scale`` (live mode off); returns (supervisor, info, settings).

    The settings are pinned in this process's environment too, so syncs run here talk to these emulators.
    """
    from emulators.server import RunInfo
    from scc.config import get_settings, reset_settings_cache
    from scc.processes import Supervisor, free_port, scc_command

    data_dir = _scratch_dir()
    os.environ.update({
        "SCC_DATA_DIR": str(data_dir), "SCC_DEMO_SCALE": str(scale), "SCC_TODAY": BENCH_TODAY,
        "SCC_EMULATOR_LIVE": "false", "SCC_EMULATOR_FAULTS": "",
        "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()), "SCC_NETSUITE_EMULATOR_PORT": str(free_port()),
        "SCC_NETSUITE_CONCURRENCY_LIMIT": "50", **env,
    })
    reset_settings_cache()
    settings = get_settings()
    supervisor = Supervisor(data_dir / "logs")
    child = supervisor.start("emulators", scc_command("emulators", "start"))
    supervisor.wait_until(child, lambda: bool((i := RunInfo.read(settings)) and i.pid == child.process.pid), 1800)
    return supervisor, RunInfo.read(settings), settings


PREPARED_DIR = Path(__file__).parent / "out" / "prepared"
# What a prepared warehouse depends on: change any of these and it is synced and built anew. (The pipelines
# are left out on purpose: they load the same rows whatever their speed; delete benchmarks/out/prepared/
# after a change to what they load.)
PREPARED_INPUTS = ("emulators/demo_company", "models", "macros", "dbt_project.yml", "profiles.yml",
                   "scc/warehouse.py", "scc/marts.py")
def _inputs_fingerprint(scale: float) -> str:
    import hashlib

    root = Path(__file__).parent.parent
    files = subprocess.run(["git", "ls-files", *PREPARED_INPUTS], cwd=root, capture_output=True, text=True,
                           check=True).stdout.split()
    digest = hashlib.sha256(f"scale={scale};today={BENCH_TODAY}".encode())
    for name in sorted(files):
        path = root / name
        if path.is_file():
            digest.update(name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def prepare_warehouse(scale: float):
    """A demo company at ``scale`` synced and built into a fresh warehouse (emulators stopped after);
    returns the settings pointing at it, with the agents' caches cleared.

    Syncing and building scale 10 takes many minutes, so the first benchmark that needs a scale keeps
    the result under ``benchmarks/out/prepared/`` and later ones start from a copy of it, for as long
    as the emulators, pipelines and models are unchanged (``PREPARED_INPUTS``).
    """
    import shutil

    from scc.config import get_settings, reset_settings_cache

    fingerprint = _inputs_fingerprint(scale)
    cached = PREPARED_DIR / f"scale-{scale}"
    if (cached / "fingerprint").exists() and (cached / "fingerprint").read_text() == fingerprint:
        data_dir = _scratch_dir()
        shutil.copytree(cached / "data", data_dir, symlinks=True, dirs_exist_ok=True)
        os.environ.update({"SCC_DATA_DIR": str(data_dir), "SCC_DEMO_SCALE": str(scale), "SCC_TODAY": BENCH_TODAY,
                           "SCC_EMULATOR_LIVE": "false", "SCC_EMULATOR_FAULTS": ""})
        reset_settings_cache()
        settings = get_settings()
    else:
        supervisor, _, settings = start_emulators(scale)
        try:
            from pipelines.run import sync
            from scc.marts import build

            for source in ("salesforce", "netsuite"):
                sync(source)
            summary = build()
            if not summary.success:
                raise RuntimeError(f"dbt build failed: {summary.as_dict()}")
        finally:
            supervisor.stop_all()
        shutil.rmtree(cached, ignore_errors=True)
        shutil.copytree(settings.data_dir, cached / "data", symlinks=True, ignore=shutil.ignore_patterns("logs", "*.lock"))
        (cached / "fingerprint").write_text(fingerprint)
    from agents import catalog, entities

    catalog.clear_cache()
    entities.clear_cache()
    return settings


def table(headers: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(out)


def render_results(paths: list[Path]) -> str:
    parts = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`). Each section says when and on what machine it",
        "was measured; compare the ratios to the baseline measured in the same run, not absolute figures.",
    ]
    for path in paths:
        if not path.exists():
            continue
        section = json.loads(path.read_text())
        m = section["machine"]
        parts += [
            "",
            f"## {section['title']}",
            "",
            f"_{m['date']}; {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}_",
            "",
            section["body"],
            "",
            f"**Summary:** {section['summary']}",
        ]
    return "\n".join(parts) + "\n"
