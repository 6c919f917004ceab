"""Compare the warehouse's raw tables with the emulators' own stores, row by row.

The gold side is read straight from the emulators' SQLite files, never through the pipelines, and both
sides are put in one canonical form per column type before a per-row checksum is taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass

from dlt.common.normalizers.naming.snake_case import NamingConvention

from emulators.schema import NETSUITE_TABLES, SALESFORCE_OBJECTS

_naming = NamingConvention()


def column_name(source_name: str) -> str:
    """The warehouse name of a source field (dlt keeps ``__``, its path separator, as in ``Tier__c``)."""
    return _naming.normalize_path(source_name)


def _canon(value, kind: str):
    if value is None:
        return None
    if kind in {"boolean"}:
        return bool(value) if not isinstance(value, str) else value in ("T", "true", "1")
    if kind in {"currency", "double", "percent", "float"}:
        return round(float(value), 4)
    if kind in {"int", "integer"}:
        return int(value)
    if kind == "datetime":
        if isinstance(value, str):
            text = value.replace("Z", "+00:00").replace("+0000", "+00:00")
            value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    return str(value)


@dataclass
class Comparison:
    table: str
    store_rows: int
    warehouse_rows: int
    missing: list  # keys in the store, not in the warehouse
    extra: list  # keys in the warehouse, not in the store
    different: list  # keys whose checksums differ
    duplicates: int  # warehouse keys that occur more than once

    @property
    def exact(self) -> bool:
        return not (self.missing or self.extra or self.different or self.duplicates)

    def __str__(self) -> str:
        return (
            f"{self.table}: store {self.store_rows}, warehouse {self.warehouse_rows}, missing {self.missing[:5]}, "
            f"extra {self.extra[:5]}, different {self.different[:5]}, duplicates {self.duplicates}"
        )


def _checksums(rows, keys: list[str], kinds: list[str]) -> tuple[dict, int]:
    sums, dupes = {}, 0
    for row in rows:
        canon = tuple(_canon(v, k) for v, k in zip(row, kinds))
        key = canon[0]
        if key in sums:
            dupes += 1
        sums[key] = hashlib.sha256(repr(canon).encode()).hexdigest()
    return sums, dupes


def compare(name: str, store_rows, warehouse_rows, kinds: list[str]) -> Comparison:
    gold, _ = _checksums(store_rows, [], kinds)
    got, dupes = _checksums(warehouse_rows, [], kinds)
    return Comparison(
        table=name,
        store_rows=len(gold),
        warehouse_rows=len(got) + dupes,
        missing=sorted(set(gold) - set(got)),
        extra=sorted(set(got) - set(gold)),
        different=sorted(k for k in set(gold) & set(got) if gold[k] != got[k]),
        duplicates=dupes,
    )


def salesforce_comparisons(store_path, warehouse, schema: str = "raw_salesforce") -> list[Comparison]:
    """``warehouse`` is a DB-API connection (DuckDB or psycopg) to the warehouse."""
    store = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    results = []
    for sobject, (_, columns) in SALESFORCE_OBJECTS.items():
        custom = [(n, t) for n, t in store.execute("SELECT name, type FROM _custom_fields WHERE object = ?", (sobject,))]
        cols = [(c.name, c.type) for c in columns] + custom
        where = ' WHERE "IsDeleted" = 0' if any(n == "IsDeleted" for n, _ in cols) else ""
        store_rows = store.execute(f'SELECT {", ".join(chr(34) + n + chr(34) for n, _ in cols)} FROM "{sobject}"{where}').fetchall()
        table = column_name(sobject)
        wh_cols = ", ".join(f'"{column_name(n)}"' for n, _ in cols)
        cursor = warehouse.cursor()
        cursor.execute(f"SELECT {wh_cols} FROM {schema}.{table}")
        results.append(compare(sobject, store_rows, cursor.fetchall(), [t for _, t in cols]))
    return results


# warehouse table -> (SQL over the NetSuite store, columns in order, their kinds)
def _netsuite_specs():
    from pipelines.netsuite import _LINE_COLUMNS, TABLES

    kind = {"int": "integer", "float": "float", "text": "text", "date": "date", "datetime": "datetime"}
    specs = {}
    for table in TABLES:
        where = table.where.replace("r.", "") if table.where != "1 = 1" else "1 = 1"
        cols = list(table.columns)
        if table.name == "inventory":
            cols = ["item", "location", *[c for c in cols if c not in ("item", "location")]]
        key_expr = "item * 100000 + location AS k, " if table.name == "inventory" else ""
        specs[table.name] = (
            f'SELECT {key_expr}{", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{table.source}" WHERE {where}',
            cols,
            ([("integer")] if key_expr else []) + [kind[table.columns[c]] for c in cols],
            "item * 100000 + location AS k, " if key_expr else "",
        )
    for name, tran_type in (("sales_order_lines", "SalesOrd"), ("invoice_lines", "CustInvc")):
        cols = ["uniquekey", *[c for c in _LINE_COLUMNS if c != "uniquekey"]]
        specs[name] = (
            f'SELECT {", ".join("l." + chr(34) + c + chr(34) for c in cols)} FROM transactionline l '
            f"JOIN \"transaction\" t ON t.id = l.\"transaction\" WHERE t.type = '{tran_type}' AND l.mainline = 'F'",
            cols,
            [kind[_LINE_COLUMNS[c]] for c in cols],
            "",
        )
    return specs


def netsuite_comparisons(store_path, warehouse, schema: str = "raw_netsuite") -> list[Comparison]:
    store = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    results = []
    for table, (sql, cols, kinds, key_expr) in _netsuite_specs().items():
        store_rows = store.execute(sql).fetchall()
        cursor = warehouse.cursor()
        wh_cols = ", ".join(f'"{column_name(c)}"' for c in cols)
        cursor.execute(f"SELECT {key_expr}{wh_cols} FROM {schema}.{table}")
        results.append(compare(table, store_rows, cursor.fetchall(), kinds))
    return results


def assert_exact(comparisons: list[Comparison]) -> None:
    wrong = [str(c) for c in comparisons if not c.exact]
    assert not wrong, "warehouse differs from the emulator's store:\n" + "\n".join(wrong)
    assert all(c.store_rows > 0 for c in comparisons), "a table is empty: " + str([str(c) for c in comparisons])
