"""The statistics the detectors use: robust seasonal residuals, proportion and mean tests, and the
decomposition of a rate's change into the segments that explain it. Plain numpy, no fitting library."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

MAD_TO_SIGMA = 1.4826  # MAD × this estimates σ for normal noise


def mad_sigma(values) -> float:
    """Robust standard deviation: 1.4826 × the median absolute deviation from the median."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return 0.0
    return float(MAD_TO_SIGMA * np.median(np.abs(x - np.median(x))))


def daily_series(rows: list[tuple], start: dt.date, end: dt.date, n_values: int) -> tuple[list[dt.date], np.ndarray]:
    """Rows of (day, value, ...) into a dense day-by-day array from ``start`` to ``end`` (missing days: 0)."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    out = np.zeros((len(days), n_values), dtype=float)
    for row in rows:
        day = row[0].date() if isinstance(row[0], dt.datetime) else row[0]
        i = index.get(day)
        if i is not None:
            out[i] = [float(v or 0) for v in row[1:1 + n_values]]
    return days, out


@dataclass
class SeasonalResiduals:
    """Residuals of a daily series from a weekly-seasonal baseline (the median of the same weekday over the
    previous ``weeks`` weeks), scaled by a robust σ."""

    baseline: np.ndarray
    residual: np.ndarray
    sigma: float
    z: np.ndarray


def weekly_seasonal_residuals(values: np.ndarray, first: int, *, weeks: int = 8, floor=None) -> SeasonalResiduals:
    """Residuals for the days ``first`` … end of ``values`` (which must hold ``weeks`` × 7 days before ``first``).

    σ is the MAD of the residuals over those days, ignoring days that are closed both in the baseline and in
    fact (weekends with no orders): a single spike does not move it. ``floor`` (a number, or one per day from
    ``first``) is the least σ a day may have (counts: Poisson noise), so a sparse series does not flag every
    non-zero day.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    idx = np.arange(first, n)
    lags = np.stack([x[idx - 7 * k] for k in range(1, weeks + 1)], axis=1)
    baseline = np.median(lags, axis=1)
    residual = x[idx] - baseline
    open_days = ~((baseline == 0) & (x[idx] == 0))
    sigma = mad_sigma(residual[open_days]) if open_days.any() else 0.0
    sig = np.full(len(idx), sigma)
    if floor is not None:
        sig = np.maximum(sig, np.broadcast_to(np.asarray(floor, dtype=float), sig.shape))
    sig = np.where(sig > 0, sig, 1.0)
    return SeasonalResiduals(baseline=baseline, residual=residual, sigma=sigma, z=residual / sig)


def two_proportion_z(won0: float, n0: float, won1: float, n1: float) -> float:
    """z of the difference of two proportions (pooled), 0 when undefined."""
    if n0 <= 0 or n1 <= 0:
        return 0.0
    p = (won0 + won1) / (n0 + n1)
    se = math.sqrt(p * (1 - p) * (1 / n0 + 1 / n1))
    return 0.0 if se == 0 else (won1 / n1 - won0 / n0) / se


def mean_z(sum0: float, sq0: float, n0: float, sum1: float, sq1: float, n1: float) -> float:
    """Welch's z of the difference of two means from their sums and sums of squares, 0 when undefined."""
    if n0 < 2 or n1 < 2:
        return 0.0
    m0, m1 = sum0 / n0, sum1 / n1
    v0 = max(sq0 - n0 * m0 * m0, 0.0) / (n0 - 1)
    v1 = max(sq1 - n1 * m1 * m1, 0.0) / (n1 - 1)
    se = math.sqrt(v0 / n0 + v1 / n1)
    return 0.0 if se == 0 else (m1 - m0) / se


@dataclass
class Segment:
    dimension: str
    value: str
    label: str
    before: float | None       # the segment's rate before (None: no deals then)
    after: float | None
    weight_before: float       # its share of the denominator before / after
    weight_after: float
    n_before: float
    n_after: float
    contribution: float        # its part of the overall change (the parts add up to the change)

    def to_dict(self) -> dict:
        return {"dimension": self.dimension, "value": self.value, "label": self.label,
                "before": self.before, "after": self.after, "n_before": self.n_before, "n_after": self.n_after,
                "contribution": self.contribution}


def decompose(groups: dict[str, dict], *, dimension: str,
              labels: dict[str, str] | None = None) -> tuple[float, float, list[Segment]]:
    """Split the change of a ratio (numerator / denominator) into segment contributions.

    ``groups`` maps a segment to ``{"num0", "den0", "num1", "den1"}``. With w the segment's share of the
    denominator and r its ratio, the contribution of a segment is its rate effect ``w1 (r1 - r0)`` plus its
    mix effect ``(w1 - w0) (r0 - R0)``; contributions add up exactly to ``R1 - R0``. A segment absent in a
    period takes the overall ratio there (it has no weight, so the sum is unchanged).
    """
    num0 = sum(g["num0"] for g in groups.values())
    den0 = sum(g["den0"] for g in groups.values())
    num1 = sum(g["num1"] for g in groups.values())
    den1 = sum(g["den1"] for g in groups.values())
    if den0 <= 0 or den1 <= 0:
        return 0.0, 0.0, []
    total0, total1 = num0 / den0, num1 / den1
    segments = []
    for value, g in groups.items():
        w0, w1 = g["den0"] / den0, g["den1"] / den1
        r0 = g["num0"] / g["den0"] if g["den0"] > 0 else None
        r1 = g["num1"] / g["den1"] if g["den1"] > 0 else None
        rr0 = r0 if r0 is not None else total0
        rr1 = r1 if r1 is not None else rr0
        contribution = w1 * (rr1 - rr0) + (w1 - w0) * (rr0 - total0)
        segments.append(Segment(dimension=dimension, value=value, label=(labels or {}).get(value, value),
                                before=r0, after=r1, weight_before=w0, weight_after=w1, n_before=g["den0"],
                                n_after=g["den1"], contribution=contribution))
    return total0, total1, segments


def main_driver(by_dimension: dict[str, list[Segment]], change: float,
                order: list[str]) -> tuple[Segment | None, float]:
    """The segment that explains most of ``change``: per dimension the segment contributing most in the
    change's direction; among those explaining at least half as much as the best, the coarsest dimension
    (``order``) wins, so "the East region" is preferred to one of its territories saying the same thing."""
    if change == 0:
        return None, 0.0
    best: dict[str, tuple[Segment, float]] = {}
    for dim in order:
        segs = by_dimension.get(dim) or []
        if len(segs) < 2:
            continue
        top = max(segs, key=lambda s: s.contribution / change)
        share = top.contribution / change
        if share > 0:
            best[dim] = (top, share)
    if not best:
        return None, 0.0
    max_share = max(share for _, share in best.values())
    for dim in order:
        if dim in best and best[dim][1] >= 0.5 * max_share and best[dim][1] >= 0.3:
            return best[dim]
    seg, share = max(best.values(), key=lambda t: t[1])
    return seg, share
