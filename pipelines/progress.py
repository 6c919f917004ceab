"""Counters a sync updates as it goes (pages, rows, requests per resource), for the live display."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class ResourceProgress:
    name: str
    pages: int = 0
    rows: int = 0
    deleted: int = 0
    started: float | None = None
    finished: float | None = None

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.perf_counter()) - self.started

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SyncProgress:
    source: str
    resources: dict[str, ResourceProgress] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    api_usage: tuple[int, int] | None = None  # Salesforce: (used, daily limit)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def page(self, resource: str, rows: int, deleted: int = 0) -> None:
        with self._lock:
            entry = self.resources.setdefault(resource, ResourceProgress(resource))
            if entry.started is None:
                entry.started = time.perf_counter()
            entry.pages += 1
            entry.rows += rows
            entry.deleted += deleted

    def start(self, resource: str) -> None:
        with self._lock:
            entry = self.resources.setdefault(resource, ResourceProgress(resource))
            entry.started = entry.started or time.perf_counter()

    def finish(self, resource: str) -> None:
        with self._lock:
            entry = self.resources.setdefault(resource, ResourceProgress(resource))
            entry.started = entry.started or time.perf_counter()
            entry.finished = time.perf_counter()

    @property
    def total_rows(self) -> int:
        return sum(r.rows for r in self.resources.values())
