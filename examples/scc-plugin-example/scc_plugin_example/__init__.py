"""An example plugin: the "activity coach" agent finds sales reps with no logged activity in a period.

It reads the marts only through ``context.run_sql`` (the guard applies the caller's scope: a manager sees
their territory's reps, a rep only themself) and answers with the standard :class:`agents.Answer`.
"""

from __future__ import annotations

import re

from agents import Agent, Metric, Plan, Tool, hookimpl
from agents.planning import lit


def idle_reps_sql(start, end) -> str:
    return ("SELECT r.rep_name, r.territory, r.region FROM marts.dim_sales_reps r "
            "WHERE r.role = 'Sales Rep' AND r.rep_id NOT IN (SELECT a.rep_id FROM marts.fct_activities a "
            f"WHERE a.activity_date BETWEEN {lit(start)} AND {lit(end)} AND a.rep_id IS NOT NULL) ORDER BY 1")


def reps_without_activity(context, start: str, end: str):
    """Tool: reps (sellers) with no task or event between ``start`` and ``end`` (ISO dates)."""
    import datetime as dt

    result = context.run_sql(idle_reps_sql(dt.date.fromisoformat(start), dt.date.fromisoformat(end)))
    return {"columns": result.columns, "rows": result.rows, "sql": result.sql}


class ActivityCoach(Agent):
    name = "activity_coach"
    title = "Activity coach"
    description = "Finds sales reps who logged no calls, emails, tasks or meetings in a period."
    marts = ("dim_sales_reps", "fct_activities")
    examples = ("Which reps logged no activity this week?",)
    uses_llm = False  # it always answers with its own query

    def score(self, text, route):
        if re.search(r"\b(no|without|zero|haven'?t logged|didn'?t log)\b.*\bactivit", text, re.I) and \
                re.search(r"\breps?\b|\bsellers?\b|\bwho\b", text, re.I):
            return 10.0
        return 0.0

    def plan(self, route, context):
        period = route.entities.time
        start = period.start if period else context.today.fromordinal(context.today.toordinal() - 6)
        end = period.end if period else context.today
        when = period.describe() if period else "in the last 7 days"

        def describe(result):
            names = ", ".join(r[0] for r in result.rows[:5]) or "none"
            return f"{len(result.rows)} reps logged no activity {when}: {names}."

        return Plan(title=f"Reps with no logged activity {when}", sql=idle_reps_sql(start, end),
                    intent="activity_coach.idle_reps", kind="list", describe=describe)


@hookimpl
def register_agents():
    return [ActivityCoach()]


@hookimpl
def register_tools():
    return [Tool("reps_without_activity", "Reps with no activity between two dates (start, end: YYYY-MM-DD).",
                 reps_without_activity,
                 {"type": "object", "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
                  "required": ["start", "end"]})]


@hookimpl
def register_catalog():
    return [Metric(name="idle_reps", label="Idle reps", source="scc-plugin-example",
                   description="Sales reps with no task or event logged in the period (activity coach plugin).")]
