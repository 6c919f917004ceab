"""Pages of records as pyarrow tables: dlt's fast path for both sources.

A resource that yields arrow tables skips dlt's per-row work: the normalize stage copies the parquet file
extract wrote (adding ``_dlt_id``) instead of visiting every value of every row. The price is that dlt no longer coerces
values: the tables must already carry the warehouse types, which :func:`page_table` gives them from the
same dlt column types the resources declare as hints (dlt keeps the hints and warns if they differ).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

# dlt's extract spends a few milliseconds on every item whatever its size (it recomputes and validates
# the table schema from the hints), so a table per 1,000-row page would cost more there than the rows.
BATCH_ROWS = 10_000
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
# dlt data type -> arrow type (the types the sources' column hints use)
ARROW_TYPES = {
    "text": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": UTC_TIMESTAMP,
}
_PARSED = {"date", "timestamp"}  # always arrive as text, from both vendors
_NULL_TEXT = pa.scalar(None, pa.string())


def table_batches(
    pages: Iterable[list[dict]], types: dict[str, str], *, as_text: bool = False, rows: int = BATCH_ROWS
) -> Iterator[pa.Table]:
    """Pages of records as arrow tables (:func:`page_table`) of at least ``rows`` rows, the last smaller."""
    batch: list[dict] = []
    for page in pages:
        batch.extend(page)
        if len(batch) >= rows:
            yield page_table(batch, types, as_text=as_text)
            batch = []
    if batch:
        yield page_table(batch, types, as_text=as_text)


def page_table(rows: list[dict], types: dict[str, str], *, as_text: bool = False) -> pa.Table:
    """One page of records as an arrow table: a column per entry of ``types`` (name -> dlt data type), in
    that order, null where a record lacks the key (deletion markers, SuiteQL's omitted null columns).

    Values are JSON-typed (numbers, booleans, text; dates and datetimes as text) unless ``as_text``:
    SuiteQL returns every value as text, and an empty text there means null.
    """
    arrays = []
    for name, kind in types.items():
        values = list(map(dict.get, rows, repeat(name)))  # [row.get(name) for row in rows], faster
        if as_text or kind in _PARSED:
            text = pa.array(values, type=pa.string())
            if as_text:
                text = pc.if_else(pc.equal(text, ""), _NULL_TEXT, text)
            arrays.append(_parse(text, kind))
        else:
            arrays.append(_typed(values, kind))
    return pa.Table.from_arrays(arrays, schema=pa.schema([(n, ARROW_TYPES[k]) for n, k in types.items()]))


def _typed(values: list[Any], kind: str) -> pa.Array:
    try:
        return pa.array(values, type=ARROW_TYPES[kind])
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        if kind != "text":
            raise
        # a field typed as text that sends a number or a boolean: keep it, as text (as dlt's coercion did)
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _parse(text: pa.Array, kind: str) -> pa.Array:
    if kind == "text":
        return text
    if kind != "timestamp":
        return text.cast(ARROW_TYPES[kind])  # numbers, booleans, ISO dates (YYYY-MM-DD)
    try:
        return text.cast(UTC_TIMESTAMP)  # with an offset: Salesforce's 2024-01-05T10:20:30.000+0000
    except pa.ArrowInvalid:
        # without one: NetSuite's TO_CHAR(..., 'YYYY-MM-DD HH24:MI:SS'), which is UTC
        return text.cast(pa.timestamp("us")).cast(UTC_TIMESTAMP)


def parse_datetime(value: str | dt.datetime) -> dt.datetime:
    """A cursor value as an aware UTC datetime: either vendor's datetime text, or a datetime already."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)
