"""The pipeline agent: opportunities, stages, win rate, forecast, stalled and slipping deals, quota.

Marts: ``fct_opportunities``, ``fct_opportunity_history``, ``fct_quotas``, ``dim_sales_reps``. Metrics:
win_rate, open_pipeline, weighted_pipeline, average_deal_size, average_sales_cycle_days, quota_attainment,
pipeline_coverage, commit_forecast, sales_velocity, won_amount, won_opportunities.
"""

from __future__ import annotations

import re

from agents import Agent, Plan, hookimpl
from agents.metrics import MetricQuery
from agents.planning import (breakdown, entity_filters, filters_text, has_word, lit, metric_filters, metric_group,
                             period_text, where)
from agents.router import Route

DEAL_COLUMNS = ("p.opportunity_name, c.customer_name, p.stage, p.amount, p.close_date, p.days_in_stage, "
                "p.forecast_category")
TIME_GROUPS = ("day", "week", "month", "quarter", "year")
# Metrics of closed deals are dated by close date; "open pipeline for Q1" means expected to close in Q1.
METRIC_SQL = {
    "win_rate": ("Win rate", "sum(CASE WHEN p.is_won THEN 1 ELSE 0 END) * 1.0 / nullif(sum(CASE WHEN p.is_closed "
                 "THEN 1 ELSE 0 END), 0) AS win_rate", "p.is_closed"),
    "average_deal_size": ("Average deal size", "sum(p.amount) / nullif(count(*), 0) AS average_deal_size", "p.is_won"),
    "average_sales_cycle_days": ("Average sales cycle", "avg(date_diff('day', p.created_date, p.close_date)) AS "
                                 "average_sales_cycle_days", "p.is_won"),
    "weighted_pipeline": ("Weighted pipeline", "sum(p.weighted_amount) AS weighted_pipeline", "NOT p.is_closed"),
    "open_pipeline": ("Open pipeline", "sum(p.amount) AS open_pipeline, count(*) AS open_opportunities",
                      "NOT p.is_closed"),
    "commit_forecast": ("Commit forecast", "sum(p.amount) AS commit_forecast",
                        "p.forecast_category IN ('Commit', 'Closed')"),
    "won_amount": ("Deals won", "count(*) AS won_opportunities, sum(p.amount) AS won_amount", "p.is_won"),
    "lost_opportunities": ("Deals lost", "count(*) AS lost_opportunities, sum(p.amount) AS lost_amount",
                           "p.is_closed AND NOT p.is_won"),
    "closed_opportunities": ("Deals closed", "count(*) AS closed_opportunities, sum(p.amount) AS closed_amount",
                             "p.is_closed"),
}


# Filters that keep a grouped metric to the rows its definition counts (no empty groups).
METRIC_ROWS = {
    "win_rate": [("opportunity__is_open", "=", False)], "lost_opportunities": [("opportunity__is_open", "=", False)],
    "won_amount": [("opportunity__is_won", "=", True)], "average_deal_size": [("opportunity__is_won", "=", True)],
    "average_sales_cycle_days": [("opportunity__is_won", "=", True)],
    "open_pipeline": [("opportunity__is_open", "=", True)], "weighted_pipeline": [("opportunity__is_open", "=", True)],
}


class PipelineAgent(Agent):
    name = "pipeline"
    title = "Pipeline agent"
    description = ("Opportunities and deals: open pipeline by stage, weighted pipeline, win rate, deal size, sales "
                   "cycle, forecast categories, stalled and slipping deals, quota attainment and coverage.")
    marts = ("fct_opportunities", "fct_opportunity_history", "fct_quotas", "dim_sales_reps", "dim_customers")
    keywords = {
        r"\bpipeline\b": 3.0, r"\bdeals?\b|\bopportunit(y|ies)\b|\bopps?\b": 2.5, r"\bwin rate\b|\bwin ratio\b": 4.0,
        r"\bstages?\b|\bfunnel\b": 2.0, r"\bforecast\b|\bcommit\b|\bbest case\b": 2.5, r"\bquota\b|\battainment\b": 3.0,
        r"\bstalled\b|\bstuck\b|\bslipp(ed|ing|age)\b|\bpushed\b": 2.0, r"\bwon\b|\blost\b|\bwins?\b": 1.0,
        r"\bsales cycle\b|\bdeal size\b|\bvelocity\b|\bcoverage\b": 3.0, r"\bclosing\b|\bclose date\b": 1.5,
    }
    examples = ("What's in my pipeline for Q1 2026?", "Show me deals stuck in negotiation",
                "What's my win rate this quarter?")

    def follow_ups(self, route, plan, result):
        out = []
        if plan and plan.intent in ("pipeline.by_stage", "pipeline.total"):
            out.append("Show me deals stuck in negotiation")
        if plan and plan.intent == "pipeline.win_rate":
            out.append("Break that down by region")
        out.append("What's my win rate this quarter?")
        return out

    def plan(self, route: Route, ctx) -> Plan | None:
        q = route.question.lower()
        ents = route.entities
        if has_word(q, r"\bwin rate\b|\bwin ratio\b|\bwin %|\bwin percentage\b|\bclose rate\b"):
            return self._metric(route, ctx, "win_rate")
        if has_word(q, r"\bquota\b|\battainment\b"):
            return self._quota(route, ctx)
        if has_word(q, r"\bcoverage\b"):
            return self._coverage(route, ctx)
        if has_word(q, r"\baverage deal size\b|\bavg deal size\b|\bdeal size\b|\baverage (won )?deal\b"):
            return self._metric(route, ctx, "average_deal_size")
        if has_word(q, r"\bsales cycle\b|\bcycle time\b|\bhow long (does it take|do deals take)\b"):
            return self._metric(route, ctx, "average_sales_cycle_days")
        if has_word(q, r"\bweighted\b|\bexpected revenue\b"):
            return self._metric(route, ctx, "weighted_pipeline")
        if has_word(q, r"\bcommit forecast\b|\bforecast\b") and not has_word(q, r"forecast categor"):
            if "Commit" in ents.forecast or has_word(q, r"\bcommit\b") or not ents.group_by:
                return self._metric(route, ctx, "commit_forecast")
        if has_word(q, r"\bstalled\b|\bstuck\b|\bsitting\b|\bidle\b"):
            return self._deals(route, ctx, "p.is_stalled AND NOT p.is_closed", "Stalled deals",
                               "pipeline.stalled", order="p.amount DESC")
        if has_word(q, r"\bslipp|\bpushed\b|\bslipped\b|\bkeeps? moving\b|\bclose date (moved|changed)"):
            return self._deals(route, ctx, "p.close_date_pushes > 0 AND NOT p.is_closed", "Deals whose close date slipped",
                               "pipeline.slipped", order="p.close_date_pushes DESC, p.amount DESC")
        state = ents.deal_state
        count = has_word(q, r"\bhow many\b|\bnumber of\b|\bcount\b")
        how_much = has_word(q, r"\bhow much\b|\btotal\b|\bvalue\b|\bworth\b|\bsum\b")
        listing = has_word(q, r"\bshow\b|\blist\b|\bwhich\b|\bwhat are\b|\bgive me\b|\btop\b|\blargest\b|\bbiggest\b") \
            or bool(re.match(r"\s*(?:my |our |the |all )?(?:open |big |large |new )?(?:deals|opportunities|opps)\b", q))
        # ("open deals over $50K", like "pending orders over $100K": the deals themselves)
        if state in ("won", "lost", "closed") and not listing:
            metric = {"won": "won_amount", "lost": "lost_opportunities", "closed": "closed_opportunities"}[state]
            return self._metric(route, ctx, metric)
        if state in ("won", "lost", "closed"):
            cond = {"won": "p.is_won", "lost": "p.is_closed AND NOT p.is_won", "closed": "p.is_closed"}[state]
            return self._deals(route, ctx, cond, f"Deals {state}", f"pipeline.{state}", order="p.amount DESC",
                               date_col="close_date")
        if has_word(q, r"\bforecast categor"):
            route.entities.group_by = ["forecast_category"]
        if has_word(q, r"\bclosing\b|\bclose (this|next|in)\b|\bdue to close\b|\bexpected to close\b") and listing:
            return self._deals(route, ctx, "NOT p.is_closed", "Open deals closing", "pipeline.closing",
                               order="p.close_date, p.amount DESC", date_col="close_date")
        item_ranked = (ents.ranking or {}).get("dimension") == "item"  # "our biggest deal in the pipeline"
        if listing and has_word(q, r"\bdeals?\b|\bopportunit|\bopps?\b") and not ents.group_by and not how_much \
                and (item_ranked or not has_word(q, r"\bpipeline\b")):
            return self._deals(route, ctx, "NOT p.is_closed", "Open deals", "pipeline.list", order="p.amount DESC",
                               date_col="close_date", top=has_word(q, r"\btop\b|\blargest\b|\bbiggest\b"))
        if ents.group_by and ents.group_by[0] != "stage":
            return self._pipeline_breakdown(route, ctx, ents.group_by[0])
        if has_word(q, r"\bby stage\b|\bstages?\b|\bfunnel\b|\bwhat'?s in (my|the|our) pipeline\b|"
                       r"\bwhat is in (my|the|our) pipeline\b|\bshow (me )?(my |the |our )?pipeline\b"):
            return self._by_stage(route, ctx)
        if how_much or count or has_word(q, r"\bpipeline\b"):
            return self._metric(route, ctx, "open_pipeline")
        return self._by_stage(route, ctx)

    # --- plans ------------------------------------------------------------------------------------
    def _conds(self, route, ctx, date_col="close_date", skip=()) -> list[str]:
        ents = route.entities
        conds = entity_filters(ents, "p", "fct_opportunities", ctx.catalog, date_col=date_col, amount_col="amount",
                               skip=skip)
        if ents.stages:
            conds.append("p.stage IN (" + ", ".join(lit(s) for s in ents.stages) + ")")
        fc = [f for f in ents.forecast if f != "Commit" or not has_word(route.question, r"commit forecast")]
        if fc:
            conds.append("p.forecast_category IN (" + ", ".join(lit(f) for f in fc) + ")")
        return conds

    def _metric(self, route, ctx, metric: str) -> Plan:
        ents = route.entities
        label, select, base = METRIC_SQL[metric]
        conds = self._conds(route, ctx) + [base]
        group = ents.group_by[0] if ents.group_by else None
        title = f"{label}{filters_text(ents)}{period_text(ents)}"
        metrics = {"won_amount": ["won_opportunities", "won_amount"], "open_pipeline": ["open_pipeline", "open_opportunities"],
                   "lost_opportunities": ["lost_opportunities"]}.get(metric, [metric])
        mq = None
        if ents.amount_min is None and ents.amount_max is None and not ents.forecast and \
                metric not in ("lost_opportunities", "closed_opportunities"):
            filters = metric_filters(ents, "opportunity", allow=("time", "customers", "reps", "territories", "regions",
                                                                 "industries", "stages"))
            if filters is not None and not ents.products:
                if ents.categories:
                    filters.append(("opportunity__product_category", "in", ents.categories))
                mq = MetricQuery(metrics=metrics, where=filters + METRIC_ROWS.get(metric, []))
        if group:
            b = breakdown(group, "p", date_col="close_date", fact="fct_opportunities")
            if b is None:
                return None
            expr, name, join = b
            sql = (f"SELECT {expr} AS {name}, {select} FROM marts.fct_opportunities p{join}{where(conds)} "
                   f"GROUP BY 1 ORDER BY 1")
            mg = metric_group(group, "opportunity")
            if mq is not None and mg:
                mq.group_by, mq.order_by = [mg], [mg]
            else:
                mq = None
            return Plan(title=f"{label} by {group}{filters_text(ents)}{period_text(ents)}", sql=sql, metric=mq,
                        intent=f"pipeline.{metric}", kind="trend" if group in TIME_GROUPS else "breakdown",
                        metrics_used=metrics)
        sql = f"SELECT {select} FROM marts.fct_opportunities p{where(conds)}"
        return Plan(title=title, sql=sql, metric=mq, intent=f"pipeline.{metric}", kind="value", metrics_used=metrics)

    def _by_stage(self, route, ctx) -> Plan:
        ents = route.entities
        conds = self._conds(route, ctx) + ["NOT p.is_closed"]
        sql = (f"SELECT p.stage, count(*) AS open_opportunities, sum(p.amount) AS open_pipeline "
               f"FROM marts.fct_opportunities p{where(conds)} GROUP BY 1 ORDER BY min(p.probability), 1")
        title = f"Open pipeline by stage{filters_text(ents)}" + (f" closing {ents.time.describe()}" if ents.time else "")

        def describe(result, title=title):
            from agents.answer import money

            if not result.rows:
                return f"{title}: no open deals."
            n = sum(int(r[1] or 0) for r in result.rows)
            total = sum(float(r[2] or 0) for r in result.rows)
            top = max(result.rows, key=lambda r: float(r[2] or 0))
            return (f"{title}: {money(total)} in {n:,} open deals; the most is in {top[0]} ({money(top[2])}).")

        # The planner's SQL, not the semantic layer: the funnel needs the stages in pipeline order
        # (by probability), which the semantic layer's group-by cannot sort by.
        return Plan(title=title, sql=sql, intent="pipeline.by_stage", kind="breakdown",
                    metrics_used=["open_pipeline", "open_opportunities"], describe=describe)

    def _pipeline_breakdown(self, route, ctx, group) -> Plan | None:
        ents = route.entities
        b = breakdown(group, "p", date_col="close_date", fact="fct_opportunities")
        if b is None:
            return None
        expr, name, join = b
        conds = self._conds(route, ctx) + ["NOT p.is_closed"]
        order = "1" if group in TIME_GROUPS else "open_pipeline DESC"
        sql = (f"SELECT {expr} AS {name}, count(*) AS open_opportunities, sum(p.amount) AS open_pipeline "
               f"FROM marts.fct_opportunities p{join}{where(conds)} GROUP BY 1 ORDER BY {order}")
        mq = None
        filters = metric_filters(ents, "opportunity", allow=("time", "customers", "reps", "territories", "regions",
                                                             "industries", "stages"))
        mg = metric_group(group, "opportunity")
        if filters is not None and mg and ents.amount_min is None and ents.amount_max is None and not ents.forecast \
                and not ents.products and not ents.categories:
            mq = MetricQuery(metrics=["open_opportunities", "open_pipeline"], group_by=[mg], order_by=[mg],
                             where=filters + [("opportunity__is_open", "=", True)])
        return Plan(title=f"Open pipeline by {group}{filters_text(ents)}{period_text(ents)}", sql=sql, metric=mq,
                    intent="pipeline.breakdown", kind="trend" if group in TIME_GROUPS else "breakdown",
                    metrics_used=["open_pipeline", "open_opportunities"])

    def _deals(self, route, ctx, condition, label, intent, order, date_col="close_date", top=False) -> Plan:
        ents = route.entities
        if ents.unknown and not ents.customers:
            from plugins.orders import _unknown_plan

            return _unknown_plan(route, "customer", intent)
        conds = self._conds(route, ctx, date_col=date_col) + [condition]
        limit = ents.top_n or (10 if top else None)
        sql = (f"SELECT {DEAL_COLUMNS} FROM marts.fct_opportunities p LEFT JOIN marts.dim_customers c "
               f"ON c.customer_id = p.customer_id{where(conds)} ORDER BY {order}, p.opportunity_name"
               + (f" LIMIT {int(limit)}" if limit else ""))
        title = f"{'Largest ' + label.lower() if limit else label}{filters_text(ents)}{period_text(ents)}"
        return Plan(title=title, sql=sql, intent=intent, kind="list",
                    empty_text=f"No {label.lower()}{filters_text(ents)}{period_text(ents)}.")

    def _quota(self, route, ctx) -> Plan:
        ents = route.entities
        from agents.timeparse import fiscal_year_of, quarter_of, quarter_range

        if ents.time is None:
            s, e = quarter_range(fiscal_year_of(ctx.today), quarter_of(ctx.today))
        else:
            s, e = ents.time.start, ents.time.end
        rep_conds = entity_filters(ents, "r", "dim_sales_reps", ctx.catalog, skip=("time", "customers", "products"))
        by_rep = "rep" in ents.group_by or has_word(route.question, r"\bby rep\b|\bper rep\b|\beach rep\b|\bwho\b")
        won = (f"SELECT rep_id, sum(amount) AS won FROM marts.fct_opportunities WHERE is_won AND close_date BETWEEN "
               f"{lit(s)} AND {lit(e)} GROUP BY 1")
        quota = (f"SELECT rep_id, sum(quota_amount) AS quota FROM marts.fct_quotas WHERE quarter_start_date BETWEEN "
                 f"{lit(s)} AND {lit(e)} GROUP BY 1")
        period = ents.time.describe() if ents.time else "this quarter"
        if by_rep or ents.reps:
            sql = (f"SELECT r.rep_name, coalesce(w.won, 0) AS won_amount, q.quota AS quota, coalesce(w.won, 0) / "
                   f"nullif(q.quota, 0) AS quota_attainment FROM marts.dim_sales_reps r JOIN ({quota}) q ON q.rep_id = "
                   f"r.rep_id LEFT JOIN ({won}) w ON w.rep_id = r.rep_id{where(rep_conds)} ORDER BY quota_attainment DESC")
            return Plan(title=f"Quota attainment by rep {period}", sql=sql, intent="pipeline.quota", kind="breakdown",
                        metrics_used=["quota_attainment"])
        won_c = entity_filters(ents, "p", "fct_opportunities", ctx.catalog, skip=("time",))
        quota_c = entity_filters(ents, "q", "fct_quotas", ctx.catalog, skip=("time",))
        sql = (f"SELECT w.won_amount, q.quota, w.won_amount / nullif(q.quota, 0) AS quota_attainment FROM "
               f"(SELECT coalesce(sum(p.amount), 0) AS won_amount FROM marts.fct_opportunities p"
               f"{where(won_c + ['p.is_won', f'p.close_date BETWEEN {lit(s)} AND {lit(e)}'])}) w, "
               f"(SELECT sum(q.quota_amount) AS quota FROM marts.fct_quotas q"
               f"{where(quota_c + [f'q.quarter_start_date BETWEEN {lit(s)} AND {lit(e)}'])}) q")
        return Plan(title=f"Quota attainment{filters_text(ents)} {period}", sql=sql, intent="pipeline.quota",
                    kind="value", metrics_used=["quota_attainment"])

    def _coverage(self, route, ctx) -> Plan:
        ents = route.entities
        from agents.timeparse import fiscal_year_of, quarter_of, quarter_range

        s, e = (ents.time.start, ents.time.end) if ents.time else quarter_range(fiscal_year_of(ctx.today),
                                                                                 quarter_of(ctx.today))
        opp_c = entity_filters(ents, "p", "fct_opportunities", ctx.catalog, skip=("time",))
        quota_c = entity_filters(ents, "q", "fct_quotas", ctx.catalog, skip=("time",))
        rng = f"BETWEEN {lit(s)} AND {lit(e)}"
        sql = (f"SELECT o.open_pipeline, q.quota, o.won_amount, CASE WHEN q.quota > o.won_amount THEN o.open_pipeline / "
               f"(q.quota - o.won_amount) END AS pipeline_coverage FROM (SELECT sum(CASE WHEN NOT p.is_closed THEN p.amount "
               f"ELSE 0 END) AS open_pipeline, sum(CASE WHEN p.is_won THEN p.amount ELSE 0 END) AS won_amount FROM "
               f"marts.fct_opportunities p{where(opp_c + [f'p.close_date {rng}'])}) o, (SELECT sum(q.quota_amount) AS quota "
               f"FROM marts.fct_quotas q{where(quota_c + [f'q.quarter_start_date {rng}'])}) q")
        period = ents.time.describe() if ents.time else "this quarter"
        return Plan(title=f"Pipeline coverage{filters_text(ents)} {period}", sql=sql, intent="pipeline.coverage",
                    kind="value", metrics_used=["pipeline_coverage"])


@hookimpl
def register_agents():
    return [PipelineAgent()]
