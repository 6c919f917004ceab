"""The customers agent: top customers, customer health (declining, at risk, new, inactive), balances,
concentration, activities with an account.

Marts: ``dim_customers``, ``fct_orders`` (revenue in a period), ``fct_activities``. Metrics: customers,
declining_customers, at_risk_customers, top10_customer_share, customer_concentration_hhi.
"""

from __future__ import annotations

import datetime as dt
import re

from agents import Agent, Plan, hookimpl
from agents.metrics import MetricQuery
from agents.planning import (between, breakdown, entity_filters, filters_text, has_word, in_list, lit, period_text,
                             search, where)
from agents.timeparse import day_text, find_time
from agents.router import Route

CUSTOMER_COLUMNS = ("c.customer_name, c.industry, c.territory, c.rep_name, c.health, c.lifetime_revenue, "
                    "c.revenue_last_90d, c.revenue_prior_90d, c.last_order_date")


# Kinds of activity people name, and the condition on fct_activities that selects them.
ACTIVITY_KINDS = (  # (words, condition, what the title calls them)
    (r"\bmeetings?\b|\bevents?\b|\bmet\b", "a.activity_type = 'event'", "meetings"),
    (r"\bcalls?\b|\bcalled\b|\bphone\b", "lower(a.activity_subtype) = 'call'", "calls"),
    (r"\bemails?\b|\bemailed\b", "lower(a.activity_subtype) IN ('email', 'listemail')", "emails"),
    (r"\btasks?\b|\bto-?dos?\b", "lower(a.activity_subtype) = 'task'", "tasks"),
)
# Done or not: "completed tasks", "open to-dos" (is_done is Salesforce's IsClosed of a task, past meetings).
ACTIVITY_DONE = (r"\b(completed|complete|done|finished|closed|held)\b", r"\b(open|outstanding|pending|not done|overdue)\b")


# Cohorts by order history (CustomersAgent._cohort).
ORDER_COUNT = (r"\b(?P<op>more than|over|at least|fewer than|less than|under|at most|exactly)\s+(?P<n>\d+)\s+"
               r"(?:orders?|times|purchases)\b")
COUNT_OPERATORS = {"more than": ">", "over": ">", "at least": ">=", "fewer than": "<", "less than": "<",
                   "under": "<", "at most": "<=", "exactly": "="}
ORDERED = r"\b(?:who|that|which)?\s*(?:have\s+|has\s+)?(?:ordered|bought|purchased)\b"
BOTH_PERIODS = r"\b(?:ordered|bought|purchased|were (?:active|customers))\b.*\bboth\b|\bboth\b.*\band\b"
FIRST_ORDER = r"\bfirst (?:order|purchase|bought|deal)\b|\bordered for the first time\b|\bnew customers? (?:in|since|this|last)\b"
LAPSED = (r"\b(?:ordered|bought|purchased|were (?:active|customers))\b.*?\b(?:but|and)\s+(?:not|nothing|no orders?|"
          r"haven'?t|have not|hasn'?t|didn'?t|did not|never)\b(?:.*?\b(?:since|after|in|during)\b)?")


class CustomersAgent(Agent):
    name = "customers"
    title = "Customers agent"
    description = ("Customers and accounts: top customers by revenue, customer health (declining, at risk, new, "
                   "inactive), open balances and credit, concentration, activities with an account.")
    marts = ("dim_customers", "fct_orders", "fct_activities", "fct_invoices")
    keywords = {
        r"\bcustomers?\b|\baccounts?\b|\bclients?\b": 2.0, r"\bat[- ]risk\b|\bdeclining\b|\bchurn": 2.5,
        r"\bneeds? attention\b|\bhealth\b|\binactive\b|\bdormant\b": 2.5, r"\bconcentration\b|\bherfindahl\b": 3.0,
        r"\bcredit limit\b|\bopen balance\b": 2.5,
        r"\bactivit(y|ies)\b|\bmeetings?\b|\bcalls?\b|\bemails?\b|\bcontacted\b": 2.0,
        r"\btasks?\b|\bto-?dos?\b|\bfollow-?ups? (logged|done|completed|open)\b": 3.0,
        r"\btell me about\b|\bwho (are|is)\b": 1.0, r"\bhaven'?t ordered\b|\bnot ordered\b": 2.5,
        FIRST_ORDER: 3.0, LAPSED: 3.0,
        r"\b(?:customers?|accounts?|clients?)\b.*" + ORDER_COUNT: 3.0,
        r"\b(?:customers?|accounts?|clients?)\b.*\b(?:ordered|bought|purchased)\b": 3.0,
    }
    examples = ("Who are my top 10 customers by revenue?", "Show me customers with declining purchases",
                "Which accounts need attention?")

    def follow_ups(self, route, plan, result):
        out = []
        if result and result.rows and "customer_name" in result.columns:
            name = result.rows[0][result.columns.index("customer_name")]
            out.append(f"Show me orders for {name}")
        out.append("Which accounts need attention?")
        return out

    def plan(self, route: Route, ctx) -> Plan | None:
        q = route.question.lower()
        ents = route.entities
        if ents.unknown and not ents.customers and not ents.industries and \
                has_word(q, r"\btell me about\b|\babout\b|\bfor\b|'s\b|\bwith\b"):
            from plugins.orders import _unknown_plan

            return _unknown_plan(route, "customer", "customers.unknown")
        cohort = self._cohort(route, ctx)
        if cohort is not None:
            return cohort
        if has_word(q, r"\bconcentration\b|\bherfindahl\b|\bhhi\b|\bshare of (the )?top\b|\btop \d+ share\b"):
            return self._concentration(route, ctx)
        if has_word(q, r"\bactivit(y|ies)\b|\bmeetings?\b|\bcalls?\b|\bemails?\b|\bcontacted\b|\btouch ?points?\b|"
                       r"\bevents?\b|\btasks?\b"):
            return self._activities(route, ctx)
        if has_word(q, r"\bcredit limit\b|\bover (their )?credit\b"):
            return self._list(route, ctx, ["c.open_balance > c.credit_limit"], "Customers over their credit limit",
                              order="c.open_balance - c.credit_limit DESC")
        if has_word(q, r"\bopen balance|\bbalance\b"):
            return self._list(route, ctx, ["c.open_balance > 0"], "Customers by open balance",
                              order="c.open_balance DESC", columns="c.customer_name, c.open_balance, c.credit_limit, c.rep_name")
        days = None
        import re

        m = search(r"(?:haven'?t|have not|not|no) ordered? (?:in|for) (?:the last )?(\d+) days", q)
        if m:
            days = int(m.group(1))
            cutoff = ctx.today.fromordinal(ctx.today.toordinal() - days + 1)
            return self._list(route, ctx, [f"c.last_order_date < {lit(cutoff)}"],
                              f"Customers with no order in the last {days} days", order="c.last_order_date DESC")
        health = list(ents.health)
        if has_word(q, r"\bneeds? attention\b|\bat risk or declining\b|\bworry\b|\btrouble\b"):
            health = ["declining", "at_risk"]
        if has_word(q, r"\bdeclin|\bshrinking\b|\bdropping\b|\bfalling\b|\bfewer orders\b") and "declining" not in health:
            health.append("declining")
        new_in_period = "new" in health and ents.time is not None
        if new_in_period:
            health.remove("new")
        count = has_word(q, r"\bhow many\b|\bnumber of\b|\bcount\b")
        if health:
            label = {"declining": "Declining customers", "at_risk": "At-risk customers", "new": "New customers",
                     "inactive": "Inactive customers", "healthy": "Healthy customers"}
            title = " and ".join(label[h] for h in health) if len(health) < 3 else "Customers needing attention"
            if set(health) == {"declining", "at_risk"}:
                title = "Accounts needing attention (declining or at risk)"
            cond = [in_list("c.health", health)]
            if count:
                return self._count(route, ctx, cond, title)
            return self._list(route, ctx, cond, title, order="c.revenue_prior_90d DESC")
        if new_in_period:
            cond = [f"c.first_order_date BETWEEN {lit(ents.time.start)} AND {lit(ents.time.end)}"]
            if count:
                return self._count(route, ctx, cond, "New customers", skip_time=True)
            return self._list(route, ctx, cond, "New customers", order="c.first_order_date DESC", skip_time=True)
        if count:
            return self._count(route, ctx, [], "Customers")
        if ents.customers and not has_word(q, r"\btop\b|\blargest\b|\bbiggest\b|\bbest\b"):
            return self._detail(route, ctx)
        if ents.group_by and ents.group_by[0] in ("region", "territory", "industry", "rep") and not has_word(q, r"\btop\b"):
            return self._breakdown(route, ctx)
        top = has_word(q, r"\btop\b|\blargest\b|\bbiggest\b|\bbest\b|\bby revenue\b|\bmost\b") or ents.top_n
        if not top and has_word(q, r"\bshow\b|\blist\b|\bwhich\b|\bwho\b|\bwhat\b"):
            return self._list(route, ctx, [], "Customers", order="c.lifetime_revenue DESC")
        return self._top(route, ctx)

    def _where(self, route, ctx, extra, skip_time=True):
        return entity_filters(route.entities, "c", "dim_customers", ctx.catalog,
                              skip=("time", "products") if skip_time else ("products",)) + list(extra)

    def _list(self, route, ctx, extra, title, order, columns=CUSTOMER_COLUMNS, skip_time=True) -> Plan:
        ents = route.entities
        conds = self._where(route, ctx, extra)
        limit = ents.top_n
        sql = (f"SELECT {columns} FROM marts.dim_customers c{where(conds)} ORDER BY {order}, c.customer_name"
               + (f" LIMIT {int(limit)}" if limit else ""))
        return Plan(title=f"{title}{filters_text(ents)}", sql=sql, intent="customers.list", kind="list",
                    empty_text=f"No {title[0].lower()}{title[1:]}{filters_text(ents)}.")

    def _count(self, route, ctx, extra, title, skip_time=True) -> Plan:
        ents = route.entities
        conds = self._where(route, ctx, extra)
        if ents.group_by:
            group = ents.group_by[0]
            if group in ("region", "territory"):
                expr, name = f"c.{group}", group
            elif group == "industry":
                expr, name = "c.industry", "industry"
            elif group == "rep":
                expr, name = "c.rep_name", "rep_name"
            else:
                expr, name = None, None
            if expr:
                sql = (f"SELECT {expr} AS {name}, count(*) AS customers FROM marts.dim_customers c{where(conds)} "
                       f"GROUP BY 1 ORDER BY customers DESC")
                return Plan(title=f"{title} by {group}{filters_text(ents)}", sql=sql, intent="customers.count",
                            kind="breakdown", metrics_used=["customers"])
        sql = f"SELECT count(*) AS customers FROM marts.dim_customers c{where(conds)}"
        return Plan(title=f"{title}{filters_text(ents)}", sql=sql, intent="customers.count", kind="value",
                    metrics_used=["customers"])

    def _breakdown(self, route, ctx) -> Plan:
        ents = route.entities
        group = ents.group_by[0]
        expr, name = {"region": ("c.region", "region"), "territory": ("c.territory", "territory"),
                      "industry": ("c.industry", "industry"), "rep": ("c.rep_name", "rep_name")}[group]
        conds = self._where(route, ctx, [])
        sql = (f"SELECT {expr} AS {name}, count(*) AS customers, sum(c.lifetime_revenue) AS lifetime_revenue "
               f"FROM marts.dim_customers c{where(conds)} GROUP BY 1 ORDER BY lifetime_revenue DESC")
        return Plan(title=f"Customers by {group}{filters_text(ents)}", sql=sql, intent="customers.breakdown",
                    kind="breakdown", metrics_used=["customers", "customer_lifetime_revenue"])

    def _top(self, route, ctx) -> Plan:
        ents = route.entities
        n = ents.top_n or 10
        q = route.question.lower()
        if ents.time is not None or has_word(q, r"\bbookings\b|\bordered\b") and ents.time is not None:
            conds = entity_filters(ents, "o", "fct_orders", ctx.catalog, date_col="order_date") + ["o.status <> 'cancelled'"]
            sql = (f"SELECT c.customer_name, sum(o.total_amount) AS revenue, count(*) AS orders FROM marts.fct_orders o "
                   f"JOIN marts.dim_customers c ON c.customer_id = o.customer_id{where(conds)} GROUP BY 1 "
                   f"ORDER BY revenue DESC, 1 LIMIT {int(n)}")
            return Plan(title=f"Top {n} customers by revenue{filters_text(ents)}{period_text(ents)}", sql=sql,
                        intent="customers.top", kind="breakdown", metrics_used=["bookings"])
        if has_word(q, r"\blast 90 days\b|\brecent(ly)?\b"):
            order_col = "revenue_last_90d"
        else:
            order_col = "lifetime_revenue"
        conds = self._where(route, ctx, [])
        sql = (f"SELECT c.customer_name, c.{order_col} AS revenue, c.industry, c.rep_name FROM marts.dim_customers c"
               f"{where(conds)} ORDER BY c.{order_col} DESC, c.customer_name LIMIT {int(n)}")
        what = "lifetime revenue" if order_col == "lifetime_revenue" else "revenue in the last 90 days"
        return Plan(title=f"Top {n} customers by {what}{filters_text(ents)}", sql=sql, intent="customers.top",
                    kind="breakdown", metrics_used=["customer_lifetime_revenue"])

    def _detail(self, route, ctx) -> Plan:
        ents = route.entities
        conds = self._where(route, ctx, [])
        sql = (f"SELECT c.customer_name, c.industry, c.region, c.territory, c.rep_name, c.health, c.lifetime_revenue, "
               f"c.revenue_last_90d, c.revenue_prior_90d, c.open_balance, c.credit_limit, c.first_order_date, "
               f"c.last_order_date FROM marts.dim_customers c{where(conds)} ORDER BY c.customer_name")

        def describe(result):
            from agents.answer import money

            if not result.rows:
                return f"No customer{filters_text(ents)} in your scope."
            r = dict(zip(result.columns, result.rows[0]))
            return (f"{r['customer_name']} ({r['industry']}, {r['territory']}, rep {r['rep_name']}): "
                    f"{money(r['revenue_last_90d'])} in the last 90 days against {money(r['revenue_prior_90d'])} "
                    f"the 90 days before; lifetime {money(r['lifetime_revenue'])}; health {r['health']}.")

        return Plan(title=f"Customer{filters_text(ents)}", sql=sql, intent="customers.detail", kind="list",
                    describe=describe)

    def _concentration(self, route, ctx) -> Plan:
        ents = route.entities
        n = ents.top_n or 10
        conds = self._where(route, ctx, [])
        sql = (f"SELECT sum(CASE WHEN rnk <= {int(n)} THEN lifetime_revenue ELSE 0 END) / nullif(sum(lifetime_revenue), 0) "
               f"AS top{int(n)}_customer_share, sum(lifetime_revenue * lifetime_revenue) / nullif(sum(lifetime_revenue) * "
               f"sum(lifetime_revenue), 0) AS herfindahl_index FROM (SELECT c.lifetime_revenue, row_number() OVER "
               f"(ORDER BY c.lifetime_revenue DESC) AS rnk FROM marts.dim_customers c{where(conds)}) ranked")
        mq = None
        if n == 10 and not conds:
            mq = MetricQuery(metrics=["top10_customer_share", "customer_concentration_hhi"])
        return Plan(title=f"Customer concentration{filters_text(ents)}", sql=sql, metric=mq,
                    intent="customers.concentration", kind="value",
                    metrics_used=["top10_customer_share", "customer_concentration_hhi"])

    def _cohort(self, route, ctx) -> Plan | None:
        """Customers chosen by their order history: "whose first order was this quarter", "who bought last
        year but nothing in the last 6 months", "that ordered in 2025 but not since"."""
        q = route.question.lower()
        periods = find_time(route.question, ctx.today)
        count = has_word(q, r"\bhow many\b|\bnumber of\b|\bcount\b")
        ents = route.entities
        if periods and search(FIRST_ORDER, q):
            first = periods[0]
            conds = [between("c.first_order_date", first)] + entity_filters(
                ents, "c", "dim_customers", ctx.catalog, skip=("time", "customers"))
            title = f"Customers whose first order was {first.describe()}{filters_text(ents)}"
        elif (counted := search(ORDER_COUNT, q)) is not None:
            op, n = COUNT_OPERATORS[counted.group("op").lower()], int(counted.group("n"))
            window = f" AND {between('order_date', periods[0])}" if periods else ""
            counted_ids = (f"SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled'{window} "
                           f"GROUP BY 1 HAVING count(*) {op} {n}")
            # fewer than N includes none at all: customers with no order in the window
            cond = (f"c.customer_id IN ({counted_ids})" if op in (">", ">=", "=") or n == 0 else
                    f"c.customer_id NOT IN (SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled'"
                    f"{window} GROUP BY 1 HAVING count(*) {'>=' if op == '<' else '>'} {n})")
            conds = [cond] + entity_filters(ents, "c", "dim_customers", ctx.catalog, skip=("time", "customers"))
            title = (f"Customers with {counted.group('op').lower()} {n} orders"
                     f"{' ' + periods[0].describe() if periods else ''}{filters_text(ents)}")
        elif len(periods) >= 2 and search(BOTH_PERIODS, q):
            conds = [f"c.customer_id IN (SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled' AND "
                     f"{between('order_date', period)})" for period in periods[:2]] + entity_filters(
                ents, "c", "dim_customers", ctx.catalog, skip=("time", "customers"))
            title = f"Customers who ordered both {periods[0].describe()} and {periods[1].describe()}{filters_text(ents)}"
        elif periods and search(LAPSED, q):
            bought = periods[0]
            if len(periods) > 1:
                since = periods[1].start
                later = periods[1].describe()
            else:
                since = bought.end + dt.timedelta(days=1)
                later = f"since {day_text(since)}"
            conds = [f"c.customer_id IN (SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled' AND "
                     f"{between('order_date', bought)})",
                     f"c.customer_id NOT IN (SELECT customer_id FROM marts.fct_orders WHERE status <> 'cancelled' "
                     f"AND order_date >= {lit(since)})"] + entity_filters(ents, "c", "dim_customers", ctx.catalog,
                                                                           skip=("time", "customers"))
            title = f"Customers who ordered {bought.describe()} but not {later}{filters_text(ents)}"
        elif not re.search(r"\b(?:haven'?t|hasn'?t|have not|has not|not|never|didn'?t|did not)\s+(?:\w+\s+)?"
                           r"(?:ordered|bought|purchased)\b", q) and search(ORDERED, q):
            # "customers who bought hats this year": their order lines, in the period
            lines = entity_filters(ents, "l", "fct_order_lines", ctx.catalog, date_col="order_date",
                                   skip=("customers",)) + ["l.order_status <> 'cancelled'"]
            conds = [f"c.customer_id IN (SELECT l.customer_id FROM marts.fct_order_lines l{where(lines)})"] + \
                entity_filters(ents, "c", "dim_customers", ctx.catalog, skip=("time", "customers", "products"))
            title = f"Customers who ordered{filters_text(ents)}{period_text(ents)}"
        else:
            return None
        if count:
            return Plan(title=title, sql=f"SELECT count(*) AS customers FROM marts.dim_customers c{where(conds)}",
                        intent="customers.cohort", kind="value")
        return Plan(title=title, sql=("SELECT c.customer_name, c.first_order_date, c.last_order_date, c.lifetime_revenue "
                                      f"FROM marts.dim_customers c{where(conds)} ORDER BY c.lifetime_revenue DESC"),
                    intent="customers.cohort", kind="list")

    def _activities(self, route, ctx) -> Plan:
        ents = route.entities
        q = route.question.lower()
        conds = entity_filters(ents, "a", "fct_activities", ctx.catalog, date_col="activity_date")
        mart = ctx.catalog.mart("fct_activities")
        subtypes = mart is not None and mart.has("activity_subtype")
        found = [(condition if subtypes or "activity_type" in condition else "a.activity_type = 'task'", label)
                 for pattern, condition, label in ACTIVITY_KINDS if has_word(q, pattern)]
        kinds = list(dict.fromkeys(condition for condition, _ in found))
        if kinds:  # calls, emails and tasks are Salesforce tasks of a subtype; meetings are events
            conds.append(kinds[0] if len(kinds) == 1 else "(" + " OR ".join(kinds) + ")")
        done, not_done = (has_word(q, pattern) for pattern in ACTIVITY_DONE)
        state = ""
        if (done or not_done) and mart is not None and mart.has("is_done") and done != not_done:
            conds.append("a.is_done" if done else "NOT a.is_done")
            state = "completed " if done else "open "
        names = " and ".join(dict.fromkeys(label for _, label in found)) or "activities"
        what = (state + names)[0].upper() + (state + names)[1:]
        by_kind = subtypes and has_word(q, r"\b(kinds?|types?|sorts?) of (activit\w+|touch ?points?)\b|"
                                           r"\bactivit\w* by (type|kind)\b")
        if by_kind:
            sql = (f"SELECT a.activity_subtype AS activity_kind, count(*) AS activities FROM marts.fct_activities a"
                   f"{where(conds)} GROUP BY 1 ORDER BY activities DESC")
            return Plan(title=f"{what} by kind{filters_text(ents)}{period_text(ents)}", sql=sql,
                        intent="customers.activities", kind="breakdown", metrics_used=["activities"])
        if has_word(q, r"\bhow many\b|\bnumber of\b|\bcount\b") or ents.group_by:
            group = ents.group_by[0] if ents.group_by else None
            if group:
                b = breakdown(group, "a", date_col="activity_date", fact="fct_activities")
                if b:
                    expr, name, join = b
                    sql = (f"SELECT {expr} AS {name}, count(*) AS activities FROM marts.fct_activities a{join}"
                           f"{where(conds)} GROUP BY 1 ORDER BY activities DESC")
                    return Plan(title=f"{what} by {group}{filters_text(ents)}{period_text(ents)}", sql=sql,
                                intent="customers.activities", kind="breakdown", metrics_used=["activities"])
            sql = f"SELECT count(*) AS activities FROM marts.fct_activities a{where(conds)}"
            return Plan(title=f"{what}{filters_text(ents)}{period_text(ents)}", sql=sql,
                        intent="customers.activities", kind="value", metrics_used=["activities"])
        limit = ents.top_n or 50
        sql = (f"SELECT a.activity_date, a.activity_type, a.activity_subtype, a.subject, c.customer_name, a.status "
               f"FROM marts.fct_activities a LEFT JOIN marts.dim_customers c ON c.customer_id = a.customer_id"
               f"{where(conds)} ORDER BY a.activity_date DESC, a.activity_id LIMIT {int(limit)}") \
            if subtypes else (
              f"SELECT a.activity_date, a.activity_type, a.subject, c.customer_name, a.status FROM marts.fct_activities a "
              f"LEFT JOIN marts.dim_customers c ON c.customer_id = a.customer_id{where(conds)} "
              f"ORDER BY a.activity_date DESC, a.activity_id LIMIT {int(limit)}")
        return Plan(title=f"Recent {what.lower()}{filters_text(ents)}{period_text(ents)}", sql=sql,
                    intent="customers.activities", kind="list")


@hookimpl
def register_agents():
    return [CustomersAgent()]
