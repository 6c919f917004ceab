"""The guard against a determined attacker (issue 17): it checks the SQL that actually runs, refuses odd
input instead of raising, and every query runs within a resource budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from sqlglot import exp

from agents import Refusal, Scope
from agents.catalog import build_catalog
from agents.errors import QueryFailed
from agents.guard import guard, run_sql
from agents.sql_policy import ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS

REP = Scope.rep("005A")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog(synthetic, tmp_path_factory):
    return build_catalog(synthetic, models_dir=tmp_path_factory.mktemp("no-models"))


def duckdb_calls(sql: str) -> set[tuple[str, str]]:
    """(kind, name) of every function DuckDB's own parser will call in ``sql``: an oracle independent of
    the guard (its own connection, its own walk)."""
    tree = json.loads(duckdb.connect().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    assert not tree["error"], tree
    calls = set()

    def walk(node, in_table_function=False):
        if isinstance(node, dict):
            if "function_name" in node:
                calls.add(("table" if in_table_function else "scalar", node["function_name"].lower()))
            for key, value in node.items():
                walk(value, node.get("type") == "TABLE_FUNCTION" and key == "function")
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return calls


def allowed(call: tuple[str, str]) -> bool:
    kind, name = call
    if kind == "table":
        return name in ALLOWED_TABLE_FUNCTIONS
    return name in ALLOWED_FUNCTIONS or not any(c.isalnum() or c == "_" for c in name)  # operators: + || ~~


# --- 1. the SQL that runs is the SQL that was checked ----------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT len(GENERATOR(300000000)) FROM marts.fct_orders",
    "SELECT length(generator(3)) AS n FROM marts.fct_orders",
    "SELECT EXPLODING_GENERATE_SERIES(1, 10) FROM marts.fct_orders",
    "SELECT GENERATE_DATE_ARRAY(DATE '2026-01-01', DATE '2026-12-31') FROM marts.fct_orders",
    "WITH g AS (SELECT GENERATOR(10) AS x FROM marts.fct_orders) SELECT x FROM g",
    "SELECT (SELECT max(len(generator(1000))) FROM marts.fct_orders) AS n",
    "SELECT * FROM marts.fct_orders WHERE order_id IN (SELECT unnest(range(5))::VARCHAR)",
    "SELECT * FROM range(5)",
    "SELECT * FROM generate_series(1, 10)",
    "SELECT * FROM marts.fct_orders, repeat_row(1, num_rows := 10)",
    "SELECT system.main.sum(total_amount) FROM marts.fct_orders",
])
def test_a_function_is_judged_by_what_it_renders_as(catalog, synthetic, sql):
    with pytest.raises(Refusal) as refusal:
        guard(sql, REP, catalog, settings=synthetic)
    assert "not on the list" in refusal.value.message or "plain name" in refusal.value.message


def function_calls() -> list[str]:
    """A call of every function sqlglot knows, with one, two and three arguments of a few kinds."""
    calls = []
    for cls in exp.ALL_FUNCTIONS:
        name = cls.sql_names()[0] if cls.sql_names() else cls.__name__.upper()
        for args in ("total_amount", "'x', 2", "order_date, 1, 'y'"):
            calls.append(f"SELECT {name}({args}) AS v FROM marts.fct_orders")
    return calls


def test_no_function_outside_the_allow_list_survives_rendering(catalog, synthetic):
    accepted = refused = 0
    for sql in function_calls():
        try:
            query = guard(sql, REP, catalog, settings=synthetic)
        except Refusal:
            refused += 1
            continue
        accepted += 1
        outside = {c for c in duckdb_calls(query.sql) if not allowed(c)}
        assert not outside, f"{sql!r} ran as {query.sql!r}, calling {outside}"
    assert accepted > 150 and refused > 150, (accepted, refused)  # the property was exercised both ways


def test_the_final_sql_reads_every_mart_through_its_scope(catalog, synthetic):
    query = guard("WITH fct_orders AS (SELECT * FROM marts.fct_orders) SELECT o.rep_id FROM fct_orders o "
                  "JOIN marts.dim_customers c USING (customer_id)", REP, catalog, settings=synthetic)
    assert query.sql.count("WHERE rep_id = '005A'") == 2


# --- 3. odd input is refused, never raised --------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "SELECT datetime(order_date) FROM marts.fct_orders",
    "SELECT PARAMETERIZED_AGG(1, 2, 3) FROM marts.fct_orders",
    "SELECT " + "(" * 5000 + "1" + ")" * 5000 + " FROM marts.fct_orders",
    "SELECT " + "+".join(["1"] * 20000) + " FROM marts.fct_orders",
    "SELECT " + " OR ".join(["total_amount > 1"] * 3000) + " FROM marts.fct_orders",
    "SELECT " + "NOT " * 3000 + "true FROM marts.fct_orders",
    "SELECT '" + "x" * 200_000 + "' FROM marts.fct_orders",
    "SELECT " + "coalesce(" * 300 + "1" + ")" * 300 + " FROM marts.fct_orders",
])
def test_odd_input_is_a_clear_refusal(catalog, synthetic, sql):
    with pytest.raises(Refusal) as refusal:
        guard(sql, REP, catalog, settings=synthetic)
    message = refusal.value.message
    assert message[0].isupper() and message.endswith(".") and len(message) < 300, message
    assert refusal.value.correctable  # the LLM path gets its correction turn


def test_reasonable_nesting_still_runs(catalog, synthetic):
    sql = ("SELECT " + "(" * 20 + "sum(total_amount)" + ")" * 20 + " AS total, "
           + " + ".join(["1"] * 100) + " AS hundred FROM marts.fct_orders")
    assert run_sql(sql, REP, catalog, settings=synthetic).rows[0][1] == 100


# --- 2. the resource budget ------------------------------------------------------------------------------

def test_the_connection_carries_the_budget_locked(catalog, synthetic):
    from agents.guard import POOL

    entry, conn = POOL.acquire(synthetic.data_dir / "warehouse.duckdb")
    try:
        memory, threads, locked = conn.execute("SELECT current_setting('memory_limit'), current_setting('threads'), "
                                               "current_setting('lock_configuration')").fetchone()
        assert memory == "1.8 GiB" and threads == synthetic.reader_threads and locked is True
        with pytest.raises(duckdb.Error, match="locked|configuration"):
            conn.execute("SET memory_limit = '100GB'")
    finally:
        POOL.release(entry, conn)


def test_a_result_too_large_to_serialise_is_stopped(catalog, synthetic):
    settings = synthetic.model_copy(update={"agent_max_result_bytes": 1_000_000})
    with pytest.raises(QueryFailed, match="too large"):
        run_sql("SELECT lpad('x', 100000, 'x') AS wide FROM marts.fct_orders", REP, catalog, settings=settings)


def test_a_time_hungry_query_is_stopped_on_time(catalog, synthetic):
    slow = ("SELECT count(*) FROM marts.fct_orders a, marts.fct_orders b, marts.fct_orders c, marts.fct_orders d, "
            "marts.fct_orders e, marts.fct_orders f WHERE a.total_amount * f.total_amount > 0")
    started = time.monotonic()
    with pytest.raises(QueryFailed, match="longer than"):
        run_sql(slow, Scope.all(), catalog, settings=synthetic, timeout=1.0)
    assert time.monotonic() - started < 3.0


MEMORY_PROBE = r"""
import json, re, sys
from pathlib import Path
from agents import Scope
from agents.catalog import build_catalog
from agents.errors import QueryFailed
from agents.guard import run_sql
from scc.config import get_settings
settings = get_settings()
catalog = build_catalog(settings, models_dir=Path(sys.argv[1]))
try:
    run_sql(sys.argv[2], Scope.all(), catalog, settings=settings, timeout=30)
    outcome = "ran"
except QueryFailed as error:
    outcome = error.message
# VmHWM, not ru_maxrss: the latter carries the forking parent's peak over exec
peak_kb = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
print(json.dumps({"outcome": outcome, "peak_mb": peak_kb / 1024}))
"""


@pytest.mark.parametrize("sql", [
    # 48 x 48 rows of a 1 MB string each: 2.3 GB if nothing stopped it
    "SELECT string_agg(lpad('x', 1000000, 'x'), '') FROM marts.fct_orders a, marts.fct_orders b",
    "SELECT count(DISTINCT lpad(a.order_id || b.order_id, 200000, 'x')) FROM marts.fct_orders a, marts.fct_orders b",
])
def test_a_memory_hungry_query_is_stopped_within_the_budget(synthetic, tmp_path, sql):
    env = {**os.environ, "SCC_DATA_DIR": str(synthetic.data_dir), "SCC_WAREHOUSE_URL": "",
           "SCC_READER_MEMORY_LIMIT": "300MB", "SCC_READER_TEMP_DIRECTORY_LIMIT": "100MB"}
    probe = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(tmp_path), sql], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr[-2000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert "memory" in report["outcome"] or "too large" in report["outcome"], report
    assert report["peak_mb"] < 300 + 400, report  # the limit, plus Python, DuckDB and sqlglot themselves
