"""The dashboard's number formats in Python (``dashboards/static/js/format.js``), so a test can check that the
page shows exactly the API's figure: it formats the API's value the same way and compares the text."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
NONE = "—"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _to_fixed(value: float, digits: int) -> str:
    """JavaScript's Number.prototype.toFixed: the exact binary value, ties away from zero."""
    quantum = Decimal(1).scaleb(-digits)
    return str(Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP))


def fixed(value: float, digits: int) -> str:
    text = _to_fixed(abs(value), digits)
    whole, _, fraction = text.partition(".")
    sign = "-" if value < 0 and float(text) != 0 else ""
    return sign + f"{int(whole):,}" + ("." + fraction if fraction else "")


def money(value) -> str:
    if not _is_number(value):
        return NONE
    size = abs(value)
    if size >= 1e9:
        return "$" + fixed(value / 1e9, 2) + "B"
    if size >= 1e6:
        return "$" + fixed(value / 1e6, 2) + "M"
    if size >= 1e4:
        return "$" + fixed(value / 1e3, 1) + "K"
    return "$" + fixed(value, 0)


def date(value) -> str:
    """The browser's locale, as the tests run it (en-US): 05/20/2026."""
    if not value:
        return NONE
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", str(value))
    if not match:
        return str(value)
    return f"{match[2]}/{match[3]}/{match[1]}"


def money_in(value, unit: str) -> str:
    if not _is_number(value):
        return NONE
    if unit == "m":
        return "$" + fixed(value / 1e6, 2) + "M"
    if unit == "k":
        return "$" + fixed(value / 1e3, 1) + "K"
    return "$" + fixed(value, 0)


def month(value) -> str:
    match = re.match(r"^(\d{4})-(\d{2})", str(value or ""))
    return f"{MONTHS[int(match[2]) - 1]} {match[1]}" if match else str(value if value is not None else NONE)


def words(value) -> str:
    if value is None or value == "":
        return NONE
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def text(value) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fmt(value, kind: str = "text") -> str:
    number = _is_number(value)
    if kind == "money":
        return money(value)
    if kind == "money-full":
        return "$" + fixed(value, 2) if number else NONE
    if kind in ("money-units", "money-k", "money-m"):
        return money_in(value, kind.split("-")[1])
    if kind == "count":
        return fixed(value, 0) if number else NONE
    if kind == "percent":
        return fixed(value * 100, 1) + "%" if number else NONE
    if kind == "percent-value":
        return fixed(value, 1) + "%" if number else NONE
    if kind == "change":
        return (("+" if value > 0 else "") + fixed(value, 1) + "%") if number else NONE
    if kind == "decimal":
        return fixed(value, 3) if number else NONE
    if kind == "date":
        return date(value)
    if kind == "month":
        return month(value)
    if kind == "words":
        return words(value)
    return text(value)


def pick(data, path: str):
    """format.js's pick(): "metrics.bookings", "rows.0.amount", "by_health[health=at_risk].customers", "list.#"."""
    value = data
    for part in str(path).split("."):
        if value is None:
            return None
        where = re.match(r"^(\w+)\[(\w+)=([^\]]*)\]$", part)
        if where:
            rows = value.get(where[1]) if isinstance(value, dict) else None
            value = next((row for row in rows or [] if text(row.get(where[2])) == where[3]), None) \
                if isinstance(rows, list) else None
        elif part == "#":
            value = len(value) if isinstance(value, list) else None
        elif isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value
