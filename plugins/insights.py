"""The insights plugin: the built-in insight detectors, and the insights agent that answers with them.

The detectors (``agents/insights/detectors.py``: anomalies in daily orders and bookings, win-rate and deal-size
changes with the segments behind them, stalled and slipping deals, declining, at-risk and growing customers,
revenue concentration, overdue receivables, stock that will not cover open orders) are registered through the
``register_insight_detectors`` hook, exactly as a third-party plugin registers its own.

The agent: "What should I worry about?", "any insights?", "what changed?" → the caller's insights, most
severe first, each with its numbers and suggested action. It also answers the ranking questions behind the
customer stories: "which customers grew the most", "whose orders fell the most".
"""

from __future__ import annotations

from agents import Agent, Answer, Plan, hookimpl
from agents.planning import entity_filters, filters_text, has_word, where


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
    checks_reading = False  # the insights answer as a whole, whatever the wording

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
        from agents.insights import compute_insights

        report = compute_insights(context.scope, settings=context.settings, today=context.today,
                                  llm=context.llm, narrate=context.llm is not None)
        q = route.question.lower()
        items = report.insights
        if has_word(q, r"\banomal|\bunusual\b|\bspike"):
            items = [i for i in items if i.kind == "order_anomaly"] or items
        top = items[:10]
        rows = [[i.severity, i.kind, i.headline, i.action] for i in top]
        if top:
            lines = "; ".join(i.headline for i in top[:3])
            counts = {level: sum(i.severity == level for i in items) for level in ("high", "medium")}
            text = (f"{len(items)} things to look at ({counts['high']} high, {counts['medium']} medium). "
                    f"First: {lines}.")
        else:
            text = "Nothing stands out right now."
        sql = ";\n".join(e.sql for i in top[:5] for e in i.evidence[:1] if e.sql)
        return Answer(question=route.text, text=text, columns=["severity", "kind", "headline", "suggested action"],
                      rows=rows, chart=None, sql=sql, path="agent", agent=self.name, intent="insights.summary",
                      follow_ups=["Show me deals stuck in negotiation", "Which accounts need attention?",
                                  "Which customers grew the most?"],
                      extra={"insights": [i.to_dict(evidence=False) for i in top], "errors": report.errors})


@hookimpl
def register_agents():
    return [InsightsAgent()]


@hookimpl
def register_insight_detectors():
    from agents.insights.detectors import builtin_detectors

    return builtin_detectors()
