"""``make bench``: run the benchmarks and write their figures to ``benchmarks/RESULTS.md``.

Usage: ``python -m benchmarks [NAME ...] [--quick]``. Each benchmark module in this folder exposes
``TITLE`` and ``run(quick: bool) -> Section``. A run rewrites only its own sections (kept as JSON in
``benchmarks/results/``), so one benchmark can be re-run without losing the others' figures. Every
figure is measured next to a baseline in the same run, since these machines are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

from benchmarks.common import RESULTS_DIR, SCALES_VARIABLE, machine_description, render_results

BENCHMARKS = ["generation", "emulators", "ingestion", "cursor_overlap", "marts", "agents", "guard", "heldout", "api", "mcp", "freshness", "dashboard",
              "insights"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small scales only, to check the benchmarks work")
    parser.add_argument("--scales", help="comma-separated scales instead of each benchmark's own, e.g. 1")
    args = parser.parse_args(argv)
    if args.scales:
        os.environ[SCALES_VARIABLE] = args.scales
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {module.TITLE}", flush=True)
        try:
            section = module.run(quick=args.quick)
        except Exception as error:  # noqa: BLE001 - report and go on with the other benchmarks
            print(f"   failed: {error!r}", flush=True)
            failed.append(name)
            continue
        section["machine"] = machine_description()
        (RESULTS_DIR / f"{name}.json").write_text(json.dumps(section, indent=2))
        print(f"   done: {section['summary']}", flush=True)
    out = Path(__file__).parent / "RESULTS.md"
    out.write_text(render_results([RESULTS_DIR / f"{n}.json" for n in BENCHMARKS]))
    print(f"Figures written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
