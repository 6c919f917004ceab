"""The products agent: best sellers, sales by category, product trends, average selling price, stock.

Marts: ``dim_products``, ``fct_order_lines`` (cancelled orders excluded through ``fct_orders``). Metrics:
units_sold, product_revenue, average_selling_price.
"""

from __future__ import annotations

import re

from agents import Agent, Plan, hookimpl
from agents.metrics import MetricQuery
from agents.planning import (entity_filters, filters_text, has_word, lit, metric_filters, period_text, product_ids,
                             where)
from agents.router import Route

NOT_CANCELLED = "l.order_id IN (SELECT order_id FROM marts.fct_orders WHERE status <> 'cancelled')"
TIME_GROUPS = ("day", "week", "month", "quarter", "year")


class ProductsAgent(Agent):
    name = "products"
    title = "Products agent"
    description = ("Products and items: best sellers, revenue and units by product or category, sales trends, "
                   "average selling price, list prices, inventory and stock that will not cover open orders.")
    marts = ("dim_products", "fct_order_lines", "fct_orders")
    keywords = {
        r"\bproducts?\b|\bitems?\b|\bskus?\b": 2.5, r"\bselling\b|\bbest[- ]sellers?\b|\bsold\b": 2.0,
        r"\binventory\b|\bstock\b|\bon hand\b|\brun(ning)? out\b|\bin stock\b": 3.0,
        r"\baverage selling price\b|\basp\b|\blist price\b|\bprices?\b": 3.0, r"\bunits\b": 2.0,
        r"\bcategor(y|ies)\b": 2.0, r"\btrends?\b": 0.5, r"\bsales trends?\b": 1.5,
    }
    examples = ("Which products are selling best this quarter?", "Show me hats sales trends",
                "What's the average selling price for the Premium Leather-Patch Cap?")

    def score(self, text, route):
        base = super().score(text, route)
        ents = route.entities
        if (ents.products or ents.categories) and re.search(r"\b(sales|revenue|sold|sell|selling|units)\b", text, re.I) \
                and not re.search(r"\b(orders?|bookings?|deals?|pipeline|opportunit)", text, re.I):
            base += 2.5
        return base

    def follow_ups(self, route, plan, result):
        out = ["Which products are selling best this quarter?"]
        if plan and plan.intent == "products.top":
            out.insert(0, "Break that down by category")
        return out

    def plan(self, route: Route, ctx) -> Plan | None:
        q = route.question.lower()
        ents = route.entities
        if ents.unknown and not (ents.products or ents.categories):
            return self._unknown(route)
        if has_word(q, r"\binventory\b|\bstock\b|\bon hand\b|\brun(ning)? (out|low)\b|\bin stock\b|\bavailable\b|\bbackorder"):
            return self._stock(route, ctx)
        if has_word(q, r"\baverage selling price\b|\basp\b|\baverage (unit )?price\b|\bselling price\b"):
            return self._asp(route, ctx)
        if has_word(q, r"\blist price\b|\bprice list\b|\bhow much (is|does|do)\b|\bwhat do(es)? .* cost\b|\bprices?\b"):
            return self._catalogue(route, ctx, prices=True)
        if ents.group_by and ents.group_by[0] in TIME_GROUPS or has_word(q, r"\btrends?\b|\bover time\b"):
            return self._trend(route, ctx)
        if has_word(q, r"\bby category\b|\bper category\b|\bcategories\b|\beach category\b") or \
                (ents.group_by and ents.group_by[0] == "category"):
            return self._by_category(route, ctx)
        if has_word(q, r"\bnot selling\b|\bno sales\b|\bslow[- ]moving\b|\bnothing sold\b|\bdead stock\b"):
            return self._not_selling(route, ctx)
        if has_word(q, r"\bhow many\b.*\b(sold|sell|units)\b|\bunits sold\b|\bhow much\b.*\bsold\b|\brevenue\b|\bsales\b") \
                and (ents.products or ents.categories) and not has_word(q, r"\btop\b|\bbest\b"):
            return self._totals(route, ctx)
        if has_word(q, r"\bwhat\b.*\b(do we|we) (sell|have|offer)\b|\blist (the |all )?(products|items)\b|\bcatalog"):
            return self._catalogue(route, ctx, prices=False)
        return self._top(route, ctx)

    # --- plans ------------------------------------------------------------------------------------
    def _line_conds(self, route, ctx) -> list[str]:
        return entity_filters(route.entities, "l", "fct_order_lines", ctx.catalog, date_col="order_date") + [NOT_CANCELLED]

    def _unknown(self, route) -> Plan:
        names = ", ".join(f"'{n}'" for n in route.entities.unknown)
        return Plan(title=f"No product matches {names}",
                    sql="SELECT p.product_name FROM marts.dim_products p WHERE FALSE",
                    intent="products.unknown", kind="list",
                    empty_text=(f"No product or category in the catalogue matches {names}. "
                                "Try a category such as Hats or Drinkware, or an item name."))

    def _top(self, route, ctx) -> Plan:
        ents = route.entities
        q = route.question.lower()
        n = ents.top_n or 10
        by_units = has_word(q, r"\bunits\b|\bvolume\b|\bmost (items|units)\b|\bquantity\b")
        worst = has_word(q, r"\bworst\b|\bleast\b|\blowest\b|\bbottom\b")
        order = ("units" if by_units else "revenue") + (" ASC" if worst else " DESC")
        sql = (f"SELECT p.product_name, p.category, sum(l.quantity) AS units, sum(l.amount) AS revenue "
               f"FROM marts.fct_order_lines l JOIN marts.dim_products p ON p.product_id = l.product_id"
               f"{where(self._line_conds(route, ctx))} GROUP BY 1, 2 ORDER BY {order}, 1 LIMIT {int(n)}")
        what = "Worst" if worst else "Best"
        return Plan(title=f"{what}-selling products by {'units' if by_units else 'revenue'}{filters_text(ents)}"
                          f"{period_text(ents)}", sql=sql, intent="products.top", kind="breakdown",
                    metrics_used=["units_sold", "product_revenue"])

    def _by_category(self, route, ctx) -> Plan:
        ents = route.entities
        conds = self._line_conds(route, ctx)
        sql = (f"SELECT p.category, sum(l.quantity) AS units, sum(l.amount) AS revenue FROM marts.fct_order_lines l "
               f"JOIN marts.dim_products p ON p.product_id = l.product_id{where(conds)} GROUP BY 1 ORDER BY revenue DESC")
        mq = None
        filters = metric_filters(ents, "order_line", allow=("time", "customers", "reps", "territories", "regions",
                                                            "industries", "products"))
        if filters is not None:
            mq = MetricQuery(metrics=["units_sold", "product_revenue"], group_by=["product__category"], where=filters,
                             order_by=["-product_revenue"])
        return Plan(title=f"Sales by category{filters_text(ents)}{period_text(ents)}", sql=sql, metric=mq,
                    intent="products.by_category", kind="breakdown", metrics_used=["units_sold", "product_revenue"])

    def _trend(self, route, ctx) -> Plan:
        ents = route.entities
        grain = next((g for g in ents.group_by if g in TIME_GROUPS), "month")
        conds = self._line_conds(route, ctx)
        if ents.time is None:
            from agents.timeparse import add_months

            start = add_months(ctx.today.replace(day=1), -11)
            conds.append(f"l.order_date BETWEEN {lit(start)} AND {lit(ctx.today)}")
        sql = (f"SELECT CAST(date_trunc('{grain}', l.order_date) AS DATE) AS {grain}, sum(l.quantity) AS units, "
               f"sum(l.amount) AS revenue FROM marts.fct_order_lines l{where(conds)} GROUP BY 1 ORDER BY 1")
        period = period_text(ents) or f" from {start.isoformat()} to {ctx.today.isoformat()}"
        return Plan(title=f"Sales trend{filters_text(ents)} by {grain}{period}", sql=sql, intent="products.trend",
                    kind="trend", metrics_used=["units_sold", "product_revenue"])

    def _totals(self, route, ctx) -> Plan:
        ents = route.entities
        sql = (f"SELECT sum(l.quantity) AS units, sum(l.amount) AS revenue FROM marts.fct_order_lines l"
               f"{where(self._line_conds(route, ctx))}")
        return Plan(title=f"Sales{filters_text(ents)}{period_text(ents)}", sql=sql, intent="products.totals",
                    kind="value", metrics_used=["units_sold", "product_revenue"])

    def _asp(self, route, ctx) -> Plan:
        ents = route.entities
        conds = self._line_conds(route, ctx)
        if ents.products or ents.categories:
            group_expr, group_name = ("p.product_name", "product_name") if ents.products else ("p.category", "category")
            sql = (f"SELECT {group_expr} AS {group_name}, sum(l.amount) / nullif(sum(l.quantity), 0) AS average_selling_price, "
                   f"sum(l.quantity) AS units FROM marts.fct_order_lines l JOIN marts.dim_products p ON p.product_id = "
                   f"l.product_id{where(conds)} GROUP BY 1 ORDER BY 1")
            if ents.products and len(product_ids(ents)) > 1 and all(m.kind == "product_group" for m in ents.products):
                sql = (f"SELECT sum(l.amount) / nullif(sum(l.quantity), 0) AS average_selling_price, sum(l.quantity) AS "
                       f"units FROM marts.fct_order_lines l{where(conds)}")
            return Plan(title=f"Average selling price{filters_text(ents)}{period_text(ents)}", sql=sql,
                        intent="products.asp", kind="breakdown", metrics_used=["average_selling_price"])
        group = ents.group_by[0] if ents.group_by else None
        if group == "category":
            sql = (f"SELECT p.category, sum(l.amount) / nullif(sum(l.quantity), 0) AS average_selling_price FROM "
                   f"marts.fct_order_lines l JOIN marts.dim_products p ON p.product_id = l.product_id{where(conds)} "
                   f"GROUP BY 1 ORDER BY 1")
            return Plan(title=f"Average selling price by category{period_text(ents)}", sql=sql, intent="products.asp",
                        kind="breakdown", metrics_used=["average_selling_price"])
        sql = (f"SELECT sum(l.amount) / nullif(sum(l.quantity), 0) AS average_selling_price FROM marts.fct_order_lines l"
               f"{where(conds)}")
        return Plan(title=f"Average selling price{period_text(ents)}", sql=sql, intent="products.asp", kind="value",
                    metrics_used=["average_selling_price"])

    def _stock(self, route, ctx) -> Plan:
        ents = route.entities
        q = route.question.lower()
        conds = entity_filters(ents, "p", "dim_products", ctx.catalog, skip=("time",))
        conds.append("p.is_active")
        if has_word(q, r"\brun(ning)? out\b|\bwon'?t cover\b|\bnot enough\b|\bshort\b|\bbackorder|\bcannot cover\b"):
            open_qty = ("SELECT l.product_id, sum(l.quantity - l.quantity_fulfilled) AS open_quantity FROM "
                        "marts.fct_order_lines l JOIN marts.fct_orders o ON o.order_id = l.order_id WHERE "
                        "o.status_group IN ('pending', 'partial') GROUP BY 1")
            sql = (f"SELECT p.product_name, p.category, p.quantity_on_hand, p.quantity_available, oq.open_quantity "
                   f"FROM marts.dim_products p JOIN ({open_qty}) oq ON oq.product_id = p.product_id"
                   f"{where(conds + ['oq.open_quantity > p.quantity_on_hand'])} ORDER BY oq.open_quantity - "
                   f"p.quantity_on_hand DESC, 1")
            return Plan(title="Items whose stock will not cover their open orders", sql=sql, intent="products.stockout",
                        kind="list", empty_text="Every item's stock covers its open orders.")
        if has_word(q, r"\bout of stock\b|\bsold out\b|\bno stock\b|\bnone (left|available)\b|\bzero stock\b|"
                       r"\bnothing (left|available)\b"):
            sql = (f"SELECT p.product_name, p.sku, p.category, p.quantity_on_hand, p.quantity_available FROM "
                   f"marts.dim_products p{where(conds + ['p.quantity_available <= 0'])} ORDER BY p.quantity_available, 1")
            return Plan(title="Items out of stock (nothing available)" + filters_text(ents), sql=sql,
                        intent="products.out_of_stock", kind="list", empty_text="No item is out of stock.")
        if has_word(q, r"\bhow many\b|\bhow much\b|\btotal\b|\bnumber of units\b") and not ents.group_by:
            sql = (f"SELECT count(*) AS items, sum(p.quantity_on_hand) AS units_on_hand, "
                   f"sum(p.quantity_available) AS units_available FROM marts.dim_products p{where(conds)}")
            return Plan(title="Stock" + filters_text(ents), sql=sql, intent="products.stock_total", kind="value")
        low = has_word(q, r"\blow\b|\brunning low\b|\blittle\b")
        if low:
            conds.append("p.quantity_available < 100")
        sql = (f"SELECT p.product_name, p.sku, p.category, p.quantity_on_hand, p.quantity_available FROM "
               f"marts.dim_products p{where(conds)} ORDER BY p.quantity_available{' ASC' if low else ' DESC'}, 1"
               + (f" LIMIT {ents.top_n}" if ents.top_n else ""))
        return Plan(title=("Low-stock items (under 100 available)" if low else "Stock") + filters_text(ents), sql=sql,
                    intent="products.stock", kind="list")

    def _catalogue(self, route, ctx, prices: bool) -> Plan:
        ents = route.entities
        conds = entity_filters(ents, "p", "dim_products", ctx.catalog, skip=("time",)) + ["p.is_active"]
        sql = (f"SELECT p.product_name, p.sku, p.category, p.list_price, p.min_price FROM marts.dim_products p"
               f"{where(conds)} ORDER BY p.category, p.product_name")
        return Plan(title=f"{'Prices' if prices else 'Products'}{filters_text(ents)}", sql=sql,
                    intent="products.catalogue", kind="list")

    def _not_selling(self, route, ctx) -> Plan:
        ents = route.entities
        start = ents.time.start if ents.time else ctx.today.fromordinal(ctx.today.toordinal() - 89)
        end = ents.time.end if ents.time else ctx.today
        conds = entity_filters(ents, "p", "dim_products", ctx.catalog, skip=("time",)) + ["p.is_active"]
        conds.append(f"p.product_id NOT IN (SELECT l.product_id FROM marts.fct_order_lines l WHERE l.order_date BETWEEN "
                     f"{lit(start)} AND {lit(end)} AND {NOT_CANCELLED})")
        sql = (f"SELECT p.product_name, p.category, p.quantity_on_hand FROM marts.dim_products p{where(conds)} "
               f"ORDER BY p.quantity_on_hand DESC, 1")
        return Plan(title=f"Active items with no sales from {start} to {end}", sql=sql, intent="products.not_selling",
                    kind="list")


@hookimpl
def register_agents():
    return [ProductsAgent()]
