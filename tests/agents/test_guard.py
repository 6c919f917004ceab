"""The SQL guard, on a synthetic warehouse: one read-only SELECT over the marts, scoped by the guard."""

from __future__ import annotations

import hashlib

import pytest

from agents import Refusal, Scope
from agents.catalog import build_catalog
from agents.errors import QueryFailed
from agents.guard import execute, guard, run_sql

REP_A, REP_C = Scope.rep("005A"), Scope.rep("005C")
PACIFIC = Scope.manager("Pacific")


@pytest.fixture(scope="module")
def catalog(synthetic, tmp_path_factory):
    return build_catalog(synthetic, models_dir=tmp_path_factory.mktemp("no-models"))


def rows(sql, scope, catalog, settings):
    return run_sql(sql, scope, catalog, settings=settings).rows


def test_a_plain_select_runs_and_gets_a_limit(catalog, synthetic):
    query = guard("SELECT count(*) FROM marts.fct_orders", Scope.all(), catalog, settings=synthetic)
    assert query.sql.endswith(f"LIMIT {synthetic.agent_max_rows + 1}")
    assert query.marts == ["fct_orders"]
    assert rows("SELECT count(*) FROM marts.fct_orders", Scope.all(), catalog, synthetic) == [(48,)]


def test_a_rep_sees_only_their_rows_whatever_the_sql_says(catalog, synthetic):
    sql = "SELECT DISTINCT rep_id FROM marts.fct_orders WHERE rep_id <> '005A' OR 1 = 1"
    assert rows(sql, REP_A, catalog, synthetic) == [("005A",)]
    joined = ("SELECT DISTINCT c.rep_id FROM marts.dim_customers c JOIN marts.fct_orders o "
              "ON o.customer_id = c.customer_id")
    assert rows(joined, REP_C, catalog, synthetic) == [("005C",)]


def test_a_manager_sees_their_territory(catalog, synthetic):
    got = rows("SELECT DISTINCT territory FROM marts.fct_opportunities", PACIFIC, catalog, synthetic)
    assert got == [("Pacific",)]
    reps = rows("SELECT rep_name FROM marts.dim_sales_reps ORDER BY 1", PACIFIC, catalog, synthetic)
    assert reps == [("Alice Adams",), ("Bob Brown",)]


@pytest.mark.parametrize("sql", [
    "SELECT rep_id FROM marts.fct_orders UNION SELECT rep_id FROM marts.fct_invoices",
    "WITH x AS (SELECT * FROM marts.fct_orders) SELECT rep_id FROM x",
    "SELECT rep_id FROM (SELECT * FROM marts.fct_orders) t",
    "SELECT rep_id FROM marts.fct_orders WHERE customer_id IN (SELECT customer_id FROM marts.dim_customers)",
    "SELECT o.rep_id FROM marts.fct_orders o, marts.fct_orders o2 WHERE o2.rep_id = '005B'",
    "SELECT (SELECT max(rep_id) FROM marts.fct_opportunities) AS rep_id FROM marts.fct_orders",
    'SELECT rep_id FROM "warehouse"."marts"."fct_orders"',
    "SELECT rep_id FROM fct_orders",
])
def test_scope_holds_through_unions_ctes_subqueries_and_joins(catalog, synthetic, sql):
    assert {r[0] for r in rows(sql, REP_A, catalog, synthetic)} <= {"005A"}


def test_public_marts_are_readable_by_everyone_and_others_refuse_without_a_scope_column(catalog, synthetic):
    assert len(rows("SELECT * FROM marts.dim_products", REP_A, catalog, synthetic)) == 6
    from agents.catalog import Mart, Column

    catalog.marts["fct_unscoped"] = Mart("fct_unscoped", columns={"x": Column("x")})
    try:
        with pytest.raises(Refusal, match="not available to a sales rep"):
            guard("SELECT x FROM marts.fct_unscoped", REP_A, catalog, settings=synthetic)
    finally:
        del catalog.marts["fct_unscoped"]


@pytest.mark.parametrize("sql, message", [
    ("DROP TABLE marts.fct_orders", "Only SELECT"),
    ("SELECT 1; DROP TABLE marts.fct_orders", "Exactly one statement"),
    ("WITH a AS (DELETE FROM marts.fct_orders RETURNING *) SELECT * FROM a", "contains DELETE"),
    ("SELECT * INTO evil FROM marts.fct_orders", "contains INTO"),
    ("SELECT * FROM read_csv('/etc/passwd')", "reads files"),
    ("SELECT * FROM range(10)", "not on the list"),
    ("SELECT * FROM '/etc/passwd'", "not a mart"),
    ("SELECT getenv('HOME') FROM marts.fct_orders", "getenv"),
    ("SELECT * FROM main.secrets", "Only the marts schema"),
    ("SELECT * FROM raw_netsuite.customer", "Only the marts schema"),
    ("SELECT * FROM other.marts.fct_orders", "Only the warehouse"),
    ("ATTACH '/tmp/x.duckdb' AS x", "Only SELECT"),
    ("PRAGMA database_list", "Only SELECT"),
    ("SELECT * FROM marts.fct_orders -- ; DROP TABLE x", None),
    ("SELEC * FROM marts.fct_orders", "not valid SQL"),
])
def test_refusals_are_clear(catalog, synthetic, sql, message):
    if message is None:  # a comment is dropped, the query itself is fine
        assert "DROP" not in guard(sql, REP_A, catalog, settings=synthetic).sql
        return
    with pytest.raises(Refusal) as refusal:
        guard(sql, REP_A, catalog, settings=synthetic)
    assert message in refusal.value.message


def test_the_row_limit_is_enforced_and_reported(catalog, synthetic):
    result = run_sql("SELECT * FROM marts.fct_orders", Scope.all(), catalog, settings=synthetic, max_rows=5)
    assert len(result.rows) == 5 and result.truncated
    small = run_sql("SELECT * FROM marts.fct_orders LIMIT 3", Scope.all(), catalog, settings=synthetic, max_rows=5)
    assert len(small.rows) == 3 and not small.truncated


def test_the_time_limit_stops_a_long_query(catalog, synthetic):
    slow = ("SELECT count(*) FROM marts.fct_orders a, marts.fct_orders b, marts.fct_orders c, marts.fct_orders d, "
            "marts.fct_orders e, marts.fct_orders f, marts.fct_orders g WHERE a.total_amount + g.total_amount > 0")
    with pytest.raises(QueryFailed, match="longer than"):
        run_sql(slow, Scope.all(), catalog, settings=synthetic, timeout=0.3)


def test_the_connection_is_read_only_with_external_access_disabled(catalog, synthetic):
    from agents.guard import POOL

    entry, conn = POOL.acquire(synthetic.data_dir / "warehouse.duckdb")
    try:
        locked, external = conn.execute(
            "SELECT current_setting('lock_configuration'), current_setting('enable_external_access')").fetchone()
        assert locked is True and external is False
        with pytest.raises(Exception, match="read-only|read only|attached in read-only"):
            conn.execute("CREATE TABLE marts.x AS SELECT 1")
        with pytest.raises(Exception, match="locked|configuration"):
            conn.execute("SET enable_external_access = true")
    finally:
        POOL.release(entry, conn)


def test_idle_connections_are_closed_so_a_writer_can_open_the_file(catalog, synthetic, tmp_path):
    import shutil
    import time

    import duckdb

    from agents.guard import POOL

    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(synthetic.data_dir / "warehouse.duckdb", copy)
    settings = synthetic.model_copy(update={"data_dir": tmp_path})
    assert rows("SELECT count(*) FROM marts.fct_orders", Scope.all(), catalog, settings) == [(48,)]
    deadline = time.monotonic() + 10
    while str(copy) in POOL._entries and time.monotonic() < deadline:
        time.sleep(0.05)
    assert str(copy) not in POOL._entries, "the idle connection was not closed"
    writer = duckdb.connect(str(copy))  # would fail while a reader holds the file
    writer.close()


def test_nothing_is_written(catalog, synthetic):
    path = synthetic.data_dir / "warehouse.duckdb"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for sql in ("SELECT * FROM marts.fct_orders", "DELETE FROM marts.fct_orders", "UPDATE marts.fct_orders SET x = 1"):
        try:
            run_sql(sql, REP_A, catalog, settings=synthetic)
        except Refusal:
            pass
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert rows("SELECT count(*) FROM marts.fct_orders", Scope.all(), catalog, synthetic) == [(48,)]


def test_scope_values_are_literals_not_text(catalog, synthetic):
    sneaky = Scope.rep("x' OR '1'='1")
    query = guard("SELECT rep_id FROM marts.fct_orders", sneaky, catalog, settings=synthetic)
    assert execute(query, settings=synthetic).rows == []
