"""``scc sync --verify``: compare each raw table with its source by key range, and repair what drifted.

The incremental syncs are exact by design (:mod:`pipelines.cursors`); this is the nightly proof, and the
repair for what no design covers: a change committed later than the cursor lag allows, a row edited or
deleted in the warehouse by hand, a bug.

For every incremental raw table the warehouse's keys are cut into ranges of about
``SCC_SYNC_VERIFY_RANGE_ROWS`` rows. For each range the source is asked for its row count and newest
modification stamp, one cheap aggregate query (COUNT and MAX over SuiteQL or SOQL), and the warehouse for
the same. A range whose figures differ has drifted: it is re-read whole from the source and merged, and
the keys the warehouse holds there but the source no longer does are deleted. The first range is open
below and the last open above, so rows the warehouse lacks beyond its own keys are counted too. The
cursors are not touched: the next incremental sync goes on from where it was.

What the figures cannot see: a row that differs from the source's but carries a stamp that is neither
the newest of its range nor missing (its content changed without its stamp, which only a hand edit in the
warehouse does), and a missing row exactly offset by an extra one in the same range with no stamp moved.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines.arrow import parse_datetime
from scc.config import Settings, get_settings
from scc.warehouse import connect, is_postgres

Key = int | str
# (row count, newest modification stamp) of one key range, on either side
Figures = tuple[int, dt.datetime | None]


@dataclass(frozen=True)
class VerifiedTable:
    """How to check and repair one raw table; each source describes its own (``verified_tables``)."""

    resource: str  # the dlt resource, which is also the raw table
    table: str  # the raw table's name in the warehouse
    key: str  # warehouse column the ranges are cut on
    stamp: str  # warehouse column of the modification stamp
    source_figures: Callable[[Key | None, Key | None], Figures]  # the source's figures for [low, high)
    # every source row of [low, high) as arrow tables, then deletion markers for the given warehouse keys
    # the source did not return
    reread: Callable[[Key | None, Key | None, set], Iterator[Any]]
    hints: dict  # the dlt resource hints of the sync's own resource (keys, merge, columns)


@dataclass
class RangeCheck:
    table: str
    low: Key | None  # inclusive; None: open below
    high: Key | None  # exclusive; None: open above
    source: Figures
    warehouse: Figures
    after_repair: Figures | None = None

    @property
    def drifted(self) -> bool:
        return self.source != self.warehouse

    @property
    def repaired(self) -> bool:
        return self.after_repair is not None and self.after_repair == self.source

    def __str__(self) -> str:
        return (f"{self.table} [{self.low}, {self.high}): source {self.source[0]} rows, newest {self.source[1]}; "
                f"warehouse {self.warehouse[0]} rows, newest {self.warehouse[1]}")


@dataclass
class VerifyResult:
    source: str
    ranges: list[RangeCheck] = field(default_factory=list)

    @property
    def drifted(self) -> list[RangeCheck]:
        return [r for r in self.ranges if r.drifted]

    @property
    def unrepaired(self) -> list[RangeCheck]:
        return [r for r in self.drifted if not r.repaired]

    def tables(self) -> dict[str, list[RangeCheck]]:
        by_table: dict[str, list[RangeCheck]] = {}
        for check in self.ranges:
            by_table.setdefault(check.table, []).append(check)
        return by_table


def verify(
    source: str, *, repair: bool = True, settings: Settings | None = None, range_rows: int | None = None
) -> VerifyResult:
    """Compare every incremental raw table of ``source`` with the source by key range; re-read the
    ranges that drifted (unless ``repair`` is false) and check them again."""
    settings = settings or get_settings()
    range_rows = range_rows or settings.sync_verify_range_rows
    tables = verified_tables(source, settings)
    result = VerifyResult(source)
    with connect(settings) as conn:
        loaded = _loaded_tables(conn, source, settings)
        for table in tables:
            if table.table not in loaded:
                continue  # never synced: nothing to compare yet
            for low, high in key_ranges(_boundaries(conn, settings, source, table, range_rows)):
                figures = _warehouse_figures(conn, settings, source, table, low, high)
                result.ranges.append(RangeCheck(table.table, low, high, table.source_figures(low, high), figures))
    drifted = result.drifted
    if repair and drifted:
        _repair(source, settings, tables, drifted)
        by_name = {t.table: t for t in tables}
        with connect(settings) as conn:
            for check in drifted:
                check.after_repair = _warehouse_figures(conn, settings, source, by_name[check.table],
                                                        check.low, check.high)
                # the source may have moved on meanwhile; what counts is that both sides agree now
                check.source = by_name[check.table].source_figures(check.low, check.high)
    return result


def verified_tables(source: str, settings: Settings) -> list[VerifiedTable]:
    if source == "netsuite":
        from pipelines.netsuite.verify import verified_tables as tables
    elif source == "salesforce":
        from pipelines.salesforce.verify import verified_tables as tables
    else:
        raise ValueError(f"unknown source {source!r}")
    return tables(settings)


def key_ranges(boundaries: list[Key]) -> list[tuple[Key | None, Key | None]]:
    """[(None, b1), (b1, b2), ..., (bn, None)]: every key falls in exactly one range, however far out."""
    edges: list[Key | None] = [None, *boundaries, None]
    return list(zip(edges[:-1], edges[1:]))


def range_condition(column: str, low: Key | None, high: Key | None) -> str:
    """``column >= low AND column < high``, either side left out when open (both: ``1 = 1``, which SOQL
    does not take: see :func:`soql_where`), keys quoted safely."""
    parts = [f"{column} >= {literal(low)}" if low is not None else "",
             f"{column} < {literal(high)}" if high is not None else ""]
    return " AND ".join(p for p in parts if p) or "1 = 1"


def soql_where(column: str, low: Key | None, high: Key | None) -> str:
    """`` WHERE <range>``, or nothing for a range open on both sides (SOQL has no constant conditions)."""
    condition = range_condition(column, low, high)
    return "" if condition == "1 = 1" else f" WHERE {condition}"


def literal(key: Key) -> str:
    """A key as a SQL/SOQL/SuiteQL literal. Keys are integers or vendor ids (letters and digits), so
    nothing else is accepted: no quoting rules to get wrong."""
    if isinstance(key, int):
        return str(key)
    if not re.fullmatch(r"[A-Za-z0-9]+", str(key)):
        raise ValueError(f"not a key: {key!r}")
    return f"'{key}'"


def stamp(value) -> dt.datetime | None:
    """A modification stamp from either side as an aware UTC datetime to the millisecond (the finest
    both vendors keep), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = value.replace("+0000", "+00:00")
    parsed = parse_datetime(value)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def markers(
    absent: Iterable[Key], key: str, deleted: str, cursor: str, extra: Callable[[Key], dict] | None = None
) -> list[dict]:
    """Deletion markers for warehouse keys the source no longer has (``deleted`` is the hard-delete column)."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")  # either vendor's text parses
    return [{key: k, deleted: True, cursor: now, **(extra(k) if extra else {})} for k in sorted(absent)]


# --- the warehouse side ------------------------------------------------------------------------------


def _dataset(source: str) -> str:
    from pipelines.run import DATASETS

    return DATASETS[source]


def _query(conn, settings: Settings, sql: str) -> list[tuple]:
    cursor = conn.cursor() if is_postgres(settings) else conn
    cursor.execute(sql)
    return cursor.fetchall()


def _loaded_tables(conn, source: str, settings: Settings) -> set[str]:
    rows = _query(conn, settings, "SELECT table_name FROM information_schema.tables "
                  f"WHERE table_schema = '{_dataset(source)}'")
    return {r[0] for r in rows}


def _boundaries(conn, settings: Settings, source: str, table: VerifiedTable, range_rows: int) -> list[Key]:
    """Every ``range_rows``-th key of the warehouse table, in key order: where the ranges are cut."""
    rows = _query(conn, settings, f"""
        SELECT DISTINCT {table.key} FROM (
            SELECT {table.key}, row_number() OVER (ORDER BY {table.key}) AS rn
            FROM {_dataset(source)}.{table.table}
        ) numbered WHERE rn % {int(range_rows)} = 0 ORDER BY {table.key}""")
    return [r[0] for r in rows]


def _warehouse_figures(conn, settings: Settings, source: str, table: VerifiedTable, low, high) -> Figures:
    (count, newest), = _query(conn, settings, f"SELECT count(*), max({table.stamp}) FROM "
                              f"{_dataset(source)}.{table.table} WHERE {range_condition(table.key, low, high)}")
    return int(count), stamp(newest)


def warehouse_keys(source: str, table: VerifiedTable, low, high, settings: Settings) -> set:
    with connect(settings) as conn:
        rows = _query(conn, settings, f"SELECT DISTINCT {table.key} FROM {_dataset(source)}.{table.table} "
                      f"WHERE {range_condition(table.key, low, high)}")
    return {r[0] for r in rows}


# --- the repair --------------------------------------------------------------------------------------


def _repair(source: str, settings: Settings, tables: list[VerifiedTable], drifted: list[RangeCheck]) -> None:
    """Re-read the drifted ranges through the sync's own pipeline (same tables, same merge), in one load."""
    import dlt

    from pipelines.run import pipeline_for

    by_table: dict[str, list[RangeCheck]] = {}
    for check in drifted:
        by_table.setdefault(check.table, []).append(check)
    resources = []
    for table in tables:
        checks = by_table.get(table.table)
        if not checks:
            continue
        # the warehouse keys of each range are read now, before the load opens the warehouse for writing
        ranges = [(c.low, c.high, warehouse_keys(source, table, c.low, c.high, settings)) for c in checks]
        resources.append(dlt.resource(_reread, name=table.resource, **table.hints)(table, ranges))
    def ranges_to_repair():
        return resources

    pipeline = pipeline_for(source, settings)
    # The same source name as the sync's, so its schema (and nothing of its cursors) is what is used.
    repair_source = dlt.source(ranges_to_repair, name=source, max_table_nesting=0)()
    info = pipeline.run(repair_source, loader_file_format="csv" if is_postgres(settings) else "parquet")
    info.raise_on_failed_jobs()


def _reread(table: VerifiedTable, ranges: list) -> Iterator[Any]:
    for low, high, keys in ranges:
        yield from table.reread(low, high, keys)
