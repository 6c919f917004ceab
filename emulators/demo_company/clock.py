"""The generator's calendar: day indexes relative to the start of history, and timestamp text.

Day 0 is ``today`` three years back; ``tday`` is today's index. Instants are integer seconds since
day 0 00:00 UTC. Nothing reads the wall clock: every instant is at most today 06:00 UTC (``cap``).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

DAY = 86_400
BUSINESS_START = 13 * 3600  # 13:00 UTC, about 8-9 am on the US east coast
BUSINESS_SPAN = 11 * 3600  # until midnight UTC, about 5 pm on the west coast
TODAY_CUTOFF = 6 * 3600  # nothing later than today 06:00 UTC

MONTH_FACTOR = np.array([0.82, 0.86, 0.96, 1.0, 1.0, 1.1, 1.12, 1.04, 1.0, 1.18, 1.32, 1.24])
ANNUAL_GROWTH = 1.15
ORDER_WEEKDAY_FACTOR = np.array([1.0, 1.08, 1.08, 1.02, 0.86, 0.10, 0.07])  # Monday first
OPPORTUNITY_WEEKDAY_FACTOR = np.array([1.0, 1.1, 1.1, 1.05, 0.8, 0.02, 0.01])


@lru_cache(maxsize=1)
def _time_strings() -> list[str]:
    return [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class Clock:
    def __init__(self, today: dt.date, future_days: int = 600):
        if isinstance(today, dt.datetime):
            today = today.date()
        self.today = today
        self.origin = years_before(today, 3)
        self.tday = (today - self.origin).days
        self.n_days = self.tday + future_days + 1
        dates = [self.origin + dt.timedelta(days=i) for i in range(self.n_days)]
        self.dates = dates
        self.day_str = [d.isoformat() for d in dates]
        self.month = np.array([d.month for d in dates], dtype=np.int64)
        self.year = np.array([d.year for d in dates], dtype=np.int64)
        self.weekday = np.array([d.weekday() for d in dates], dtype=np.int64)
        self.quarter = self.year * 4 + (self.month - 1) // 3
        self.cap = self.tday * DAY + TODAY_CUTOFF - 1
        self._times = _time_strings()

    # --- calendar helpers -------------------------------------------------------------------
    def index(self, day: dt.date) -> int:
        return (day - self.origin).days

    def date_of(self, d: int) -> dt.date:
        return self.origin + dt.timedelta(days=int(d))

    def quarter_label(self, q: int) -> str:
        return f"{q // 4}-Q{q % 4 + 1}"

    def quarter_bounds(self, q: int) -> tuple[int, int]:
        """First and last day index of quarter ``q`` (year*4 + quarter-1); may reach outside history."""
        year, qi = divmod(q, 4)
        first = dt.date(year, qi * 3 + 1, 1)
        nxt = dt.date(year + (qi == 3), (qi * 3 + 3) % 12 + 1, 1)
        return self.index(first), self.index(nxt) - 1

    def demand(self, lo: int, hi: int, weekday_factor: np.ndarray) -> np.ndarray:
        """Relative daily volume for days lo..hi: growth x seasonality x weekday."""
        d = np.arange(lo, hi + 1)
        growth = ANNUAL_GROWTH ** (d / 365.25)
        return growth * MONTH_FACTOR[self.month[d] - 1] * weekday_factor[self.weekday[d]]

    # --- instants ---------------------------------------------------------------------------
    def business_secs(self, rng: np.random.Generator, days) -> np.ndarray:
        """A random business-hours instant on each day (before 06:00 UTC when the day is today)."""
        days = np.asarray(days, dtype=np.int64)
        late = rng.integers(0, BUSINESS_SPAN, size=days.shape)
        early = rng.integers(0, TODAY_CUTOFF, size=days.shape)
        secs = days * DAY + np.where(days < self.tday, BUSINESS_START + late, early)
        return np.minimum(secs, self.cap)

    # --- text -------------------------------------------------------------------------------
    def dates_text(self, days) -> list[str]:
        ds = self.day_str
        return [ds[d] for d in np.asarray(days, dtype=np.int64).tolist()]

    def sf_text(self, secs) -> list[str]:
        ds, ts = self.day_str, self._times
        return [
            ds[s // DAY] + "T" + ts[s % DAY] + ".000+0000" for s in np.asarray(secs, dtype=np.int64).tolist()
        ]

    def ns_text(self, secs) -> list[str]:
        ds, ts = self.day_str, self._times
        return [ds[s // DAY] + " " + ts[s % DAY] for s in np.asarray(secs, dtype=np.int64).tolist()]
