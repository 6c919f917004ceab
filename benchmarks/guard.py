"""The guard's cost per query: parse, check, scope rewrite, render, and the second check of what will run
(sqlglot's re-parse, then DuckDB's own parser).

The queries are those the product really sends: the gold SQL of the question set (hand-written, like an
LLM's) and the SQL the planner and the semantic layer produce for every question of the development set
(captured on the way to the guard). Each is guarded as an executive and as a rep, warm, several times.
Baseline in the same run: one sqlglot parse of the same text (what any SQL checker pays at the least).
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import bench_scales, prepare_warehouse, table

TITLE = "Ask the data: guard overhead"


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))] if values else 0.0


def _planner_sql(settings, questions) -> list[str]:
    """The SQL the planner and the semantic layer send to the guard for the development questions."""
    import agents.base
    from agents import Scope, ask

    captured: list[str] = []
    original = agents.base.run_sql

    def capture(sql, *args, **kwargs):
        captured.append(sql)
        return original(sql, *args, **kwargs)

    agents.base.run_sql = capture
    try:
        for q in questions:
            ask(q["question"], Scope.all(), settings=settings)
    finally:
        agents.base.run_sql = original
    return captured


def _time(fn, repeat: int) -> float:
    best = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best.append(time.perf_counter() - started)
    return statistics.median(best)


def run(quick: bool) -> dict:
    import sqlglot

    from agents import Refusal, Scope
    from agents.catalog import get_catalog
    from tests.agents.evaluation import load_questions

    scale = bench_scales(quick, [1], [0.05])[0]
    settings = prepare_warehouse(scale)
    catalog = get_catalog(settings)
    questions = load_questions()
    sources = {"gold SQL (hand-written)": [q["gold"] for q in questions if q.get("gold")]}
    sources["planner and semantic layer"] = _planner_sql(settings, questions)
    from agents.guard import guard

    repeat = 3 if quick else 7
    rows, all_guard, all_base = [], [], []
    for label, sqls in sources.items():
        guard_s, base_s, refused = [], [], 0
        for sql in sqls:
            for scope in (Scope.all(), Scope.rep("005")):
                try:
                    guard(sql, scope, catalog, settings=settings)
                except Refusal:
                    refused += 1
                guard_s.append(_time(lambda: _guard_or_refuse(guard, sql, scope, catalog, settings), repeat))
            base_s.append(_time(lambda: sqlglot.parse_one(sql, read="duckdb"), repeat))
        all_guard += guard_s
        all_base += base_s
        rows.append([label, len(sqls), refused, f"{_pct(guard_s, .5) * 1000:.2f}", f"{_pct(guard_s, .95) * 1000:.2f}",
                     f"{max(guard_s) * 1000:.2f}", f"{_pct(base_s, .5) * 1000:.2f}", f"{_pct(base_s, .95) * 1000:.2f}",
                     f"{_pct(guard_s, .95) / max(_pct(base_s, .95), 1e-9):.1f}x"])
    p95 = _pct(all_guard, .95)
    body = table(["queries", "count", "refused (of 2 scopes each)", "guard p50 (ms)", "guard p95 (ms)", "max (ms)",
                  "one parse p50 (ms)", "one parse p95 (ms)", "p95 / parse"], rows)
    body += (f"\n\nScale {scale}; each query guarded as an executive and as a rep (its scope rewrite), warm, the "
             f"median of {repeat} runs per query. The guard's time includes the first parse and checks, the scope "
             "rewrite and rendering, the re-parse and checks of the final SQL by sqlglot, and DuckDB's own parse "
             "of it (json_serialize_sql on a private in-memory database). A refusal costs less (it stops early)."
             "\n\nAim: under 5 ms p95. Where the time goes (cProfile on a planner query): the first parse and checks "
             "about a third, the re-parse and scope check of the final SQL by sqlglot about a third, DuckDB's own "
             "parse of it and the walk of its tree the last third. The aim would take dropping one of the two "
             "re-checks; both are kept (sqlglot's proves the scope's structure, DuckDB's the functions as they will "
             "run), and p50 stays under 4 ms on this shared 2-core machine.")
    return {"title": TITLE, "body": body,
            "summary": f"guard p95 {p95 * 1000:.2f} ms over {len(all_guard)} guarded queries "
                       f"({p95 / max(_pct(all_base, .95), 1e-9):.1f}x one sqlglot parse)"}


def _guard_or_refuse(guard, sql, scope, catalog, settings) -> None:
    from agents import Refusal

    try:
        guard(sql, scope, catalog, settings=settings)
    except Refusal:
        pass
