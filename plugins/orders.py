"""The orders agent: sales orders, their status, fulfilment and aging, bookings, invoices and billings.

Marts: ``fct_orders``, ``fct_order_lines``, ``fct_invoices`` (names from ``dim_customers``). Metrics of
the semantic layer: bookings, orders, average_order_value, fill_rate, order_aging_days, billings,
open_receivables, overdue_receivables, days_sales_outstanding.
"""

from __future__ import annotations

import re

from agents import Agent, Plan, hookimpl
from agents.metrics import MetricQuery
from agents.planning import (breakdown, entity_filters, filters_text, has_word, lit, metric_filters, search,
                             metric_group, period_text, where)
from agents.router import Route

ORDER_COLUMNS = ("o.order_number, c.customer_name, o.order_date, o.status, o.total_amount, o.fulfillment_pct, "
                 "o.days_open")


def status_condition(status, alias: str = "o") -> str | None:
    if status is None:
        return None
    kind, value = status
    if kind == "any":  # every status, cancelled included (the whole of a share: agents.compose)
        return None
    if kind == "group":
        return f"{alias}.status_group = {lit(value)}"
    if kind == "status":
        return f"{alias}.status = {lit(value)}"
    if kind == "open":
        return f"{alias}.status_group IN ('pending', 'partial')"
    return None


def status_words(status) -> str:
    if status is None:
        return ""
    kind, value = status
    if kind == "open":
        return "open "
    return {"partial": "partially fulfilled "}.get(value, value.replace("_", " ") + " ")


class OrdersAgent(Agent):
    name = "orders"
    title = "Orders agent"
    description = ("Sales orders: how many, how much (bookings), status (pending, partially fulfilled, fulfilled, "
                   "cancelled), fulfilment, order aging, average order value; invoices, billings, receivables, DSO.")
    marts = ("fct_orders", "fct_order_lines", "fct_invoices", "dim_customers")
    keywords = {
        r"\borders?\b": 2.0, r"\bbookings?\b|\bbooked\b|\bbook\b": 2.5, r"\binvoices?\b|\bbillings?\b|\binvoiced\b": 2.5,
        r"\breceivables?\b|\bdso\b|days sales outstanding|\bowe[sd]?\b|\bpast due\b": 2.5,
        r"\bfulfil+(ed|ment)?\b|\bshipped\b|\bfill rate\b|\bbacklog\b": 1.5,
        r"\bpending\b|\bcancel+ed\b|\bbilled\b": 1.0, r"average order|\baov\b|order value": 3.0,
        r"\baging\b|\bdays open\b": 1.5, r"\brevenue\b|\bsales\b": 1.0, r"\breceived?\b": 0.5,
    }
    examples = ("How many orders did I receive today?", "Show me pending orders over $100K",
                "What's the average order value this month?")

    def follow_ups(self, route, plan, result):
        out = []
        if plan and plan.kind == "list" and result and result.rows:
            try:
                customer = result.rows[0][result.columns.index("customer_name")]
                out.append(f"Only {customer}")
            except (ValueError, IndexError):
                pass
        if plan and plan.intent == "orders.count":
            out.append("Show me the pending ones")
        out.append("What's the average order value this month?")
        return out

    def plan(self, route: Route, ctx) -> Plan | None:
        q = route.question.lower()
        ents = route.entities
        if has_word(q, r"\binvoic|\bbilling|\bbilled amount|\breceivable|\bdso\b|days sales outstanding|\bowe|"
                       r"\bpast due|\boverdue|\bcollect"):
            return self._invoices(route, ctx)
        if has_word(q, r"average order|\baov\b|order value|average (size of|value of) (an )?orders?"):
            return self._metric(route, ctx, ["average_order_value"], "Average order value", "orders.aov",
                                "SELECT sum(o.total_amount) / nullif(count(*), 0) AS average_order_value",
                                extra=["o.status <> 'cancelled'"])
        if has_word(q, r"fill rate|fulfil+ment rate|shipped complete|fulfil+ed complete"):
            return self._metric(route, ctx, ["fill_rate"], "Fill rate", "orders.fill_rate",
                                "SELECT sum(CASE WHEN o.status_group = 'fulfilled' THEN 1 ELSE 0 END) * 1.0 / "
                                "nullif(count(*), 0) AS fill_rate", extra=["o.status <> 'cancelled'"])
        age = search(r"(?:older than|more than|over|longer than|at least)\s+(\d+)\s+days", q)
        if has_word(q, r"\baging\b|\bage of\b|\bhow long\b|\bdays open\b|\boldest\b") or age:
            return self._aging(route, ctx, int(age.group(1)) if age else None)
        if has_word(q, r"\bby status\b|status breakdown|breakdown by status|fulfil+ed vs|vs\.? pending|"
                       r"pending vs|status of (my |our |the )?orders|order status(es)?\b(?! of)"):
            if not ents.group_by or "status" in ents.group_by:
                return self._status_breakdown(route, ctx)
        wants_amount = has_word(q, r"\bbookings?\b|\bbooked\b|\bbook\b|\brevenue\b|\bsales\b|\bhow much\b|\bvalue\b|"
                                   r"\btotal (amount|value)|\bworth\b|\bsold\b")
        count = has_word(q, r"\bhow many\b|\bnumber of\b|\bcount\b|\border count\b")
        listing = has_word(q, r"\bshow\b|\blist\b|\bwhich\b|\bwhat are\b|\bgive me\b|\bdisplay\b|\bsee\b|"
                              r"\blargest\b|\bbiggest\b|\btop\b|\brecent\b|\blatest\b|\bsmallest\b")
        if wants_amount and not has_word(q, r"\borders?\b"):
            listing = False
        ranked = bool(ents.ranking) and (ents.ranking or {}).get("dimension") in ents.group_by
        # ("which customer placed the most orders": a ranking of customers, the breakdown ranked)
        if ents.group_by and (wants_amount or count or not listing or ranked or has_word(q, r"\bby\b|\bper\b|trend")):
            return self._breakdown(route, ctx, count_first=count and not wants_amount)
        if count or (wants_amount and not listing):
            return self._totals(route, ctx, amount_first=wants_amount and not count)
        return self._list(route, ctx)

    # --- plans ------------------------------------------------------------------------------------
    def _base_conditions(self, route, ctx, *, skip=()) -> list[str]:
        ents = route.entities
        conds = entity_filters(ents, "o", "fct_orders", ctx.catalog, date_col="order_date",
                               amount_col="total_amount", skip=skip)
        status = status_condition(ents.order_status)
        if status:
            conds.append(status)
        return conds

    def _semantic_ok(self, route) -> bool:
        ents = route.entities
        return ents.amount_min is None and ents.amount_max is None and not ents.unknown

    def _metric(self, route, ctx, metrics, title, intent, select, extra=()) -> Plan:
        ents = route.entities
        conds = self._base_conditions(route, ctx) + list(extra)
        group = ents.group_by[0] if ents.group_by else None
        title = f"{title}{filters_text(ents)}{period_text(ents)}"
        mq = None
        if self._semantic_ok(route) and ents.order_status is None:
            filters = metric_filters(ents, "order", allow=("time", "customers", "reps", "territories", "regions",
                                                           "industries"))
            if filters is not None and not ents.categories and not ents.products:
                mq = MetricQuery(metrics=list(metrics), where=filters + [("order__status", "!=", "cancelled")])
                if group and metric_group(group, "order"):
                    mq.group_by = [metric_group(group, "order")]
                    mq.order_by = [mq.group_by[0]]
                elif group:
                    mq = None
        if group:
            b = breakdown(group, "o", date_col="order_date", fact="fct_orders")
            if b is None:
                return None
            expr, name, join = b
            sql = (f"{select.replace('SELECT ', f'SELECT {expr} AS {name}, ', 1)} FROM marts.fct_orders o{join}"
                   f"{where(conds)} GROUP BY 1 ORDER BY 1")
            return Plan(title=f"{title} by {group}", sql=sql, metric=mq, intent=intent, kind="breakdown",
                        metrics_used=list(metrics))
        sql = f"{select} FROM marts.fct_orders o{where(conds)}"
        return Plan(title=title, sql=sql, metric=mq, intent=intent, kind="value", metrics_used=list(metrics))

    def _totals(self, route, ctx, amount_first=False) -> Plan:
        ents = route.entities
        status = ents.order_status
        what = f"{status_words(status)}orders".strip()
        title = f"{what[0].upper()}{what[1:]}{filters_text(ents)}{period_text(ents)}"
        cancelled_asked = status is not None and status[1] in ("cancelled", "any")
        conds = self._base_conditions(route, ctx)
        if not cancelled_asked:
            conds.append("o.status <> 'cancelled'")
        mq = None
        if self._semantic_ok(route) and status is None:
            filters = metric_filters(ents, "order", allow=("time", "customers", "reps", "territories", "regions",
                                                           "industries"))
            if filters is not None and not ents.categories and not ents.products:
                mq = MetricQuery(metrics=["bookings", "orders"] if amount_first else ["orders", "bookings"],
                                 where=filters)
        if amount_first:
            sql = (f"SELECT sum(o.total_amount) AS bookings, count(*) AS orders FROM marts.fct_orders o{where(conds)}")
            title = (f"Bookings{filters_text(ents)}{period_text(ents)}" if status is None else title)
        else:
            sql = (f"SELECT count(*) AS orders, sum(o.total_amount) AS bookings FROM marts.fct_orders o{where(conds)}")

        def describe(result, title=title):
            from agents.answer import money

            row = dict(zip(result.columns, result.rows[0])) if result.rows else {}
            n, amount = int(row.get("orders") or 0), row.get("bookings") or 0
            if amount_first:
                return f"{title}: {money(amount)} from {n:,} order{'s' if n != 1 else ''}."
            return f"{title}: {n:,} order{'s' if n != 1 else ''}, worth {money(amount)}."

        return Plan(title=title, sql=sql, metric=mq, intent="orders.count", kind="value",
                    metrics_used=["bookings", "orders"] if status is None else [], describe=describe)

    def _breakdown(self, route, ctx, count_first=False) -> Plan | None:
        ents = route.entities
        group = ents.group_by[0]
        fact = "fct_orders"
        alias = "o"
        needs_lines = group in ("category", "product")
        status = ents.order_status
        cancelled_asked = status is not None and status[1] == "cancelled"
        if needs_lines:
            conds = entity_filters(ents, "l", "fct_order_lines", ctx.catalog, date_col="order_date")
            conds.append("l.order_id IN (SELECT order_id FROM marts.fct_orders WHERE status <> 'cancelled')")
            expr, name, join = breakdown(group, "l", date_col="order_date", fact="fct_order_lines")
            sql = (f"SELECT {expr} AS {name}, count(DISTINCT l.order_id) AS orders, sum(l.amount) AS bookings "
                   f"FROM marts.fct_order_lines l{join}{where(conds)} GROUP BY 1 ORDER BY bookings DESC")
            title = f"Bookings by {group}{filters_text(ents)}{period_text(ents)}"
            return Plan(title=title, sql=sql, intent="orders.breakdown", kind="breakdown",
                        metrics_used=["bookings"])
        b = breakdown(group, alias, date_col="order_date", fact=fact)
        if b is None:
            return None
        expr, name, join = b
        conds = self._base_conditions(route, ctx)
        if not cancelled_asked and group != "status":
            conds.append("o.status <> 'cancelled'")
        order = "1" if group in ("day", "week", "month", "quarter", "year") else ("orders DESC" if count_first else "bookings DESC")
        sql = (f"SELECT {expr} AS {name}, count(*) AS orders, sum(o.total_amount) AS bookings "
               f"FROM marts.fct_orders o{join}{where(conds)} GROUP BY 1 ORDER BY {order}")
        mq = None
        if self._semantic_ok(route) and status is None and group != "status":
            filters = metric_filters(ents, "order")
            mg = metric_group(group, "order")
            if filters is not None and mg and not ents.categories and not ents.products:
                mq = MetricQuery(metrics=["orders", "bookings"], group_by=[mg], order_by=[mg],
                                 where=filters + [("order__status", "!=", "cancelled")])
        what = "Orders" if count_first else "Bookings"
        title = f"{what} by {group}{filters_text(ents)}{period_text(ents)}"
        return Plan(title=title, sql=sql, metric=mq, intent="orders.breakdown",
                    kind="trend" if group in ("day", "week", "month", "quarter", "year") else "breakdown",
                    metrics_used=["orders", "bookings"] if status is None else [])

    def _status_breakdown(self, route, ctx) -> Plan:
        ents = route.entities
        conds = entity_filters(ents, "o", "fct_orders", ctx.catalog, date_col="order_date", amount_col="total_amount")
        sql = (f"SELECT o.status_group, count(*) AS orders, sum(o.total_amount) AS total_amount "
               f"FROM marts.fct_orders o{where(conds)} GROUP BY 1 ORDER BY orders DESC")
        return Plan(title=f"Orders by status{filters_text(ents)}{period_text(ents)}", sql=sql,
                    intent="orders.status", kind="breakdown")

    def _aging(self, route, ctx, older_than: int | None) -> Plan:
        ents = route.entities
        conds = entity_filters(ents, "o", "fct_orders", ctx.catalog, date_col="order_date", amount_col="total_amount")
        status = status_condition(ents.order_status) or "o.status_group IN ('pending', 'partial')"
        conds.append(status)
        q = route.question.lower()
        if older_than is None and has_word(q, r"\baverage\b|\bmean\b|\btypical\b"):
            sql = f"SELECT avg(o.days_open) AS order_aging_days, count(*) AS open_orders FROM marts.fct_orders o{where(conds)}"
            return Plan(title=f"Average age of open orders{filters_text(ents)}{period_text(ents)}", sql=sql,
                        intent="orders.aging", kind="value", metrics_used=["order_aging_days"])
        if older_than is not None:
            conds.append(f"o.days_open > {lit(older_than)}")
        limit = f" LIMIT {ents.top_n or 10}" if has_word(q, r"\boldest\b") and older_than is None else ""
        sql = (f"SELECT {ORDER_COLUMNS} FROM marts.fct_orders o LEFT JOIN marts.dim_customers c "
               f"ON c.customer_id = o.customer_id{where(conds)} ORDER BY o.days_open DESC, o.order_number{limit}")
        title = (f"Open orders older than {older_than} days" if older_than is not None else "Oldest open orders")
        return Plan(title=f"{title}{filters_text(ents)}{period_text(ents)}", sql=sql, intent="orders.aging",
                    kind="list", empty_text="No open orders match.")

    def _list(self, route, ctx) -> Plan:
        ents = route.entities
        q = route.question.lower()
        conds = self._base_conditions(route, ctx)
        if route.entities.unknown and not ents.customers:
            return _unknown_plan(route, "customer or product", "orders.list")
        recent = has_word(q, r"\brecent\b|\blatest\b|\blast \d+ orders\b|\bnewest\b")
        smallest = has_word(q, r"\bsmallest\b")
        order = "o.order_date DESC, o.order_number DESC" if recent else (
            "o.total_amount ASC, o.order_number" if smallest else "o.total_amount DESC, o.order_number")
        limit = ents.top_n or (10 if has_word(q, r"\blargest\b|\bbiggest\b|\btop\b|\bsmallest\b") or recent else None)
        sql = (f"SELECT {ORDER_COLUMNS} FROM marts.fct_orders o LEFT JOIN marts.dim_customers c "
               f"ON c.customer_id = o.customer_id{where(conds)} ORDER BY {order}"
               + (f" LIMIT {int(limit)}" if limit else ""))
        what = f"{status_words(ents.order_status)}orders"
        if limit and not recent:
            what = f"{'smallest' if smallest else 'largest'} {what}"
        elif recent:
            what = f"most recent {what}"
        title = f"{what[0].upper()}{what[1:]}{filters_text(ents)}{period_text(ents)}"
        return Plan(title=title, sql=sql, intent="orders.list", kind="list",
                    empty_text=f"No {status_words(ents.order_status)}orders{filters_text(ents)}{period_text(ents)}.")

    def _invoices(self, route, ctx) -> Plan:
        ents = route.entities
        q = route.question.lower()
        conds = entity_filters(ents, "i", "fct_invoices", ctx.catalog, date_col="invoice_date", amount_col="amount")
        if has_word(q, r"\bdso\b|days sales outstanding"):
            sql = ("SELECT sum(CASE WHEN i.status = 'open' THEN i.amount_remaining ELSE 0 END) * 90.0 / "
                   f"nullif(sum(CASE WHEN i.invoice_date BETWEEN {lit(ctx.today.fromordinal(ctx.today.toordinal() - 89))} "
                   f"AND {lit(ctx.today)} THEN i.amount ELSE 0 END), 0) AS days_sales_outstanding FROM marts.fct_invoices i"
                   + where(entity_filters(ents, "i", "fct_invoices", ctx.catalog, skip=("time",))))
            mq = None
            filters = metric_filters(ents, "invoice", allow=("customers", "reps", "territories", "regions", "industries"))
            if filters is not None and not ents.time:
                mq = MetricQuery(metrics=["days_sales_outstanding"], where=filters)
            return Plan(title=f"Days sales outstanding{filters_text(ents)}", sql=sql, metric=mq,
                        intent="orders.dso", kind="value", metrics_used=["days_sales_outstanding"])
        overdue = ents.invoice_status == "overdue"
        open_ = ents.invoice_status == "open" or has_word(q, r"\bowe|outstanding|receivable|unpaid")
        count = has_word(q, r"\bhow many\b|\bnumber of\b")
        total = has_word(q, r"\bhow much\b|\btotal\b|\bsum\b|\bbillings?\b|\binvoiced\b") and not has_word(q, r"\bshow\b|\blist\b|\bwhich\b")
        late = search(r"\b(?:more than|over|at least)\s+(\d+)\s+days?\s+(?:overdue|past due|late)\b", q)
        if late:  # "more than 30 days overdue"
            overdue = True
            conds.append(f"i.status = 'open' AND i.days_overdue {'>=' if 'least' in late.group(0) else '>'} "
                         f"{int(late.group(1))}")
        elif overdue:
            conds.append("i.status = 'open' AND i.days_overdue > 0")
        elif open_:
            conds.append("i.status = 'open'")
        elif ents.invoice_status == "paid":
            conds.append("i.status = 'paid'")
        label = (f"Invoices {late.group(0)}" if late else "Overdue invoices" if overdue else "Open invoices" if open_
                 else "Invoices")
        if ents.group_by:
            group = ents.group_by[0]
            b = breakdown(group, "i", date_col="invoice_date", fact="fct_invoices")
            if b:
                expr, name, join = b
                measure = "sum(i.amount_remaining) AS amount_remaining" if (open_ or overdue) else "sum(i.amount) AS billings"
                order = "1" if group in ("day", "week", "month", "quarter", "year") else "2 DESC"
                sql = (f"SELECT {expr} AS {name}, count(*) AS invoices, {measure} FROM marts.fct_invoices i{join}"
                       f"{where(conds)} GROUP BY 1 ORDER BY {order}")
                mq = None
                if not (open_ or overdue):
                    filters = metric_filters(ents, "invoice")
                    mg = metric_group(group, "invoice")
                    if filters is not None and mg:
                        mq = MetricQuery(metrics=["billings"], group_by=[mg], where=filters, order_by=[mg])
                        sql = (f"SELECT {expr} AS {name}, sum(i.amount) AS billings FROM marts.fct_invoices i{join}"
                               f"{where(conds)} GROUP BY 1 ORDER BY {order}")
                return Plan(title=f"{'Receivables' if (open_ or overdue) else 'Billings'} by {group}"
                                  f"{filters_text(ents)}{period_text(ents)}", sql=sql, metric=mq,
                            intent="orders.invoices", kind="breakdown",
                            metrics_used=[] if (open_ or overdue) else ["billings"])
        if total or count:
            if open_ or overdue:
                sql = (f"SELECT sum(i.amount_remaining) AS amount_remaining, count(*) AS invoices "
                       f"FROM marts.fct_invoices i{where(conds)}")
                return Plan(title=f"{label}{filters_text(ents)}{period_text(ents)}", sql=sql, intent="orders.invoices",
                            kind="value", metrics_used=["overdue_receivables" if overdue else "open_receivables"])
            sql = f"SELECT sum(i.amount) AS billings, count(*) AS invoices FROM marts.fct_invoices i{where(conds)}"
            mq = None
            filters = metric_filters(ents, "invoice")
            if filters is not None and not (ents.amount_min or ents.amount_max):
                mq = None  # the count of invoices is not a metric: keep the planner's SQL for both figures
            return Plan(title=f"Billings{filters_text(ents)}{period_text(ents)}", sql=sql, metric=mq,
                        intent="orders.billings", kind="value", metrics_used=["billings"])
        sql = (f"SELECT i.invoice_number, c.customer_name, i.invoice_date, i.due_date, i.amount, i.amount_remaining, "
               f"i.days_overdue FROM marts.fct_invoices i LEFT JOIN marts.dim_customers c ON c.customer_id = i.customer_id"
               f"{where(conds)} ORDER BY " + ("i.days_overdue DESC, i.invoice_number" if overdue else
                                               "i.amount_remaining DESC, i.invoice_number")
               + (f" LIMIT {ents.top_n}" if ents.top_n else ""))
        return Plan(title=f"{label}{filters_text(ents)}{period_text(ents)}", sql=sql, intent="orders.invoices",
                    kind="list", empty_text=f"No {label.lower()}{filters_text(ents)}.")


def _unknown_plan(route: Route, what: str, intent: str) -> Plan:
    names = ", ".join(f"'{n}'" for n in route.entities.unknown)
    return Plan(title=f"No {what} matches {names}", sql="SELECT NULL AS result FROM marts.dim_customers WHERE FALSE",
                intent=intent, kind="list",
                empty_text=f"No {what} in your data matches {names}, so there is nothing to show.")


@hookimpl
def register_agents():
    return [OrdersAgent()]
