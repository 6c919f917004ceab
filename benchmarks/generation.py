"""Demo company generation: time and peak memory at scale 1 and 10.

Baseline in the same run: copying the generated tables into a fresh SQLite file (the write floor for the
same rows), so the ratio says how much of the time is the generator's own work.
"""

from __future__ import annotations

from benchmarks.common import bench_scales, run_child, table

TITLE = "Demo company generation"

CHILD = r"""
import json, sqlite3, tempfile, time, datetime, pathlib
from emulators.demo_company import generate_company
out = pathlib.Path(tempfile.mkdtemp(prefix="scc-bench-gen-"))
t0 = time.perf_counter()
files = generate_company(out, seed=42, scale={scale}, today=datetime.date(2026, 5, 20))
gen = time.perf_counter() - t0
rows = 0
t0 = time.perf_counter()
for src in (files.salesforce, files.netsuite):
    con = sqlite3.connect(":memory:")
    con.execute(f"ATTACH '{{src}}' AS src")
    con.execute("ATTACH ':memory:' AS dst")
    for (name,) in con.execute("SELECT name FROM src.sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'").fetchall():
        con.execute(f'CREATE TABLE dst."{{name}}" AS SELECT * FROM src."{{name}}"')
        rows += con.execute(f'SELECT count(*) FROM src."{{name}}"').fetchone()[0]
copy = time.perf_counter() - t0
print(json.dumps({{"generate_s": gen, "copy_s": copy, "rows": rows}}))
"""


def run(quick: bool) -> dict:
    scales = bench_scales(quick, [1, 10])
    rows = []
    for scale in scales:
        result, _, peak = run_child(CHILD.format(scale=scale))
        rows.append([
            scale, f"{result['rows']:,}", f"{result['generate_s']:.1f}", f"{peak:,.0f}",
            f"{result['rows'] / result['generate_s']:,.0f}", f"{result['copy_s']:.2f}",
            f"{result['generate_s'] / result['copy_s']:.1f}x",
        ])
    body = table(
        ["scale", "rows", "generate (s)", "peak memory (MiB)", "rows/s", "baseline: copy rows (s)", "ratio"],
        rows,
    )
    first = rows[0]
    return {
        "title": TITLE,
        "body": body + "\n\nAim: scale 1 in under 30 s.",
        "summary": f"scale {first[0]}: {first[2]} s, {first[3]} MiB peak",
    }
