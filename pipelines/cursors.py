"""The cursor discipline of every incremental source: where the next read starts, written once.

A read takes time and the source keeps changing while it runs. A cursor set from the newest modification
stamp the read *saw* is ahead of every change made, during the read, to records it had already passed:
those changes (and deletions, and records created behind a keyset cursor) would never be fetched again.
So the next read starts where this one *started*, less a safety lag that covers the source's clock skew
against ours and its commit latency (a change is stamped when its transaction writes it, but only becomes
visible when it commits). The overlap re-reads a few rows; the merge on the primary key absorbs them.
Deletions are read from the source's own deletion feed over the same window, so a record deleted after
the scan passed it goes on the next run.

The cursor lives in the resource's dlt state, which dlt commits with the load package it describes: a run
that fails or is killed before its load leaves the previous cursor in place, and the next run reads the
same window again. A full refresh drops the state, reads everything, and records the same start-time
cursor. Every source's resource does::

    window = ReadWindow.open(settings.<source>_cursor_lag_seconds)
    ...  # if not window.first: the deletion feed since window.since; then every row stamped >= window.since
    window.close()  # after the last row was yielded
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pipelines.arrow import parse_datetime

STATE_KEY = "read_window"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class ReadWindow:
    """One read of one resource: it covers every change stamped at or after ``since``."""

    since: dt.datetime  # inclusive lower bound of the stamps to read; EPOCH on a first read
    started: dt.datetime  # when this read started, by our clock
    first: bool  # no earlier read: everything is read, and there is no deletion to catch up on
    _state: dict = field(repr=False)

    @classmethod
    def open(
        cls,
        lag_seconds: float,
        *,
        legacy_cursor: str | None = None,
        state: dict | None = None,
        now: dt.datetime | None = None,
    ) -> ReadWindow:
        """Start a read now. ``state`` defaults to the running dlt resource's state; ``legacy_cursor`` names
        the column of a ``dlt.sources.incremental`` that earlier versions kept there, so a warehouse loaded
        by them resumes from that cursor (less the lag) rather than from scratch."""
        if state is None:
            import dlt

            state = dlt.current.resource_state()
        started = now or utcnow()
        lag = dt.timedelta(seconds=lag_seconds)
        saved = state.get(STATE_KEY)
        if saved:
            previous = parse_datetime(saved["started"])
        else:
            legacy = state.get("incremental", {}).get(legacy_cursor or "", {}).get("last_value")
            if legacy is None:
                return cls(EPOCH, started, True, state)
            previous = parse_datetime(legacy)
        # The lag is applied here, not when the cursor is saved, so a changed setting takes effect at once.
        return cls(max(EPOCH, previous - lag), started, False, state)

    def close(self) -> None:
        """Record this read's start for the next one. Call after the last row was yielded: dlt saves the
        state with the rows, so a read that did not finish never moves the cursor."""
        self._state[STATE_KEY] = {"started": self.started.isoformat()}
        self._state.pop("incremental", None)  # an earlier version's cursor, now superseded
