"""The measures agent: an aggregate of a mart column, with the question's filters ("median order value this
year", "the average size of won deals last quarter", "smallest invoice we sent Disney", "average units per
order line by region").

It answers what the other agents have no plan for: an aggregate they do not compute (median, the largest,
the smallest, an average of something that is not a governed metric), over one of the measures below. The
filters, periods, exclusions and breakdowns are applied by the one shared function
(:func:`agents.planning.entity_filters`), so it composes with everything the router reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents import Agent, Plan, hookimpl
from agents.planning import breakdown, entity_filters, filters_text, has_word, period_text, where
from agents.router import Route

# Aggregates people name, their SQL, and how the answer says them.
AGGREGATES = (
    (r"\bmedian\b|\btypical\b|\bmiddle\b", "median", "median"),
    (r"\baverage\b|\bavg\b|\bmean\b", "avg", "average"),
    (r"\blargest\b|\bbiggest\b|\bhighest\b|\bmaximum\b|\bmax\b|\bbiggest single\b", "max", "largest"),
    (r"\bsmallest\b|\blowest\b|\bminimum\b|\bmin\b", "min", "smallest"),
)


@dataclass(frozen=True)
class Measure:
    name: str           # how the answer says it
    pattern: str        # the words that name it
    mart: str
    alias: str
    column: str
    date_column: str


MEASURES = (
    Measure("order value", r"\border (value|size|amount|total)s?\b|\b(value|size|amount) of (an |our |my )?orders?\b|"
            r"\borders?\b", "fct_orders", "o", "total_amount", "order_date"),
    Measure("deal amount", r"\b(deal|opportunity) (size|amount|value)s?\b|\b(size|amount|value) of (\w+ )?(deals?|"
            r"opportunit(y|ies))\b|\bdeals?\b|\bopportunit(y|ies)\b", "fct_opportunities", "p", "amount", "close_date"),
    Measure("invoice amount", r"\binvoices?\b|\binvoice (amount|value|size)s?\b", "fct_invoices", "i", "amount",
            "invoice_date"),
    Measure("units per order line", r"\bunits per (order )?line\b|\bline quantit(y|ies)\b|\bquantity per line\b",
            "fct_order_lines", "l", "quantity", "order_date"),
    Measure("days to close", r"\bdays to close\b|\bsales cycle\b|\bcycle (time|length)\b", "fct_opportunities", "p",
            "sales_cycle_days", "close_date"),
)


def _aggregate(text: str):
    return next(((sql, word) for pattern, sql, word in AGGREGATES if re.search(pattern, text, re.I)), None)


def _measure(text: str) -> Measure | None:
    specific = [m for m in MEASURES if re.search(m.pattern.split("|\\b")[0], text, re.I)]
    return specific[0] if specific else next((m for m in MEASURES if re.search(m.pattern, text, re.I)), None)


class MeasuresAgent(Agent):
    name = "measures"
    title = "Measures agent"
    description = ("An aggregate of an order value, a deal size, an invoice amount, units per line or days to "
                   "close: the median, the average, the largest, the smallest, with any filters and breakdown.")
    marts = ("fct_orders", "fct_opportunities", "fct_invoices", "fct_order_lines")
    examples = ("What's the median order value this year?", "Average size of won deals last quarter")

    def score(self, text: str, route: Route) -> float:
        aggregate, measure = _aggregate(text), _measure(text)
        if aggregate is None or measure is None:
            return 0.0
        # The median and the extremes are this agent's own; an average only when no governed metric says it
        # (the orders and pipeline agents answer "average order value", "average deal size").
        if aggregate[0] == "avg" and re.search(r"average (order value|deal size)|\baov\b|average sales cycle|"
                                               r"\bage\b|\baging\b|days open|how long", text, re.I):
            return 0.0  # governed metrics, and order aging, are the orders' and pipeline agents' own
        if aggregate[0] in ("max", "min") and not re.search(r"\b(value|size|amount|quantity|units|days)\b", text, re.I):
            return 0.0  # "the largest order" is a row of a list (agents.compose), not a figure
        return 6.0

    def plan(self, route: Route, ctx) -> Plan | None:
        q = route.question.lower()
        aggregate, measure = _aggregate(q), _measure(q)
        if aggregate is None or measure is None:
            return None
        has_word(q, measure.pattern)  # the words read (agents.reading)
        has_word(q, next(p for p, sql, _ in AGGREGATES if sql == aggregate[0]))
        sql_aggregate, word = aggregate
        ents = route.entities
        a = measure.alias
        conds = entity_filters(ents, a, measure.mart, ctx.catalog, date_col=measure.date_column)
        conds += self._state(route, measure)
        value = f"{sql_aggregate}({a}.{measure.column})"
        label = f"{word}_{measure.name.replace(' ', '_')}"
        state = f" of {ents.deal_state} deals" if ents.deal_state and measure.mart == "fct_opportunities" else ""
        title = f"{word.capitalize()} {measure.name}{state}{filters_text(ents)}{period_text(ents)}"
        if ents.group_by:
            b = breakdown(ents.group_by[0], a, date_col=measure.date_column, fact=measure.mart)
            if b is None:
                return None
            expr, name, join = b
            sql = (f"SELECT {expr} AS {name}, {value} AS {label}, count(*) AS {measure.mart.split('_')[1]} "
                   f"FROM marts.{measure.mart} {a}{join}{where(conds)} GROUP BY 1 ORDER BY 2 DESC")
            return Plan(title=f"{title} by {ents.group_by[0]}", sql=sql, intent="measures.breakdown", kind="breakdown")
        sql = f"SELECT {value} AS {label}, count(*) AS {measure.mart.split('_')[1]} FROM marts.{measure.mart} {a}{where(conds)}"
        return Plan(title=title, sql=sql, intent=f"measures.{sql_aggregate}", kind="value")

    @staticmethod
    def _state(route: Route, measure: Measure) -> list[str]:
        """Orders are counted without the cancelled ones (unless asked); deals by the state the question
        names (won, lost, open, closed: won deals when it names none and the measure is a closed deal's)."""
        ents = route.entities
        a = measure.alias
        if measure.mart in ("fct_orders", "fct_order_lines"):
            column = "status" if measure.mart == "fct_orders" else "order_status"
            if ents.order_status is None:
                return [f"{a}.{column} <> 'cancelled'"]
            from plugins.orders import status_condition

            condition = status_condition(ents.order_status, a)
            return [condition] if condition and measure.mart == "fct_orders" else []
        if measure.mart == "fct_opportunities":
            state = ents.deal_state or ("won" if measure.column == "sales_cycle_days" else None)
            return {"won": [f"{a}.is_won"], "lost": [f"{a}.is_closed AND NOT {a}.is_won"],
                    "open": [f"NOT {a}.is_closed"], "closed": [f"{a}.is_closed"]}.get(state, [])
        if measure.mart == "fct_invoices" and ents.invoice_status:
            return {"open": [f"{a}.status = 'open'"], "paid": [f"{a}.status = 'paid'"],
                    "overdue": [f"{a}.is_overdue"]}.get(ents.invoice_status, [])
        return []


@hookimpl
def register_agents():
    return [MeasuresAgent()]
