"""NetSuite's part of ``scc sync --verify`` (:mod:`pipelines.verify`): figures and re-reads by key range.

Headers (customers, items, sales orders, invoices) are ranged on their internal id; lines on their
transaction, the key they are merged on, so a repaired range replaces every line of its transactions.
The small reference tables are re-read whole by every sync and are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pyarrow as pa

from pipelines.arrow import page_table, table_batches
from pipelines.netsuite import (
    _DATETIME,
    _LINE_TYPES,
    LINE_TABLES,
    TABLES,
    Table,
    _dlt_types,
    line_hints,
    line_query,
    merge_hints,
)
from pipelines.netsuite.client import NetSuiteClient
from pipelines.verify import Figures, VerifiedTable, markers, range_condition, stamp
from scc.config import Settings


def verified_tables(settings: Settings) -> list[VerifiedTable]:
    client = NetSuiteClient(settings)
    tables = [
        VerifiedTable(
            resource=t.name, table=t.name, key=t.key, stamp="lastmodifieddate",
            source_figures=partial(_table_figures, client, t), reread=partial(_table_rows, client, t),
            hints=merge_hints(t),
        )
        for t in TABLES if t.incremental
    ]
    for name, (tran_type, _) in LINE_TABLES.items():
        tables.append(VerifiedTable(
            resource=name, table=name, key="transaction", stamp="transaction_lastmodified",
            source_figures=partial(_line_figures, client, tran_type), reread=partial(_line_rows, client, tran_type),
            hints=line_hints(),
        ))
    return tables


def _figures(client: NetSuiteClient, query: str) -> Figures:
    (row,) = client.suiteql(query)["items"]
    return int(row["n"]), stamp(row.get("newest"))  # SuiteQL leaves a null out: no rows, no newest


def _table_figures(client: NetSuiteClient, table: Table, low, high) -> Figures:
    return _figures(client, (
        f"SELECT COUNT(*) AS n, MAX(TO_CHAR(r.lastmodifieddate, {_DATETIME})) AS newest FROM {table.source} r "
        f"WHERE {table.where} AND {range_condition('r.' + table.key, low, high)}"
    ))


def _line_figures(client: NetSuiteClient, tran_type: str, low, high) -> Figures:
    return _figures(client, (
        f"SELECT COUNT(*) AS n, MAX(TO_CHAR(t.lastmodifieddate, {_DATETIME})) AS newest "
        "FROM transactionline l INNER JOIN transaction t ON t.id = l.transaction "
        f"WHERE t.type = '{tran_type}' AND l.mainline = 'F' AND {range_condition('l.transaction', low, high)}"
    ))


def _table_rows(client: NetSuiteClient, table: Table, low, high, warehouse_keys: set) -> Iterator[pa.Table]:
    types = _dlt_types(table.columns, deletable=True)
    query = table.keyed_query(range_condition(f"r.{table.key}", low, high))
    seen: set = set()
    for batch in table_batches(client.keyset_pages(query, f"r.{table.key}"), types, as_text=True):
        seen.update(batch.column(table.key).to_pylist())
        yield batch
    if absent := warehouse_keys - seen:
        yield page_table(markers(absent, table.key, "_deleted", "lastmodifieddate"), types)


def _line_rows(client: NetSuiteClient, tran_type: str, low, high, warehouse_keys: set) -> Iterator[pa.Table]:
    types = _dlt_types(_LINE_TYPES, deletable=True)
    query = line_query(tran_type, condition=range_condition("l.transaction", low, high))
    seen: set = set()
    for batch in table_batches(client.keyset_pages(query, "l.uniquekey"), types, as_text=True):
        seen.update(batch.column("transaction").to_pylist())
        yield batch
    if absent := warehouse_keys - seen:  # transactions without lines now: the merge key removes theirs
        rows = markers(absent, "transaction", "_deleted", "transaction_lastmodified", lambda k: {"uniquekey": -k})
        yield page_table(rows, types)
