"""Published marts: readers see the last good build, hold it as long as they like, and never block a build."""

from __future__ import annotations

import pytest

from tests.marts.conftest import build_or_fail

pytestmark = pytest.mark.slow


def _count(cursor, sql: str) -> int:
    cursor.execute(sql)
    return cursor.fetchone()[0]


def test_readers_get_the_marts_only_from_the_published_file(marts_built):
    from scc.warehouse import duckdb_path, marts_path, published_dir, read_marts

    path = marts_path()
    assert path != duckdb_path() and path.parent.parent == published_dir() and path.exists()
    with read_marts() as cursor:
        cursor.execute("SELECT DISTINCT table_schema FROM information_schema.tables")
        assert {row[0] for row in cursor.fetchall()} == {"marts"}  # no raw tables, no staging
        published_orders = _count(cursor, "SELECT count(*) FROM marts.fct_orders")
    from scc.warehouse import connect

    with connect() as conn:
        assert conn.execute("SELECT count(*) FROM marts.fct_orders").fetchone()[0] == published_orders


def test_a_reader_holding_the_marts_does_not_block_a_build(marts_built):
    from scc.warehouse import connect, marts_path, published_dir, read_marts

    before = marts_path()
    with read_marts() as held:
        orders = _count(held, "SELECT count(*) FROM marts.fct_orders")
        summary = build_or_fail(select="dim_sales_reps")  # a writer, while the reader holds its cursor
        assert _count(held, "SELECT count(*) FROM marts.fct_orders") == orders  # still its own generation
    after = marts_path()
    assert after != before and summary.published == str(after)
    tables = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts'"
    with connect() as conn:
        built = conn.execute(tables).fetchone()[0]
    with read_marts() as cursor:  # a new reader gets the new generation, every mart in it
        assert _count(cursor, "SELECT count(*) FROM marts.fct_orders") == orders
        assert _count(cursor, tables) == built >= 11
    build_or_fail(select="dim_sales_reps")
    generations = sorted(p.name for p in published_dir().iterdir() if p.name.isdigit())
    assert len(generations) == 2, generations  # the current one and the one before it
