"""The insights agent (minimal for now; the insights issue grows it into detectors with evidence).

"What should I worry about?", "any insights?", "what changed?" → a few rules over the marts, each with
its numbers: stalled deals, declining customers, growing customers, items whose stock will not cover open
orders, overdue receivables. It also answers the ranking questions behind those stories: "which customers
grew the most", "whose orders fell the most".
"""

from __future__ import annotations

from agents import Agent, Answer, Plan, hookimpl
from agents.answer import money
from agents.planning import entity_filters, filters_text, has_word, where

RULES = [
    ("stalled_deals", "SELECT count(*) AS n, sum(amount) AS amount FROM marts.fct_opportunities WHERE is_stalled AND NOT is_closed",
     lambda n, a: f"{int(n)} open deals are stalled ({money(a)})" if n else None),
    ("declining_customers", "SELECT count(*) AS n, sum(revenue_prior_90d - revenue_last_90d) AS amount FROM marts.dim_customers "
     "WHERE health = 'declining'", lambda n, a: f"{int(n)} customers are declining (down {money(a)} on the prior 90 days)" if n else None),
    ("at_risk_customers", "SELECT count(*) AS n, sum(lifetime_revenue) AS amount FROM marts.dim_customers WHERE health = 'at_risk'",
     lambda n, a: f"{int(n)} customers are at risk of churning" if n else None),
    ("overdue_receivables", "SELECT count(*) AS n, sum(amount_remaining) AS amount FROM marts.fct_invoices WHERE status = 'open' "
     "AND days_overdue > 0", lambda n, a: f"{money(a)} is overdue on {int(n)} invoices" if n else None),
    ("stock_shortfalls", "SELECT count(*) AS n, sum(open_quantity - quantity_on_hand) AS amount FROM (SELECT p.quantity_on_hand, "
     "sum(l.quantity - l.quantity_fulfilled) AS open_quantity FROM marts.fct_order_lines l JOIN marts.fct_orders o ON "
     "o.order_id = l.order_id JOIN marts.dim_products p ON p.product_id = l.product_id WHERE o.status_group IN "
     "('pending', 'partial') GROUP BY p.product_id, p.quantity_on_hand) s WHERE open_quantity > quantity_on_hand",
     lambda n, a: f"{int(n)} items cannot cover their open orders (short {int(a or 0):,} units)" if n else None),
]


class InsightsAgent(Agent):
    name = "insights"
    title = "Insights agent"
    description = ("What needs attention: stalled deals, declining and growing customers, stock shortfalls, overdue "
                   "receivables; which customers grew or fell the most.")
    marts = ("dim_customers", "fct_opportunities", "fct_invoices", "fct_order_lines", "dim_products")
    keywords = {
        r"\binsights?\b|\banomal|\bunusual\b|\balerts?\b|\bwhat should i\b|\bworry\b|\bwhat changed\b": 4.0,
        r"\bhighlights?\b|\bsummary\b|\bsummari[sz]e\b|\bbriefing\b|\bwhat'?s (new|happening|going on)\b": 3.0,
        r"\bgrew\b|\bgrow\b|\bgrowing\b|\bgrowth\b|\bfell\b|\bdropped\b|\bup the most\b|\bdown the most\b|\bupsell\b": 2.5,
    }
    examples = ("What should I worry about?", "Which customers grew the most?", "Whose orders fell the most?")
    uses_llm = False

    def answer(self, route, context) -> Answer:
        q = route.question.lower()
        if has_word(q, r"\bgrew\b|\bgrow\b|\bgrowing\b|\bgrowth\b|\bup the most\b|\bupsell\b|\bincreas"):
            return context.answer_plan(self, route, self._movers(route, context, up=True))
        if has_word(q, r"\bfell\b|\bdropped\b|\bdown the most\b|\bdeclin|\bdecreas|\bshrank\b"):
            return context.answer_plan(self, route, self._movers(route, context, up=False))
        return self._summary(route, context)

    def _movers(self, route, context, up: bool) -> Plan:
        ents = route.entities
        n = ents.top_n or 10
        conds = entity_filters(ents, "c", "dim_customers", context.catalog, skip=("time", "products"))
        conds.append("c.revenue_prior_90d > 0" if not up else "c.revenue_last_90d > 0")
        change = "c.revenue_last_90d - c.revenue_prior_90d"
        sql = (f"SELECT c.customer_name, c.revenue_last_90d, c.revenue_prior_90d, {change} AS change, "
               f"({change}) / nullif(c.revenue_prior_90d, 0) AS change_pct FROM marts.dim_customers c{where(conds)} "
               f"ORDER BY change {'DESC' if up else 'ASC'}, 1 LIMIT {int(n)}")
        title = f"Customers {'growing' if up else 'falling'} the most (last 90 days vs the 90 before){filters_text(ents)}"
        return Plan(title=title, sql=sql, intent="insights.movers", kind="breakdown")

    def _summary(self, route, context) -> Answer:
        findings, rows, sqls = [], [], []
        for kind, sql, sentence in RULES:
            try:
                result = context.run_sql(sql)
            except Exception:  # noqa: BLE001 - a missing mart must not hide the other findings
                continue
            n, amount = result.rows[0] if result.rows else (0, 0)
            line = sentence(n or 0, amount or 0)
            sqls.append(result.sql)
            if line:
                findings.append(line)
                rows.append([kind, int(n or 0), float(amount or 0), line])
        text = ("Things to look at: " + "; ".join(findings) + ".") if findings else "Nothing stands out right now."
        return Answer(question=route.text, text=text, columns=["insight", "count", "amount", "headline"], rows=rows,
                      chart=None, sql=";\n".join(sqls), path="agent", agent=self.name, intent="insights.summary",
                      follow_ups=["Show me deals stuck in negotiation", "Which accounts need attention?",
                                  "Which customers grew the most?"])


@hookimpl
def register_agents():
    return [InsightsAgent()]
