"""What the API gained for the dashboard (``api/routes/dashboard.py``'s extras, ``/api/v1/auth/config``'s demo
logins, the page at ``/``), checked against gold computed a second way: plain Python over the marts' rows."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict

import pytest

from tests.conftest import TEST_TODAY

TODAY = dt.date.fromisoformat(TEST_TODAY)
SCOPES = ("exec", "manager", "rep")


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _year_back(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29) else day.replace(year=day.year - 1, day=28)


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _in_scope(row: dict, scope) -> bool:
    if scope.role == "sales_manager":
        return row["territory"] == scope.territory
    if scope.role == "sales_rep":
        return row["rep_id"] == scope.rep_id
    return True


@pytest.fixture(scope="module")
def rows(marts):
    """The marts' rows the gold is computed from (small company: all of them)."""
    return {
        "orders": marts("SELECT order_id, customer_id, rep_id, territory, order_date, status, status_group, total_amount, "
                        "days_open FROM marts.fct_orders"),
        "lines": marts("SELECT l.order_id, l.product_id, l.rep_id, l.territory, l.order_date, l.quantity, "
                       "l.quantity_fulfilled, l.amount, p.category FROM marts.fct_order_lines l "
                       "JOIN marts.dim_products p ON p.product_id = l.product_id"),
        "opportunities": marts("SELECT rep_id, territory, stage, probability, amount, is_closed, is_won, close_date, "
                               "close_date_pushes, is_slipped FROM marts.fct_opportunities"),
        "quotas": marts("SELECT rep_id, territory, quarter_start_date, quota_amount FROM marts.fct_quotas"),
        "products": {p["product_id"]: p for p in marts("SELECT product_id, quantity_on_hand FROM marts.dim_products")},
    }


@pytest.fixture(scope="module")
def dashboards(api, people_scopes):
    """Each scope's five dashboards, as the API answers them."""
    out = {}
    for name, scope in zip(SCOPES, people_scopes):
        with api.as_scope(scope) as client:
            out[name] = {"scope": scope, **{d: client.get(f"/api/v1/dashboard/{d}").json()
                                             for d in ("overview", "pipeline", "orders", "customers", "products")}}
    return out


def close(a, b) -> bool:
    return math.isclose(float(a or 0), float(b or 0), rel_tol=1e-9, abs_tol=0.011)


@pytest.mark.parametrize("who", SCOPES)
def test_overview_extras_match_the_marts(dashboards, rows, who):
    scope, metrics = dashboards[who]["scope"], dashboards[who]["overview"]["metrics"]
    orders = [o for o in rows["orders"] if _in_scope(o, scope)]
    booked = [o for o in orders if o["status_group"] != "cancelled"]

    def bookings(start, end):
        return sum(float(o["total_amount"]) for o in booked if start <= _day(o["order_date"]) <= end)

    month, quarter = TODAY.replace(day=1), _quarter_start(TODAY)
    assert close(metrics["bookings_mtd"], bookings(month, TODAY))
    assert close(metrics["bookings_mtd_last_year"], bookings(_year_back(month), _year_back(TODAY)))
    assert close(metrics["bookings_qtd"], bookings(quarter, TODAY))
    assert close(metrics["bookings_qtd_last_year"], bookings(_year_back(quarter), _year_back(TODAY)))
    assert metrics["orders_today"] == sum(1 for o in booked if _day(o["order_date"]) == TODAY)
    pending = [o for o in orders if o["status_group"] == "pending"]
    assert metrics["pending_orders"] == len(pending)
    assert close(metrics["pending_order_value"], sum(float(o["total_amount"]) for o in pending))

    won = sum(float(o["amount"] or 0) for o in rows["opportunities"] if _in_scope(o, scope) and o["is_won"]
              and quarter <= _day(o["close_date"]) <= TODAY)
    quota = sum(float(q["quota_amount"]) for q in rows["quotas"] if _in_scope(q, scope)
                and _day(q["quarter_start_date"]) == quarter)
    assert close(metrics["closed_won_qtd"], won) and close(metrics["quota_qtd"], quota)
    assert metrics["quota_attainment"] == (round(won / quota, 4) if quota else None)

    trend = dashboards[who]["overview"]["bookings_trend"]
    assert len(trend) == 12 and trend[-1]["month"] == month.isoformat()
    for point in trend:
        start = _day(point["month"])
        end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        assert close(point["bookings"], bookings(start, min(end, TODAY)))
        assert close(point["bookings_last_year"], bookings(_year_back(start), _year_back(end)))


@pytest.mark.parametrize("who", SCOPES)
def test_pipeline_extras_match_the_marts(dashboards, rows, who):
    scope, pipeline = dashboards[who]["scope"], dashboards[who]["pipeline"]
    overview = dashboards[who]["overview"]["metrics"]
    opportunities = [o for o in rows["opportunities"] if _in_scope(o, scope)]
    open_ = [o for o in opportunities if not o["is_closed"]]
    funnel = pipeline["funnel"]
    assert sum(s["opportunities"] for s in funnel) == len(open_) == overview["open_opportunities"]
    assert close(sum(s["amount"] for s in funnel), overview["open_pipeline"])
    assert [s["probability"] for s in funnel] == sorted(s["probability"] for s in funnel)
    assert Counter({s["stage"]: s["opportunities"] for s in funnel}) == Counter(o["stage"] for o in open_)

    slipping = [o for o in open_ if (o["close_date_pushes"] or 0) > 0 or o["is_slipped"]]
    assert len(pipeline["slipping_deals"]) == min(10, len(slipping))
    pushes = [d["close_date_pushes"] for d in pipeline["slipping_deals"]]
    assert pushes == sorted(pushes, reverse=True)

    for point in pipeline["win_rate_trend"]:
        start = _day(point["quarter"])
        closed = [o for o in opportunities if o["is_closed"] and _quarter_start(_day(o["close_date"])) == start]
        won = sum(1 for o in closed if o["is_won"])
        assert (point["won"], point["lost"]) == (won, len(closed) - won), point
        assert point["win_rate"] == (round(won / len(closed), 4) if closed else None)
    assert len(pipeline["win_rate_trend"]) <= 8


@pytest.mark.parametrize("who", SCOPES)
def test_orders_heat_map_and_status_mix_match_the_marts(dashboards, rows, who):
    scope, orders_dash = dashboards[who]["scope"], dashboards[who]["orders"]
    orders = [o for o in rows["orders"] if _in_scope(o, scope)]
    open_ = [o for o in orders if o["status_group"] in ("pending", "partial")]

    def bucket(days) -> str:
        days = days if days is not None else 10**6
        return "0-7" if days <= 7 else "8-30" if days <= 30 else "31-60" if days <= 60 else "61-90" if days <= 90 else "90+"

    cells = {(c["status"], c["age_days"]): c for c in orders_dash["aging_heatmap"]["cells"]}
    gold = Counter((o["status"], bucket(o["days_open"])) for o in open_)
    assert {k: c["orders"] for k, c in cells.items()} == dict(gold)
    assert sum(c["orders"] for c in cells.values()) == dashboards[who]["overview"]["metrics"]["open_orders"]
    assert orders_dash["aging_heatmap"]["buckets"] == ["0-7", "8-30", "31-60", "61-90", "90+"]
    recent = Counter(o["status"] for o in orders if _day(o["order_date"]) > TODAY - dt.timedelta(days=90))
    assert {s["status"]: s["orders"] for s in orders_dash["status_last_90d"]} == dict(recent)


@pytest.mark.parametrize("who", SCOPES)
def test_customer_concentration_matches_the_marts(dashboards, rows, who):
    scope, concentration = dashboards[who]["scope"], dashboards[who]["customers"]["concentration"]
    revenue: dict[str, float] = defaultdict(float)
    for o in rows["orders"]:
        if _in_scope(o, scope) and o["status_group"] != "cancelled" and _day(o["order_date"]) > TODAY - dt.timedelta(days=365):
            revenue[o["customer_id"]] += float(o["total_amount"])
    ranked = sorted((v for v in revenue.values() if v > 0), reverse=True)
    total = sum(ranked)
    assert concentration["customers"] == len(ranked) and close(concentration["revenue"], total)
    for n in (1, 5, 10):
        assert math.isclose(concentration[f"top_{n}_share"], sum(ranked[:n]) / total, abs_tol=1e-4)
    assert math.isclose(concentration["hhi"], sum((v / total) ** 2 for v in ranked), abs_tol=1e-4)
    shares = [p["cumulative_share"] for p in concentration["pareto"]]
    assert shares == sorted(shares) and len(shares) == min(20, len(ranked))


@pytest.mark.parametrize("who", SCOPES)
def test_product_trends_and_stock_against_open_orders_match_the_marts(dashboards, rows, who):
    scope, products = dashboards[who]["scope"], dashboards[who]["products"]
    status = {o["order_id"]: o["status_group"] for o in rows["orders"]}
    lines = [line for line in rows["lines"] if _in_scope(line, scope)]
    first_month = dt.date(TODAY.year - 1, TODAY.month, 1) + dt.timedelta(days=31)
    first_month = first_month.replace(day=1)
    trend = defaultdict(float)
    for line in lines:
        day = _day(line["order_date"])
        if status.get(line["order_id"]) != "cancelled" and first_month <= day <= TODAY:
            trend[(day.replace(day=1).isoformat(), line["category"])] += float(line["amount"])
    assert {(r["month"], r["category"]): r["revenue"] for r in products["category_trend"]} == \
        pytest.approx(dict(trend), abs=0.011)

    open_quantity = defaultdict(float)
    for line in lines:
        if status.get(line["order_id"]) in ("pending", "partial"):
            open_quantity[line["product_id"]] += float(line["quantity"]) - float(line["quantity_fulfilled"] or 0)
    for item in products["stock_vs_open_orders"]:
        assert close(item["open_quantity"], open_quantity[item["product_id"]])
        assert close(item["shortfall"], max(0.0, item["open_quantity"] - float(item["quantity_on_hand"] or 0)))
    coverage = sorted(float(rows["products"][p]["quantity_on_hand"] or 0) / q for p, q in open_quantity.items() if q > 0)
    shown = [float(i["quantity_on_hand"] or 0) / i["open_quantity"] for i in products["stock_vs_open_orders"]]
    assert shown == pytest.approx(coverage[:10])


def test_the_login_config_lists_the_demo_logins_with_their_roles(api):
    with api.client() as client:
        config = client.get("/api/v1/auth/config").json()
    assert {(d["username"], d["role"]) for d in config["demo_logins"]} == {
        ("exec@scc-demo.example", "sales_exec"), ("manager@scc-demo.example", "sales_manager"),
        ("rep@scc-demo.example", "sales_rep"), ("finance@scc-demo.example", "finance_viewer")}


def test_the_page_and_its_files_are_served_locally(api):
    with api.client() as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy
        assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
        for path, kind in (("/static/js/main.js", "javascript"), ("/static/app.css", "text/css"),
                           ("/static/vendor/chartjs/chart.umd.min.js", "javascript")):
            response = client.get(path, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200 and kind in response.headers["content-type"], path
        assert client.get("/static/nothing-here.js").status_code == 404
        assert client.get("/openapi.json").json()["paths"].get("/") is None  # not part of the API's schema
