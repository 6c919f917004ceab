"""The guard on a PostgreSQL warehouse: the same scoping, and a read-only transaction with a statement
timeout (a separate database on the session's PostgreSQL server)."""

from __future__ import annotations

import pytest

from agents import Refusal, Scope
from agents.catalog import build_catalog
from agents.errors import QueryFailed
from agents.guard import _execute_postgres, _run_postgres, run_sql

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_settings(postgres_url, tmp_path_factory):
    import psycopg

    base = postgres_url.rsplit("/", 1)[0]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS agents_guard")
        conn.execute("CREATE DATABASE agents_guard")
    url = f"{base}/agents_guard"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute("CREATE TABLE marts.fct_orders (order_id text, rep_id text, territory text, total_amount numeric(18,2))")
        conn.execute("INSERT INTO marts.fct_orders VALUES ('1', '005A', 'Pacific', 10), ('2', '005B', 'Pacific', 20), "
                     "('3', '005C', 'Midwest', 30)")
        conn.execute("CREATE TABLE public.secrets AS SELECT 'x' AS s")
    from tests.agents.synthetic import settings_for

    return settings_for(tmp_path_factory.mktemp("pg"), warehouse_url=url)


def test_scope_and_refusals_on_postgres(pg_settings, tmp_path):
    catalog = build_catalog(pg_settings, models_dir=tmp_path)
    assert "fct_orders" in catalog.marts
    rows = run_sql("SELECT order_id, rep_id FROM marts.fct_orders UNION SELECT order_id, rep_id FROM fct_orders",
                   Scope.rep("005A"), catalog, settings=pg_settings).rows
    assert rows == [("1", "005A")]
    manager = run_sql("SELECT count(*) FROM marts.fct_orders", Scope.manager("Pacific"), catalog, settings=pg_settings)
    assert manager.rows == [(2,)]
    with pytest.raises(Refusal):
        run_sql("SELECT * FROM public.secrets", Scope.all(), catalog, settings=pg_settings)
    with pytest.raises(Refusal):
        run_sql("DROP TABLE marts.fct_orders", Scope.all(), catalog, settings=pg_settings)


def test_the_postgres_transaction_is_read_only_and_timed(pg_settings):
    with pytest.raises(QueryFailed):  # even past the guard, the connection cannot write
        _run_postgres("CREATE TABLE marts.evil AS SELECT 1 AS x", pg_settings, 5)
    with pytest.raises(QueryFailed, match="longer than"):
        _run_postgres("SELECT pg_sleep(3)", pg_settings, 0.5)


@pytest.mark.parametrize("sql", ["CREATE TABLE marts.evil AS SELECT 1 AS x", "SELECT pg_sleep(3)",
                                 "SELECT pg_read_file('/etc/passwd')", "SELECT generate_series(1, 10)"])
def test_the_postgres_text_is_checked_again_before_it_runs(pg_settings, sql):
    with pytest.raises(Refusal):
        _execute_postgres(sql, pg_settings, 5)
