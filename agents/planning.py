"""Helpers of the deterministic planner: literals, filters from entities, breakdown columns.

Values that reach SQL are written as SQL literals by sqlglot (quotes escaped), and they come from the
warehouse's own vocabulary or from numbers and dates the router parsed; question text is never pasted.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlglot import exp

from agents.catalog import Catalog
from agents.router import Entities
from agents.timeparse import TimeRange


def lit(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return exp.Literal.number(value).sql("duckdb")
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return exp.Literal.string(str(value)).sql("duckdb")


def in_list(column: str, values) -> str:
    values = list(dict.fromkeys(values))
    if len(values) == 1:
        return f"{column} = {lit(values[0])}"
    return f"{column} IN ({', '.join(lit(v) for v in values)})"


def between(column: str, rng: TimeRange) -> str:
    if rng.start == rng.end:
        return f"{column} = {lit(rng.start)}"
    return f"{column} BETWEEN {lit(rng.start)} AND {lit(rng.end)}"


def product_ids(ents: Entities) -> list[str]:
    ids: list[str] = []
    for m in ents.products:
        ids.extend([m.id] if m.id else list(m.ids))
    return list(dict.fromkeys(ids))


def entity_filters(ents: Entities, alias: str, mart: str, catalog: Catalog, *, date_col: str | None = None,
                   amount_col: str | None = None, skip: tuple[str, ...] = ()) -> list[str]:
    """WHERE conditions for the entities a question names, on ``mart`` aliased ``alias``."""
    m = catalog.mart(mart)

    def has(column: str) -> bool:
        return m is not None and m.has(column)

    a = f"{alias}." if alias else ""
    out: list[str] = []
    if ents.customers and "customers" not in skip:
        ids = [c.id for c in ents.customers]
        if has("customer_id"):
            out.append(in_list(f"{a}customer_id", ids))
    if ents.reps and "reps" not in skip and has("rep_id"):
        out.append(in_list(f"{a}rep_id", [r.id for r in ents.reps]))
    if ents.territories and "territories" not in skip and has("territory"):
        out.append(in_list(f"{a}territory", ents.territories))
    if ents.regions and "regions" not in skip and has("region"):
        out.append(in_list(f"{a}region", ents.regions))
    if ents.industries and "industries" not in skip:
        if has("industry"):
            out.append(in_list(f"{a}industry", ents.industries))
        elif has("customer_id"):
            out.append(f"{a}customer_id IN (SELECT customer_id FROM marts.dim_customers WHERE "
                       f"{in_list('industry', ents.industries)})")
    if (ents.categories or ents.products) and "products" not in skip:
        pids = product_ids(ents)
        conds = []
        if has("category") and ents.categories:
            conds.append(in_list(f"{a}category", ents.categories))
        elif ents.categories and has("product_id"):
            conds.append(f"{a}product_id IN (SELECT product_id FROM marts.dim_products WHERE "
                         f"{in_list('category', ents.categories)})")
        if pids and has("product_id"):
            conds.append(in_list(f"{a}product_id", pids))
        if not has("product_id") and not has("category"):
            if has("product_category") and ents.categories:
                conds.append(in_list(f"{a}product_category", ents.categories))
            elif has("order_id"):
                inner = []
                if ents.categories:
                    inner.append(f"product_id IN (SELECT product_id FROM marts.dim_products WHERE "
                                 f"{in_list('category', ents.categories)})")
                if pids:
                    inner.append(in_list("product_id", pids))
                if inner:
                    conds.append(f"{a}order_id IN (SELECT order_id FROM marts.fct_order_lines WHERE "
                                 f"{' OR '.join(inner)})")
        if conds:
            out.append(conds[0] if len(conds) == 1 else "(" + " OR ".join(conds) + ")")
    out += _exclusions(ents, a, has)
    if ents.time and date_col and "time" not in skip:
        out.append(between(f"{a}{date_col}", ents.time))
    if amount_col and "amount" not in skip:
        if ents.amount_min is not None:
            out.append(f"{a}{amount_col} >= {lit(ents.amount_min)}")
        if ents.amount_max is not None:
            out.append(f"{a}{amount_col} <= {lit(ents.amount_max)}")
    return out


# What an excluded entity is matched on, by Entities attribute: (column of the mart, key of the value).
EXCLUSION_COLUMNS = {"customers": ("customer_id", "id"), "reps": ("rep_id", "id"), "territories": ("territory", "value"),
                     "regions": ("region", "value"), "industries": ("industry", "value"),
                     "categories": ("category", "value"), "stages": ("stage", "value")}


def _exclusions(ents: Entities, a: str, has) -> list[str]:
    """``NOT IN`` conditions for what the question leaves out ("without Disney"), on the columns this mart
    has; each applied exclusion is noted for the reading (an exclusion the mart cannot apply stays unread)."""
    out = []
    for attr, values in (ents.excluded or {}).items():
        column, key = EXCLUSION_COLUMNS.get(attr, (None, None))
        if column is None or not has(column):
            continue
        items = [v[key] for v in values]
        out.append(f"{a}{column} NOT IN ({', '.join(lit(v) for v in items)})")
        from agents.reading import note_applied

        note_applied("exclusion", [v["phrase"] for v in values])
    return out


def where(conditions: list[str]) -> str:
    conditions = [c for c in conditions if c]
    return (" WHERE " + " AND ".join(conditions)) if conditions else ""


TIME_GRAINS = ("day", "week", "month", "quarter", "year")


def breakdown(group: str, alias: str, *, date_col: str | None, fact: str) -> tuple[str, str, str] | None:
    """(select expression, column name, extra join) to break a fact down by ``group``."""
    a = f"{alias}."
    if group in TIME_GRAINS and date_col:
        return f"CAST(date_trunc('{group}', {a}{date_col}) AS DATE)", group, ""
    if group in ("region", "territory"):
        return f"{a}{group}", group, ""
    if group == "rep":
        return "r.rep_name", "rep_name", f" LEFT JOIN marts.dim_sales_reps r ON r.rep_id = {a}rep_id"
    if group == "customer":
        return "c.customer_name", "customer_name", f" LEFT JOIN marts.dim_customers c ON c.customer_id = {a}customer_id"
    if group == "industry":
        return "c.industry", "industry", f" LEFT JOIN marts.dim_customers c ON c.customer_id = {a}customer_id"
    if group == "stage" and fact == "fct_opportunities":
        return f"{a}stage", "stage", ""
    if group == "forecast_category" and fact == "fct_opportunities":
        return f"{a}forecast_category", "forecast_category", ""
    if group == "status" and fact in ("fct_orders",):
        return f"{a}status_group", "status_group", ""
    if group == "status" and fact == "fct_invoices":
        return f"{a}status", "status", ""
    if group in ("category", "product") and fact == "fct_order_lines":
        col = "p.category" if group == "category" else "p.product_name"
        return col, group if group == "category" else "product_name", f" JOIN marts.dim_products p ON p.product_id = {a}product_id"
    return None


# Group-by names of the semantic layer, per fact (its entity prefix).
def metric_group(group: str, fact_entity: str) -> str | None:
    if group in TIME_GRAINS:
        return f"metric_time__{group}"
    return {
        "region": f"{fact_entity}__region", "territory": f"{fact_entity}__territory", "rep": "rep__rep_name",
        "customer": "customer__customer_name", "industry": "customer__industry", "category": "product__category",
        "product": "product__product_name", "stage": "opportunity__stage",
        "forecast_category": "opportunity__forecast_category", "status": "order__status_group",
    }.get(group)


def metric_filters(ents: Entities, fact_entity: str, *, allow=("time", "customers", "reps", "territories",
                                                               "regions", "industries")) -> list | None:
    """Semantic-layer filters for the entities, or None when one of them has no semantic equivalent."""
    out: list = []
    if ents.time and "time" in allow:
        out.append(("metric_time__day", ">=", ents.time.start.isoformat()))
        out.append(("metric_time__day", "<=", ents.time.end.isoformat()))
    if ents.customers:
        if "customers" not in allow:
            return None
        out.append(("customer", "in", [c.id for c in ents.customers]))
    if ents.reps:
        if "reps" not in allow:
            return None
        out.append(("rep", "in", [r.id for r in ents.reps]))
    if ents.territories:
        if "territories" not in allow:
            return None
        out.append((f"{fact_entity}__territory", "in", ents.territories))
    if ents.regions:
        if "regions" not in allow:
            return None
        out.append((f"{fact_entity}__region", "in", ents.regions))
    if ents.industries:
        if "industries" not in allow:
            return None
        out.append(("customer__industry", "in", ents.industries))
    if ents.categories or ents.products:
        if "products" not in allow:
            return None
        if ents.products:
            out.append(("product", "in", product_ids(ents)))
        if ents.categories:
            out.append(("product__category", "in", ents.categories))
    if ents.stages:
        if "stages" not in allow:
            return None
        out.append(("opportunity__stage", "in", ents.stages))
    for attr, values in (ents.excluded or {}).items():
        name = {"customers": "customer", "reps": "rep", "territories": f"{fact_entity}__territory",
                "regions": f"{fact_entity}__region", "industries": "customer__industry"}.get(attr)
        if name is None or attr not in allow:
            return None
        key = "id" if attr in ("customers", "reps") else "value"
        out.append((name, "not in", [v[key] for v in values]))
        from agents.reading import note_applied

        note_applied("exclusion", [v["phrase"] for v in values])
    return out


def period_text(ents: Entities) -> str:
    return f" {ents.time.describe()}" if ents.time else ""


def filters_text(ents: Entities) -> str:
    bits = []
    left_out = [v["value"] for values in (ents.excluded or {}).values() for v in values]
    if left_out:
        bits.append("excluding " + ", ".join(left_out))
    if ents.customers:
        bits.append("for " + ", ".join(c.value for c in ents.customers))
    if ents.categories:
        bits.append("in " + ", ".join(ents.categories))
    if ents.products:
        bits.append("for " + ", ".join(p.value if p.kind == "product" else f"{p.value} items" for p in ents.products))
    if ents.reps:
        bits.append("of " + ", ".join(r.value for r in ents.reps))
    if ents.territories:
        bits.append("in " + ", ".join(ents.territories))
    if ents.regions:
        bits.append("in the " + ", ".join(ents.regions) + " region" + ("s" if len(ents.regions) > 1 else ""))
    if ents.industries:
        bits.append("in " + ", ".join(ents.industries))
    if ents.stages:
        bits.append("in " + ", ".join(ents.stages))
    if ents.amount_min is not None:
        bits.append(f"of at least ${ents.amount_min:,.0f}")
    if ents.amount_max is not None:
        bits.append(f"of at most ${ents.amount_max:,.0f}")
    return (" " + " ".join(bits)) if bits else ""


def search(pattern: str, text: str) -> re.Match | None:
    """``re.search`` for planners: a match is noted as words the planner used (see :mod:`agents.reading`)."""
    found = re.search(pattern, text, re.I)
    if found:
        from agents.reading import note_match

        note_match(text, pattern)
    return found


def has_word(text: str, pattern: str) -> bool:
    """Whether ``pattern`` occurs in the question ``text``; a match is noted as words the planner used
    (see :mod:`agents.reading`)."""
    found = re.search(pattern, text, re.I) is not None
    if found:
        from agents.reading import note_match

        note_match(text, pattern)
    return found
