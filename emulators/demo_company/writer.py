"""Bulk writing of generated columns into a store, with a content hash per table.

Columns are handed over whole (numpy arrays, lists, or one constant for every row); rows are built in
chunks with ``zip`` and written with ``executemany`` inside one transaction per table. The same values
feed a sha256 per table, so the company's fingerprint costs no second pass over the stores.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections.abc import Callable, Sequence

import numpy as np

from ..schema import Column

CHUNK = 50_000


class TableWriter:
    def __init__(
        self, conn: sqlite3.Connection, table: str, columns: Sequence[Column], report: Callable | None
    ):
        self.conn = conn
        self.table = table
        self.names = [c.name for c in columns]
        self.hash = hashlib.sha256(table.encode() + b"\x00" + "\x00".join(self.names).encode())
        self.rows = 0
        self._report = report
        cols = ", ".join(f'"{n}"' for n in self.names)
        marks = ", ".join("?" for _ in self.names)
        self._sql = f'INSERT INTO "{table}" ({cols}) VALUES ({marks})'

    def write(self, n: int, data: dict[str, object]) -> None:
        """Append ``n`` rows; ``data`` maps column name to a length-``n`` sequence or a constant."""
        unknown = set(data) - set(self.names)
        if unknown:
            raise KeyError(f"{self.table}: unknown columns {sorted(unknown)}")
        if n == 0:
            return
        h = self.hash
        prepared: list[tuple[str, object]] = []
        for name in self.names:
            value = data.get(name)
            h.update(name.encode())
            if isinstance(value, np.ndarray):
                if len(value) != n:
                    raise ValueError(f"{self.table}.{name}: {len(value)} values for {n} rows")
                if value.dtype.kind in "iub":
                    value = np.ascontiguousarray(value, dtype=np.int64)
                elif value.dtype.kind == "f":
                    value = np.ascontiguousarray(value, dtype=np.float64)
                else:
                    raise TypeError(f"{self.table}.{name}: unsupported dtype {value.dtype}")
                h.update(value.tobytes())
                prepared.append(("array", value))
            elif isinstance(value, list):
                if len(value) != n:
                    raise ValueError(f"{self.table}.{name}: {len(value)} values for {n} rows")
                for i in range(0, n, CHUNK):
                    h.update(repr(value[i : i + CHUNK]).encode())
                prepared.append(("list", value))
            else:
                h.update(repr(value).encode() + str(n).encode())
                prepared.append(("const", value))
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            cols = []
            for kind, value in prepared:
                if kind == "array":
                    cols.append(value[start:stop].tolist())
                elif kind == "list":
                    cols.append(value[start:stop])
                else:
                    cols.append(itertools.repeat(value, stop - start))
            self.conn.executemany(self._sql, zip(*cols))
            self.rows += stop - start
            if self._report:
                self._report(self.rows)


class StoreWriter:
    """Writes the tables of one store; ``digests`` collects each table's content hash."""

    def __init__(
        self, conn: sqlite3.Connection, columns_of: Callable[[str], Sequence[Column]], progress=None
    ):
        self.conn = conn
        self.columns_of = columns_of
        self.progress = progress
        self.digests: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def table(self, table: str, total: int, step: str | None = None):
        return _TableContext(self, table, total, step or table)


class _TableContext:
    def __init__(self, store: StoreWriter, table: str, total: int, step: str):
        self.store, self.table, self.total, self.step = store, table, total, step

    def __enter__(self) -> TableWriter:
        progress = self.store.progress
        report = None
        if progress is not None:
            total = max(self.total, 1)

            def report(done: int) -> None:
                progress(self.step, min(done, total), total)

            progress(self.step, 0, total)
        self.writer = TableWriter(self.store.conn, self.table, self.store.columns_of(self.table), report)
        self.store.conn.execute("BEGIN")
        return self.writer

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.store.conn.execute("ROLLBACK")
            return
        self.store.conn.execute("COMMIT")
        self.store.digests[self.table] = self.writer.hash.hexdigest()
        self.store.counts[self.table] = self.writer.rows
        if self.store.progress is not None:
            total = max(self.total, self.writer.rows, 1)
            self.store.progress(self.step, total, total)
