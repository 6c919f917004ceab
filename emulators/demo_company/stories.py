"""The planted stories, measured on the generated data, and the cross-reference mismatches.

Every entry of ``stories.json`` has ``kind``, ``headline`` and ``planted`` (True for the six insight
stories; False for the always-present ``mismatches`` and ``reference`` entries), plus fields a test or
an insight detector can check: ids, names, windows, measured values, expected direction and size.
"""

from __future__ import annotations

import numpy as np

from .orders import ANOMALY_MEMO, DECLINE_RATIO, GROWTH_RATIO, LOCATION_MAIN, C
from .pipeline import NEGOTIATION, REGIONS

STORY_KINDS = (
    "customer_decline",
    "customer_growth",
    "stalled_deals",
    "win_rate_dip",
    "order_anomaly",
    "stockout_risk",
)


def _money(cents) -> float:
    return round(float(cents) / 100.0, 2)


def build_stories(g) -> list[dict]:
    """``g`` is the generator's state (clock, accounts, items, orders, pipeline, ids)."""
    out: list[dict] = []
    if g.ctx.plant:
        out.append(_customer_change(g, g.orders.decline_c, "customer_decline", DECLINE_RATIO))
        out.append(_customer_change(g, g.orders.disney_c, "customer_growth", GROWTH_RATIO))
        out.append(_stalled(g))
        out.append(_win_rate_dip(g))
        out.append(_order_anomaly(g))
        out.append(_stockout(g))
    out.append(_mismatches(g))
    out.append(_reference(g))
    return out


def _customer_change(g, c: int, kind: str, ratio: float) -> dict:
    o, clock, accts = g.orders, g.clock, g.accts
    rp, rl = o._window_revenue()
    live = o.status != C
    life = np.bincount(o.cust[live], weights=o.total_c[live], minlength=accts.n_customers)
    rank = int((life > life[c]).sum()) + 1
    a = int(accts.cust_account[c])
    change = (rl[c] / rp[c] - 1) * 100
    name = accts.name[a]
    (lp, hp), (ll, hl) = o.prior_window, o.last_window
    direction = "down" if ratio < 1 else "up"
    verb = "fell" if ratio < 1 else "rose"
    return {
        "kind": kind,
        "planted": True,
        "headline": f"Orders from {name} {verb} {abs(round(change))}% in the last 90 days "
        "versus the prior 90 days",
        "customer_name": name,
        "salesforce_account_id": g.account_ids[a],
        "netsuite_customer_id": int(accts.cust_id[c]),
        "metric": "bookings: sum of sales order totals by order date, cancelled orders excluded",
        "window": {
            "last_90d": {"start": clock.day_str[ll], "end": clock.day_str[hl]},
            "prior_90d": {"start": clock.day_str[lp], "end": clock.day_str[hp]},
        },
        "revenue_last_90d": _money(rl[c]),
        "revenue_prior_90d": _money(rp[c]),
        "change_pct": round(float(change), 2),
        "expected_direction": direction,
        "expected_change_pct": round((ratio - 1) * 100),
        "tolerance_pct": 5,
        "lifetime_revenue_rank": rank,
        "company_change_pct": round((o.company_ratio - 1) * 100, 2),
    }


def _stalled(g) -> dict:
    p, clock, accts = g.pipeline, g.clock, g.accts
    T = clock.tday
    deals = []
    for i in p.stalled:
        a = int(p.acc[i])
        deals.append(
            {
                "opportunity_id": g.opportunity_ids[i],
                "name": g.opportunity_names[i],
                "salesforce_account_id": g.account_ids[a],
                "account_name": accts.name[a],
                "owner_id": g.user_ids[int(accts.owner[a])],
                "amount": float(p.final_amount[i]),
                "stage": "Negotiation/Review",
                "stage_entered_date": clock.day_str[int(p.stage_entry_day[i])],
                "days_in_stage": int(T - p.stage_entry_day[i]),
                "last_activity_date": clock.day_str[int(p.last_activity_day[i])]
                if p.last_activity_day[i] >= 0
                else None,
                "days_since_last_activity": int(T - p.last_activity_day[i])
                if p.last_activity_day[i] >= 0
                else None,
                "close_date": clock.day_str[int(p.final_close[i])],
            }
        )
    med = p.median_stage_days[NEGOTIATION]
    total = sum(d["amount"] for d in deals)
    return {
        "kind": "stalled_deals",
        "planted": True,
        "headline": f"{len(deals)} large deals worth ${total:,.0f} have sat in Negotiation/Review "
        "for 2-4 months "
        "with no recent activity",
        "stage": "Negotiation/Review",
        "min_amount": 250_000,
        "min_days_in_stage": min(d["days_in_stage"] for d in deals),
        "median_days_in_stage_won": med,
        "opportunities": deals,
        "expected_direction": "stalled",
    }


def win_rates(g, quarter: int) -> tuple[float, dict[str, float], int, int]:
    p, clock = g.pipeline, g.clock
    m = p.closed & ~p.deleted & (clock.quarter[np.minimum(p.close_day, clock.n_days - 1)] == quarter)
    won = int((m & p.won).sum())
    total = int(m.sum())
    by_region = {}
    for r, name in enumerate(REGIONS):
        mr = m & (p.region == r)
        by_region[name] = round(float((mr & p.won).sum() / max(mr.sum(), 1)), 4)
    return round(won / max(total, 1), 4), by_region, won, total


def _win_rate_dip(g) -> dict:
    p, clock = g.pipeline, g.clock
    q = p.dip_quarter
    rate, by_region, won, total = win_rates(g, q)
    prev_rate, prev_regions, _, _ = win_rates(g, q - 1)
    next_rate, next_regions, _, _ = win_rates(g, q + 1)
    region = REGIONS[p.dip_region]
    others = [r for r in REGIONS if r != region]
    m = p.closed & ~p.deleted & (clock.quarter[np.minimum(p.close_day, clock.n_days - 1)] == q)
    mo = m & (p.region != p.dip_region)
    first, last = clock.quarter_bounds(q)
    nf, nl = clock.quarter_bounds(q + 1)
    pf, pl = clock.quarter_bounds(q - 1)
    around = (prev_rate + next_rate) / 2
    return {
        "kind": "win_rate_dip",
        "planted": True,
        "headline": f"Win rate fell to {rate:.0%} in {clock.quarter_label(q)} (from about {around:.0%}), "
        f"driven by the {region} region",
        "quarter": clock.quarter_label(q),
        "window": {"start": clock.day_str[first], "end": clock.day_str[last]},
        "metric": "won / (won + lost) over opportunities closed in the quarter (by CloseDate), "
        "deleted excluded",
        "win_rate": rate,
        "won": won,
        "closed": total,
        "region": region,
        "region_win_rate": by_region[region],
        "other_regions_win_rate": round(float((mo & p.won).sum() / max(mo.sum(), 1)), 4),
        "win_rate_by_region": by_region,
        "previous_quarter": {
            "quarter": clock.quarter_label(q - 1),
            "start": clock.day_str[pf],
            "end": clock.day_str[pl],
            "win_rate": prev_rate,
            "by_region": prev_regions,
        },
        "next_quarter": {
            "quarter": clock.quarter_label(q + 1),
            "start": clock.day_str[nf],
            "end": clock.day_str[min(nl, clock.tday)],
            "to_date": True,
            "win_rate": next_rate,
            "by_region": next_regions,
        },
        "expected_direction": "down",
        "expected_change_points": round((rate - around) * 100, 1),
        "other_regions": others,
    }


def weekday_baseline(o, day: int, weeks: int = 8) -> tuple[float, float]:
    """Mean order count and value on the same weekday over the previous ``weeks`` weeks
    (cancelled orders excluded)."""
    live = o.status != C
    counts, values = [], []
    for w in range(1, weeks + 1):
        m = live & (o.day == day - 7 * w)
        counts.append(int(m.sum()))
        values.append(float(o.total_c[m].sum()) / 100)
    return sum(counts) / weeks, sum(values) / weeks


def _order_anomaly(g) -> dict:
    o, clock = g.orders, g.clock
    d = o.anomaly_day
    live = o.status != C
    m = live & (o.day == d)
    count, value = int(m.sum()), float(o.total_c[m].sum()) / 100
    b_count, b_value = weekday_baseline(o, d)
    return {
        "kind": "order_anomaly",
        "planted": True,
        "headline": f"{count} orders worth ${value:,.0f} on {clock.day_str[d]}, "
        f"{count / b_count:.1f}x a normal {clock.dates[d].strftime('%A')}",
        "date": clock.day_str[d],
        "weekday": clock.dates[d].strftime("%A"),
        "window": {"start": clock.day_str[clock.tday - 59], "end": clock.day_str[clock.tday]},
        "order_count": count,
        "order_value": round(value, 2),
        "baseline": "mean of the same weekday over the 8 previous weeks, cancelled orders excluded",
        "baseline_order_count": round(b_count, 2),
        "baseline_order_value": round(b_value, 2),
        "count_ratio": round(count / b_count, 2),
        "value_ratio": round(value / b_value, 2),
        "extra_orders": int((o.kind == 2).sum()),
        "source": "CSV",
        "memo": ANOMALY_MEMO,
        "expected_direction": "up",
    }


def _stockout(g) -> dict:
    o, items = g.orders, g.items
    i = items.stockout_item
    ks = [i * 2, i * 2 + 1]
    onhand = float(o.inv_onhand[ks].sum())
    avail = float(o.inv_available[ks].sum())
    open_q = float(o.open_qty[ks].sum())
    st = o.status[o.line_order]
    open_lines = (o.item == i) & np.isin(st, [0, 1, 3, 4]) & (o.qty > o.ship)
    orders = sorted(set(o.line_order[open_lines].tolist()))
    return {
        "kind": "stockout_risk",
        "planted": True,
        "headline": f"{items.name[i]} ({items.sku[i]}): {open_q:,.0f} units on open orders, "
        f"{onhand:,.0f} on hand",
        "item_id": int(items.ids[i]),
        "sku": items.sku[i],
        "item_name": items.name[i],
        "quantity_on_hand": onhand,
        "quantity_available": avail,
        "quantity_committed": float(o.inv_committed[ks].sum()),
        "quantity_backordered": float(o.inv_backordered[ks].sum()),
        "open_order_quantity": open_q,
        "open_order_statuses": ["A", "B", "D", "E"],
        "open_orders": [int(g.so_ids[k]) for k in orders],
        "shortfall": open_q - onhand,
        "main_location_id": LOCATION_MAIN,
        "expected_direction": "short",
    }


def _mismatches(g) -> dict:
    accts = g.accts
    variants = []
    for k in accts.variant_customers:
        a = int(accts.cust_account[k])
        variants.append(
            {
                "salesforce_account_id": g.account_ids[a],
                "account_name": accts.name[a],
                "netsuite_customer_id": int(accts.cust_id[k]),
                "companyname": accts.cust_name[k],
            }
        )
    ns_only = [
        {"netsuite_customer_id": int(accts.cust_id[k]), "companyname": accts.cust_name[k]}
        for k in np.flatnonzero(accts.cust_ns_only).tolist()
    ]
    prospects = [g.account_ids[a] for a in range(accts.n) if not accts.is_customer[a]]
    return {
        "kind": "mismatches",
        "planted": False,
        "headline": f"{len(variants)} customers need name matching (no cross-reference ids), "
        f"{len(ns_only)} exist only in NetSuite, {len(prospects)} prospects only in Salesforce",
        "name_variants": variants,
        "netsuite_only": ns_only,
        "salesforce_only_prospects": {"count": len(prospects), "salesforce_account_ids": prospects},
    }


def _reference(g) -> dict:
    accts, items, o, clock = g.accts, g.items, g.orders, g.clock
    h = items.offer_hat
    return {
        "kind": "reference",
        "planted": False,
        "headline": "Facts about the generated company that examples and tests rely on",
        "today": clock.today.isoformat(),
        "history_start": clock.day_str[0],
        "seed": g.ctx.seed,
        "scale": g.ctx.scale,
        "disney": {
            "salesforce_account_id": g.account_ids[accts.disney],
            "netsuite_customer_id": int(accts.cust_id[o.disney_c]),
        },
        "offer_hat": {
            "item_id": int(items.ids[h]),
            "sku": items.sku[h],
            "name": items.name[h],
            "baseprice": float(items.base_price[h]),
            "min_price": float(items.min_price[h]),
            "quantity_available": float(o.inv_available[2 * h] + o.inv_available[2 * h + 1]),
            "quantity_available_main": float(o.inv_available[2 * h]),
            "example": "500 units at $50.00 each is within the price floor and stock",
        },
        "row_counts": dict(g.counts),
    }
