"""Salesforce's part of ``scc sync --verify`` (:mod:`pipelines.verify`): figures and re-reads by Id range.

The figures are one aggregate SOQL query per range (``COUNT(Id)``, ``MAX(SystemModstamp)``) over live
records, which is what the warehouse keeps (deleted ones are removed).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import dlt
from dlt.common.normalizers.naming.snake_case import NamingConvention

from pipelines.arrow import page_table, table_batches
from pipelines.salesforce import CURSOR, OBJECTS, column_hints
from pipelines.salesforce.client import SalesforceClient
from pipelines.verify import Figures, VerifiedTable, markers, soql_where, stamp
from scc.config import Settings

_naming = NamingConvention()


def verified_tables(settings: Settings) -> list[VerifiedTable]:
    client = SalesforceClient(settings)
    return [
        VerifiedTable(
            resource=sobject, table=_naming.normalize_table_identifier(sobject),
            key=_naming.normalize_identifier("Id"), stamp=_naming.normalize_identifier(CURSOR),
            source_figures=partial(_figures, client, sobject),
            reread=partial(_rows, client, sobject), hints={"primary_key": "Id", "write_disposition": "merge"},
        )
        for sobject in OBJECTS
    ]


def _figures(client: SalesforceClient, sobject: str, low, high) -> Figures:
    soql = f"SELECT COUNT(Id) n, MAX({CURSOR}) newest FROM {sobject}{soql_where('Id', low, high)}"
    (row,) = next(client.query_pages(soql, include_deleted=False))
    return int(row["n"]), stamp(row.get("newest"))


def _rows(client: SalesforceClient, sobject: str, low, high, warehouse_keys: set) -> Iterator:
    columns = column_hints(client.describe(sobject))
    types = {name: hint["data_type"] for name, hint in columns.items()}
    yield dlt.mark.with_hints([], dlt.mark.make_hints(columns=columns))
    soql = f"SELECT {', '.join(columns)} FROM {sobject}{soql_where('Id', low, high)} ORDER BY Id"
    seen: set = set()
    for batch in table_batches(client.query_pages(soql, include_deleted=False), types):
        seen.update(batch.column("Id").to_pylist())
        yield batch
    absent = warehouse_keys - seen
    if absent and "IsDeleted" in columns:  # users are deactivated, never deleted
        yield page_table(markers(absent, "Id", "IsDeleted", CURSOR), types)
