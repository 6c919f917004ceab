"""The dashboard's figures, straight from the marts and cut to the caller's scope.

Each function takes a :class:`~api.security.Scope` and returns plain JSON-ready data. The definitions follow
``shared/reference/sales-metrics.md`` (bookings exclude cancelled orders, win rate is over opportunities
closed in the period, open pipeline is the amount of open opportunities, ...). Products (the catalogue) are
the same for everyone; everything with a rep or a territory is scoped.
"""

from __future__ import annotations

import datetime as dt

from api.security import Scope
from api.services.warehouse import Reader, reader
from scc.config import Settings, today

PERIODS = ("month", "quarter", "year")


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(start, end) of the period to date and of the same stretch of the period before, ends inclusive."""
    if period == "month":
        start = day.replace(day=1)
        prev_start = (start - dt.timedelta(days=1)).replace(day=1)
    elif period == "quarter":
        start = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        prev_month = start.month - 3
        prev_start = dt.date(start.year - (prev_month < 1), (prev_month - 1) % 12 + 1, 1)
    else:
        start = dt.date(day.year, 1, 1)
        prev_start = dt.date(day.year - 1, 1, 1)
    elapsed = (day - start).days
    prev_end = min(prev_start + dt.timedelta(days=elapsed), start - dt.timedelta(days=1))
    return start, day, prev_start, prev_end


def _ratio(numerator, denominator):
    return round(float(numerator) / float(denominator), 4) if denominator else None


def _money(value) -> float:
    return round(float(value or 0), 2)


def _period_figures(r: Reader, scope: Scope, start: dt.date, end: dt.date) -> dict:
    where, params = scope.where()
    orders = r.one(
        f"SELECT count(*) AS n, coalesce(sum(total_amount), 0) AS amount FROM marts.fct_orders "
        f"WHERE {where} AND status_group <> 'cancelled' AND order_date BETWEEN ? AND ?",
        [*params, start, end],
    )
    billings = r.value(
        f"SELECT coalesce(sum(amount), 0) FROM marts.fct_invoices WHERE {where} AND invoice_date BETWEEN ? AND ?",
        [*params, start, end],
    )
    closed = r.one(
        f"SELECT sum(CASE WHEN is_won THEN 1 ELSE 0 END) AS won, "
        f"sum(CASE WHEN is_closed AND NOT is_won THEN 1 ELSE 0 END) AS lost, "
        f"coalesce(sum(CASE WHEN is_won THEN amount ELSE 0 END), 0) AS won_amount "
        f"FROM marts.fct_opportunities WHERE {where} AND is_closed AND close_date BETWEEN ? AND ?",
        [*params, start, end],
    )
    won, lost = int(closed["won"] or 0), int(closed["lost"] or 0)
    return {
        "bookings": _money(orders["amount"]),
        "orders": int(orders["n"]),
        "average_order_value": round(float(orders["amount"]) / orders["n"], 2) if orders["n"] else None,
        "billings": _money(billings),
        "closed_won": _money(closed["won_amount"]),
        "deals_won": won,
        "deals_lost": lost,
        "win_rate": _ratio(won, won + lost),
    }


def overview(scope: Scope, period: str = "quarter", settings: Settings | None = None) -> dict:
    day = today()
    start, end, prev_start, prev_end = period_bounds(period, day)
    where, params = scope.where()
    with reader(settings) as r:
        current = _period_figures(r, scope, start, end)
        previous = _period_figures(r, scope, prev_start, prev_end)
        pipeline = r.one(
            f"SELECT count(*) AS n, coalesce(sum(amount), 0) AS amount, coalesce(sum(weighted_amount), 0) AS weighted, "
            f"sum(CASE WHEN is_stalled THEN 1 ELSE 0 END) AS stalled "
            f"FROM marts.fct_opportunities WHERE {where} AND NOT is_closed",
            params,
        )
        open_orders = r.one(
            f"SELECT count(*) AS n, coalesce(sum(total_amount), 0) AS amount FROM marts.fct_orders "
            f"WHERE {where} AND status_group IN ('pending', 'partial')",
            params,
        )
        receivables = r.one(
            f"SELECT coalesce(sum(amount_remaining), 0) AS open, "
            f"coalesce(sum(CASE WHEN days_overdue > 0 THEN amount_remaining ELSE 0 END), 0) AS overdue "
            f"FROM marts.fct_invoices WHERE {where} AND status = 'open'",
            params,
        )
        at_risk = r.value(
            f"SELECT count(*) FROM marts.dim_customers WHERE {where} AND health IN ('at_risk', 'declining')", params
        )
    metrics = {
        **current,
        "open_pipeline": _money(pipeline["amount"]),
        "weighted_pipeline": _money(pipeline["weighted"]),
        "open_opportunities": int(pipeline["n"]),
        "stalled_deals": int(pipeline["stalled"] or 0),
        "open_orders": int(open_orders["n"]),
        "open_order_value": _money(open_orders["amount"]),
        "open_receivables": _money(receivables["open"]),
        "overdue_receivables": _money(receivables["overdue"]),
        "customers_at_risk": int(at_risk or 0),
    }
    return {
        "as_of": day.isoformat(),
        "period": {"name": period, "start": start.isoformat(), "end": end.isoformat()},
        "previous_period": {"start": prev_start.isoformat(), "end": prev_end.isoformat()},
        "metrics": metrics,
        "previous": previous,
        "scope": {"role": scope.role, "rep_id": scope.rep_id, "territory": scope.territory},
    }


def pipeline(scope: Scope, settings: Settings | None = None) -> dict:
    where, params = scope.where()
    day = today()
    quarter_start, _, _, _ = period_bounds("quarter", day)
    quarter_end = (dt.date(quarter_start.year + (quarter_start.month == 10), (quarter_start.month + 2) % 12 + 1, 1)
                   - dt.timedelta(days=1))
    with reader(settings) as r:
        by_stage = r.all(
            f"SELECT stage, count(*) AS opportunities, coalesce(sum(amount), 0) AS amount, "
            f"coalesce(sum(weighted_amount), 0) AS weighted_amount, avg(days_in_stage) AS avg_days_in_stage "
            f"FROM marts.fct_opportunities WHERE {where} AND NOT is_closed GROUP BY stage ORDER BY amount DESC",
            params,
        )
        by_forecast = r.all(
            f"SELECT forecast_category, count(*) AS opportunities, coalesce(sum(amount), 0) AS amount "
            f"FROM marts.fct_opportunities WHERE {where} AND NOT is_closed GROUP BY forecast_category "
            f"ORDER BY amount DESC",
            params,
        )
        closing = r.one(
            f"SELECT count(*) AS opportunities, coalesce(sum(amount), 0) AS amount, "
            f"coalesce(sum(weighted_amount), 0) AS weighted_amount FROM marts.fct_opportunities "
            f"WHERE {where} AND NOT is_closed AND close_date BETWEEN ? AND ?",
            [*params, quarter_start, quarter_end],
        )
        stalled = r.all(
            f"SELECT o.opportunity_id, o.opportunity_name, o.customer_id, c.customer_name, o.rep_id, o.territory, "
            f"o.stage, o.amount, o.days_in_stage, o.close_date FROM marts.fct_opportunities o "
            f"LEFT JOIN marts.dim_customers c ON c.customer_id = o.customer_id "
            f"WHERE {scope.where('o')[0]} AND NOT o.is_closed AND o.is_stalled "
            f"ORDER BY o.amount DESC NULLS LAST, o.opportunity_id LIMIT 10",
            scope.where("o")[1],
        )
        stalled_count = r.value(
            f"SELECT count(*) FROM marts.fct_opportunities WHERE {where} AND NOT is_closed AND is_stalled", params)
    return {
        "as_of": day.isoformat(),
        "by_stage": by_stage,
        "by_forecast_category": by_forecast,
        "closing_this_quarter": {**closing, "start": quarter_start.isoformat(), "end": quarter_end.isoformat()},
        "stalled_deals": stalled,
        "stalled_deals_count": int(stalled_count or 0),  # all of them (the list shows the 10 largest)
    }


def orders(scope: Scope, settings: Settings | None = None) -> dict:
    where, params = scope.where()
    day = today()
    first_month = dt.date(day.year - 1, day.month, 1)
    with reader(settings) as r:
        by_status = r.all(
            f"SELECT status_group, status, count(*) AS orders, coalesce(sum(total_amount), 0) AS amount "
            f"FROM marts.fct_orders WHERE {where} AND status_group IN ('pending', 'partial') "
            f"GROUP BY status_group, status ORDER BY status_group, status",
            params,
        )
        monthly = r.all(
            f"SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, count(*) AS orders, "
            f"coalesce(sum(total_amount), 0) AS bookings FROM marts.fct_orders "
            f"WHERE {where} AND status_group <> 'cancelled' AND order_date >= ? AND order_date <= ? "
            f"GROUP BY 1 ORDER BY 1",
            [*params, first_month, day],
        )
        aging = r.all(
            f"SELECT CASE WHEN days_open <= 7 THEN '0-7' WHEN days_open <= 30 THEN '8-30' "
            f"WHEN days_open <= 60 THEN '31-60' ELSE '60+' END AS age_days, count(*) AS orders, "
            f"coalesce(sum(total_amount), 0) AS amount FROM marts.fct_orders "
            f"WHERE {where} AND status_group IN ('pending', 'partial') GROUP BY 1 ORDER BY min(days_open)",
            params,
        )
        recent = r.all(
            f"SELECT o.order_id, o.order_number, o.customer_id, c.customer_name, o.order_date, o.status, "
            f"o.total_amount, o.rep_id, o.territory FROM marts.fct_orders o "
            f"LEFT JOIN marts.dim_customers c ON c.customer_id = o.customer_id "
            f"WHERE {scope.where('o')[0]} ORDER BY o.order_date DESC, o.order_id DESC LIMIT 10",
            scope.where("o")[1],
        )
    return {"as_of": day.isoformat(), "open_by_status": by_status, "bookings_by_month": monthly,
            "open_order_aging": aging, "recent_orders": recent}


def customers(scope: Scope, settings: Settings | None = None) -> dict:
    where, params = scope.where()
    with reader(settings) as r:
        health = r.all(
            f"SELECT health, count(*) AS customers, coalesce(sum(revenue_last_90d), 0) AS revenue_last_90d "
            f"FROM marts.dim_customers WHERE {where} GROUP BY health ORDER BY customers DESC",
            params,
        )
        top = r.all(
            f"SELECT customer_id, customer_name, territory, rep_id, revenue_last_90d, revenue_prior_90d, health "
            f"FROM marts.dim_customers WHERE {where} AND revenue_last_90d > 0 "
            f"ORDER BY revenue_last_90d DESC, customer_id LIMIT 10",
            params,
        )
        at_risk = r.all(
            f"SELECT customer_id, customer_name, territory, rep_id, revenue_last_90d, revenue_prior_90d, health, "
            f"last_order_date FROM marts.dim_customers WHERE {where} AND health IN ('at_risk', 'declining') "
            f"ORDER BY revenue_prior_90d DESC NULLS LAST, customer_id LIMIT 10",
            params,
        )
        at_risk_count = r.value(
            f"SELECT count(*) FROM marts.dim_customers WHERE {where} AND health IN ('at_risk', 'declining')", params)
    for row in top + at_risk:
        prior = row.get("revenue_prior_90d") or 0
        row["change_pct"] = round(100 * (row["revenue_last_90d"] - prior) / prior, 1) if prior else None
    return {"as_of": today().isoformat(), "by_health": health, "top_customers": top, "at_risk": at_risk,
            "at_risk_count": int(at_risk_count or 0)}


def products(scope: Scope, settings: Settings | None = None) -> dict:
    where, params = scope.where("l")
    day = today()
    since = day - dt.timedelta(days=90)
    with reader(settings) as r:
        top = r.all(
            f"SELECT p.product_id, p.sku, p.product_name, p.category, sum(l.quantity) AS units, "
            f"sum(l.amount) AS revenue FROM marts.fct_order_lines l JOIN marts.dim_products p "
            f"ON p.product_id = l.product_id JOIN marts.fct_orders o ON o.order_id = l.order_id "
            f"WHERE {where} AND l.order_date > ? AND o.status_group <> 'cancelled' "
            f"GROUP BY p.product_id, p.sku, p.product_name, p.category ORDER BY revenue DESC, p.product_id LIMIT 10",
            [*params, since],
        )
        by_category = r.all(
            f"SELECT p.category, sum(l.quantity) AS units, sum(l.amount) AS revenue FROM marts.fct_order_lines l "
            f"JOIN marts.dim_products p ON p.product_id = l.product_id JOIN marts.fct_orders o ON o.order_id = l.order_id "
            f"WHERE {where} AND l.order_date > ? AND o.status_group <> 'cancelled' GROUP BY p.category "
            f"ORDER BY revenue DESC",
            [*params, since],
        )
        low_stock = r.all(
            "SELECT product_id, sku, product_name, category, list_price, quantity_on_hand, quantity_available "
            "FROM marts.dim_products WHERE is_active ORDER BY quantity_available, product_id LIMIT 10"
        )
    return {"as_of": day.isoformat(), "since": since.isoformat(), "top_products": top,
            "revenue_by_category": by_category, "low_stock": low_stock}


DASHBOARDS = {
    "overview": overview,
    "pipeline": pipeline,
    "orders": orders,
    "customers": customers,
    "products": products,
}
