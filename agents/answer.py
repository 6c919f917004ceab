"""What an agent returns: text, columns and rows, a chart spec chosen by rule, the SQL, the metric
definitions used, which path answered, and follow-ups. ``Answer.to_dict()`` is the API's JSON.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass, field

PATHS = ("semantic_layer", "llm_sql", "planner", "agent", "refused", "error")

MONEY_COL = re.compile(r"(amount|revenue|bookings|billings|pipeline|value|price|balance|receivable|quota|sales|"
                       r"total|spend|credit|forecast|won|asp|deal_size|velocity|owed|remaining)", re.I)
RATE_COL = re.compile(r"(rate|share|attainment|pct|percent|ratio)", re.I)
COUNT_COL = re.compile(r"(count|orders|deals|opportunities|customers|units|quantity|number|n_|activities|days)", re.I)
TIME_COL = re.compile(r"(^|__|_)(day|week|month|quarter|year|date|period)$|^metric_time", re.I)
STAGE_COL = re.compile(r"stage", re.I)


@dataclass
class Answer:
    question: str
    text: str
    columns: list[str] = field(default_factory=list)
    rows: list[list] = field(default_factory=list)
    chart: dict | None = None
    sql: str | None = None
    metrics: list[dict] = field(default_factory=list)     # [{"name", "label", "definition"}]
    path: str = "planner"
    agent: str = ""
    intent: str = ""
    entities: dict = field(default_factory=dict)
    follow_ups: list[str] = field(default_factory=list)
    conversation_id: str | None = None
    turn: int = 0
    parts: list["Answer"] = field(default_factory=list)    # a two-part question: one answer per part
    draft: dict | None = None                               # transactions: the draft sales order
    refused: bool = False
    error: str | None = None
    truncated: bool = False
    llm_calls: int = 0
    llm_tokens: int = 0
    seconds: float = 0.0
    scope: str = ""
    extra: dict = field(default_factory=dict)                # plugins may add anything JSON-able here
    reading: dict = field(default_factory=dict)              # how the question was read (agents.reading)

    @property
    def ok(self) -> bool:
        return not self.refused and self.error is None

    def to_dict(self) -> dict:
        return {
            "question": self.question, "text": self.text, "columns": self.columns,
            "rows": [[jsonable(v) for v in row] for row in self.rows], "chart": self.chart, "sql": self.sql,
            "metrics": self.metrics, "path": self.path, "agent": self.agent, "intent": self.intent,
            "entities": self.entities, "follow_ups": self.follow_ups, "conversation_id": self.conversation_id,
            "turn": self.turn, "parts": [p.to_dict() for p in self.parts], "draft": self.draft,
            "refused": self.refused, "error": self.error, "truncated": self.truncated,
            "llm_calls": self.llm_calls, "llm_tokens": self.llm_tokens, "seconds": round(self.seconds, 4),
            "scope": self.scope, "extra": self.extra, "reading": self.reading,
        }


def jsonable(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


# --- formatting ---------------------------------------------------------------------------------------

def money(value) -> str:
    if value is None:
        return "n/a"
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    if v >= 1e9:
        return f"{sign}${v / 1e9:.2f}B"
    if v >= 1e6:
        return f"{sign}${v / 1e6:.2f}M"
    if v >= 1e4:
        return f"{sign}${v / 1e3:,.1f}K"
    return f"{sign}${v:,.2f}"


def number(value) -> str:
    if value is None:
        return "n/a"
    v = float(value)
    return f"{int(v):,}" if v == int(v) else f"{v:,.1f}"


def percent(value) -> str:
    return "n/a" if value is None else f"{float(value) * 100:.1f}%"


def is_number(value) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def display_name(column: str) -> str:
    """``metric_time__month`` → month, ``order__region`` → region, ``total_amount`` stays."""
    if column.startswith("metric_time__"):
        return column.split("__", 1)[1]
    if "__" in column:
        return column.split("__")[-1]
    return column


# Figures whose sum over rows means nothing (a rate, an average, a date, a price): never totalled, never
# taken as 0 when there is nothing to average.
NOT_ADDITIVE = re.compile(r"rate|ratio|share|avg|average|median|mean|min|max|percent|pct|days|probability|"
                          r"attainment|coverage|price|date|hhi", re.I)


def date_text(column: str, value: dt.date) -> str:
    """A date as a reader says it, at its column's grain: "Nov 2025", "Q1 2026", "2026", "4 May 2026"."""
    day = value.date() if isinstance(value, dt.datetime) else value
    name = column.lower()
    if re.search(r"month", name) and day.day == 1:
        return day.strftime("%b %Y")
    if re.search(r"quarter", name) and day.day == 1:
        from agents.timeparse import fiscal_start_month

        if fiscal_start_month() == 1 and day.month in (1, 4, 7, 10):
            return f"Q{(day.month - 1) // 3 + 1} {day.year}"
        return f"quarter from {day.strftime('%b %Y')}"
    if re.search(r"year", name) and day.month == 1 and day.day == 1:
        return str(day.year)
    if re.search(r"week", name):
        return f"week of {day.day} {day.strftime('%b %Y')}"
    return f"{day.day} {day.strftime('%b %Y')}"


def format_value(column: str, value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, (dt.date, dt.datetime)):
        return date_text(column, value)
    if not is_number(value):
        return str(value)
    name = display_name(column)
    if RATE_COL.search(name) and not re.search(r"days", name) and abs(float(value)) <= 1.5:
        return percent(value)
    if re.search(r"coverage", name):
        return f"{float(value):.2f}x"
    if re.search(r"days|cycle|aging", name):
        return f"{float(value):,.1f} days"
    if MONEY_COL.search(name) and not COUNT_COL.search(name.replace("total_amount", "")):
        return money(value)
    if MONEY_COL.search(name) and re.search(r"amount|revenue|bookings|pipeline|value|price", name):
        return money(value)
    return number(value)


# --- the chart, by rule ------------------------------------------------------------------------------

def chart_for(columns: list[str], rows: list, *, title: str = "", kind: str = "") -> dict | None:
    """time → line, stages → funnel, a category with figures → bar, a single figure → kpi, else none."""
    if not columns or not rows:
        return None
    numeric = [i for i, c in enumerate(columns) if all(is_number(r[i]) or r[i] is None for r in rows)
               and any(is_number(r[i]) for r in rows)]
    if not numeric:
        return None
    names = [display_name(c) for c in columns]
    if len(rows) == 1 and len(numeric) == len(columns):
        return {"type": "kpi", "title": title, "y": [names[i] for i in numeric],
                "values": [jsonable(rows[0][i]) for i in numeric]}
    if len(rows) == 1 and kind != "list":  # one row ("which territory ... the most"): its figures, not one bar
        return {"type": "kpi", "title": f"{title}: {rows[0][0]}" if title else str(rows[0][0]),
                "y": [names[i] for i in numeric], "values": [jsonable(rows[0][i]) for i in numeric]}
    first = 0
    non_numeric = [i for i in range(len(columns)) if i not in numeric]
    if non_numeric:
        first = non_numeric[0]
    is_time = bool(TIME_COL.search(columns[first])) or all(isinstance(r[first], (dt.date, dt.datetime)) for r in rows)
    y = [names[i] for i in numeric if i != first][:3]
    if not y:
        return None
    labels = [jsonable(r[first]) for r in rows]
    series = {names[i]: [jsonable(r[i]) for r in rows] for i in numeric if i != first}
    series = {k: v for k, v in series.items() if k in y}
    if kind == "list" and len(non_numeric) > 2:
        return None
    if is_time and len(rows) > 1:
        return {"type": "line", "title": title, "x": names[first], "y": y, "labels": labels, "series": series}
    if STAGE_COL.search(columns[first]):
        return {"type": "funnel", "title": title, "x": names[first], "y": y, "labels": labels, "series": series}
    if len(rows) <= 60:
        return {"type": "bar", "title": title, "x": names[first], "y": y, "labels": labels, "series": series}
    return None


# --- text ----------------------------------------------------------------------------------------------

def describe_result(title: str, columns: list[str], rows: list, *, kind: str = "", empty: str = "",
                    truncated: bool = False) -> str:
    """A short sentence for a result, from its shape."""
    if not rows:
        return empty or f"{title}: nothing matches."
    numeric = [i for i, c in enumerate(columns) if all(is_number(r[i]) or r[i] is None for r in rows)]
    if len(rows) == 1 and len(numeric) == len(columns):
        parts = [f"{display_name(columns[i]).replace('_', ' ')} {format_value(columns[i], rows[0][i])}"
                 for i in numeric]
        if len(parts) == 1:
            return f"{title}: {format_value(columns[0], rows[0][0])}."
        return f"{title}: " + ", ".join(parts) + "."
    label_idx = next((i for i in range(len(columns)) if i not in numeric), None)
    value_idx = next((i for i in numeric if i != label_idx and MONEY_COL.search(columns[i])
                      and not re.search(r"count|units|orders$", columns[i])), None)
    if value_idx is None:
        value_idx = next((i for i in numeric if i != label_idx), None)
    more = " (first rows shown; there are more)" if truncated else ""
    if kind == "list" or label_idx is None or value_idx is None:
        total = ""
        # what is owed, when a list shows it beside the original amount (open invoices: their remaining amount)
        amount_idx = next((i for i in numeric if re.search(r"remaining|balance_due|amount_due", columns[i])),
                          next((i for i in numeric if re.search(r"amount|revenue|value|pipeline", columns[i])), None))
        if amount_idx is not None:
            total = f", totalling {money(sum(float(r[amount_idx] or 0) for r in rows))}"
        return f"{title}: {len(rows)} row{'s' if len(rows) != 1 else ''}{total}{more}."
    shown = ", ".join(f"{format_value(columns[label_idx], r[label_idx])} {format_value(columns[value_idx], r[value_idx])}"
                      for r in rows[:5])
    tail = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"{title}: {shown}{tail}{more}."
