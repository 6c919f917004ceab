"""The NetSuite source: customers, items, inventory by location, employees, locations, sales orders and
invoices with their lines, all through SuiteQL.

* Incremental on ``lastmodifieddate`` and merged on the internal id; lines are re-read for every changed
  transaction and merged on the transaction (``merge_key``), so a line removed in NetSuite goes too.
  Each read starts where the previous one *started*, less ``SCC_NETSUITE_CURSOR_LAG_SECONDS``
  (:mod:`pipelines.cursors`), so nothing changed while a read runs is left behind its cursor.
* Deletions come from SuiteQL's ``deletedrecord`` table over the same window and remove the record (and
  its lines).
* Pages are cut by key (``WHERE id > :last ORDER BY id``), never by offset alone, since SuiteQL stops at
  100,000 rows per query; a page by offset is checked for rows that moved meanwhile
  (:meth:`NetSuiteClient.keyset_pages`).
* Small reference tables (inventory, employees, locations) are re-read whole each run, paged by offset.
SuiteQL returns every value as text; dates only as ``M/D/YYYY`` unless formatted, so the queries
format them with ``TO_CHAR``, and the rows go to dlt as arrow tables with every column typed
(:mod:`pipelines.arrow`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import dlt
import pyarrow as pa

from pipelines.arrow import page_table, parse_datetime, table_batches
from pipelines.cursors import ReadWindow
from pipelines.netsuite.client import NetSuiteClient
from pipelines.progress import SyncProgress
from scc.config import Settings, get_settings

EPOCH = "1970-01-01 00:00:00"
_DATETIME = "'YYYY-MM-DD HH24:MI:SS'"
_DATE = "'YYYY-MM-DD'"
_DLT_TYPES = {"int": "bigint", "float": "double", "text": "text", "date": "date", "datetime": "timestamp"}


@dataclass(frozen=True)
class Table:
    """One warehouse table read from SuiteQL: its columns (name -> type), where and how."""

    name: str
    source: str  # SuiteQL table, aliased ``r``
    columns: dict[str, str]
    key: str = "id"
    where: str = "1 = 1"
    incremental: bool = True
    deleted_type: str | None = None  # record type in deletedrecord

    def query(self, since: str | dt.datetime = EPOCH) -> str:
        """The SuiteQL read: changes since ``since`` paged by key, or the whole small table by offset."""
        if not self.incremental:
            order = "r.item, r.location" if self.name == "inventory" else f"r.{self.key}"
            return f"SELECT {self.select()} FROM {self.source} r WHERE {self.where} ORDER BY {order}"
        return self.keyed_query(_since_clause("r.lastmodifieddate", since))

    def keyed_query(self, condition: str) -> str:
        """The rows meeting ``condition`` (on alias ``r``), paged by key (``{after}``)."""
        return (
            f"SELECT {self.select()} FROM {self.source} r WHERE {self.where} "
            f"AND {condition} AND {{after}} ORDER BY r.{self.key}"
        )

    def select(self) -> str:
        parts = []
        for column, kind in self.columns.items():
            expr = f"r.{column}"
            if kind == "datetime":
                expr = f"TO_CHAR(r.{column}, {_DATETIME})"
            elif kind == "date":
                expr = f"TO_CHAR(r.{column}, {_DATE})"
            parts.append(f"{expr} AS {column}")
        return ", ".join(parts)


_TRANSACTION_COLUMNS = {
    "id": "int", "tranid": "text", "type": "text", "entity": "int", "employee": "int", "trandate": "date",
    "duedate": "date", "status": "text", "foreigntotal": "float", "foreignamountunpaid": "float",
    "createdfrom": "int", "memo": "text", "externalid": "text", "source": "text", "createddate": "datetime",
    "lastmodifieddate": "datetime",
}
_LINE_COLUMNS = {
    "uniquekey": "int", "transaction": "int", "id": "int", "linesequencenumber": "int", "item": "int",
    "location": "int", "quantity": "float", "rate": "float", "foreignamount": "float",
    "quantityshiprecv": "float", "quantitybilled": "float", "isclosed": "text",
}

TABLES: tuple[Table, ...] = (
    Table("customers", "customer", {
        "id": "int", "entityid": "text", "companyname": "text", "email": "text", "phone": "text",
        "salesrep": "int", "creditlimit": "float", "balance": "float", "terms": "text", "category": "text",
        "isinactive": "text", "externalid": "text", "datecreated": "datetime", "lastmodifieddate": "datetime",
    }, deleted_type="customer"),
    Table("items", "item", {
        "id": "int", "itemid": "text", "displayname": "text", "salesdescription": "text", "itemtype": "text",
        "custitem_scc_category": "text", "baseprice": "float", "custitem_scc_min_price": "float",
        "cost": "float", "isinactive": "text", "externalid": "text", "createddate": "datetime",
        "lastmodifieddate": "datetime",
    }, deleted_type="item"),
    Table("sales_orders", "transaction", _TRANSACTION_COLUMNS, where="r.type = 'SalesOrd'",
          deleted_type="salesorder"),
    Table("invoices", "transaction", _TRANSACTION_COLUMNS, where="r.type = 'CustInvc'", deleted_type="invoice"),
    Table("inventory", "inventoryitemlocations", {
        "item": "int", "location": "int", "quantityonhand": "float", "quantityavailable": "float",
        "quantitycommitted": "float", "quantitybackordered": "float",
    }, key="item", incremental=False),
    Table("employees", "employee", {
        "id": "int", "entityid": "text", "firstname": "text", "lastname": "text", "email": "text",
        "issalesrep": "text", "isinactive": "text", "custentity_scc_sf_user_id": "text",
    }, incremental=False),
    Table("locations", "location", {"id": "int", "name": "text", "isinactive": "text"}, incremental=False),
)
LINE_TABLES = {"sales_order_lines": ("SalesOrd", "salesorder"), "invoice_lines": ("CustInvc", "invoice")}


_LINE_TYPES = {**_LINE_COLUMNS, "transaction_lastmodified": "datetime"}


def _dlt_types(columns: dict[str, str], *, deletable: bool) -> dict[str, str]:
    """The dlt data type of every column; ``_deleted`` (true only on deletion markers) if ``deletable``."""
    types = {name: _DLT_TYPES[kind] for name, kind in columns.items()}
    if deletable:
        types["_deleted"] = "bool"
    return types


def merge_hints(table: Table) -> dict:
    """The dlt hints of an incremental table's resource (the sync's, and ``--verify``'s repair)."""
    return {"primary_key": table.key, "write_disposition": "merge",
            "columns": _dlt_columns(table.columns, deletable=True, stamp="lastmodifieddate")}


def _dlt_columns(columns: dict[str, str], *, deletable: bool, stamp: str | None = None) -> dict:
    types = _dlt_types(columns, deletable=deletable)
    hints = {name: {"data_type": kind, "nullable": True} for name, kind in types.items()}
    if deletable:
        hints["_deleted"]["hard_delete"] = True
    if stamp:
        # A record twice in one load (read, then its deletion marker) keeps its newest version.
        hints[stamp]["dedup_sort"] = "desc"
    return hints


@dlt.source(name="netsuite", max_table_nesting=0)
def netsuite_source(
    tables: tuple[str, ...] | None = None,
    settings: Settings | None = None,
    progress: SyncProgress | None = None,
    client: NetSuiteClient | None = None,
):
    settings = settings or get_settings()
    progress = progress or SyncProgress("netsuite")
    client = client or NetSuiteClient(settings, progress)
    wanted = set(tables) if tables else None
    for table in TABLES:
        if wanted and table.name not in wanted:
            continue
        if table.incremental:
            resource = dlt.resource(_incremental_rows, name=table.name, **merge_hints(table))
            yield resource(client, progress, table, settings.netsuite_cursor_lag_seconds)
        else:
            resource = dlt.resource(
                _all_rows, name=table.name, write_disposition="replace",
                columns=_dlt_columns(table.columns, deletable=False),
            )
            yield resource(client, progress, table)
    for name, (tran_type, deleted_type) in LINE_TABLES.items():
        if wanted and name not in wanted:
            continue
        resource = dlt.resource(_line_rows, name=name, **line_hints())
        yield resource(client, progress, name, tran_type, deleted_type, settings.netsuite_cursor_lag_seconds)


def _since_clause(column: str, since: str | dt.datetime) -> str:
    text = parse_datetime(since).strftime("%Y-%m-%d %H:%M:%S")
    return f"{column} >= TO_TIMESTAMP('{text}', {_DATETIME})"


def _incremental_rows(
    client: NetSuiteClient, progress: SyncProgress, table: Table, lag: float
) -> Iterator[pa.Table]:
    window = ReadWindow.open(lag, legacy_cursor="lastmodifieddate")
    types = _dlt_types(table.columns, deletable=True)
    progress.start(table.name)
    # Deletions first: a record deleted after this point is absent from the scan, and in the next
    # window's feed; read after the scan, a marker could share a load with a version read before it.
    if table.deleted_type and not window.first:
        deleted = _deleted_markers(client, progress, table.name, table.deleted_type, window.since, key=table.key)
        for markers in deleted:
            yield page_table(markers, types)
    pages = client.keyset_pages(table.query(window.since), f"r.{table.key}")
    yield from table_batches(_counted(pages, progress, table.name), types, as_text=True)
    window.close()
    progress.finish(table.name)


def _all_rows(client: NetSuiteClient, progress: SyncProgress, table: Table) -> Iterator[pa.Table]:
    types = _dlt_types(table.columns, deletable=False)
    progress.start(table.name)
    pages = client.offset_pages(table.query())
    yield from table_batches(_counted(pages, progress, table.name), types, as_text=True)
    progress.finish(table.name)


def _line_rows(
    client: NetSuiteClient,
    progress: SyncProgress,
    name: str,
    tran_type: str,
    deleted_type: str,
    lag: float,
) -> Iterator[pa.Table]:
    window = ReadWindow.open(lag, legacy_cursor="transaction_lastmodified")
    types = _dlt_types(_LINE_TYPES, deletable=True)
    progress.start(name)
    if not window.first:  # deletions first, as for the transactions themselves
        for markers in _deleted_markers(client, progress, name, deleted_type, window.since, key="transaction"):
            yield page_table(markers, types)
    pages = client.keyset_pages(line_query(tran_type, window.since), "l.uniquekey")
    yield from table_batches(_counted(pages, progress, name), types, as_text=True)
    window.close()
    progress.finish(name)


def _counted(pages: Iterator[list[dict]], progress: SyncProgress, resource: str) -> Iterator[list[dict]]:
    for page in pages:
        progress.page(resource, len(page))
        yield page


def line_hints() -> dict:
    """The dlt hints of a line table's resource: merged on the transaction, so removed lines go too."""
    return {"primary_key": "uniquekey", "merge_key": "transaction", "write_disposition": "merge",
            "columns": _dlt_columns(_LINE_TYPES, deletable=True)}


def line_query(tran_type: str, since: str | dt.datetime = EPOCH, *, condition: str | None = None) -> str:
    """The lines of every transaction of ``tran_type`` changed since ``since`` (or meeting ``condition``,
    on aliases ``l`` and ``t``), paged by line key."""
    select = ", ".join(
        f"TO_CHAR(t.lastmodifieddate, {_DATETIME}) AS transaction_lastmodified" if c == "transaction_lastmodified"
        else f"l.{c} AS {c}"
        for c in _LINE_TYPES
    )
    return (
        f"SELECT {select} FROM transactionline l INNER JOIN transaction t ON t.id = l.transaction "
        f"WHERE t.type = '{tran_type}' AND l.mainline = 'F' "
        f"AND {condition or _since_clause('t.lastmodifieddate', since)} "
        "AND {after} ORDER BY l.uniquekey"
    )


def _deleted_markers(
    client: NetSuiteClient,
    progress: SyncProgress,
    resource: str,
    record_type: str,
    since: dt.datetime,
    *,
    key: str,
) -> Iterator[list[dict]]:
    """Rows that tell the merge to remove what NetSuite deleted since the last sync (typed values, the
    datetime as SuiteQL's text)."""
    query = (
        "SELECT r.id AS id, r.recordid AS recordid, TO_CHAR(r.deleteddate, 'YYYY-MM-DD HH24:MI:SS') AS deleteddate "
        f"FROM deletedrecord r WHERE r.recordtype = '{record_type}' AND {_since_clause('r.deleteddate', since)} "
        "AND {after} ORDER BY r.id"
    )
    cursor = "transaction_lastmodified" if key == "transaction" else "lastmodifieddate"
    for page in client.keyset_pages(query, "r.id"):
        markers = []
        for row in page:
            marker = {key: int(row["recordid"]), "_deleted": True, cursor: row["deleteddate"]}
            if key == "transaction":  # a line marker needs its own primary key; the merge key does the work
                marker["uniquekey"] = -int(row["recordid"])
            markers.append(marker)
        progress.page(resource, 0, deleted=len(markers))
        yield markers
