"""Time ranges in questions: "today", "this month", "last quarter", "Q1 2026", "YTD", "last 30 days",
"FY2025", "last fiscal year", "the last 6 full months", "first half of 2025"...

Quarters and fiscal years follow the fiscal calendar (``SCC_FISCAL_YEAR_START_MONTH``, default 1: the
calendar year); a fiscal year is named by the calendar year it ends in.

Every range is relative to the product's one clock, :func:`scc.config.today`, and is a closed interval of
dates ``[start, end]``. Calendar periods are whole periods ("this month" is the 1st to the last day of
the month; for past facts such as orders that equals month-to-date), "to date" periods end today, and
"last N days" are the N days ending today.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
                "sixty": 60, "ninety": 90, "a": 1, "an": 1}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}


@dataclass(frozen=True)
class TimeRange:
    start: dt.date
    end: dt.date
    label: str            # how the answer names it: "this quarter" (describe() adds "(1 Apr–30 Jun 2026)")
    grain: str = "day"    # day, week, month, quarter, year: the natural grain of the period
    phrase: str = ""      # the words of the question that said it

    def describe(self) -> str:
        """The period as an answer names it: "this quarter (1 Apr–30 Jun 2026)", "yesterday (19 May 2026)"."""
        return f"{self.label} ({span_text(self.start, self.end)})"

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label,
                "grain": self.grain}


def day_text(day: dt.date, year: bool = True) -> str:
    """"7 Dec 2026" (or "7 Dec"): one date format for every answer."""
    return f"{day.day} {calendar.month_abbr[day.month]}" + (f" {day.year}" if year else "")


def span_text(start: dt.date, end: dt.date) -> str:
    """"1–7 Dec 2026", "1 Apr–30 Jun 2026", "1 Dec 2025–31 Jan 2026", "19 May 2026"."""
    if start == end:
        return day_text(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{day_text(end)}"
    if start.year == end.year:
        return f"{day_text(start, year=False)}–{day_text(end)}"
    return f"{day_text(start)}–{day_text(end)}"


def fiscal_start_month() -> int:
    """The month the fiscal year starts in (``SCC_FISCAL_YEAR_START_MONTH``; 1: the calendar year)."""
    from scc.config import get_settings

    return get_settings().fiscal_year_start_month


def fiscal_year_of(day: dt.date, start: int | None = None) -> int:
    """The fiscal year ``day`` falls in, named by the calendar year it ends in (FY2026 with an April start
    runs from 1 Apr 2025 to 31 Mar 2026)."""
    start = start or fiscal_start_month()
    return day.year if start == 1 or day.month < start else day.year + 1


def fiscal_year_range(fiscal_year: int, start: int | None = None) -> tuple[dt.date, dt.date]:
    start = start or fiscal_start_month()
    first = dt.date(fiscal_year if start == 1 else fiscal_year - 1, start, 1)
    return first, add_months(first, 12) - dt.timedelta(days=1)


def quarter_of(day: dt.date) -> int:
    """The fiscal quarter of ``day`` (the calendar quarter when the fiscal year starts in January)."""
    first, _ = fiscal_year_range(fiscal_year_of(day))
    return ((day.year - first.year) * 12 + day.month - first.month) // 3 + 1


def quarter_range(year: int, q: int) -> tuple[dt.date, dt.date]:
    """Quarter ``q`` of fiscal year ``year`` (a calendar quarter when the fiscal year starts in January)."""
    first, _ = fiscal_year_range(year)
    start = add_months(first, 3 * (q - 1))
    return start, add_months(start, 3) - dt.timedelta(days=1)


def quarter_label(year: int, q: int) -> str:
    return f"Q{q} {year}" if fiscal_start_month() == 1 else f"Q{q} FY{year}"


def year_label(year: int) -> str:
    return str(year) if fiscal_start_month() == 1 else f"FY{year}"


def month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _full_year(digits: str) -> int:
    return int(digits) if len(digits) == 4 else 2000 + int(digits)


def _num(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUM_RE = r"\d+|" + "|".join(NUMBER_WORDS)

PATTERNS: list[tuple[str, str]] = [
    ("fiscal_ytd", r"\b(?:fiscal\s+year[\s-]to[\s-]date|fiscal\s+ytd|fytd)\b"),
    ("fiscal_relative", r"\b(this|current|last|previous|prior|next)\s+(?:fiscal\s+year|fy)\b"),
    ("quarter_relative_year", r"\b(?:q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)\s+(?:of\s+)?"
                              r"(this|last|next|previous|prior)\s+(?:fiscal\s+)?year\b"),
    ("quarter_fiscal_year", r"\b(?:q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)\s*(?:of\s+)?"
                            r"(?:fy|fiscal\s+year|fiscal)\s*'?(\d{4}|\d{2})\b"),
    ("fiscal_year", r"\b(?:fy|fiscal\s+year|fiscal)\s*'?(\d{4}|\d{2})\b"),
    ("full_months", rf"\b(?:(?:in|over|during|within|for)\s+)?(?:the\s+)?(?:last|past|previous)\s+({_NUM_RE})\s+(?:full|complete|whole)\s+"
                    r"months?\b"),
    ("half_named", r"\b(first|second|1st|2nd)\s+half\s+(?:of\s+)?(\d{4})\b"),
    ("iso_range", r"\b(?:from|between)\s+(\d{4}-\d{2}-\d{2})\s+(?:to|and|until|through)\s+(\d{4}-\d{2}-\d{2})\b"),
    ("month_range", rf"\b(?:(?:from|between)\s+)?({_MONTH_RE})\.?(?:\s+(\d{{4}}))?\s+(?:to|and|until|through|thru|-|–)\s+"
                    rf"({_MONTH_RE})\.?(?:\s+(\d{{4}}))?\b"),
    ("iso_day", r"\b(?:on\s+)?(\d{4}-\d{2}-\d{2})\b"),
    ("quarter_year", r"\b(?:q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)\s*(?:of\s+|,\s*)?(?:fy\s*)?(\d{4})\b"),
    ("year_quarter", r"\b(\d{4})\s*-?\s*q([1-4])\b"),
    ("quarter_only", r"\b(?:in\s+|for\s+|during\s+)?(?:q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)\b"),
    ("half_year", r"\bh([12])(?:\s*(\d{4}))?\b"),
    ("ytd", r"\b(?:ytd|year[\s-]to[\s-]date|so far this year)\b"),
    ("qtd", r"\b(?:qtd|quarter[\s-]to[\s-]date|so far this quarter)\b"),
    ("mtd", r"\b(?:mtd|month[\s-]to[\s-]date|so far this month)\b"),
    ("last_n", rf"\b(?:(?:in|over|during|within|for)\s+)?(?:the\s+)?(?:last|past|previous|trailing)\s+({_NUM_RE})\s+(day|week|month|quarter|year)s?\b"),
    ("last_unit_plain", r"\b(?:(?:in|over|during|within|for)\s+)?(?:the\s+)?(?:past|trailing)\s+(day|week|month|quarter|year)\b"),
    ("next_n", rf"\b(?:(?:in|over|during|within|for)\s+)?(?:the\s+)?(?:next|coming)\s+({_NUM_RE})\s+(day|week|month|quarter|year)s?\b"),
    ("relative", r"\b(this|current|last|previous|prior|next|the\s+current)\s+(week|month|quarter|year)\b"),
    ("today", r"\b(today|yesterday|tomorrow)\b"),
    ("month_year", rf"\b(?:in\s+)?({_MONTH_RE})\.?\s*,?\s+(\d{{4}})\b"),
    ("since_month", rf"\bsince\s+({_MONTH_RE})\b(?:\s+(\d{{4}}))?"),
    ("month_only", rf"\b(?:in|for|during|of)\s+({_MONTH_RE})\b"),
    ("year_only", r"\b(?:in|for|during|of|since)\s+((?:19|20)\d{2})\b"),
    ("year_bare", r"(?<![$\d,.])\b((?:20)\d{2})\b(?!\s*(?:units|items|pieces|orders|deals|%|k\b|m\b))"),
]
COMPILED = [(kind, re.compile(rx, re.I)) for kind, rx in PATTERNS]


def parse_time(text: str, today: dt.date) -> TimeRange | None:
    """The first time range ``text`` names, or None."""
    found = find_time(text, today)
    return found[0] if found else None


def find_time(text: str, today: dt.date) -> list[TimeRange]:
    """Every time range in ``text`` (non-overlapping, in the order of the patterns' priority)."""
    taken: list[tuple[int, int]] = []
    results: list[tuple[int, TimeRange]] = []
    for kind, rx in COMPILED:
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            rng = _build(kind, m, today)
            if rng is None:
                continue
            taken.append((m.start(), m.end()))
            results.append((m.start(), TimeRange(rng.start, rng.end, rng.label, rng.grain, m.group(0).strip())))
    return [r for _, r in sorted(results, key=lambda x: x[0])]


def _build(kind: str, m: re.Match, today: dt.date) -> TimeRange | None:
    g = m.groups()
    if kind == "iso_range":
        a, b = dt.date.fromisoformat(g[0]), dt.date.fromisoformat(g[1])
        return TimeRange(min(a, b), max(a, b), span_text(min(a, b), max(a, b)), "day")
    if kind == "iso_day":
        try:
            day = dt.date.fromisoformat(g[0])
        except ValueError:
            return None
        return TimeRange(day, day, day_text(day), "day")
    if kind == "fiscal_ytd":
        s, _ = fiscal_year_range(fiscal_year_of(today))
        return TimeRange(s, today, "fiscal year to date", "month")
    if kind == "fiscal_relative":
        offset = {"this": 0, "current": 0, "last": -1, "previous": -1, "prior": -1, "next": 1}[g[0].lower()]
        year = fiscal_year_of(today) + offset
        s, e = fiscal_year_range(year)
        word = {0: "this", -1: "last", 1: "next"}[offset]
        return TimeRange(s, e, f"{word} fiscal year (FY{year})", "month")
    if kind == "fiscal_year":
        year = _full_year(g[0])
        s, e = fiscal_year_range(year)
        return TimeRange(s, e, f"FY{year}", "month")
    if kind in ("quarter_relative_year", "quarter_fiscal_year"):
        q = int(g[0]) if g[0] else ORDINALS[g[1].lower()]
        if kind == "quarter_fiscal_year":
            year = _full_year(g[2])
        else:
            year = fiscal_year_of(today) + {"this": 0, "last": -1, "previous": -1, "prior": -1, "next": 1}[g[2].lower()]
        s, e = quarter_range(year, q)
        return TimeRange(s, e, f"Q{q} FY{year}" if kind == "quarter_fiscal_year" else quarter_label(year, q), "quarter")
    if kind == "full_months":
        n = _num(g[0].lower())
        if not n:
            return None
        end = today.replace(day=1) - dt.timedelta(days=1)
        start = add_months(today.replace(day=1), -n)
        return TimeRange(start, end, f"the last {n} full month{'s' if n != 1 else ''}", "month")
    if kind == "half_named":
        h, year = (1 if g[0].lower() in ("first", "1st") else 2), int(g[1])
        s = dt.date(year, 1 if h == 1 else 7, 1)
        return TimeRange(s, add_months(s, 6) - dt.timedelta(days=1), f"{'first' if h == 1 else 'second'} half of {year}",
                         "quarter")
    if kind == "quarter_year":
        q = int(g[0]) if g[0] else ORDINALS[g[1].lower()]
        s, e = quarter_range(int(g[2]), q)
        return TimeRange(s, e, quarter_label(int(g[2]), q), "quarter")
    if kind == "year_quarter":
        s, e = quarter_range(int(g[0]), int(g[1]))
        return TimeRange(s, e, quarter_label(int(g[0]), int(g[1])), "quarter")
    if kind == "quarter_only":
        q = int(g[0]) if g[0] else ORDINALS[g[1].lower()]
        year = fiscal_year_of(today)
        s, e = quarter_range(year, q)
        return TimeRange(s, e, quarter_label(year, q), "quarter")
    if kind == "month_range":  # "between January and March": the latest such stretch that has begun
        first, last = MONTHS[g[0].lower()], MONTHS[g[2].lower()]
        start_year = int(g[1]) if g[1] else (int(g[3]) - (last < first) if g[3] else
                                              today.year if first <= today.month else today.year - 1)
        end_year = int(g[3]) if g[3] else start_year + (last < first)
        s, e = month_range(start_year, first)[0], month_range(end_year, last)[1]
        if e < s:
            return None
        same = start_year == end_year
        label = (f"{calendar.month_abbr[first]}–{calendar.month_abbr[last]} {end_year}" if same else
                 f"{calendar.month_abbr[first]} {start_year}–{calendar.month_abbr[last]} {end_year}")
        return TimeRange(s, e, label, "month")
    if kind == "half_year":
        h, year = int(g[0]), int(g[1]) if g[1] else today.year
        s = dt.date(year, 1 if h == 1 else 7, 1)
        e = dt.date(year, 6, 30) if h == 1 else dt.date(year, 12, 31)
        return TimeRange(s, e, f"H{h} {year}", "quarter")
    if kind == "ytd":
        return TimeRange(dt.date(today.year, 1, 1), today, "year to date", "month")
    if kind == "qtd":
        s, _ = quarter_range(fiscal_year_of(today), quarter_of(today))
        return TimeRange(s, today, "quarter to date", "month")
    if kind == "mtd":
        return TimeRange(today.replace(day=1), today, "month to date", "day")
    if kind in ("last_n", "next_n", "last_unit_plain"):
        if kind == "last_unit_plain":
            n, unit = 1, g[0].lower()
        else:
            n, unit = _num(g[0].lower()), g[1].lower()
        if not n:
            return None
        days = {"day": 1, "week": 7}.get(unit)
        label = f"{'next' if kind == 'next_n' else 'last'} {n} {unit}{'s' if n != 1 else ''}"
        if kind == "last_unit_plain":
            label = f"past {unit}"
        grain = "day" if unit in ("day", "week") else "month"
        if kind == "next_n":
            if days:
                return TimeRange(today, today + dt.timedelta(days=n * days - 1), label, grain)
            months = n * {"month": 1, "quarter": 3, "year": 12}[unit]
            return TimeRange(today, add_months(today, months) - dt.timedelta(days=1), label, grain)
        if days:
            return TimeRange(today - dt.timedelta(days=n * days - 1), today, label, grain)
        months = n * {"month": 1, "quarter": 3, "year": 12}[unit]
        return TimeRange(add_months(today, -months) + dt.timedelta(days=1), today, label, grain)
    if kind == "relative":
        which = g[0].lower().replace("the ", "").strip()
        unit = g[1].lower()
        offset = {"this": 0, "current": 0, "last": -1, "previous": -1, "prior": -1, "next": 1}[which]
        word = {0: "this", -1: "last", 1: "next"}[offset]
        if unit == "week":
            monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
            return TimeRange(monday, monday + dt.timedelta(days=6), f"{word} week", "day")
        if unit == "month":
            first = add_months(today.replace(day=1), offset)
            s, e = month_range(first.year, first.month)
            return TimeRange(s, e, f"{word} month", "day")
        if unit == "quarter":
            index = fiscal_year_of(today) * 4 + quarter_of(today) - 1 + offset
            year, q = divmod(index, 4)
            s, e = quarter_range(year, q + 1)
            return TimeRange(s, e, f"{word} quarter", "month")
        year = today.year + offset
        return TimeRange(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{word} year", "month")
    if kind == "today":
        word = g[0].lower()
        day = today + dt.timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[word])
        return TimeRange(day, day, word, "day")
    if kind == "month_year":
        month, year = MONTHS[g[0].lower()], int(g[1])
        s, e = month_range(year, month)
        return TimeRange(s, e, f"{calendar.month_name[month]} {year}", "day")
    if kind == "since_month":
        month = MONTHS[g[0].lower()]
        year = int(g[1]) if g[1] else (today.year if month <= today.month else today.year - 1)
        return TimeRange(dt.date(year, month, 1), today, f"since {calendar.month_name[month]} {year}", "month")
    if kind == "month_only":
        word = g[0].lower()
        if word in ("may",) and not re.search(r"\b(in|during|for)\s+may\b", m.group(0), re.I):
            return None
        month = MONTHS[word]
        year = today.year if month <= today.month else today.year - 1
        s, e = month_range(year, month)
        return TimeRange(s, e, f"{calendar.month_name[month]} {year}", "day")
    if kind in ("year_only", "year_bare"):
        year = int(g[0])
        if not 2000 <= year <= today.year + 5:
            return None
        if kind == "year_only" and m.group(0).lower().startswith("since"):
            return TimeRange(dt.date(year, 1, 1), today, f"since {year}", "month")
        return TimeRange(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year), "month")
    return None  # pragma: no cover


def previous_period(rng: TimeRange) -> TimeRange:
    """The period of the same length just before ``rng`` (a quarter for a quarter, a month for a month)."""
    s, e = rng.start, rng.end
    if s.day == 1 and e == month_range(e.year, e.month)[1]:
        months = (e.year - s.year) * 12 + e.month - s.month + 1
        ps = add_months(s, -months)
        pe = s - dt.timedelta(days=1)
        return TimeRange(ps, pe, f"the {months}-month period before", rng.grain)
    length = (e - s).days + 1
    return TimeRange(s - dt.timedelta(days=length), s - dt.timedelta(days=1), "the period before", rng.grain)
