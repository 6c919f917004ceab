"""List endpoints over the marts: filters, a sort, and cursor (keyset) pagination, cut to the caller's scope.

A cursor is the last row's sort value and key, base64-encoded; the next page starts strictly after it, so
pages never repeat or skip rows while the data underneath stays the same, and deep pages cost no more than
the first (no OFFSET).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field

from api.security import Scope
from api.services.warehouse import reader
from scc.config import Settings

MAX_PAGE = 100


class BadCursor(ValueError):
    pass


@dataclass
class Sort:
    expr: str  # SQL of the value ordered by (never NULL)
    kind: str  # date, num, str


@dataclass
class ListSpec:
    source: str  # FROM ... (with the alias `t`)
    columns: str
    key: str  # the unique key, tie-breaker of every sort
    sorts: dict[str, Sort]
    scoped: bool = True
    default_sort: str = ""
    extra: dict = field(default_factory=dict)


def _encode(sort: str, value, key) -> str:
    raw = json.dumps({"s": sort, "v": value, "k": key}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str, kind: str):
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if data["s"] != sort:
            raise BadCursor("the cursor belongs to another sort order; start again without it")
        value, key = data["v"], data["k"]
        if kind == "date":
            value = dt.date.fromisoformat(value)
        elif kind == "num":
            value = float(value)
        elif kind == "str":
            value = str(value)
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            raise ValueError("bad key")
        return value, key
    except BadCursor:
        raise
    except Exception:  # noqa: BLE001 - anything malformed is the client's mistake
        raise BadCursor("the cursor is not valid; use next_cursor from a previous page") from None


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page(spec: ListSpec, scope: Scope, filters: list[tuple[str, list]], sort: str, cursor: str | None,
         limit: int, settings: Settings | None = None) -> dict:
    limit = max(1, min(limit, MAX_PAGE))
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    order = spec.sorts[name]
    conditions, params = [], []
    if spec.scoped:
        where, scope_params = scope.where("t")
        conditions.append(where)
        params += scope_params
    for sql, values in filters:
        conditions.append(sql)
        params += values
    if cursor:
        value, key = _decode(cursor, sort, order.kind)
        op = "<" if descending else ">"
        conditions.append(f"({order.expr} {op} ? OR ({order.expr} = ? AND t.{spec.key} {op} ?))")
        params += [value, value, key]
    direction = "DESC" if descending else "ASC"
    sql = (
        f"SELECT {spec.columns}, {order.expr} AS sort_value__ FROM {spec.source} "
        f"WHERE {' AND '.join(conditions) or '1 = 1'} "
        f"ORDER BY {order.expr} {direction}, t.{spec.key} {direction} LIMIT {limit + 1}"
    )
    with reader(settings) as r:
        rows = r.all(sql, params)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        value = last["sort_value__"]
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()[:10]
        next_cursor = _encode(sort, value, last[spec.key])
    for row in rows:
        row.pop("sort_value__", None)
    return {"items": rows, "next_cursor": next_cursor, "limit": limit, "sort": sort}


ORDERS = ListSpec(
    source="marts.fct_orders t LEFT JOIN marts.dim_customers c ON c.customer_id = t.customer_id",
    columns="t.order_id, t.order_number, t.customer_id, c.customer_name, t.rep_id, t.territory, t.region, "
    "t.order_date, t.status, t.status_group, t.total_amount, t.fulfillment_pct, t.days_open, t.source_system, "
    "t.external_id",
    key="order_id",
    sorts={
        "order_date": Sort("coalesce(t.order_date, DATE '1900-01-01')", "date"),
        "total_amount": Sort("CAST(coalesce(t.total_amount, 0) AS DOUBLE)", "num"),
        "order_number": Sort("coalesce(t.order_number, '')", "str"),
        "days_open": Sort("CAST(coalesce(t.days_open, -1) AS DOUBLE)", "num"),
    },
    default_sort="-order_date",
)

CUSTOMERS = ListSpec(
    source="marts.dim_customers t",
    columns="t.customer_id, t.customer_name, t.industry, t.region, t.territory, t.rep_id, t.rep_name, "
    "t.salesforce_account_id, t.netsuite_customer_id, t.credit_limit, t.open_balance, t.first_order_date, "
    "t.last_order_date, t.lifetime_revenue, t.revenue_last_90d, t.revenue_prior_90d, t.health",
    key="customer_id",
    sorts={
        "customer_name": Sort("coalesce(t.customer_name, '')", "str"),
        "lifetime_revenue": Sort("CAST(coalesce(t.lifetime_revenue, 0) AS DOUBLE)", "num"),
        "revenue_last_90d": Sort("CAST(coalesce(t.revenue_last_90d, 0) AS DOUBLE)", "num"),
        "last_order_date": Sort("coalesce(t.last_order_date, DATE '1900-01-01')", "date"),
        "open_balance": Sort("CAST(coalesce(t.open_balance, 0) AS DOUBLE)", "num"),
    },
    default_sort="customer_name",
)

PRODUCTS = ListSpec(
    source="marts.dim_products t",
    columns="t.product_id, t.sku, t.product_name, t.category, t.list_price, t.min_price, t.quantity_on_hand, "
    "t.quantity_available, t.is_active",
    key="product_id",
    sorts={
        "sku": Sort("coalesce(t.sku, '')", "str"),
        "product_name": Sort("coalesce(t.product_name, '')", "str"),
        "list_price": Sort("CAST(coalesce(t.list_price, 0) AS DOUBLE)", "num"),
        "quantity_available": Sort("CAST(coalesce(t.quantity_available, 0) AS DOUBLE)", "num"),
    },
    scoped=False,  # the catalogue is the same for everyone
    default_sort="sku",
)


def sort_choices(spec: ListSpec) -> list[str]:
    return [s for name in spec.sorts for s in (name, "-" + name)]


def order_detail(order_id: str, scope: Scope, settings: Settings | None = None) -> dict | None:
    where, params = scope.where("t")
    with reader(settings) as r:
        order = r.one(
            f"SELECT {ORDERS.columns} FROM {ORDERS.source} WHERE {where} AND CAST(t.order_id AS VARCHAR) = ?",
            [*params, order_id],
        )
        if order is None:
            return None
        order["lines"] = r.all(
            "SELECT l.order_line_id, l.line_number, l.product_id, p.sku, p.product_name, l.quantity, l.unit_price, "
            "l.amount, l.quantity_fulfilled, l.quantity_billed FROM marts.fct_order_lines l "
            "LEFT JOIN marts.dim_products p ON p.product_id = l.product_id "
            "WHERE CAST(l.order_id AS VARCHAR) = ? ORDER BY l.line_number, l.order_line_id",
            [str(order["order_id"])],
        )
    return order
