"""The built-in detectors. Each reads the marts through the guard (``ctx.run``), with the caller's scope, and
turns what it finds into insights whose every number comes from its queries.

| detector | kinds |
| --- | --- |
| order_anomalies | order_anomaly: a day whose orders or bookings are far off a weekly-seasonal baseline |
| deal_performance | win_rate_change, deal_size_change: quarter over quarter, with the segment explaining most |
| deal_risk | stalled_deal, stalled_deals, slipping_deals, past_due_deals |
| customer_trends | customer_decline, customer_at_risk, customer_growth |
| revenue_concentration | revenue_concentration |
| receivables | overdue_receivables, customer_overdue |
| stock_cover | stock_shortfall |

Thresholds are settings (``SCC_INSIGHTS_*``, see the README).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from agents.insights.model import Detector, Insight, InsightContext
from agents.planning import lit
from agents.insights.stats import (daily_series, decompose, main_driver, mean_z, two_proportion_z,
                                   weekly_seasonal_residuals)

DAY = dt.timedelta(days=1)


# --- formatting (numbers always come from the queries; these only print them) -------------------------

def usd(value) -> str:
    v = float(value or 0)
    return f"-${abs(v):,.0f}" if v < 0 else f"${v:,.0f}"


def pct(fraction, digits: int = 1) -> str:
    return f"{float(fraction) * 100:.{digits}f}%"


def signed_pct(fraction, digits: int = 1) -> str:
    return f"{float(fraction) * 100:+.{digits}f}%"


def qty(value) -> str:
    v = float(value or 0)
    return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"


def plural(n, word: str) -> str:
    n = int(n or 0)
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def num(value, digits: int = 1) -> float:
    return round(float(value or 0), digits)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def previous_quarter_start(start: dt.date) -> dt.date:
    return quarter_start(start - DAY)


def quarter_label(start: dt.date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _limit(items: list[Insight], n: int) -> list[Insight]:
    return sorted(items, key=lambda i: i.rank)[: max(0, n)]


# --- anomalies in daily orders and bookings ---------------------------------------------------------------


class OrderAnomalies(Detector):
    name = "order_anomalies"
    title = "Unusual days of orders and bookings"
    description = ("Daily orders and bookings against a weekly-seasonal baseline (the median of the same weekday "
                   "over the 8 weeks before); a day is unusual when its residual is more than SCC_INSIGHTS_ANOMALY_Z "
                   "robust standard deviations (1.4826 × the median absolute deviation of the residuals) away.")
    kinds = ("order_anomaly",)
    marts = ("fct_orders",)
    weeks = 8

    def detect(self, ctx: InsightContext) -> list[Insight]:
        s = ctx.settings
        end = ctx.today - DAY  # complete days only: today is still filling up
        first_day = end - (s.insights_lookback_days - 1) * DAY
        start = first_day - 7 * self.weeks * DAY
        series = ctx.run(
            "SELECT order_date AS day, count(*) AS orders, sum(total_amount) AS bookings FROM marts.fct_orders "
            f"WHERE status <> 'cancelled' AND order_date BETWEEN {ctx.date(start)} AND {ctx.date(end)} "
            "GROUP BY order_date ORDER BY order_date",
            title="Orders and bookings per day (cancelled orders excluded)",
            max_rows=(end - start).days + 10,
        )
        days, x = daily_series(series.rows, start, end, 2)
        first = 7 * self.weeks
        counts = weekly_seasonal_residuals(x[:, 0], first, weeks=self.weeks,
                                           floor=np.sqrt(np.maximum(_median_lags(x[:, 0], first, self.weeks), 1.0)))
        total_orders, total_value = x[:, 0].sum(), x[:, 1].sum()
        aov = total_value / total_orders if total_orders else 0.0
        # A day's bookings vary at least like a sum of that many orders (compound Poisson, CV of an order ≈ 1).
        values = weekly_seasonal_residuals(x[:, 1], first, weeks=self.weeks,
                                           floor=aov * np.sqrt(2 * np.maximum(counts.baseline, 1.0)))
        z_min = float(s.insights_anomaly_z)
        out = []
        for j in range(len(counts.z)):
            i = first + j
            zc, zv = float(counts.z[j]), float(values.z[j])
            n, v = float(x[i][0]), float(x[i][1])
            bn, bv = float(counts.baseline[j]), float(values.baseline[j])
            rc = n / bn if bn > 0 else math.inf if n > 0 else 1.0
            rv = v / bv if bv > 0 else math.inf if v > 0 else 1.0
            up = (zc >= z_min and rc >= 1.5) or (zv >= z_min and rv >= 1.5)
            down = (zc <= -z_min and rc <= 0.5) or (zv <= -z_min and rv <= 0.5)
            if not (up or down):
                continue
            z = max(zc, zv) if up else min(zc, zv)
            ratio = max(rc, rv) if up else min(rc, rv)
            severe = abs(z) >= 1.5 * z_min and (ratio >= 2 if up else ratio <= 0.5)
            out.append(self._insight(ctx, series, days, i, j, n, v, bn, bv, zc, zv, rc, rv, up, severe))
        return _limit(out, s.insights_max_per_kind)

    def _insight(self, ctx, series, days, i, j, n, v, bn, bv, zc, zv, rc, rv, up, severe) -> Insight:
        day = days[i]
        weekday = day.strftime("%A")
        same_weekday = {day - 7 * k * DAY for k in range(0, self.weeks + 1)}
        rows = [r for r in series.rows if (r[0].date() if isinstance(r[0], dt.datetime) else r[0]) in same_weekday]
        evidence = series.only(rows, title=f"Orders and bookings on {weekday}s: {day} and the {self.weeks} "
                                           "weeks before")
        ratio_text = lambda r: "no orders" if not math.isfinite(r) else f"{r:.1f}x"  # noqa: E731
        if up:
            lead = f"{qty(n)} orders worth {usd(v)} on {weekday} {day}"
            if rc >= 1.5 and math.isfinite(rc):
                headline = (f"{lead}: {ratio_text(rc)} the orders of a normal {weekday} "
                            f"({qty(bn)} orders, {usd(bv)})")
            else:
                headline = f"{lead}: bookings {ratio_text(rv)} a normal {weekday} ({usd(bv)} on {qty(bn)} orders)"
            action = ("Check where the extra orders came from (a bulk upload, a promotion, a duplicate import) "
                      "and whether fulfilment can absorb them.")
        else:
            headline = (f"Only {qty(n)} orders worth {usd(v)} on {weekday} {day}, against {qty(bn)} orders "
                        f"({usd(bv)}) on a normal {weekday}")
            action = "Check whether order entry or the NetSuite sync stopped that day, or whether it was a holiday."
        narrative = (f"The baseline is the median of the same weekday over the {self.weeks} weeks before; "
                     f"the day is {abs(zc):.1f} (orders) and {abs(zv):.1f} (bookings) robust standard deviations "
                     f"{'above' if up else 'below'} it.")
        return ctx.insight(
            kind="order_anomaly", severity="high" if severe else "medium", headline=headline, action=action,
            key=f"{day.isoformat()}", evidence=[evidence], direction="up" if up else "down",
            facts={"date": day.isoformat(), "weekday": weekday, "orders": int(n), "bookings": num(v, 2),
                   "baseline_orders": bn, "baseline_bookings": num(bv, 2),
                   "count_ratio": num(rc, 2) if math.isfinite(rc) else None,
                   "value_ratio": num(rv, 2) if math.isfinite(rv) else None,
                   "z_orders": num(zc, 2), "z_bookings": num(zv, 2), "baseline_weeks": self.weeks},
            narrative=narrative, score=abs(v - bv), detector=self.name,
            period={"start": day.isoformat(), "end": day.isoformat()},
        )


def _median_lags(x: np.ndarray, first: int, weeks: int) -> np.ndarray:
    idx = np.arange(first, len(x))
    return np.median(np.stack([x[idx - 7 * k] for k in range(1, weeks + 1)], axis=1), axis=1)


# --- win rate and average deal size, period over period -----------------------------------------------------

DIMENSIONS = ("region", "territory", "rep_id", "product_category")
DIMENSION_WORDS = {"region": "region", "territory": "territory", "rep_id": "rep", "product_category": "category"}


class DealPerformance(Detector):
    name = "deal_performance"
    title = "Win rate and average deal size, quarter over quarter"
    description = ("Win rate (won / closed) and average deal size (won amount / won deals) of the last complete "
                   "quarter against the one before, and of the quarter so far against the last complete one; a "
                   "change is split into the contributions of regions, territories, reps and product categories "
                   "(rate effect plus mix effect, adding up to the change) and the segment explaining most is named.")
    kinds = ("win_rate_change", "deal_size_change")
    marts = ("fct_opportunities",)

    def detect(self, ctx: InsightContext) -> list[Insight]:
        current = quarter_start(ctx.today)
        last = previous_quarter_start(current)
        before = previous_quarter_start(last)
        rep_names = ", r.rep_name" if ctx.has_marts("dim_sales_reps") else ", NULL AS rep_name"
        join = " LEFT JOIN marts.dim_sales_reps r ON r.rep_id = o.rep_id" if ctx.has_marts("dim_sales_reps") else ""
        data = ctx.run(
            f"SELECT CASE WHEN o.close_date >= {ctx.date(current)} THEN 'current' WHEN o.close_date >= "
            f"{ctx.date(last)} THEN 'last' ELSE 'before' END AS period, o.region, o.territory, o.rep_id{rep_names}, "
            "coalesce(o.product_category, '(none)') AS product_category, count(*) AS closed, "
            "count(*) FILTER (WHERE o.is_won) AS won, "
            "coalesce(sum(CAST(o.amount AS DOUBLE)) FILTER (WHERE o.is_won), 0) AS won_amount, "
            "coalesce(sum(CAST(o.amount AS DOUBLE) * CAST(o.amount AS DOUBLE)) FILTER (WHERE o.is_won), 0) "
            "AS won_amount_sq "
            f"FROM marts.fct_opportunities o{join} WHERE o.is_closed AND o.close_date BETWEEN {ctx.date(before)} AND "
            f"{ctx.date(ctx.today)} GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 6",
            title="Closed deals by quarter, region, territory, rep and product category", max_rows=200_000,
        )
        rows = data.dicts()
        labels = {"rep_id": {r["rep_id"]: r["rep_name"] or r["rep_id"] for r in rows if r["rep_id"]}}
        comparisons = [
            ("before", "last", quarter_label(before), quarter_label(last), before, current - DAY, False),
            ("last", "current", quarter_label(last), quarter_label(current), last, ctx.today, True),
        ]
        out = []
        for p0, p1, label0, label1, start, end, to_date in comparisons:
            sub = [r for r in rows if r["period"] in (p0, p1)]
            evidence = data.only([tuple(r.values()) for r in sub], title=f"Closed deals, {label0} and {label1}",
                                 limit=40)
            common = dict(p0=p0, p1=p1, label0=label0, label1=label1, to_date=to_date, evidence=evidence, labels=labels,
                          period={"start": start.isoformat(), "end": end.isoformat()})
            out += self._win_rate(ctx, sub, **common)
            out += self._deal_size(ctx, sub, **common)
        return out

    @staticmethod
    def _groups(rows, p0, p1, dim, num, den) -> dict:
        groups: dict[str, dict] = {}
        for r in rows:
            g = groups.setdefault(str(r[dim]), {"num0": 0.0, "den0": 0.0, "num1": 0.0, "den1": 0.0})
            side = "0" if r["period"] == p0 else "1"
            g["num" + side] += float(r[num] or 0)
            g["den" + side] += float(r[den] or 0)
        return groups

    def _segments(self, rows, p0, p1, num, den, labels):
        by_dim, totals = {}, None
        for dim in DIMENSIONS:
            groups = self._groups(rows, p0, p1, dim, num, den)
            total0, total1, segments = decompose(groups, dimension=dim, labels=labels.get(dim))
            by_dim[dim] = segments
            totals = (total0, total1)
        return by_dim, totals

    def _driver_evidence(self, ctx, driver, p0, p1, label0, label1, period) -> Evidence | None:
        if driver is None:
            return None
        column = {"region": "o.region", "territory": "o.territory", "rep_id": "o.rep_id",
                  "product_category": "coalesce(o.product_category, '(none)')"}[driver.dimension]
        start = dt.date.fromisoformat(period["start"])
        previous = previous_quarter_start(start)
        return ctx.run(
            f"SELECT CASE WHEN o.close_date >= {ctx.date(start)} THEN '{label1}' ELSE '{label0}' END AS quarter, "
            f"{column} AS {DIMENSION_WORDS[driver.dimension]}, count(*) AS closed, "
            "count(*) FILTER (WHERE o.is_won) AS won, "
            "round(count(*) FILTER (WHERE o.is_won) / count(*), 4) AS win_rate, "
            "round(avg(CAST(o.amount AS DOUBLE)) FILTER (WHERE o.is_won), 2) AS average_deal_size "
            f"FROM marts.fct_opportunities o WHERE o.is_closed AND o.close_date BETWEEN {ctx.date(previous)} AND "
            f"{ctx.date(dt.date.fromisoformat(period['end']))} GROUP BY 1, 2 ORDER BY 2, 1",
            title=f"Closed deals by {DIMENSION_WORDS[driver.dimension]}, {label0} and {label1}", max_rows=5000,
        )

    @staticmethod
    def _top_segments(by_dim, change, n=3) -> list[dict]:
        out = []
        for dim, segs in by_dim.items():
            if len(segs) < 2:
                continue
            for seg in sorted(segs, key=lambda s: -s.contribution / change if change else 0)[:n]:
                d = seg.to_dict()
                d["share_of_change"] = round(seg.contribution / change, 3) if change else None
                out.append(d)
        return out

    def _win_rate(self, ctx, rows, *, p0, p1, label0, label1, to_date, evidence, labels, period) -> list[Insight]:
        s = ctx.settings
        n0 = sum(r["closed"] for r in rows if r["period"] == p0)
        n1 = sum(r["closed"] for r in rows if r["period"] == p1)
        w0 = sum(r["won"] for r in rows if r["period"] == p0)
        w1 = sum(r["won"] for r in rows if r["period"] == p1)
        if min(n0, n1) < s.insights_min_closed_deals:
            return []
        r0, r1 = w0 / n0, w1 / n1
        change = r1 - r0
        z = two_proportion_z(w0, n0, w1, n1)
        if abs(change) * 100 < s.insights_win_rate_points or abs(z) < 1.0:
            return []
        by_dim, _ = self._segments(rows, p0, p1, "won", "closed", labels)
        driver, share = main_driver(by_dim, change, list(DIMENSIONS))
        when = f"{label1} so far" if to_date else label1
        verb = "fell" if change < 0 else "rose"
        headline = f"Win rate {verb} {abs(change) * 100:.1f} points to {pct(r1)} in {when} ({pct(r0)} in {label0})"
        facts = {"metric": "win_rate", "period": label1, "previous_period": label0, "to_date": to_date,
                 "win_rate": round(r1, 4), "previous_win_rate": round(r0, 4), "change_points": round(change * 100, 1),
                 "won": w1, "closed": n1, "previous_won": w0, "previous_closed": n0, "z": round(z, 2),
                 "segments": self._top_segments(by_dim, change)}
        drv_text = ""
        if driver is not None:
            word = DIMENSION_WORDS[driver.dimension]
            name = driver.label if driver.dimension != "region" else f"the {driver.label} region"
            if driver.dimension not in ("region",):
                name = f"{word} {driver.label}"
            seg_before = pct(driver.before) if driver.before is not None else "n/a"
            seg_after = pct(driver.after) if driver.after is not None else "n/a"
            drv_text = (f", mostly {name}: {seg_after} against {seg_before} "
                        f"({driver.contribution * 100:+.1f} of the {change * 100:+.1f} points)")
            facts["driver"] = {"dimension": driver.dimension, "value": driver.value, "label": driver.label,
                               "win_rate": driver.after, "previous_win_rate": driver.before,
                               "contribution_points": round(driver.contribution * 100, 1),
                               "share_of_change": round(share, 3)}
        headline += drv_text
        severe = abs(z) >= 2.5
        action = ((f"Review the lost deals of {label1}" + (f" in {facts['driver']['label']}" if driver else "")
                   + " with their reps: reasons lost, competitors, pricing.") if change < 0 else
                  "Find what worked (" + (facts["driver"]["label"] if driver else "which reps and segments")
                  + ") and repeat it.")
        narrative = (f"{w1} of {n1} deals closed in {when} were won, against {w0} of {n0} in {label0} "
                     f"(two-proportion z = {z:.1f}).")
        ev = [evidence]
        extra = self._driver_evidence(ctx, driver, p0, p1, label0, label1, period)
        if extra is not None:
            ev.insert(0, extra)
        avg_size = sum(r["won_amount"] for r in rows if r["period"] == p1) / w1 if w1 else 0
        return [ctx.insight(
            kind="win_rate_change", severity="high" if severe else "medium", headline=headline, action=action,
            key=f"{label0}:{label1}", evidence=ev, direction="down" if change < 0 else "up", facts=facts,
            narrative=narrative, score=abs(change) * n1 * avg_size, detector=self.name, period=period,
        )]

    def _deal_size(self, ctx, rows, *, p0, p1, label0, label1, to_date, evidence, labels, period) -> list[Insight]:
        s = ctx.settings
        get = lambda key, p: sum(float(r[key] or 0) for r in rows if r["period"] == p)  # noqa: E731
        w0, w1 = get("won", p0), get("won", p1)
        if min(w0, w1) < max(5, s.insights_min_closed_deals // 2):
            return []
        a0, a1 = get("won_amount", p0) / w0, get("won_amount", p1) / w1
        change = a1 / a0 - 1 if a0 else 0.0
        z = mean_z(get("won_amount", p0), get("won_amount_sq", p0), w0,
                   get("won_amount", p1), get("won_amount_sq", p1), w1)
        if abs(change) * 100 < s.insights_change_pct or abs(z) < 1.5:
            return []
        by_dim, _ = self._segments(rows, p0, p1, "won_amount", "won", labels)
        delta = a1 - a0
        driver, share = main_driver(by_dim, delta, list(DIMENSIONS))
        when = f"{label1} so far" if to_date else label1
        verb = "fell" if change < 0 else "rose"
        headline = (f"Average deal size {verb} {abs(change) * 100:.0f}% to {usd(a1)} in {when} "
                    f"({usd(a0)} in {label0}, {int(w1)} won deals)")
        facts = {"metric": "average_deal_size", "period": label1, "previous_period": label0, "to_date": to_date,
                 "average_deal_size": round(a1, 2), "previous_average_deal_size": round(a0, 2),
                 "change_pct": round(change * 100, 1), "won": w1, "previous_won": w0, "z": round(z, 2),
                 "segments": self._top_segments(by_dim, delta)}
        if driver is not None:
            word = DIMENSION_WORDS[driver.dimension]
            name = f"the {driver.label} region" if driver.dimension == "region" else f"{word} {driver.label}"
            headline += f", mostly {name} ({usd(driver.contribution)} of the {usd(delta)} change)"
            facts["driver"] = {"dimension": driver.dimension, "value": driver.value, "label": driver.label,
                               "average_deal_size": driver.after, "previous_average_deal_size": driver.before,
                               "contribution": round(driver.contribution, 2), "share_of_change": round(share, 3)}
        action = ("Check for discounting and smaller scopes in the recent wins." if change < 0 else
                  "Check whether bigger deals are a trend (new segment, pricing) worth planning for.")
        narrative = (f"{int(w1)} deals won for {usd(get('won_amount', p1))} in {when}, against {int(w0)} for "
                     f"{usd(get('won_amount', p0))} in {label0} (Welch z = {z:.1f}).")
        ev = [evidence]
        extra = self._driver_evidence(ctx, driver, p0, p1, label0, label1, period)
        if extra is not None:
            ev.insert(0, extra)
        return [ctx.insight(
            kind="deal_size_change", severity="high" if abs(z) >= 3 else "medium", headline=headline, action=action,
            key=f"{label0}:{label1}", evidence=ev, direction="down" if change < 0 else "up", facts=facts,
            narrative=narrative, score=abs(delta) * w1, detector=self.name, period=period,
        )]


# --- stalled and slipping deals -----------------------------------------------------------------------------


class DealRisk(Detector):
    name = "deal_risk"
    title = "Stalled deals and deals whose close date keeps slipping"
    description = ("Open deals flagged stalled by the marts (in their stage over twice the median days won deals "
                   "spent there, or no activity for 30 days): one insight per deal of at least "
                   "SCC_INSIGHTS_LARGE_DEAL_AMOUNT, the others together; open deals whose close date was pushed "
                   "SCC_INSIGHTS_SLIP_PUSHES times or more; open deals whose close date has passed.")
    kinds = ("stalled_deal", "stalled_deals", "slipping_deals", "past_due_deals")
    marts = ("fct_opportunities",)

    def detect(self, ctx: InsightContext) -> list[Insight]:
        s = ctx.settings
        names = ctx.has_marts("dim_customers")
        data = ctx.run(
            "SELECT o.opportunity_id, o.opportunity_name, o.customer_id, "
            + ("c.customer_name, " if names else "NULL AS customer_name, ")
            + "o.rep_id, o.territory, o.stage, o.amount, o.probability, o.forecast_category, o.days_in_stage, "
            "o.won_median_days_in_stage, o.days_since_last_activity, o.close_date, o.first_close_date, "
            "o.close_date_pushes, o.is_stalled FROM marts.fct_opportunities o"
            + (" LEFT JOIN marts.dim_customers c ON c.customer_id = o.customer_id" if names else "")
            + f" WHERE o.is_open AND (o.is_stalled OR o.close_date_pushes >= {int(s.insights_slip_pushes)} "
            f"OR o.close_date < {ctx.date(ctx.today)}) ORDER BY o.amount DESC NULLS LAST, o.opportunity_id",
            title="Open deals that are stalled, slipping or past their close date", max_rows=100_000,
        )
        rows = data.dicts()
        large = float(s.insights_large_deal_amount)
        out: list[Insight] = []
        stalled = [r for r in rows if r["is_stalled"]]
        big = [r for r in stalled if float(r["amount"] or 0) >= large]
        for r in big[: s.insights_max_per_kind * 4]:
            out.append(self._stalled_deal(ctx, data, r))
        rest = [r for r in stalled if float(r["amount"] or 0) < large]
        if rest:
            out.append(self._roll_up(
                ctx, data, rest, kind="stalled_deals", direction="stalled",
                severity="medium" if len(rest) >= 5 else "low",
                headline=f"{len(rest)} more open deals worth {usd(sum(float(r['amount'] or 0) for r in rest))} are "
                         f"stalled (each under {usd(large)})",
                action="Ask each owner for a next step and date, or close the deal out.",
                title="Stalled deals under the large-deal amount"))
        slipping = [r for r in rows if (r["close_date_pushes"] or 0) >= s.insights_slip_pushes]
        if slipping:
            total = sum(float(r["amount"] or 0) for r in slipping)
            out.append(self._roll_up(
                ctx, data, slipping, kind="slipping_deals", direction="slipping",
                severity="medium" if any(float(r["amount"] or 0) >= large for r in slipping) else "low",
                headline=f"{len(slipping)} open deals worth {usd(total)} had their close date pushed "
                         f"{int(s.insights_slip_pushes)} times or more "
                         f"(most: {max(r['close_date_pushes'] for r in slipping)})",
                action="Re-qualify these deals: a close date that keeps moving is rarely the real one.",
                title="Open deals whose close date keeps slipping"))
        past = [r for r in rows if r["close_date"] is not None and _as_date(r["close_date"]) < ctx.today]
        if past:
            total = sum(float(r["amount"] or 0) for r in past)
            out.append(self._roll_up(
                ctx, data, past, kind="past_due_deals", direction="past_due",
                severity="medium" if total >= large else "low",
                headline=f"{len(past)} open deals worth {usd(total)} are past their close date",
                action="Update the close dates (or close the deals) so the forecast means something.",
                title="Open deals past their close date"))
        return out

    def _stalled_deal(self, ctx, data, r) -> Insight:
        days = int(r["days_in_stage"] or 0)
        median = r["won_median_days_in_stage"]
        idle = r["days_since_last_activity"]
        named = r["customer_name"] and r["customer_name"] not in (r["opportunity_name"] or "")
        who = f" ({r['customer_name']})" if named else ""
        headline = f"{r['opportunity_name']}{who}, {usd(r['amount'])}, has sat in {r['stage']} for {days} days"
        if median:
            headline += f" (won deals: {qty(median)} days)"
        if idle is not None:
            headline += f", no activity for {int(idle)} days"
        late = float(r["probability"] or 0) >= 50
        narrative = (f"Its close date is {_as_date(r['close_date'])}"
                     + (f", pushed {plural(r['close_date_pushes'], 'time')}" if r["close_date_pushes"] else "")
                     + f"; forecast category {r['forecast_category']}, probability {qty(r['probability'])}%.")
        row = tuple(r.values())
        return ctx.insight(
            kind="stalled_deal",
            severity="high" if late or float(r["amount"] or 0) >= 2 * float(ctx.settings.insights_large_deal_amount)
            else "medium",
            headline=headline,
            action="Call the buyer with the deal owner this week: agree a next step and a realistic close date, "
                   "or close it out of the forecast.",
            key=str(r["opportunity_id"]), evidence=[data.only([row], title="The stalled deal")],
            rep_id=r["rep_id"], territory=r["territory"], direction="stalled",
            facts={"opportunity_id": r["opportunity_id"], "amount": num(r["amount"], 2), "stage": r["stage"],
                   "days_in_stage": days, "won_median_days_in_stage": median, "days_since_last_activity": idle,
                   "close_date": _iso(r["close_date"]), "close_date_pushes": r["close_date_pushes"]},
            subjects=_subjects([r]), narrative=narrative, score=float(r["amount"] or 0), detector=self.name,
        )

    def _roll_up(self, ctx, data, rows, *, kind, direction, severity, headline, action, title) -> Insight:
        total = sum(float(r["amount"] or 0) for r in rows)
        top = rows[:5]
        narrative = "The largest: " + "; ".join(
            f"{r['opportunity_name']} {usd(r['amount'])} ({r['stage']})" for r in top) + "."
        return ctx.insight(
            kind=kind, severity=severity, headline=headline, action=action, key="all",
            evidence=[data.only([tuple(r.values()) for r in rows], title=title)], direction=direction,
            facts={"deals": len(rows), "amount": num(total, 2),
                   "largest": [{"opportunity_id": r["opportunity_id"], "amount": num(r["amount"], 2)} for r in top]},
            subjects=_subjects(rows[:25]), narrative=narrative, score=total, detector=self.name,
        )


def _as_date(value):
    return value.date() if isinstance(value, dt.datetime) else value


def _iso(value):
    v = _as_date(value)
    return v.isoformat() if v is not None else None


def _subjects(rows) -> dict:
    customers, seen = [], set()
    for r in rows:
        if r.get("customer_id") and r["customer_id"] not in seen:
            seen.add(r["customer_id"])
            customers.append({"customer_id": r["customer_id"], "customer_name": r.get("customer_name")})
    return {"opportunities": [{"opportunity_id": r["opportunity_id"], "opportunity_name": r["opportunity_name"]}
                              for r in rows], "customers": customers}


# --- customers: declining, at risk, growing ---------------------------------------------------------------


class CustomerTrends(Detector):
    name = "customer_trends"
    title = "Customers declining, at risk and growing"
    description = ("Bookings of each customer in the last 90 days against the 90 days before (dim_customers): "
                   "down SCC_INSIGHTS_DECLINE_PCT % or more is a decline, up SCC_INSIGHTS_CHANGE_PCT % or more an "
                   "upsell opportunity; customers the marts call at risk (dim_customers.health, the one definition: not "
                   "growing, and quiet for over twice their usual gap in business days). "
                   "Only changes worth 0.5% of the bookings in scope, or 2.5 times an average customer's 90 days, "
                   "count (1% or 5 times, or one of the 2% largest customers: medium); the largest changes first.")
    kinds = ("customer_decline", "customer_at_risk", "customer_growth")
    marts = ("dim_customers", "fct_orders")

    def detect(self, ctx: InsightContext) -> list[Insight]:
        s = ctx.settings
        last_start = ctx.today - 89 * DAY
        prior_start = ctx.today - 179 * DAY
        data = ctx.run(
            "SELECT c.customer_id, c.customer_name, c.rep_id, c.territory, c.region, c.health, c.revenue_last_90d, "
            "c.revenue_prior_90d, c.lifetime_revenue, c.business_days_since_last_order, "
            "c.usual_order_gap_business_days, "
            "c.last_order_date, coalesce(o.orders_last_90d, 0) AS orders_last_90d, "
            "coalesce(o.orders_prior_90d, 0) AS orders_prior_90d, coalesce(o.sum_of_squares, 0) AS sum_of_squares "
            "FROM marts.dim_customers c LEFT JOIN (SELECT customer_id, "
            f"count(*) FILTER (WHERE order_date >= {ctx.date(last_start)}) AS orders_last_90d, "
            f"count(*) FILTER (WHERE order_date < {ctx.date(last_start)}) AS orders_prior_90d, "
            "sum(CAST(total_amount AS DOUBLE) * CAST(total_amount AS DOUBLE)) AS sum_of_squares "
            f"FROM marts.fct_orders WHERE status <> 'cancelled' AND order_date BETWEEN {ctx.date(prior_start)} AND "
            f"{ctx.date(ctx.today)} GROUP BY customer_id) o ON o.customer_id = c.customer_id "
            "WHERE c.revenue_last_90d > 0 OR c.revenue_prior_90d > 0 OR c.health = 'at_risk' "
            "ORDER BY c.customer_id",
            title="Customers' bookings, last 90 days against the 90 before", max_rows=1_000_000,
        )
        rows = data.dicts()
        total_last = sum(float(r["revenue_last_90d"] or 0) for r in rows)
        total_prior = sum(float(r["revenue_prior_90d"] or 0) for r in rows)
        if total_prior <= 0 and total_last <= 0:
            return []
        company_change = total_last / total_prior - 1 if total_prior else None
        window = {"last_90d": {"start": last_start.isoformat(), "end": ctx.today.isoformat()},
                  "prior_90d": {"start": prior_start.isoformat(), "end": (last_start - DAY).isoformat()}}
        # What is worth saying: a change of at least 0.5% of the scope's bookings (1%: medium), or, in a scope
        # of many customers, 2.5 times an average customer's 90 days (5 times: medium).
        active = max(1, sum(1 for r in rows
                            if float(r["revenue_last_90d"] or 0) + float(r["revenue_prior_90d"] or 0) > 0))
        base = max(total_last, total_prior)
        mean = (total_last + total_prior) / 2 / active
        low, medium = min(0.005 * base, 2.5 * mean), min(0.01 * base, 5 * mean)
        # ... and a big customer (the top 2% by bookings, at least 10) moving that much is medium anyway.
        n_top = max(10, math.ceil(0.02 * active))
        top_prior = {r["customer_id"] for r in sorted(rows, key=lambda r: -float(r["revenue_prior_90d"] or 0))[:n_top]}
        top_last = {r["customer_id"] for r in sorted(rows, key=lambda r: -float(r["revenue_last_90d"] or 0))[:n_top]}
        declines, growth, at_risk = [], [], []
        for r in rows:
            last, prior = float(r["revenue_last_90d"] or 0), float(r["revenue_prior_90d"] or 0)
            spread = math.sqrt(float(r["sum_of_squares"] or 0)) or 1.0
            z = (last - prior) / spread
            if prior > 0:
                change = last / prior - 1
                if change * 100 <= -s.insights_decline_pct and prior - last >= low:
                    severity = ("high" if z <= -3 and prior - last >= 2 * medium else
                                "medium" if prior - last >= medium or r["customer_id"] in top_prior else "low")
                    declines.append(self._change(ctx, data, r, "customer_decline", severity, change, z,
                                                 company_change, window))
                    continue
                if change * 100 >= s.insights_change_pct and last - prior >= low:
                    severity = "medium" if last - prior >= medium or r["customer_id"] in top_last else "low"
                    growth.append(self._change(ctx, data, r, "customer_growth", severity, change, z, company_change,
                                               window))
                    continue
            if r["health"] == "at_risk" and last + prior >= 2 * low:
                at_risk.append(self._at_risk(ctx, data, r, "medium" if last + prior >= 2 * medium else "low"))
        n = s.insights_max_per_kind
        return _limit(declines, n) + _limit(growth, n) + _limit(at_risk, n)

    def _change(self, ctx, data, r, kind, severity, change, z, company_change, window) -> Insight:
        last, prior = float(r["revenue_last_90d"] or 0), float(r["revenue_prior_90d"] or 0)
        down = kind == "customer_decline"
        verb = "fell" if down else "rose"
        headline = (f"Orders from {r['customer_name']} {verb} {abs(change) * 100:.0f}% in the last 90 days: "
                    f"{usd(last)} against {usd(prior)} in the 90 days before")
        if not down:
            headline += ": upsell opportunity"
        whole = {"sales_rep": "the book", "sales_manager": "the territory"}.get(ctx.scope.role, "the company")
        company = (f" ({whole} as a whole: {signed_pct(company_change)})" if company_change is not None else "")
        narrative = (f"{r['customer_name']} ordered {usd(last)} on {int(r['orders_last_90d'])} orders from "
                     f"{window['last_90d']['start']} to {window['last_90d']['end']}, against {usd(prior)} on "
                     f"{int(r['orders_prior_90d'])} orders in the 90 days before: {signed_pct(change)}{company}.")
        action = ("Call the customer with the account owner: ask what changed (a competitor, budget, a problem "
                  "with an order) before the next quarter." if down else
                  "Talk to the customer about what drives the growth and propose a bigger program or a volume deal.")
        return ctx.insight(
            kind=kind, severity=severity, headline=headline, action=action, key=str(r["customer_id"]),
            evidence=[data.only([tuple(r.values())],
                                title=f"{r['customer_name']}: bookings, last 90 days and the 90 before")],
            rep_id=r["rep_id"], territory=r["territory"], direction="down" if down else "up",
            facts={"customer_id": r["customer_id"], "customer_name": r["customer_name"],
                   "revenue_last_90d": num(last, 2), "revenue_prior_90d": num(prior, 2),
                   "change_pct": round(change * 100, 2),
                   "change": num(last - prior, 2), "orders_last_90d": int(r["orders_last_90d"]),
                   "orders_prior_90d": int(r["orders_prior_90d"]), "z": round(z, 2),
                   "company_change_pct": round(company_change * 100, 2) if company_change is not None else None,
                   "health": r["health"], "window": window},
            subjects={"customers": [{"customer_id": r["customer_id"], "customer_name": r["customer_name"]}]},
            narrative=narrative, score=abs(last - prior), detector=self.name,
            period={"start": window["prior_90d"]["start"], "end": window["last_90d"]["end"]},
        )

    def _at_risk(self, ctx, data, r, severity) -> Insight:
        days = int(r["business_days_since_last_order"] or 0)
        gap = r["usual_order_gap_business_days"]
        headline = (f"{r['customer_name']} has not ordered for {days} business days"
                    + (f", usually every {qty(gap)}" if gap is not None else "")
                    + f": {usd(float(r['revenue_last_90d'] or 0) + float(r['revenue_prior_90d'] or 0))} of bookings in "
                    "the last 180 days at stake")
        return ctx.insight(
            kind="customer_at_risk", severity=severity, headline=headline,
            action="Reach out before the customer is lost: check for open issues, a reorder due, a new contact.",
            key=str(r["customer_id"]),
            evidence=[data.only([tuple(r.values())], title=f"{r['customer_name']}: ordering history")],
            rep_id=r["rep_id"], territory=r["territory"], direction="at_risk",
            facts={"customer_id": r["customer_id"], "customer_name": r["customer_name"],
                   "business_days_since_last_order": days,
                   "usual_order_gap_business_days": float(gap) if gap is not None else None,
                   "last_order_date": _iso(r["last_order_date"]), "revenue_last_90d": num(r["revenue_last_90d"], 2),
                   "revenue_prior_90d": num(r["revenue_prior_90d"], 2),
                   "lifetime_revenue": num(r["lifetime_revenue"], 2)},
            subjects={"customers": [{"customer_id": r["customer_id"], "customer_name": r["customer_name"]}]},
            narrative=(f"The last order was on {_iso(r['last_order_date'])}; {usd(r['revenue_last_90d'])} in the "
                       f"last 90 days against {usd(r['revenue_prior_90d'])} in the 90 before."),
            score=float(r["revenue_last_90d"] or 0) + float(r["revenue_prior_90d"] or 0),
            detector=self.name,
        )


# --- revenue concentration ------------------------------------------------------------------------------------


class RevenueConcentration(Detector):
    name = "revenue_concentration"
    title = "Revenue concentration"
    description = ("Share of the last 12 months' bookings of the largest customer and of the top 10, and the "
                   "Herfindahl index (sum of squared shares): medium from a top customer at 15%, a top 10 at 60% or "
                   "an index of 0.15; high from 30% or 0.25 (a rep's own book: never above low).")
    kinds = ("revenue_concentration",)
    marts = ("fct_orders",)

    def detect(self, ctx: InsightContext) -> list[Insight]:
        start = ctx.today - 364 * DAY
        per_customer = ("SELECT customer_id, sum(total_amount) AS revenue FROM marts.fct_orders WHERE status <> "
                        f"'cancelled' AND order_date BETWEEN {ctx.date(start)} AND {ctx.date(ctx.today)} "
                        "GROUP BY customer_id")
        totals_evidence = ctx.run(
            f"WITH c AS ({per_customer}) SELECT count(*) AS customers, sum(revenue) AS revenue, "
            "sum(CAST(revenue AS DOUBLE) * CAST(revenue AS DOUBLE)) / (CAST(sum(revenue) AS DOUBLE) * "
            "CAST(sum(revenue) AS DOUBLE)) AS herfindahl FROM c WHERE revenue > 0",
            title="Customers and bookings of the last 12 months, Herfindahl index")
        totals = totals_evidence.first()
        if not totals or not totals.get("revenue") or (totals.get("customers") or 0) < 3:
            return []
        names = ctx.has_marts("dim_customers")
        top = ctx.run(
            f"WITH c AS ({per_customer}) SELECT c.customer_id, "
            + ("d.customer_name, " if names else "NULL AS customer_name, ")
            + "c.revenue, round(CAST(c.revenue AS DOUBLE) / (SELECT CAST(sum(revenue) AS DOUBLE) FROM c "
            "WHERE revenue > 0), 4) AS share FROM c"
            + (" LEFT JOIN marts.dim_customers d ON d.customer_id = c.customer_id" if names else "")
            + " WHERE c.revenue > 0 ORDER BY c.revenue DESC, c.customer_id LIMIT 10",
            title="The 10 largest customers of the last 12 months")
        rows = top.dicts()
        revenue = float(totals["revenue"])
        top1 = float(rows[0]["revenue"]) / revenue
        top10 = sum(float(r["revenue"]) for r in rows) / revenue
        hhi = float(totals["herfindahl"] or 0)
        if top1 >= 0.30 or hhi >= 0.25:
            severity = "high"
        elif top1 >= 0.15 or top10 >= 0.60 or hhi >= 0.15:
            severity = "medium"
        else:
            severity = "low"
        if ctx.scope.role == "sales_rep":  # a rep's own book is small: that it is concentrated is no news
            severity = "low"
        elif ctx.scope.role == "sales_manager" and severity == "high":
            severity = "medium"
        biggest = rows[0]["customer_name"] or rows[0]["customer_id"]
        headline = (f"The top {len(rows)} customers bring {pct(top10)} of the last 12 months' bookings "
                    f"({usd(revenue)}); the largest, {biggest}, {pct(top1)} (Herfindahl index {hhi:.3f})")
        action = ("Reduce the dependence: grow the next tier of customers and protect the top accounts."
                  if severity != "low" else "No action needed; keep an eye on the top accounts.")
        return [ctx.insight(
            kind="revenue_concentration", severity=severity, headline=headline, action=action, key="customers",
            evidence=[top, totals_evidence],
            direction="concentrated" if severity != "low" else "spread",
            facts={"customers": int(totals["customers"]), "bookings_12m": num(revenue, 2),
                   "top_customer_share": round(top1, 4), "top10_share": round(top10, 4),
                   "herfindahl": round(hhi, 4), "top_customer": biggest},
            subjects={"customers": [{"customer_id": r["customer_id"], "customer_name": r["customer_name"]}
                                    for r in rows]},
            narrative=(f"{int(totals['customers']):,} customers ordered in the last 12 months; a Herfindahl index "
                       "over 0.15 is moderately concentrated, over 0.25 highly."),
            score=revenue * top10 if severity != "low" else 0.0, detector=self.name,
            period={"start": start.isoformat(), "end": ctx.today.isoformat()},
        )]


# --- overdue receivables -------------------------------------------------------------------------------------


class Receivables(Detector):
    name = "receivables"
    title = "Overdue receivables"
    description = ("Open invoices past their due date, by age (1-30, 31-60, 61-90, over 90 days); the customers "
                   "owing most past SCC_INSIGHTS_OVERDUE_DAYS days.")
    kinds = ("overdue_receivables", "customer_overdue")
    marts = ("fct_invoices",)

    def detect(self, ctx: InsightContext) -> list[Insight]:
        s = ctx.settings
        long = int(s.insights_overdue_days)
        aging = ctx.run(
            "SELECT count(*) AS open_invoices, coalesce(sum(amount_remaining), 0) AS open_receivables, "
            "count(*) FILTER (WHERE days_overdue > 0) AS overdue_invoices, "
            "coalesce(sum(amount_remaining) FILTER (WHERE days_overdue > 0), 0) AS overdue, "
            "coalesce(sum(amount_remaining) FILTER (WHERE days_overdue BETWEEN 1 AND 30), 0) AS overdue_1_30, "
            "coalesce(sum(amount_remaining) FILTER (WHERE days_overdue BETWEEN 31 AND 60), 0) AS overdue_31_60, "
            "coalesce(sum(amount_remaining) FILTER (WHERE days_overdue BETWEEN 61 AND 90), 0) AS overdue_61_90, "
            "coalesce(sum(amount_remaining) FILTER (WHERE days_overdue > 90), 0) AS overdue_over_90, "
            f"coalesce(sum(amount_remaining) FILTER (WHERE days_overdue > {long}), 0) AS overdue_long "
            "FROM marts.fct_invoices WHERE status = 'open' AND amount_remaining > 0",
            title="Open receivables by age")
        a = aging.first()
        open_total, overdue, long_total = (float(a.get(k) or 0)
                                           for k in ("open_receivables", "overdue", "overdue_long"))
        if overdue <= 0 or open_total <= 0:
            return []
        share, long_share = overdue / open_total, long_total / open_total
        severity = ("high" if share >= 0.5 or long_share >= 0.25 else
                    "medium" if share >= 0.2 or long_share >= 0.1 else "low")
        names = ctx.has_marts("dim_customers")
        customers = ctx.run(
            "SELECT i.customer_id, " + ("c.customer_name, " if names else "NULL AS customer_name, ")
            + "i.rep_id, i.territory, count(*) AS invoices, sum(i.amount_remaining) AS overdue, "
            f"coalesce(sum(i.amount_remaining) FILTER (WHERE i.days_overdue > {long}), 0) AS overdue_long, "
            "max(i.days_overdue) AS oldest_days FROM marts.fct_invoices i"
            + (" LEFT JOIN marts.dim_customers c ON c.customer_id = i.customer_id" if names else "")
            + " WHERE i.status = 'open' AND i.amount_remaining > 0 AND i.days_overdue > 0 "
            "GROUP BY 1, 2, 3, 4 ORDER BY overdue DESC, 1 LIMIT 20",
            title="Customers with overdue invoices")
        top = customers.dicts()
        headline = (f"{usd(overdue)} of {usd(open_total)} open receivables is overdue ({pct(share, 0)}) on "
                    f"{int(a['overdue_invoices'])} invoices; {usd(long_total)} more than {long} days")
        out = [ctx.insight(
            kind="overdue_receivables", severity=severity, headline=headline,
            action="Send the 60+ day list to collections and hold new orders for customers far past due.",
            key="all", evidence=[aging, customers], direction="overdue",
            facts={"open_receivables": num(open_total, 2), "overdue": num(overdue, 2), "overdue_share": round(share, 4),
                   "overdue_long": num(long_total, 2), "overdue_long_days": long,
                   "overdue_invoices": int(a["overdue_invoices"]),
                   "aging": {k: num(a[k], 2)
                             for k in ("overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_over_90")}},
            subjects={"customers": [{"customer_id": r["customer_id"], "customer_name": r["customer_name"]}
                                    for r in top[:10]]},
            narrative=("By age: " + ", ".join(f"{label} {usd(a[k])}" for label, k in (
                ("1-30 days", "overdue_1_30"), ("31-60", "overdue_31_60"), ("61-90", "overdue_61_90"),
                ("over 90", "overdue_over_90"))) + "."),
            score=overdue, detector=self.name,
        )]
        per_customer = []
        for r in top:
            owed = float(r["overdue_long"] or 0)
            if owed <= 0 or owed < 0.02 * open_total:
                continue
            name = r["customer_name"] or r["customer_id"]
            line = (f"{name} owes {usd(r['overdue'])} past due on {plural(r['invoices'], 'invoice')}, "
                    f"{usd(owed)} of it more than {long} days (oldest: {int(r['oldest_days'])} days)")
            per_customer.append(ctx.insight(
                kind="customer_overdue", severity="medium" if owed >= 0.05 * open_total else "low", headline=line,
                action="Call the customer's accounts payable; consider a credit hold until it is paid.",
                key=str(r["customer_id"]),
                evidence=[customers.only([tuple(r.values())], title=f"{name}: overdue invoices")],
                rep_id=r["rep_id"], territory=r["territory"], direction="overdue",
                facts={"customer_id": r["customer_id"], "customer_name": name, "overdue": num(r["overdue"], 2),
                       "overdue_long": num(owed, 2), "invoices": int(r["invoices"]),
                       "oldest_days": int(r["oldest_days"])},
                subjects={"customers": [{"customer_id": r["customer_id"], "customer_name": r["customer_name"]}]},
                narrative=f"That is {pct(owed / open_total)} of all open receivables in scope.", score=owed,
                detector=self.name,
            ))
        return out + _limit(per_customer, s.insights_max_per_kind)


# --- stock that will not cover open orders ----------------------------------------------------------------------


class StockCover(Detector):
    name = "stock_cover"
    title = "Items whose stock will not cover open orders"
    description = ("Units still to ship on open orders (pending or partially fulfilled) against the units on hand; "
                   "in a scope that sees part of the orders, also items the caller has open orders for that are "
                   "backordered company-wide.")
    kinds = ("stock_shortfall",)
    marts = ("fct_order_lines", "fct_orders", "dim_products")

    def detect(self, ctx: InsightContext) -> list[Insight]:
        partial_view = not ctx.scope.sees_everything
        condition = "ol.open_quantity > p.quantity_on_hand"
        if partial_view:
            condition += " OR (p.quantity_backordered > 0 AND p.quantity_available <= 0)"
        data = ctx.run(
            "WITH ol AS (SELECT l.product_id, sum(l.quantity - l.quantity_fulfilled) AS open_quantity, "
            "count(DISTINCT l.order_id) AS open_orders, "
            "sum((l.quantity - l.quantity_fulfilled) * l.unit_price) AS open_value "
            "FROM marts.fct_order_lines l JOIN marts.fct_orders o ON o.order_id = l.order_id "
            "WHERE o.status_group IN ('pending', 'partial') AND l.quantity > l.quantity_fulfilled "
            "GROUP BY l.product_id) "
            "SELECT p.product_id, p.sku, p.product_name, p.category, p.quantity_on_hand, p.quantity_available, "
            "p.quantity_committed, p.quantity_backordered, ol.open_quantity, ol.open_orders, ol.open_value, "
            "ol.open_quantity - p.quantity_on_hand AS shortfall FROM ol JOIN marts.dim_products p ON "
            f"p.product_id = ol.product_id WHERE {condition} ORDER BY shortfall DESC, p.product_id",
            title="Items with more units on open orders than on hand", max_rows=10_000,
        )
        out = []
        for r in data.dicts()[: ctx.settings.insights_max_per_kind]:
            out.append(self._item(ctx, data, r, partial_view))
        return out

    def _item(self, ctx, data, r, partial_view) -> Insight:
        open_q, on_hand = float(r["open_quantity"] or 0), float(r["quantity_on_hand"] or 0)
        short = open_q - on_hand
        backordered = float(r["quantity_backordered"] or 0)
        label = f"{r['product_name']} ({r['sku']})"
        if short > 0:
            headline = (f"{label}: {qty(open_q)} units on {plural(r['open_orders'], 'open order')}, "
                        f"{qty(on_hand)} on hand: short {qty(short)}")
            severity = "high" if short >= 0.1 * open_q else "medium"
        else:
            headline = (f"{label}: {plural(r['open_orders'], 'open order')} of yours need {qty(open_q)} units; "
                        f"the item is backordered ({qty(backordered)} units) with "
                        f"{qty(r['quantity_available'])} available")
            severity = "medium"
        names = ctx.has_marts("dim_customers")
        orders = ctx.run(
            "SELECT o.order_id, o.order_number, o.customer_id, "
            + ("c.customer_name, " if names else "NULL AS customer_name, ")
            + "o.rep_id, o.territory, o.order_date, o.status, sum(l.quantity - l.quantity_fulfilled) AS open_quantity "
            "FROM marts.fct_order_lines l JOIN marts.fct_orders o ON o.order_id = l.order_id"
            + (" LEFT JOIN marts.dim_customers c ON c.customer_id = o.customer_id" if names else "")
            + f" WHERE l.product_id = {lit(r['product_id'])} AND o.status_group IN ('pending', 'partial') "
            "AND l.quantity > l.quantity_fulfilled GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY o.order_date, o.order_id",
            title=f"Open orders for {label}", max_rows=500,
        )
        order_rows = orders.dicts()
        customers, seen = [], set()
        for o in order_rows:
            if o["customer_id"] and o["customer_id"] not in seen:
                seen.add(o["customer_id"])
                customers.append({"customer_id": o["customer_id"], "customer_name": o["customer_name"]})
        unit_value = float(r["open_value"] or 0) / open_q if open_q else 0.0
        narrative = (f"{qty(r['quantity_committed'])} units are committed and {qty(backordered)} "
                     f"backordered; the open orders are worth {usd(r['open_value'])}.")
        return ctx.insight(
            kind="stock_shortfall", severity=severity, headline=headline,
            action="Expedite a purchase or transfer from the other location, and warn the customers on the latest "
                   "orders about the ship date.",
            key=str(r["product_id"]), evidence=[data.only([tuple(r.values())], title=f"{label}: stock and open orders"),
                                                orders.only(limit=25)],
            direction="short",
            facts={"product_id": r["product_id"], "sku": r["sku"], "product_name": r["product_name"],
                   "open_quantity": open_q, "quantity_on_hand": on_hand, "shortfall": short,
                   "quantity_available": float(r["quantity_available"] or 0), "quantity_backordered": backordered,
                   "open_orders": int(r["open_orders"]), "open_value": num(r["open_value"], 2)},
            subjects={"products": [{"product_id": r["product_id"], "sku": r["sku"], "product_name": r["product_name"]}],
                      "orders": [{"order_id": o["order_id"], "order_number": o["order_number"]}
                                 for o in order_rows[:50]],
                      "customers": customers},
            narrative=narrative, score=max(short, 0) * unit_value or float(r["open_value"] or 0) * 0.1,
            detector=self.name,
        )


BUILTIN_DETECTORS = (OrderAnomalies, DealPerformance, DealRisk, CustomerTrends, RevenueConcentration, Receivables,
                     StockCover)


def builtin_detectors() -> list[Detector]:
    return [cls() for cls in BUILTIN_DETECTORS]
