"""The Salesforce source: Account, Contact, Opportunity, OpportunityHistory, Task, Event and User.

* Fields come from ``describe``, so a custom field added in the org arrives as a new column, typed.
* Incremental on ``SystemModstamp`` (Salesforce bumps it on every change, deletes included), merged on
  ``Id``. Reads use ``queryAll`` so deleted rows come back with ``IsDeleted = true`` and are removed from
  the warehouse (a ``hard_delete`` column); ``deleted/`` covers records purged from the recycle bin.
* Each read starts where the previous one *started*, less ``SCC_SALESFORCE_CURSOR_LAG_SECONDS``
  (:mod:`pipelines.cursors`): what changed while a read ran is read again next time. The cursor is in
  the pipeline state, committed with each load: a run killed at any point starts again from the last
  committed cursor, and the merge makes the overlap harmless (no gaps, no duplicates).
* Records go to dlt as arrow tables typed from ``describe`` (:mod:`pipelines.arrow`), which dlt filters
  and writes without visiting every row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dlt

from pipelines.arrow import page_table, parse_datetime, table_batches
from pipelines.cursors import ReadWindow
from pipelines.progress import SyncProgress
from pipelines.salesforce.client import SalesforceClient
from scc.config import Settings, get_settings

OBJECTS = ("Account", "Contact", "Opportunity", "OpportunityHistory", "Task", "Event", "User")
CURSOR = "SystemModstamp"
EPOCH = "1970-01-01T00:00:00.000+0000"
# Objects the getDeleted resource supports (history rows and users are never purged that way).
PURGEABLE = {"Account", "Contact", "Opportunity", "Task", "Event"}
# Field types we cannot select in a flat SOQL query.
_COMPOUND = {"address", "location", "base64", "complexvalue"}
_DLT_TYPES = {
    "boolean": "bool",
    "int": "bigint",
    "double": "double",
    "currency": "double",
    "percent": "double",
    "date": "date",
    "datetime": "timestamp",
}


def soql_datetime(value: str | dt.datetime) -> str:
    """A datetime, or Salesforce's datetime text (``2024-01-05T10:20:30.000+0000``), as a SOQL literal."""
    parsed = parse_datetime(value)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def build_soql(sobject: str, field_names: list[str], since: str | dt.datetime) -> str:
    """The incremental read of one object: everything modified at or after ``since``, deleted included."""
    return (
        f"SELECT {', '.join(field_names)} FROM {sobject} "
        f"WHERE {CURSOR} >= {soql_datetime(since)} ORDER BY {CURSOR} ASC, Id ASC"
    )


def selectable_fields(describe: dict) -> list[dict]:
    return [f for f in describe["fields"] if f["type"] not in _COMPOUND]


@dlt.source(name="salesforce", max_table_nesting=0)
def salesforce_source(
    objects: tuple[str, ...] = OBJECTS,
    settings: Settings | None = None,
    progress: SyncProgress | None = None,
    client: SalesforceClient | None = None,
):
    """One resource per object. Nothing is fetched until a resource runs, so the source can be built
    (for Dagster's asset graph, say) without reaching Salesforce."""
    settings = settings or get_settings()
    progress = progress or SyncProgress("salesforce")
    client = client or SalesforceClient(settings, progress)
    for sobject in objects:
        resource = dlt.resource(_records, name=sobject, primary_key="Id", write_disposition="merge")
        yield resource(client, progress, sobject, settings.salesforce_cursor_lag_seconds)


def column_hints(describe: dict) -> dict:
    """dlt column hints from a describe result: every field typed, ``IsDeleted`` deleting the row."""
    columns = {
        f["name"]: {"data_type": _DLT_TYPES.get(f["type"], "text"), "nullable": True}
        for f in selectable_fields(describe)
    }
    if "IsDeleted" in columns:
        columns["IsDeleted"]["hard_delete"] = True
    if CURSOR in columns:
        # A record twice in one load (a purge marker and an undeleted version) keeps its newest version.
        columns[CURSOR]["dedup_sort"] = "desc"
    return columns


def _records(client: SalesforceClient, progress: SyncProgress, sobject: str, lag: float) -> Iterator:
    window = ReadWindow.open(lag, legacy_cursor=CURSOR)
    columns = column_hints(client.describe(sobject))
    types = {name: hint["data_type"] for name, hint in columns.items()}
    yield dlt.mark.with_hints([], dlt.mark.make_hints(columns=columns))
    progress.start(sobject)
    # Purged records first (the deletion feed; queryAll's IsDeleted rows come with the scan): a record
    # purged after this point is in the next window's feed.
    if sobject in PURGEABLE and not window.first:
        for markers in _purged(client, progress, sobject, window.since):
            yield page_table(markers, types)
    pages = client.query_pages(build_soql(sobject, list(columns), window.since), include_deleted=True)
    yield from table_batches(_counted(pages, progress, sobject), types)
    window.close()
    progress.finish(sobject)


def _counted(pages: Iterator[list[dict]], progress: SyncProgress, sobject: str) -> Iterator[list[dict]]:
    for page in pages:
        progress.page(sobject, len(page), deleted=sum(1 for r in page if r.get("IsDeleted")))
        yield page


def _purged(
    client: SalesforceClient, progress: SyncProgress, sobject: str, since: dt.datetime
) -> Iterator[list[dict]]:
    """Records hard-deleted or purged from the recycle bin since the last sync (getDeleted, 30 days back)."""
    now = dt.datetime.now(dt.timezone.utc)
    start = max(since, now - dt.timedelta(days=29))
    if now - start < dt.timedelta(minutes=1):
        start = now - dt.timedelta(minutes=1)  # the resource wants at least a minute's window
    markers = [
        {"Id": record["id"], "IsDeleted": True, CURSOR: _sf_datetime(record["deletedDate"])}
        for record in client.deleted(sobject, start, now)
    ]
    if markers:
        progress.page(sobject, 0, deleted=len(markers))
        yield markers


def _sf_datetime(value: str) -> str:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
    parsed = parsed.astimezone(dt.timezone.utc)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}+0000"
