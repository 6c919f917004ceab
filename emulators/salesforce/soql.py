"""SOQL -> SQLite, for the Salesforce emulator's store.

The query is parsed with sqlglot after a small pre-pass rewrites what sqlglot cannot read (SOQL's
backslash-escaped strings, unquoted ``2024-01-01T00:00:00Z`` / ``2024-01-01`` literals and date literals such
as ``TODAY`` or ``LAST_N_DAYS:30``) into placeholders. The pre-pass keeps a map from the rewritten text back to
the original, so errors point where Salesforce points (``ERROR at Row:1:Column:8``).

Supported: a field list with parent relationship paths (``Account.Name``, ``Owner.Manager.Name``, resolved
with LEFT JOINs over the reference fields), one object in FROM (optionally aliased), WHERE with
``= != <> < > <= >= IN NOT IN LIKE``, ``AND OR NOT`` and parentheses, semi-joins (``Id IN (SELECT AccountId
FROM Opportunity)``), ``true``/``false``/``null``, date and datetime literals, date literals (``TODAY``,
``LAST_N_DAYS:n``, ``THIS_QUARTER``...), ``ORDER BY`` (ASC/DESC, NULLS FIRST/LAST), ``LIMIT``, ``OFFSET``,
``COUNT()``, aggregates (``COUNT``, ``COUNT_DISTINCT``, ``SUM``, ``AVG``, ``MIN``, ``MAX``) with optional
``GROUP BY`` / ``HAVING`` and aliases, and the date functions (``CALENDAR_YEAR(CloseDate)``...).

Salesforce semantics kept: field and object names are case-insensitive (answers use the canonical case),
string comparisons and LIKE are case-insensitive, ``!=`` and ``NOT IN`` also match nulls, 15-character ids
compare equal to their 18-character form. Everything runs in SQLite; nothing is filtered in Python.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from emulators.salesforce.errors import SalesforceError
from emulators.schema import SALESFORCE_OBJECTS, Column

# ---------------------------------------------------------------------------------------------------
# Field types

STRING_TYPES = frozenset(
    {
        "string",
        "picklist",
        "textarea",
        "email",
        "phone",
        "url",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"currency", "double", "percent", "int"})
FIELD_TYPES = STRING_TYPES | ID_TYPES | NUMBER_TYPES | {"boolean", "date", "datetime"}

_TYPE_WORD = {"int": "integer", "datetime": "dateTime", "reference": "id"}


def _kind(type_: str) -> str:
    if type_ in STRING_TYPES:
        return "string"
    if type_ in ID_TYPES:
        return "id"
    if type_ in NUMBER_TYPES:
        return "number"
    return type_  # boolean, date, datetime


def relationship_name(column: Column) -> str | None:
    """``AccountId`` -> ``Account``; ``Partner__c`` -> ``Partner__r``; None for non-reference fields."""
    if column.type != "reference":
        return None
    if column.name.endswith("__c"):
        return column.name[:-3] + "__r"
    if column.name.endswith("Id"):
        return column.name[:-2]
    return None


# ---------------------------------------------------------------------------------------------------
# Ids

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?$")


def id18(id15: str) -> str:
    """Append Salesforce's case-safe checksum to a 15-character id."""
    suffix = ""
    for i in range(3):
        chunk = id15[i * 5 : i * 5 + 5]
        bits = 0
        for j, ch in enumerate(chunk):
            if "A" <= ch <= "Z":
                bits |= 1 << j
        suffix += _SUFFIX[bits]
    return id15 + suffix


def normalize_id(value: object) -> str | None:
    """The canonical 18-character form of a 15- or 18-character id, or None if it is not one."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return None
    return id18(value[:15])


# ---------------------------------------------------------------------------------------------------
# Schema as the compiler sees it


@dataclass
class ObjectInfo:
    name: str
    key_prefix: str
    columns: tuple[Column, ...]
    custom_names: frozenset[str] = frozenset()
    by_lower: dict[str, Column] = field(init=False)
    relationships: dict[str, tuple[str, Column]] = field(init=False)  # lower name -> (name, field)

    def __post_init__(self) -> None:
        self.by_lower = {c.name.lower(): c for c in self.columns}
        self.relationships = {}
        for c in self.columns:
            rel = relationship_name(c)
            if rel and c.reference_to:
                self.relationships[rel.lower()] = (rel, c)

    @property
    def has_is_deleted(self) -> bool:
        return "isdeleted" in self.by_lower

    def column(self, name: str) -> Column | None:
        return self.by_lower.get(name.lower())


def build_schema(custom_fields: list[tuple[str, str, str, str]] = ()) -> dict[str, ObjectInfo]:
    """Objects keyed by lower-case name: the schema's columns plus custom fields ``(object, name, type, label)``."""
    extra: dict[str, list[Column]] = {}
    for obj, name, type_, label in custom_fields:
        extra.setdefault(obj, []).append(Column(name, type_, label or name))
    out: dict[str, ObjectInfo] = {}
    for obj, (prefix, columns) in SALESFORCE_OBJECTS.items():
        known = {c.name.lower() for c in columns}
        added = tuple(c for c in extra.get(obj, ()) if c.name.lower() not in known)
        out[obj.lower()] = ObjectInfo(obj, prefix, tuple(columns) + added, frozenset(c.name for c in added))
    return out


# ---------------------------------------------------------------------------------------------------
# Date literals

_DATE_LITERALS_0 = {
    "YESTERDAY",
    "TODAY",
    "TOMORROW",
    "LAST_WEEK",
    "THIS_WEEK",
    "NEXT_WEEK",
    "LAST_MONTH",
    "THIS_MONTH",
    "NEXT_MONTH",
    "LAST_90_DAYS",
    "NEXT_90_DAYS",
    "THIS_QUARTER",
    "LAST_QUARTER",
    "NEXT_QUARTER",
    "THIS_YEAR",
    "LAST_YEAR",
    "NEXT_YEAR",
    "THIS_FISCAL_QUARTER",
    "LAST_FISCAL_QUARTER",
    "NEXT_FISCAL_QUARTER",
    "THIS_FISCAL_YEAR",
    "LAST_FISCAL_YEAR",
    "NEXT_FISCAL_YEAR",
}
_DATE_LITERALS_N = {
    "LAST_N_DAYS",
    "NEXT_N_DAYS",
    "N_DAYS_AGO",
    "LAST_N_WEEKS",
    "NEXT_N_WEEKS",
    "N_WEEKS_AGO",
    "LAST_N_MONTHS",
    "NEXT_N_MONTHS",
    "N_MONTHS_AGO",
    "LAST_N_QUARTERS",
    "NEXT_N_QUARTERS",
    "N_QUARTERS_AGO",
    "LAST_N_YEARS",
    "NEXT_N_YEARS",
    "N_YEARS_AGO",
    "LAST_N_FISCAL_QUARTERS",
    "NEXT_N_FISCAL_QUARTERS",
    "LAST_N_FISCAL_YEARS",
    "NEXT_N_FISCAL_YEARS",
}


def _add_months(d: dt.date, months: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + months
    return dt.date(m // 12, m % 12 + 1, 1)


def date_literal_range(name: str, n: int | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The half-open range of days ``[start, end)`` a SOQL date literal stands for (weeks start on Sunday,
    the fiscal year is the calendar year, as in a new org)."""
    name = name.upper().replace("_FISCAL", "")
    t = today
    one = dt.timedelta(days=1)
    week = t - dt.timedelta(days=(t.weekday() + 1) % 7)
    month = t.replace(day=1)
    quarter = dt.date(t.year, 3 * ((t.month - 1) // 3) + 1, 1)
    year = dt.date(t.year, 1, 1)
    days = dt.timedelta
    ranges: dict[str, Callable[[], tuple[dt.date, dt.date]]] = {
        "YESTERDAY": lambda: (t - one, t),
        "TODAY": lambda: (t, t + one),
        "TOMORROW": lambda: (t + one, t + 2 * one),
        "LAST_WEEK": lambda: (week - days(7), week),
        "THIS_WEEK": lambda: (week, week + days(7)),
        "NEXT_WEEK": lambda: (week + days(7), week + days(14)),
        "LAST_MONTH": lambda: (_add_months(month, -1), month),
        "THIS_MONTH": lambda: (month, _add_months(month, 1)),
        "NEXT_MONTH": lambda: (_add_months(month, 1), _add_months(month, 2)),
        "LAST_90_DAYS": lambda: (t - days(90), t + one),
        "NEXT_90_DAYS": lambda: (t + one, t + days(91)),
        "LAST_QUARTER": lambda: (_add_months(quarter, -3), quarter),
        "THIS_QUARTER": lambda: (quarter, _add_months(quarter, 3)),
        "NEXT_QUARTER": lambda: (_add_months(quarter, 3), _add_months(quarter, 6)),
        "LAST_YEAR": lambda: (_add_months(year, -12), year),
        "THIS_YEAR": lambda: (year, _add_months(year, 12)),
        "NEXT_YEAR": lambda: (_add_months(year, 12), _add_months(year, 24)),
    }
    if n is None:
        return ranges[name]()
    ranges_n: dict[str, Callable[[int], tuple[dt.date, dt.date]]] = {
        "LAST_N_DAYS": lambda k: (t - days(k), t + one),
        "NEXT_N_DAYS": lambda k: (t + one, t + one + days(k)),
        "N_DAYS_AGO": lambda k: (t - days(k), t - days(k) + one),
        "LAST_N_WEEKS": lambda k: (week - days(7 * k), week),
        "NEXT_N_WEEKS": lambda k: (week + days(7), week + days(7 + 7 * k)),
        "N_WEEKS_AGO": lambda k: (week - days(7 * k), week - days(7 * k - 7)),
        "LAST_N_MONTHS": lambda k: (_add_months(month, -k), month),
        "NEXT_N_MONTHS": lambda k: (_add_months(month, 1), _add_months(month, 1 + k)),
        "N_MONTHS_AGO": lambda k: (_add_months(month, -k), _add_months(month, 1 - k)),
        "LAST_N_QUARTERS": lambda k: (_add_months(quarter, -3 * k), quarter),
        "NEXT_N_QUARTERS": lambda k: (_add_months(quarter, 3), _add_months(quarter, 3 + 3 * k)),
        "N_QUARTERS_AGO": lambda k: (_add_months(quarter, -3 * k), _add_months(quarter, 3 - 3 * k)),
        "LAST_N_YEARS": lambda k: (_add_months(year, -12 * k), year),
        "NEXT_N_YEARS": lambda k: (_add_months(year, 12), _add_months(year, 12 + 12 * k)),
        "N_YEARS_AGO": lambda k: (_add_months(year, -12 * k), _add_months(year, 12 - 12 * k)),
    }
    return ranges_n[name](n)


# ---------------------------------------------------------------------------------------------------
# Datetime text

STORE_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


def format_datetime(value: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmm+0000`` in UTC, the store's (and Salesforce's) text form."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return f"{value.strftime(STORE_DATETIME_FORMAT)}.{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime:
    """Parse ISO 8601 (``Z``, ``+hh:mm``, ``+hhmm`` or no offset = UTC) into an aware UTC datetime."""
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    m = re.search(r"([+-])(\d{2})(\d{2})$", s)
    if m and s[m.start() - 1 : m.start()] != ":" and "T" in s:
        s = s[: m.start()] + f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    value = dt.datetime.fromisoformat(s)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def normalize_datetime(text: str) -> str:
    return format_datetime(parse_datetime(text))


# ---------------------------------------------------------------------------------------------------
# Pre-pass: SOQL text -> text sqlglot reads, with a position map back

_TOKEN_RE = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<str>'(?:[^'\\]|\\.)*')
    |(?P<ustr>'(?:[^'\\]|\\.)*\Z)
    |(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2}))
    |(?P<d>\d{4}-\d{2}-\d{2})(?![\w:])
    |(?P<fields>(?i:FIELDS\s*\(\s*(?:ALL|STANDARD|CUSTOM)\s*\)))
    |(?P<dln>[A-Za-z_][A-Za-z0-9_]*:\d+)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<num>\d+(?:\.\d+)?)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


@dataclass
class _Token:
    kind: str
    start: int
    text: str


class _Pre:
    """The rewritten text, the original tokens and the position map."""

    def __init__(self, soql: str):
        self.soql = soql
        self.tokens: list[_Token] = []
        out: list[str] = []
        self._proc_starts: list[int] = []
        self._segs: list[tuple[int, int, bool]] = []  # (processed start, original start, identity)
        pos = 0
        proc = 0
        for m in _TOKEN_RE.finditer(soql):
            kind = m.lastgroup
            text = m.group()
            start = m.start()
            if kind == "ustr":
                raise self.error(
                    "MALFORMED_QUERY", start, f"line 1:{start} no viable alternative at character '''"
                )
            replacement = None
            if kind == "str":
                replacement = "'" + self._decode(text[1:-1], start).replace("'", "''") + "'"
            elif kind == "dt":
                try:
                    replacement = f"__SFDT('{normalize_datetime(text)}')"
                except ValueError:
                    raise self.error(
                        "MALFORMED_QUERY",
                        start,
                        f"line 1:{start} no viable alternative at character '{text}'",
                    ) from None
            elif kind == "d":
                try:
                    dt.date.fromisoformat(text)
                except ValueError:
                    raise self.error("MALFORMED_QUERY", start, f"unexpected token: '{text}'") from None
                replacement = f"__SFD('{text}')"
            elif kind == "fields":
                which = re.sub(r"[^A-Za-z]", "", text[6:]).upper()
                replacement = f"__SFFIELDS('{which}')"
            elif kind == "dln":
                name, _, n = text.partition(":")
                if name.upper() in _DATE_LITERALS_N:
                    replacement = f"__SFDL('{name.upper()}', {int(n)})"
                else:
                    raise self.error("MALFORMED_QUERY", start + len(name), "unexpected token: ':'")
            elif kind == "word":
                upper = text.upper()
                if upper in _DATE_LITERALS_0:
                    replacement = f"__SFDL('{upper}')"
                elif upper in _DATE_LITERALS_N:
                    raise self.error(
                        "MALFORMED_QUERY",
                        start,
                        f"Invalid date literal: {text} requires a value (e.g. {upper}:7)",
                    )
            elif kind == "other" and text in {'"', "`", "[", "]", "{", "}", ";", ":"}:
                raise self.error("MALFORMED_QUERY", start, f"unexpected token: '{text}'")
            if kind != "ws":
                self.tokens.append(_Token(kind, start, text))
            emitted = text if replacement is None else replacement
            self._proc_starts.append(proc)
            self._segs.append((proc, start, replacement is None))
            out.append(emitted)
            proc += len(emitted)
            pos = m.end()
        assert pos == len(soql)
        self.text = "".join(out)

    def _decode(self, body: str, start: int) -> str:
        if "\\" not in body:
            return body
        out = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                elif nxt in "%_":
                    out.append("\\" + nxt)  # kept for LIKE, which runs with ESCAPE '\'
                else:
                    raise self.error(
                        "MALFORMED_QUERY",
                        start + i + 1,
                        f"Invalid string literal '{body}'. "
                        "Illegal character sequence '\\" + nxt + "' in string literal.",
                    )
                i += 2
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    def original(self, proc_pos: int) -> int:
        """Position in the original SOQL of a position in the rewritten text."""
        i = bisect.bisect_right(self._proc_starts, proc_pos) - 1
        if i < 0:
            return 0
        pstart, ostart, identity = self._segs[i]
        return ostart + (proc_pos - pstart) if identity else ostart

    def token_at(self, orig_pos: int) -> _Token | None:
        for tok in self.tokens:
            if tok.start <= orig_pos < tok.start + len(tok.text):
                return tok
            if tok.start > orig_pos:
                return tok
        return None

    def error(self, code: str, orig_pos: int, message: str) -> SalesforceError:
        return soql_error(self.soql, code, orig_pos, message)


def soql_error(soql: str, code: str, pos: int, message: str) -> SalesforceError:
    """A Salesforce-style query error: the offending row, a caret, ``ERROR at Row:r:Column:c``, the message."""
    pos = max(0, min(pos, len(soql)))
    row = soql.count("\n", 0, pos) + 1
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    if line_end < 0:
        line_end = len(soql)
    col = pos - line_start + 1
    text = f"\n{soql[line_start:line_end]}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}"
    return SalesforceError(400, code, text)


_NO_SUCH_COLUMN = (
    "No such column '{field}' on entity '{obj}'. If you are attempting to use a custom field, be sure to append "
    "the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate "
    "names."
)
_BAD_RELATIONSHIP = (
    "Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom relationship, "
    "be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe "
    "call for the appropriate names."
)
_BAD_TYPE = (
    "sObject type '{obj}' is not supported. If you are attempting to use a custom object, be sure to append the "
    "'__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
)

# ---------------------------------------------------------------------------------------------------
# Compiled query


@dataclass
class _Out:
    key: str
    index: int
    type: str  # field type (boolean values are converted)


@dataclass
class _RelNode:
    name: str
    object: str
    id_index: int
    entries: list = field(default_factory=list)  # _Out | _RelNode


_BOOL = {0: False, 1: True, None: None}


@dataclass
class CompiledQuery:
    """SQL for SQLite plus how to turn its rows into Salesforce records.

    ``kind``: ``records`` (rows -> records with attributes and nested parents), ``count`` (``COUNT()``: one row,
    the count; Salesforce answers ``totalSize`` with no records) or ``aggregate`` (AggregateResult records).
    """

    object: str
    kind: str
    sql: str
    params: tuple
    fields: list[str]  # output keys in order (relationship paths dotted)
    _entries: list = field(default_factory=list, repr=False)
    _builders: dict = field(default_factory=dict, repr=False)

    def builder(self, version: str = "59.0") -> Callable[[tuple], dict]:
        """A fast function row -> record dict (generated once per API version)."""
        fn = self._builders.get(version)
        if fn is None:
            fn = self._builders[version] = self._make_builder(version)
        return fn

    def _make_builder(self, version: str) -> Callable[[tuple], dict]:
        urls: dict[str, str] = {}

        def value(e: _Out) -> str:
            return f"_B[r[{e.index}]]" if e.type == "boolean" else f"r[{e.index}]"

        if self.kind == "aggregate":
            items = ['"attributes": {"type": "AggregateResult"}']
            items += [f"{e.key!r}: {value(e)}" for e in self._entries]
            code = "{" + ", ".join(items) + "}"
        else:

            def gen(obj: str, id_expr: str, entries: list) -> str:
                urls[obj] = f"/services/data/v{version}/sobjects/{obj}/"
                items = [f'"attributes": {{"type": {obj!r}, "url": U[{obj!r}] + {id_expr}}}']
                for e in entries:
                    if isinstance(e, _RelNode):
                        sub = gen(e.object, f"r[{e.id_index}]", e.entries)
                        items.append(f"{e.name!r}: ({sub} if r[{e.id_index}] is not None else None)")
                    else:
                        items.append(f"{e.key!r}: {value(e)}")
                return "{" + ", ".join(items) + "}"

            code = gen(self.object, "r[0]", self._entries)
        return eval(f"lambda r: {code}", {"U": urls, "_B": _BOOL})


# ---------------------------------------------------------------------------------------------------
# Compiler

_DATE_FUNCS = {
    "CALENDAR_YEAR": ("CAST(substr({x},1,4) AS INTEGER)", "int", False),
    "CALENDAR_MONTH": ("CAST(substr({x},6,2) AS INTEGER)", "int", False),
    "CALENDAR_QUARTER": ("((CAST(substr({x},6,2) AS INTEGER)+2)/3)", "int", False),
    "FISCAL_YEAR": ("CAST(substr({x},1,4) AS INTEGER)", "int", False),
    "FISCAL_MONTH": ("CAST(substr({x},6,2) AS INTEGER)", "int", False),
    "FISCAL_QUARTER": ("((CAST(substr({x},6,2) AS INTEGER)+2)/3)", "int", False),
    "DAY_IN_MONTH": ("CAST(substr({x},9,2) AS INTEGER)", "int", False),
    "DAY_IN_WEEK": ("(CAST(strftime('%w', substr({x},1,10)) AS INTEGER)+1)", "int", False),
    "DAY_IN_YEAR": ("CAST(strftime('%j', substr({x},1,10)) AS INTEGER)", "int", False),
    "WEEK_IN_YEAR": ("((CAST(strftime('%j', substr({x},1,10)) AS INTEGER)-1)/7+1)", "int", False),
    "WEEK_IN_MONTH": ("((CAST(substr({x},9,2) AS INTEGER)-1)/7+1)", "int", False),
    "DAY_ONLY": ("substr({x},1,10)", "date", True),
    "HOUR_IN_DAY": ("CAST(substr({x},12,2) AS INTEGER)", "int", True),
}
_AGGREGATES = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)
_CMP = {exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
MAX_OFFSET = 2000


@dataclass
class _Term:
    """A resolved operand: SQL text, its field type, a display name and where it is in the SOQL."""

    sql: str
    type: str
    name: str
    pos: int
    path: tuple[str, ...] = ()
    column: Column | None = None
    aggregate: bool = False


class _Compiler:
    def __init__(
        self,
        pre: _Pre,
        schema: Mapping[str, ObjectInfo],
        today: dt.date,
        params: list,
        alias_prefix: str = "t",
    ):
        self.pre = pre
        self.schema = schema
        self.today = today
        self.params = params
        self.prefix = alias_prefix
        self.joins: dict[tuple[str, ...], tuple[str, ObjectInfo]] = {}
        self.join_sql: list[str] = []
        self.sub_count = 0

    # -- helpers --------------------------------------------------------------------------------
    def pos(self, node: exp.Expression | None) -> int:
        """Original position of the first identifier in ``node`` (0 if none carries a position)."""
        if node is None:
            return 0
        nodes = [node] if isinstance(node, exp.Identifier) else list(node.find_all(exp.Identifier))
        starts = [n.meta["start"] for n in nodes if n.meta and "start" in n.meta]
        return self.pre.original(min(starts)) if starts else 0

    def err(self, code: str, pos: int, message: str) -> SalesforceError:
        return self.pre.error(code, pos, message)

    def unexpected(self, node: exp.Expression) -> SalesforceError:
        pos = self.pos(node)
        tok = self.pre.token_at(pos)
        return self.err("MALFORMED_QUERY", pos, f"unexpected token: '{tok.text if tok else node.sql()}'")

    def param(self, value) -> str:
        self.params.append(value)
        return "?"

    # -- FROM -----------------------------------------------------------------------------------
    def root(self, sel: exp.Select) -> None:
        frm = sel.args.get("from_") or sel.args.get("from")
        if frm is None or not isinstance(frm.this, exp.Table):
            raise self.err("MALFORMED_QUERY", len(self.pre.soql), "unexpected token: '<EOF>'")
        table = frm.this
        if table.args.get("db") or table.args.get("catalog") or sel.args.get("joins"):
            raise self.unexpected(sel.args["joins"][0] if sel.args.get("joins") else table)
        name = table.name
        info = self.schema.get(name.lower())
        if info is None:
            raise self.err("INVALID_TYPE", self.pos(table.this), _BAD_TYPE.format(obj=name))
        self.info = info
        self.alias = self.prefix + "0"
        self.root_names = {info.name.lower()}
        if table.alias:
            self.root_names = {table.alias.lower()}

    # -- fields ---------------------------------------------------------------------------------
    def _parts(self, node: exp.Expression) -> list[exp.Identifier] | None:
        if isinstance(node, exp.Column):
            return list(node.parts)
        if isinstance(node, exp.Dot):
            left = self._parts(node.this)
            right = node.expression
            if left is None or not isinstance(right, exp.Identifier):
                return None
            return left + [right]
        return None

    def field(self, node: exp.Expression) -> _Term:
        parts = self._parts(node)
        if parts is None or any(p.quoted for p in parts):
            raise self.unexpected(node)
        pos = self.pos(node)
        names = [p.name for p in parts]
        info = self.info
        if (
            len(names) > 1
            and names[0].lower() in self.root_names
            and names[0].lower() not in info.relationships
        ):
            names = names[1:]
        path: tuple[str, ...] = ()
        alias = self.alias
        for rel in names[:-1]:
            found = info.relationships.get(rel.lower())
            if found is None:
                raise self.err("INVALID_FIELD", pos, _BAD_RELATIONSHIP.format(rel=rel))
            rel_name, ref_col = found
            path = path + (rel_name,)
            target = self.schema[ref_col.reference_to.lower()]
            if path not in self.joins:
                join_alias = f"{self.prefix}{len(self.joins) + 1}"
                self.joins[path] = (join_alias, target)
                self.join_sql.append(
                    f'LEFT JOIN "{target.name}" {join_alias} ON {join_alias}."Id" = {alias}."{ref_col.name}"'
                )
            alias = self.joins[path][0]
            info = target
        column = info.column(names[-1])
        if column is None:
            raise self.err("INVALID_FIELD", pos, _NO_SUCH_COLUMN.format(field=names[-1], obj=info.name))
        return _Term(f'{alias}."{column.name}"', column.type, column.name, pos, path, column)

    def scalar(self, node: exp.Expression) -> _Term:
        """A field or a date function of a field."""
        if isinstance(node, exp.Anonymous) and node.name.upper() in _DATE_FUNCS:
            fn = node.name.upper()
            if len(node.expressions) != 1:
                raise self.unexpected(node)
            arg = self.field(node.expressions[0])
            template, out_type, datetime_only = _DATE_FUNCS[fn]
            if arg.type not in ({"datetime"} if datetime_only else {"date", "datetime"}):
                raise self.err(
                    "MALFORMED_QUERY",
                    arg.pos,
                    f"{fn} can only be used with a date or dateTime field: {arg.name}",
                )
            return _Term(template.format(x=arg.sql), out_type, f"{fn}({arg.name})", arg.pos, arg.path)
        return self.field(node)

    def aggregate(self, node: exp.Expression) -> _Term | None:
        """An aggregate function call, or None if ``node`` is not one."""
        if isinstance(node, exp.Anonymous) and node.name.upper() == "COUNT_DISTINCT":
            if len(node.expressions) != 1:
                raise self.unexpected(node)
            arg = self.scalar(node.expressions[0])
            return _Term(f"COUNT(DISTINCT {arg.sql})", "int", arg.name, arg.pos, aggregate=True)
        if not isinstance(node, _AGGREGATES):
            return None
        arg_node = node.this
        if isinstance(node, exp.Count) and arg_node is None:
            return _Term("COUNT(*)", "int", "COUNT()", self.pos(node), aggregate=True)
        if arg_node is None or isinstance(arg_node, (exp.Distinct, exp.Star)):
            raise self.unexpected(node)
        arg = self.scalar(arg_node)
        fn = type(node).__name__.upper()
        if isinstance(node, exp.Count):
            return _Term(f"COUNT({arg.sql})", "int", arg.name, arg.pos, aggregate=True)
        if isinstance(node, (exp.Sum, exp.Avg)):
            if _kind(arg.type) != "number":
                raise self.err(
                    "MALFORMED_QUERY", arg.pos, f"field {arg.name} does not support aggregate operator {fn}"
                )
            out = "double" if isinstance(node, exp.Avg) else arg.type
            return _Term(f"{fn}({arg.sql})", out, arg.name, arg.pos, aggregate=True)
        if arg.type == "boolean":
            raise self.err(
                "MALFORMED_QUERY", arg.pos, f"field {arg.name} does not support aggregate operator {fn}"
            )
        return _Term(f"{fn}({arg.sql})", arg.type, arg.name, arg.pos, aggregate=True)

    # -- values ---------------------------------------------------------------------------------
    def value(self, node: exp.Expression, term: _Term):
        """``(kind, value)`` of a literal: string, number, boolean, null, date, datetime, dlit."""
        if isinstance(node, exp.Literal):
            if node.is_string:
                return "string", node.this
            text = node.this
            return "number", (float(text) if any(c in text for c in ".eE") else int(text))
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
            kind, v = self.value(node.this, term)
            return kind, -v
        if isinstance(node, exp.Boolean):
            return "boolean", bool(node.this)
        if isinstance(node, exp.Null):
            return "null", None
        if isinstance(node, exp.Anonymous) and node.name.upper() in {"__SFDT", "__SFD", "__SFDL"}:
            args = [a.this for a in node.expressions]
            if node.name.upper() == "__SFDT":
                return "datetime", args[0]
            if node.name.upper() == "__SFD":
                return "date", args[0]
            return "dlit", (args[0], int(args[1]) if len(args) > 1 else None)
        if isinstance(node, exp.Paren):
            raise self.unexpected(node)
        pos = self.pos(node) or term.pos
        raise self.err("MALFORMED_QUERY", pos, f"unexpected token: '{node.sql()}'")

    def _type_error(self, term: _Term, quoted: bool) -> SalesforceError:
        kind = _kind(term.type)
        word = _TYPE_WORD.get(term.type, term.type if kind != "string" else "string")
        if kind in {"string", "id"}:
            msg = f"value of filter criterion for field '{term.name}' must be of type {word} and should be enclosed in quotes"
        else:
            msg = f"value of filter criterion for field '{term.name}' must be of type {word} and should not be enclosed in quotes"
        return self.err("INVALID_FIELD", term.pos, msg)

    def literal(self, term: _Term, kind: str, v):
        """Check a literal against the field's type; return the parameter value (or a date range for dlit)."""
        fkind = _kind(term.type)
        if kind == "null":
            return None
        if fkind == "string":
            if kind != "string":
                raise self._type_error(term, False)
            return v
        if fkind == "id":
            if kind != "string":
                raise self._type_error(term, False)
            if v == "":
                return None
            norm = normalize_id(v)
            if norm is None:
                raise self.err("INVALID_QUERY_FILTER_OPERATOR", term.pos, f"invalid ID field: {v}")
            return norm
        if kind == "string":
            raise self._type_error(term, True)
        if fkind == "number":
            if kind != "number":
                raise self._type_error(term, False)
            return v
        if fkind == "boolean":
            if kind != "boolean":
                raise self._type_error(term, False)
            return 1 if v else 0
        if fkind == "date":
            if kind == "date":
                return v
            if kind == "dlit":
                start, end = date_literal_range(v[0], v[1], self.today)
                return (start.isoformat(), end.isoformat())
            raise self._type_error(term, False)
        if fkind == "datetime":
            if kind == "datetime":
                return v
            if kind == "dlit":
                start, end = date_literal_range(v[0], v[1], self.today)
                return (f"{start.isoformat()}T00:00:00.000+0000", f"{end.isoformat()}T00:00:00.000+0000")
            raise self._type_error(term, False)
        raise self._type_error(term, False)

    # -- conditions -----------------------------------------------------------------------------
    def operand(self, node: exp.Expression, having: bool) -> _Term:
        if having:
            agg = self.aggregate(node)
            if agg is not None:
                return agg
            term = self.scalar(node)
            if term.sql not in self.group_sql:
                raise self.err(
                    "MALFORMED_QUERY", term.pos, f"Field must be grouped or aggregated: {term.name}"
                )
            return term
        if self.aggregate(node) is not None:
            raise self.err(
                "MALFORMED_QUERY", self.pos(node), "Aggregate functions are not allowed in WHERE; use HAVING"
            )
        return self.scalar(node)

    def condition(self, node: exp.Expression, having: bool = False) -> str:
        if isinstance(node, exp.And):
            return f"({self.condition(node.this, having)} AND {self.condition(node.expression, having)})"
        if isinstance(node, exp.Or):
            return f"({self.condition(node.this, having)} OR {self.condition(node.expression, having)})"
        if isinstance(node, exp.Paren):
            return f"({self.condition(node.this, having)})"
        if isinstance(node, exp.Not):
            inner = node.this
            if isinstance(inner, exp.In):
                return self.in_(inner, having, negate=True)
            return f"(NOT COALESCE({self.condition(inner, having)}, 0))"
        if isinstance(node, exp.In):
            return self.in_(node, having, negate=False)
        if isinstance(node, exp.Like):
            term = self.operand(node.this, having)
            kind, v = self.value(node.expression, term)
            if _kind(term.type) != "string" or kind != "string":
                if _kind(term.type) != "string":
                    raise self.err(
                        "INVALID_FIELD",
                        term.pos,
                        f"invalid operator on {_TYPE_WORD.get(term.type, term.type)} field: {term.name}",
                    )
                raise self._type_error(term, False)
            return f"({term.sql} LIKE {self.param(v)} ESCAPE '\\')"
        op = _CMP.get(type(node))
        if op is None:
            raise self.unexpected(node)
        if not isinstance(node.this, (exp.Column, exp.Dot, exp.Anonymous, *_AGGREGATES)):
            raise self.unexpected(node.this)
        term = self.operand(node.this, having)
        kind, v = self.value(node.expression, term)
        return self.compare(term, op, kind, v)

    def compare(self, term: _Term, op: str, kind: str, v) -> str:
        f = term.sql
        value = self.literal(term, kind, v)
        if value is None:
            if op == "=":
                return f"({f} IS NULL)"
            if op == "!=":
                return f"({f} IS NOT NULL)"
            raise self.err("MALFORMED_QUERY", term.pos, f"invalid operator on null: {op}")
        if isinstance(value, tuple):  # a date literal's range [lo, hi)
            lo, hi = value
            if op == "=":
                return f"({f} >= {self.param(lo)} AND {f} < {self.param(hi)})"
            if op == "!=":
                return f"({f} IS NULL OR {f} < {self.param(lo)} OR {f} >= {self.param(hi)})"
            bound, cmp = {"<": (lo, "<"), "<=": (hi, "<"), ">": (hi, ">="), ">=": (lo, ">=")}[op]
            return f"({f} {cmp} {self.param(bound)})"
        collate = " COLLATE NOCASE" if _kind(term.type) == "string" else ""
        p = self.param(value)
        if op == "!=":
            return f"({f} IS NULL OR {f} != {p}{collate})"
        return f"({f} {op} {p}{collate})"

    def in_(self, node: exp.In, having: bool, negate: bool) -> str:
        term = self.operand(node.this, having)
        f = term.sql
        query = node.args.get("query")
        if query is not None:
            return self.semi_join(term, query, negate)
        if not node.expressions:
            raise self.unexpected(node)
        values = [self.literal(term, *self.value(e, term)) for e in node.expressions]
        has_null = any(v is None for v in values)
        ranges = [v for v in values if isinstance(v, tuple)]
        plain = [v for v in values if v is not None and not isinstance(v, tuple)]
        parts = []
        collate = " COLLATE NOCASE" if _kind(term.type) == "string" else ""
        if plain:
            parts.append(f"({f}{collate}) IN ({', '.join(self.param(v) for v in plain)})")
        for lo, hi in ranges:
            parts.append(f"({f} >= {self.param(lo)} AND {f} < {self.param(hi)})")
        if has_null:
            parts.append(f"{f} IS NULL")
        cond = "(" + " OR ".join(parts) + ")"
        if not negate:
            return cond
        if has_null:
            return f"(NOT COALESCE({cond}, 0))"
        return f"({f} IS NULL OR NOT COALESCE({cond}, 0))"

    def semi_join(self, term: _Term, query: exp.Expression, negate: bool) -> str:
        sel = query.this if isinstance(query, exp.Subquery) else query
        if not isinstance(sel, exp.Select):
            raise self.unexpected(query)
        if _kind(term.type) != "id":
            raise self.err(
                "INVALID_FIELD",
                term.pos,
                f"semi join sub-selects are only supported on id fields: {term.name}",
            )
        self.sub_count += 1
        sub = _Compiler(self.pre, self.schema, self.today, self.params, f"{self.prefix}s{self.sub_count}_")
        sub_sql = sub.compile_semi_join(sel)
        if negate:
            return f"({term.sql} IS NULL OR {term.sql} NOT IN ({sub_sql}))"
        return f"({term.sql} IN ({sub_sql}))"

    def compile_semi_join(self, sel: exp.Select) -> str:
        """SQL selecting the (non-null) ids of a semi-join sub-select."""
        self.root(sel)
        if len(sel.expressions) != 1:
            raise self.unexpected(sel.expressions[1] if len(sel.expressions) > 1 else sel)
        term = self.field(sel.expressions[0])
        if _kind(term.type) != "id":
            raise self.err(
                "INVALID_FIELD", term.pos, f"semi join sub-selects must select an id field: {term.name}"
            )
        for key in ("group", "having", "order", "offset"):
            if sel.args.get(key):
                raise self.unexpected(sel.args[key])
        self.group_sql: set[str] = set()
        where = self._where_sql(sel, include_deleted=False)
        sql = f"SELECT {term.sql} {self._from()} WHERE {where} AND {term.sql} IS NOT NULL"
        if sel.args.get("limit"):
            sql = f"SELECT * FROM ({sql} LIMIT {self.param(self._number(sel.args['limit']))})"
        return sql

    def _where_sql(self, sel: exp.Select, include_deleted: bool) -> str:
        conds = []
        if not include_deleted and self.info.has_is_deleted:
            conds.append(f'{self.alias}."IsDeleted" = 0')
        where = sel.args.get("where")
        if where is not None:
            conds.append(self.condition(where.this))
        return " AND ".join(conds) if conds else "1"

    def _number(self, node: exp.Expression) -> int:
        expr = node.args.get("expression") if isinstance(node, (exp.Limit, exp.Offset)) else node
        if not isinstance(expr, exp.Literal) or expr.is_string or not expr.this.isdigit():
            keyword = "OFFSET" if isinstance(node, exp.Offset) else "LIMIT"
            toks = self.pre.tokens
            for i, tok in enumerate(toks[:-1]):
                if tok.kind == "word" and tok.text.upper() == keyword:
                    raise self.err(
                        "MALFORMED_QUERY", toks[i + 1].start, f"unexpected token: '{toks[i + 1].text}'"
                    )
            raise self.unexpected(expr if expr is not None else node)
        return int(expr.this)

    # -- the whole query ------------------------------------------------------------------------
    def compile(self, sel: exp.Select, include_deleted: bool) -> CompiledQuery:
        self.root(sel)
        for key, value in sel.args.items():
            if value and key not in {
                "expressions",
                "from_",
                "from",
                "where",
                "group",
                "having",
                "order",
                "limit",
                "offset",
            }:
                raise self.unexpected(value if isinstance(value, exp.Expression) else sel)
        items = sel.expressions
        if not items:
            raise self.err("MALFORMED_QUERY", self._keyword_pos("FROM"), "unexpected token: 'FROM'")
        for item in items:
            if isinstance(item, exp.Star):
                raise self.err("MALFORMED_QUERY", self._char_pos("*"), "unexpected token: '*'")

        group = sel.args.get("group")
        group_nodes = list(group.expressions) if group is not None else []
        if group is not None and (group.args.get("rollup") or group.args.get("cube")):
            raise self.unexpected(group)
        self.group_terms = [self.scalar(g) for g in group_nodes]
        self.group_sql = {t.sql for t in self.group_terms}

        def unwrap(item):
            return (item.this, item.alias) if isinstance(item, exp.Alias) else (item, None)

        is_aggregate = bool(group_nodes) or any(
            self.aggregate(unwrap(i)[0]) is not None for i in items if not _is_count_star(unwrap(i)[0])
        )
        count_star = [i for i in items if _is_count_star(unwrap(i)[0])]
        if count_star:
            if len(items) != 1 or group_nodes or isinstance(items[0], exp.Alias):
                raise self.err(
                    "MALFORMED_QUERY",
                    self.pos(count_star[0]) or self._keyword_pos("COUNT"),
                    "COUNT() must be the only element in the SELECT list.",
                )
            return self._finish_count(sel, include_deleted)
        if is_aggregate:
            return self._finish_aggregate(sel, items, unwrap, include_deleted)
        return self._finish_records(sel, items, include_deleted)

    def _keyword_pos(self, word: str) -> int:
        for tok in self.pre.tokens:
            if tok.kind == "word" and tok.text.upper() == word:
                return tok.start
        return 0

    def _char_pos(self, ch: str) -> int:
        for tok in self.pre.tokens:
            if tok.text == ch:
                return tok.start
        return 0

    def _tail(self, sel: exp.Select) -> str:
        sql = ""
        limit = sel.args.get("limit")
        offset = sel.args.get("offset")
        if limit is not None:
            sql += f" LIMIT {self.param(self._number(limit))}"
        if offset is not None:
            n = self._number(offset)
            if n > MAX_OFFSET:
                raise SalesforceError(
                    400, "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
                )
            if limit is None:
                sql += " LIMIT -1"
            sql += f" OFFSET {self.param(n)}"
        return sql

    def _order(self, sel: exp.Select, aggregate: bool, outputs: dict[str, _Term] | None = None) -> str:
        order = sel.args.get("order")
        if order is None:
            return ""
        parts = []
        for o in order.expressions:
            node = o.this if isinstance(o, exp.Ordered) else o
            term = None
            if aggregate:
                term = self.aggregate(node)
                if term is None:
                    term = self.scalar(node)
                    if term.sql not in self.group_sql:
                        raise self.err(
                            "MALFORMED_QUERY",
                            term.pos,
                            f"Ordered field must be grouped or aggregated: {term.name}",
                        )
            else:
                if self.aggregate(node) is not None:
                    raise self.unexpected(node)
                term = self.scalar(node)
            collate = " COLLATE NOCASE" if _kind(term.type) == "string" else ""
            desc = bool(o.args.get("desc")) if isinstance(o, exp.Ordered) else False
            nulls_first = o.args.get("nulls_first") if isinstance(o, exp.Ordered) else None
            if nulls_first is None:
                nulls_first = not desc
            parts.append(
                f"{term.sql}{collate} {'DESC' if desc else 'ASC'} NULLS {'FIRST' if nulls_first else 'LAST'}"
            )
        return " ORDER BY " + ", ".join(parts)

    def _from(self) -> str:
        joins = (" " + " ".join(self.join_sql)) if self.join_sql else ""
        return f'FROM "{self.info.name}" {self.alias}{joins}'

    def _finish_count(self, sel, include_deleted) -> CompiledQuery:
        where = self._where_sql(sel, include_deleted)
        order = self._order(sel, False)
        tail = self._tail(sel)
        inner = f"SELECT 1 {self._from()} WHERE {where}{order}{tail}"
        sql = f"SELECT COUNT(*) FROM ({inner})"
        return CompiledQuery(self.info.name, "count", sql, tuple(self.params), [])

    def _finish_records(self, sel, items, include_deleted) -> CompiledQuery:
        select_sql = [f'{self.alias}."Id"']
        entries: list = []
        rel_nodes: dict[tuple[str, ...], _RelNode] = {}
        seen: set[str] = set()
        keys: list[str] = []
        pending_rel: list[tuple[tuple[str, ...], _RelNode]] = []
        for item in items:
            if isinstance(item, exp.Alias):
                raise self.err(
                    "MALFORMED_QUERY", self.pos(item.args.get("alias")), f"unexpected token: '{item.alias}'"
                )
            if isinstance(item, exp.Anonymous) and item.name.upper() == "__SFFIELDS":
                which = item.expressions[0].this
                limit = sel.args.get("limit")
                if which != "STANDARD" and (limit is None or self._number(limit) > 200):
                    pos = next((t.start for t in self.pre.tokens if t.kind == "fields"), 0)
                    raise self.err(
                        "MALFORMED_QUERY", pos, "The SOQL FIELDS function must have a LIMIT of at most 200"
                    )
                for col in self.info.columns:
                    custom = col.name.endswith("__c")
                    if (which == "STANDARD" and custom) or (which == "CUSTOM" and not custom):
                        continue
                    if col.name.lower() in seen:
                        continue
                    seen.add(col.name.lower())
                    keys.append(col.name)
                    select_sql.append(f'{self.alias}."{col.name}"')
                    entries.append(_Out(col.name, len(select_sql) - 1, col.type))
                continue
            if isinstance(item, exp.Anonymous) and item.name.upper() in _DATE_FUNCS:
                raise self.err(
                    "MALFORMED_QUERY",
                    self.pos(item),
                    f"Only aggregate expressions use field aliasing; {item.name} needs GROUP BY",
                )
            term = self.field(item)
            dotted = ".".join(term.path + (term.name,))
            if dotted.lower() in seen:
                raise self.err("MALFORMED_QUERY", term.pos, f"duplicate field selected: {dotted}")
            seen.add(dotted.lower())
            keys.append(dotted)
            select_sql.append(term.sql)
            out = _Out(term.name, len(select_sql) - 1, term.type)
            container = entries
            for depth in range(1, len(term.path) + 1):
                sub = term.path[:depth]
                node = rel_nodes.get(sub)
                if node is None:
                    _, target = self.joins[sub]
                    node = _RelNode(sub[-1], target.name, -1)
                    rel_nodes[sub] = node
                    pending_rel.append((sub, node))
                    container.append(node)
                container = node.entries
            container.append(out)
        for sub, node in pending_rel:
            select_sql.append(f'{self.joins[sub][0]}."Id"')
            node.id_index = len(select_sql) - 1
        where = self._where_sql(sel, include_deleted)
        order = self._order(sel, False)
        tail = self._tail(sel)
        sql = f"SELECT {', '.join(select_sql)} {self._from()} WHERE {where}{order}{tail}"
        return CompiledQuery(self.info.name, "records", sql, tuple(self.params), keys, entries)

    def _finish_aggregate(self, sel, items, unwrap, include_deleted) -> CompiledQuery:
        select_sql = []
        entries = []
        keys = []
        expr_n = 0
        for item in items:
            node, alias = unwrap(item)
            term = self.aggregate(node)
            if term is None:
                term = self.scalar(node)
                if term.sql not in self.group_sql:
                    raise self.err(
                        "MALFORMED_QUERY", term.pos, f"Field must be grouped or aggregated: {term.name}"
                    )
                is_plain_field = term.column is not None
            else:
                is_plain_field = False
            if alias:
                key = alias
            elif is_plain_field:
                key = term.name
            else:
                key = f"expr{expr_n}"
                expr_n += 1
            if key.lower() in {k.lower() for k in keys}:
                raise self.err("MALFORMED_QUERY", term.pos, f"duplicate alias: {key}")
            keys.append(key)
            select_sql.append(term.sql)
            entries.append(_Out(key, len(select_sql) - 1, term.type))
        where = self._where_sql(sel, include_deleted)
        group_sql = ""
        if self.group_terms:
            group_sql = " GROUP BY " + ", ".join(t.sql for t in self.group_terms)
        having_sql = ""
        having = sel.args.get("having")
        if having is not None:
            having_sql = " HAVING " + self.condition(having.this, having=True)
        order = self._order(sel, True)
        tail = self._tail(sel)
        sql = (
            f"SELECT {', '.join(select_sql)} {self._from()} WHERE {where}{group_sql}{having_sql}{order}{tail}"
        )
        return CompiledQuery(self.info.name, "aggregate", sql, tuple(self.params), keys, entries)


def _is_count_star(node: exp.Expression) -> bool:
    return isinstance(node, exp.Count) and node.this is None


def _lexical_checks(pre: _Pre) -> None:
    """Things sqlglot forgives that SOQL does not."""
    toks = pre.tokens
    for i, tok in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if (
            tok.text == ","
            and nxt is not None
            and nxt.kind == "word"
            and nxt.text.upper() in {"FROM", "WHERE"}
        ):
            raise pre.error("MALFORMED_QUERY", nxt.start, f"unexpected token: '{nxt.text}'")
        if tok.text == "," and nxt is None:
            raise pre.error("MALFORMED_QUERY", len(pre.soql), "unexpected token: '<EOF>'")
    if toks and (toks[0].kind != "word" or toks[0].text.upper() != "SELECT"):
        raise pre.error("MALFORMED_QUERY", toks[0].start, f"unexpected token: '{toks[0].text}'")
    if not toks:
        raise pre.error("MALFORMED_QUERY", 0, "unexpected token: '<EOF>'")


def compile_soql(
    soql: str,
    schema: Mapping[str, ObjectInfo],
    *,
    include_deleted: bool = False,
    today: dt.date | None = None,
) -> CompiledQuery:
    """Translate one SOQL query to SQLite SQL over the store. Raises :class:`SalesforceError` (400) with
    ``MALFORMED_QUERY``, ``INVALID_TYPE``, ``INVALID_FIELD`` or ``INVALID_QUERY_FILTER_OPERATOR``."""
    if today is None:
        today = dt.datetime.now(dt.UTC).date()
    pre = _Pre(soql)
    _lexical_checks(pre)
    try:
        trees = sqlglot.parse(pre.text)
    except sqlglot.errors.ParseError as e:
        raise _parse_error(pre, e) from None
    except sqlglot.errors.SqlglotError as e:
        raise pre.error("MALFORMED_QUERY", 0, f"unexpected token: {e}") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1 or not isinstance(trees[0], exp.Select):
        raise pre.error("MALFORMED_QUERY", 0, f"unexpected token: '{pre.tokens[0].text}'")
    return _Compiler(pre, schema, today, []).compile(trees[0], include_deleted)


def _parse_error(pre: _Pre, e: sqlglot.errors.ParseError) -> SalesforceError:
    info = e.errors[0] if e.errors else {}
    line = info.get("line") or 1
    col = info.get("col") or 1
    highlight = info.get("highlight") or ""
    lines = pre.text.split("\n")
    proc = sum(len(x) + 1 for x in lines[: line - 1]) + max(0, col - len(highlight))
    rest = pre.text[proc + len(highlight) :].strip()
    description = info.get("description", "")
    if not rest and ("missing" in description or "Expected" in description or "Required" in description):
        return pre.error("MALFORMED_QUERY", len(pre.soql), "unexpected token: '<EOF>'")
    pos = pre.original(proc)
    tok = pre.token_at(pos)
    text = tok.text if tok is not None else highlight
    return pre.error("MALFORMED_QUERY", pos if tok is None else tok.start, f"unexpected token: '{text}'")
