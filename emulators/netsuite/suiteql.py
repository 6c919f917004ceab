"""SuiteQL (NetSuite's Oracle-flavoured SQL) translated to SQLite over the emulator's store.

:func:`translate` parses a query with sqlglot's Oracle dialect, checks every table and column against
:data:`emulators.schema.NETSUITE_TABLES`, rewrites the NetSuite/Oracle specifics into SQLite, and returns
the SQL plus what the caller needs to page it (the query's own row limit and offset) and to name the
output keys. Execution is the store's business (:mod:`emulators.netsuite.store`); the SQL functions this
module's output calls (``ns_to_date``, ``ns_to_char``, ...) are registered by :func:`register_functions`.

What is understood: SELECT lists with aliases and ``*``, FROM with table aliases, sub-queries and WITH,
INNER/LEFT/RIGHT/FULL/CROSS joins, WHERE with the usual operators, GROUP BY/HAVING/aggregates, ORDER BY
(by column, alias or position), ``FETCH FIRST n ROWS ONLY``, ``OFFSET n ROWS``, ``ROWNUM <= n``,
UNION/MINUS, ``BUILTIN.DF``, ``TO_DATE``, ``TO_TIMESTAMP``, ``TO_CHAR``, ``TRUNC``, ``ADD_MONTHS``,
``SYSDATE``/``CURRENT_DATE``, date arithmetic in days, ``NVL``/``NVL2``/``DECODE``/``CASE`` and ``||``.

Values in the store are canonical text (dates ``YYYY-MM-DD``, datetimes ``YYYY-MM-DD HH:MM:SS``), so
comparisons happen on text; a date compared with a datetime is promoted to midnight, and string literals
compared with a date column are read in NetSuite's user format (``M/D/YYYY``) or ISO. Dates and datetimes
in the result are shown as NetSuite shows them by default, ``M/D/YYYY``, unless formatted with TO_CHAR.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from emulators.schema import (
    NETSUITE_PRIMARY_KEYS,
    NETSUITE_STATUS_LABELS,
    NETSUITE_TABLES,
)

logging.getLogger("sqlglot").setLevel(logging.ERROR)

PREFIX = "Invalid search query. Detailed unprocessed description follows. Search error occurred: "

TEMPORAL = ("date", "datetime")
NUMERIC = ("integer", "float")
_TYPE_KEY = "ns_type"
_REF_KEY = "ns_ref"  # (table, column, source alias) of a resolved base-table column


class SuiteQLError(Exception):
    """A query NetSuite would refuse (400 INVALID_PARAMETER, ``o:errorQueryParam: q``)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    @property
    def detail(self) -> str:
        return PREFIX + self.message


@dataclass
class Translated:
    sql: str  # SQLite, without the query's own LIMIT/OFFSET
    names: list[str]  # output keys, in column order
    own_limit: int | None = None  # FETCH FIRST / ROWNUM
    own_offset: int = 0  # OFFSET n ROWS
    count_sql: str = ""  # SQLite counting the rows of ``sql``


# Column types of every served table (bookkeeping columns starting with "_" are never served).
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    table: {c.name: c.type for c in columns if not c.name.startswith("_")}
    for table, columns in NETSUITE_TABLES.items()
}

# BUILTIN.DF of a reference column: (table, column) -> SQL of the referenced record's display name,
# with {v} the referencing value.
_ENTITY_NAME = {
    "customer": "COALESCE(__df.companyname, __df.entityid)",
    "employee": "COALESCE(__df.entityid, TRIM(COALESCE(__df.firstname, '') || ' ' || COALESCE(__df.lastname, '')))",
    "item": "COALESCE(__df.itemid, __df.displayname)",
    "location": "__df.name",
    "transaction": "CASE __df.type WHEN 'SalesOrd' THEN 'Sales Order #' WHEN 'CustInvc' THEN 'Invoice #' "
    "ELSE '' END || __df.tranid",
}
_REFERENCES = {
    ("transaction", "entity"): "customer",
    ("transaction", "employee"): "employee",
    ("transaction", "createdfrom"): "transaction",
    ("transactionline", "transaction"): "transaction",
    ("transactionline", "item"): "item",
    ("transactionline", "location"): "location",
    ("inventoryitemlocations", "item"): "item",
    ("inventoryitemlocations", "location"): "location",
    ("customer", "salesrep"): "employee",
}
_TYPE_LABELS = {code: label for code, (label, _) in NETSUITE_STATUS_LABELS.items()}


def _status_case(alias: str) -> str:
    whens = " ".join(
        f"WHEN '{code}:{status}' THEN '{label} : {text}'"
        for code, (label, statuses) in NETSUITE_STATUS_LABELS.items()
        for status, text in statuses.items()
    )
    return f'CASE "{alias}"."type" || \':\' || "{alias}"."status" {whens} ELSE "{alias}"."status" END'


# --------------------------------------------------------------------------------------------------
# Scopes


@dataclass
class Source:
    alias: str
    table: str | None  # base table, or None for a derived table / CTE
    columns: dict[str, str | None]  # name -> type (None: unknown)


@dataclass
class Scope:
    sources: list[Source] = field(default_factory=list)
    ctes: dict[str, dict[str, str | None]] = field(default_factory=dict)

    def find(self, alias: str) -> Source | None:
        for s in self.sources:
            if s.alias == alias:
                return s
        return None


class _Ctx:
    def __init__(self, query: str):
        self.query = query
        self.df_counter = 0

    def where(self, node: exp.Expression | None) -> str:
        meta = None
        if isinstance(node, exp.Column | exp.Table):
            meta = node.this.meta if isinstance(node.this, exp.Identifier) else None
        elif isinstance(node, exp.Identifier):
            meta = node.meta
        if not meta or "start" not in meta:
            return ""
        start = meta["start"]
        line = self.query.count("\n", 0, start) + 1
        col = start - (self.query.rfind("\n", 0, start) + 1) + 1
        return f" (at line {line}, column {col})"


def _ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def _col(alias: str, name: str, type_: str | None, ref=None) -> exp.Column:
    c = exp.Column(this=_ident(name), table=_ident(alias))
    c.meta[_TYPE_KEY] = type_
    if ref:
        c.meta[_REF_KEY] = ref
    return c


def _typed(node: exp.Expression, type_: str | None) -> exp.Expression:
    node.meta[_TYPE_KEY] = type_
    return node


def _fn(name: str, *args: exp.Expression, type_: str | None = None) -> exp.Expression:
    return _typed(exp.Anonymous(this=name, expressions=list(args)), type_)


def _raw(sql: str, type_: str | None = None) -> exp.Expression:
    node = sqlglot.parse_one(sql, read="sqlite")
    return _typed(exp.Paren(this=node), type_)


def type_of(node: exp.Expression | None) -> str | None:
    if node is None:
        return None
    if _TYPE_KEY in node.meta:
        return node.meta[_TYPE_KEY]
    if isinstance(node, exp.Paren | exp.Alias):
        return type_of(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return "text"
        return "integer" if re.fullmatch(r"-?\d+", node.this) else "float"
    if isinstance(node, exp.Neg):
        return type_of(node.this)
    if isinstance(node, exp.Coalesce):
        for arg in [node.this, *node.expressions]:
            t = type_of(arg)
            if t and not isinstance(arg, exp.Null):
                return t
        return None
    if isinstance(node, exp.Max | exp.Min):
        return type_of(node.this)
    if isinstance(node, exp.Count):
        return "integer"
    if isinstance(node, exp.Sum | exp.Avg):
        return "float"
    if isinstance(node, exp.Case):
        for if_ in node.args.get("ifs") or []:
            t = type_of(if_.args.get("true"))
            if t:
                return t
        return type_of(node.args.get("default"))
    if isinstance(node, exp.If):
        return type_of(node.args.get("true"))
    if isinstance(node, exp.DPipe):
        return "text"
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select):
        projs = node.this.expressions
        return type_of(projs[0]) if projs else None
    return None


# --------------------------------------------------------------------------------------------------
# Dates

_DATE_LITERAL_FORMATS = (
    ("%m/%d/%Y", "date"),
    ("%Y-%m-%d", "date"),
    ("%m/%d/%Y %H:%M:%S", "datetime"),
    ("%m/%d/%Y %H:%M", "datetime"),
    ("%m/%d/%Y %I:%M:%S %p", "datetime"),
    ("%m/%d/%Y %I:%M %p", "datetime"),
    ("%Y-%m-%d %H:%M:%S", "datetime"),
    ("%Y-%m-%dT%H:%M:%S", "datetime"),
    ("%Y-%m-%dT%H:%M:%SZ", "datetime"),
    ("%Y-%m-%d %H:%M", "datetime"),
)


def parse_date_literal(text: str) -> tuple[str, str] | None:
    """A date written as text -> (canonical text, 'date' | 'datetime'), or None."""
    text = text.strip()
    if "." in text and re.search(r":\d\d\.\d+", text):
        text = re.sub(r"(:\d\d)\.\d+", r"\1", text)
    for fmt, kind in _DATE_LITERAL_FORMATS:
        try:
            value = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return canonical(value, kind), kind
    return None


def canonical(value: dt.datetime, kind: str) -> str:
    if kind == "date":
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _parse_canonical(text) -> dt.datetime | None:
    if text is None:
        return None
    text = str(text)
    try:
        if len(text) <= 10:
            return dt.datetime.strptime(text, "%Y-%m-%d")
        return dt.datetime.strptime(text[:19].replace("T", " "), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _strip_quotes(fmt: str) -> str:
    # sqlglot keeps Oracle's "quoted text" in converted formats; Python wants it bare.
    return re.sub(r'"([^"]*)"', lambda m: m.group(1).replace("%", "%%"), fmt)


def _fn_to_date(text, fmt, kind):
    if text is None:
        return None
    text = str(text)
    if fmt is None:
        parsed = parse_date_literal(text)
        if parsed is None:
            raise ValueError(f"Invalid date value '{text}'")
        value = _parse_canonical(parsed[0])
    else:
        pyfmt = _strip_quotes(str(fmt))
        try:
            value = dt.datetime.strptime(text, pyfmt)
        except ValueError:
            raise ValueError(f"Invalid date value '{text}' for format '{fmt}'") from None
    if kind == "date" and value.time() == dt.time(0):
        return canonical(value, "date")
    return canonical(value, "datetime")


def _fn_add_days(value, days, kind):
    base = _parse_canonical(value)
    if base is None or days is None:
        return None
    result = base + dt.timedelta(days=float(days))
    if kind == "date" and result.time() == dt.time(0):
        return canonical(result, "date")
    return canonical(result, "datetime")


def _fn_add_months(value, months):
    base = _parse_canonical(value)
    if base is None or months is None:
        return None
    months = int(months)
    y, m = divmod(base.month - 1 + months, 12)
    year, month = base.year + y, m + 1
    import calendar

    last = calendar.monthrange(year, month)[1]
    last_of_base = calendar.monthrange(base.year, base.month)[1]
    day = last if base.day == last_of_base else min(base.day, last)
    result = base.replace(year=year, month=month, day=day)
    return canonical(result, "date" if len(str(value)) <= 10 else "datetime")


def _fn_trunc(value, unit):
    base = _parse_canonical(value)
    if base is None:
        return None
    unit = (unit or "DD").upper()
    if unit in ("DD", "DDD", "J", "DAY"):
        d = base.date()
    elif unit in ("MM", "MON", "MONTH", "RM"):
        d = base.date().replace(day=1)
    elif unit in ("Q",):
        d = dt.date(base.year, 3 * ((base.month - 1) // 3) + 1, 1)
    elif unit in ("YYYY", "YYY", "YY", "Y", "YEAR", "SYYYY", "SYEAR"):
        d = dt.date(base.year, 1, 1)
    elif unit in ("IW", "WW", "W", "D", "DY"):
        d = base.date() - dt.timedelta(days=base.weekday())
    else:
        raise ValueError(f"Unsupported TRUNC format '{unit}'")
    return d.isoformat()


_FORMAT_TOKENS = re.compile(
    r'"[^"]*"|FM|HH24|HH12|HH|MI|SS|FF[1-9]?|YYYY|RRRR|YYY|YY|RR|Y|MONTH|MON|MM|DDD|DD|DAY|DY|D|'
    r"AM|PM|A\.M\.|P\.M\.|Q|WW|IW|J|[-/,.;: T]|.",
    re.IGNORECASE,
)
# Oracle element -> SQLite strftime (only what SQLite's strftime supports, zero-padded).
_SQLITE_FMT = {
    "YYYY": "%Y",
    "RRRR": "%Y",
    "MM": "%m",
    "DD": "%d",
    "DDD": "%j",
    "HH24": "%H",
    "MI": "%M",
    "SS": "%S",
}


def oracle_to_sqlite_format(fmt: str) -> str | None:
    """An Oracle datetime format model as a SQLite strftime format, or None if SQLite can't do it."""
    out = []
    for tok in _FORMAT_TOKENS.findall(fmt):
        up = tok.upper()
        if tok.startswith('"'):
            out.append(tok[1:-1].replace("%", "%%"))
        elif up in _SQLITE_FMT:
            out.append(_SQLITE_FMT[up])
        elif tok in "-/,.;: T" and len(tok) == 1:
            out.append(tok)
        else:
            return None
    return "".join(out)


def _fn_to_char(value, fmt):
    if value is None:
        return None
    if fmt is None:
        if isinstance(value, float):
            return format_number(value)
        if isinstance(value, str):
            parsed = _parse_canonical(value)
            if parsed is not None and re.match(r"\d{4}-\d\d-\d\d", value):
                return f"{parsed.month}/{parsed.day}/{parsed.year}"
        return str(value)
    if isinstance(value, int | float):
        return _number_to_char(value, str(fmt))
    when = _parse_canonical(value)
    if when is None:
        return str(value)
    return format_oracle_datetime(when, str(fmt))


def format_oracle_datetime(when: dt.datetime, fmt: str) -> str:
    out = []
    fill = True  # FM toggles padding off/on

    def pad(n, width):
        return str(n).zfill(width) if fill else str(n)

    for tok in _FORMAT_TOKENS.findall(fmt):
        up = tok.upper()

        if tok.startswith('"'):
            out.append(tok[1:-1])
        elif up == "FM":
            fill = not fill
        elif up in ("YYYY", "RRRR"):
            out.append(str(when.year).zfill(4))
        elif up == "YYY":
            out.append(str(when.year)[-3:])
        elif up in ("YY", "RR"):
            out.append(str(when.year)[-2:])
        elif up == "Y":
            out.append(str(when.year)[-1:])
        elif up == "MM":
            out.append(pad(when.month, 2))
        elif up in ("MONTH", "MON", "DAY", "DY"):
            text = {
                "MONTH": when.strftime("%B"),
                "MON": when.strftime("%b"),
                "DAY": when.strftime("%A"),
                "DY": when.strftime("%a"),
            }[up]
            if fill and up in ("MONTH", "DAY"):
                text = text.ljust(9)
            if tok.isupper():
                text = text.upper()
            elif tok[:2].islower():
                text = text.lower()
            out.append(text)
        elif up == "DD":
            out.append(pad(when.day, 2))
        elif up == "DDD":
            out.append(pad(when.timetuple().tm_yday, 3))
        elif up == "D":
            out.append(str((when.isoweekday() % 7) + 1))
        elif up == "HH24":
            out.append(pad(when.hour, 2))
        elif up in ("HH", "HH12"):
            out.append(pad((when.hour % 12) or 12, 2))
        elif up == "MI":
            out.append(pad(when.minute, 2))
        elif up == "SS":
            out.append(pad(when.second, 2))
        elif up.startswith("FF"):
            out.append("0" * (int(up[2:]) if len(up) > 2 else 6))
        elif up in ("AM", "PM", "A.M.", "P.M."):
            text = "AM" if when.hour < 12 else "PM"
            if "." in up:
                text = text[0] + "." + text[1] + "."
            out.append(text if tok.isupper() else text.lower())
        elif up == "Q":
            out.append(str((when.month - 1) // 3 + 1))
        elif up == "IW":
            out.append(pad(when.isocalendar()[1], 2))
        elif up == "WW":
            out.append(pad((when.timetuple().tm_yday - 1) // 7 + 1, 2))
        elif up == "J":
            out.append(str(when.toordinal() + 1721425))
        else:
            out.append(tok)
    return "".join(out)


def _number_to_char(value, fmt: str) -> str:
    fmt = fmt.upper().replace("FM", "")
    decimals = len(fmt.split(".", 1)[1]) if "." in fmt else 0
    grouped = "," in fmt or "G" in fmt
    text = f"{value:{',' if grouped else ''}.{decimals}f}"
    return text


def format_number(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    text = f"{v:.15g}"
    if "e" in text:
        return repr(v)
    return text


def _fn_now():
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("ns_to_date", 3, _fn_to_date, deterministic=True)
    conn.create_function("ns_to_char", 2, _fn_to_char, deterministic=True)
    conn.create_function("ns_add_days", 3, _fn_add_days, deterministic=True)
    conn.create_function("ns_add_months", 2, _fn_add_months, deterministic=True)
    conn.create_function("ns_trunc", 2, _fn_trunc, deterministic=True)
    conn.create_function("ns_sysdate", 0, _fn_now)


# --------------------------------------------------------------------------------------------------
# Translation


def _display_date(node: exp.Expression) -> exp.Expression:
    """'YYYY-MM-DD[ HH:MM:SS]' -> 'M/D/YYYY' (NetSuite's default date format), in SQL."""
    s = node.sql(dialect="sqlite", identify=True)
    return _raw(
        f"ltrim(substr({s}, 6, 2), '0') || '/' || ltrim(substr({s}, 9, 2), '0') || '/' || substr({s}, 1, 4)",
        "text",
    )


def _int_literal(node: exp.Expression | None, what: str) -> int:
    if isinstance(node, exp.Literal) and not node.is_string and re.fullmatch(r"\d+", node.this):
        return int(node.this)
    raise SuiteQLError(f"{what} must be a whole number.")


class _Translator:
    def __init__(self, query: str):
        self.ctx = _Ctx(query)

    # -- statements --------------------------------------------------------------------------

    def statement(self, node: exp.Expression, outer: list[Scope], top: bool) -> list[tuple[str, str | None]]:
        if isinstance(node, exp.Subquery):
            return self.statement(node.this, outer, top)
        if isinstance(node, exp.Select):
            return self.select(node, outer, top)
        if isinstance(node, exp.Union | exp.Except | exp.Intersect):
            ctes = self._ctes(node, outer)
            inner_outer = [ctes, *outer] if ctes.ctes else outer
            left = self.statement(node.this, inner_outer, top)
            right = self.statement(node.expression, inner_outer, top)
            if len(left) != len(right):
                raise SuiteQLError("Query block has incorrect number of result columns.")
            order = node.args.get("order")
            if order is not None:
                names = [n for n, _ in left]
                for ordered in order.expressions:
                    target = ordered.this
                    if isinstance(target, exp.Column) and not target.table and target.name.lower() in names:
                        ordered.set("this", exp.column(f"c{names.index(target.name.lower())}", quoted=True))
                    elif isinstance(target, exp.Literal) and not target.is_string:
                        ordered.set("this", exp.column(f"c{int(target.this) - 1}", quoted=True))
            return [(n, t) for (n, t) in left]
        raise SuiteQLError("Only SELECT statements are supported.")

    def _ctes(self, node: exp.Expression, outer: list[Scope]) -> Scope:
        scope = Scope()
        with_ = node.args.get("with_") or node.args.get("with")
        if with_ is not None:
            for cte in with_.expressions:
                name = cte.alias_or_name.lower()
                cols = self.statement(cte.this, [scope, *outer], False)
                self._name_outputs(cte.this, cols)
                scope.ctes[name] = dict(cols)
                cte.set("alias", exp.TableAlias(this=_ident(name)))
        return scope

    def _lookup_cte(self, name: str, scopes: list[Scope]):
        for s in scopes:
            if name in s.ctes:
                return s.ctes[name]
        return None

    def select(self, sel: exp.Select, outer: list[Scope], top: bool) -> list[tuple[str, str | None]]:
        scope = self._ctes(sel, outer)
        scopes = [scope, *outer]
        # FROM and JOINs
        from_ = sel.args.get("from_") or sel.args.get("from")
        if from_ is None:
            raise SuiteQLError("Query is missing a FROM clause.")
        self._add_source(from_.this, scope, scopes)
        for join in sel.args.get("joins") or []:
            self._add_source(join.this, scope, scopes)
        # SELECT * expansion
        new_projs: list[exp.Expression] = []
        for proj in sel.expressions:
            if isinstance(proj, exp.Star):
                for src in scope.sources:
                    new_projs.extend(_col(src.alias, n, t, self._ref(src, n)) for n, t in src.columns.items())
            elif isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star):
                src = scope.find(proj.table.lower())
                if src is None:
                    raise SuiteQLError(f"Unknown table alias '{proj.table}'{self.ctx.where(proj)}.")
                new_projs.extend(_col(src.alias, n, t, self._ref(src, n)) for n, t in src.columns.items())
            else:
                new_projs.append(proj)
        sel.set("expressions", new_projs)
        # ROWNUM limits
        where = sel.args.get("where")
        rownum_limit = None
        if where is not None:
            rest, rownum_limit = self._extract_rownum(where.this)
            if rest is None:
                sel.set("where", None)
            else:
                where.set("this", rest)
        # Output names (before any rewriting)
        names = []
        expr_n = 0
        for proj in sel.expressions:
            if isinstance(proj, exp.Alias):
                names.append(proj.alias.lower())
            elif isinstance(proj, exp.Column):
                names.append(proj.name.lower())
            else:
                expr_n += 1
                names.append(f"expr{expr_n}")
        # ORDER BY aliases and positions -> the expressions themselves
        order = sel.args.get("order")
        if order is not None:
            for ordered in order.expressions:
                target = ordered.this
                if isinstance(target, exp.Literal) and not target.is_string:
                    pos = int(target.this)
                    if not 1 <= pos <= len(sel.expressions):
                        raise SuiteQLError("ORDER BY item must be the number of a SELECT-list expression.")
                    ordered.set("this", self._unalias(sel.expressions[pos - 1]).copy())
                elif isinstance(target, exp.Column) and not target.table and target.name.lower() in names:
                    name = target.name.lower()
                    idx = names.index(name)
                    proj = sel.expressions[idx]
                    if isinstance(proj, exp.Alias) or not self._column_in_scope(name, scope):
                        ordered.set("this", self._unalias(proj).copy())
        # Resolve columns and sub-queries everywhere in this block
        for key in ("expressions", "joins", "where", "group", "having", "order", "qualify"):
            value = sel.args.get(key)
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, exp.Join):
                    if item.args.get("on") is not None:
                        self._resolve(item.args["on"], scopes)
                    if item.args.get("using"):
                        raise SuiteQLError("JOIN ... USING is not supported; use ON.")
                else:
                    self._resolve(item, scopes)
        # Rewrite functions and comparisons
        for key in ("expressions", "where", "group", "having", "order"):
            value = sel.args.get(key)
            if value is None:
                continue
            if isinstance(value, list):
                sel.set(key, [self._rewrite(v) for v in value])
            else:
                sel.set(key, self._rewrite(value))
        for join in sel.args.get("joins") or []:
            if join.args.get("on") is not None:
                join.set("on", self._rewrite(join.args["on"]))
        # Orders on non-null keys keep SQLite's index order (Oracle puts NULLs last; keys have none)
        if order is not None:
            for ordered in sel.args["order"].expressions:
                ref = ordered.this.meta.get(_REF_KEY) if isinstance(ordered.this, exp.Column) else None
                if ref and ref[1] in NETSUITE_PRIMARY_KEYS.get(ref[0], ()):
                    ordered.set("nulls_first", not ordered.args.get("desc"))
        if rownum_limit is not None:
            existing = sel.args.get("limit")
            if existing is not None:
                count = existing.args.get("count") if isinstance(existing, exp.Fetch) else existing.expression
                rownum_limit = min(rownum_limit, _int_literal(count, "FETCH FIRST"))
            sel.set("limit", exp.Limit(expression=exp.Literal.number(rownum_limit)))
        types = [type_of(p) for p in sel.expressions]
        if top:
            projs = []
            for i, proj in enumerate(sel.expressions):
                inner = self._unalias(proj)
                if types[i] in TEMPORAL:
                    inner = _display_date(inner)
                projs.append(exp.Alias(this=inner, alias=_ident(f"c{i}")))
            sel.set("expressions", projs)
        return list(zip(names, types))

    def _name_outputs(self, node: exp.Expression, cols) -> None:
        """Alias a derived table's columns with the names the outer query sees them by."""
        while isinstance(node, exp.Subquery):
            node = node.this
        if isinstance(node, exp.Union | exp.Except | exp.Intersect):
            self._name_outputs(node.this, cols)
            return
        if isinstance(node, exp.Select):
            projs = []
            for proj, (name, t) in zip(node.expressions, cols):
                base = self._unalias(proj)
                projs.append(_typed(exp.Alias(this=base, alias=_ident(name)), t))
            node.set("expressions", projs)

    @staticmethod
    def _unalias(node: exp.Expression) -> exp.Expression:
        return node.this if isinstance(node, exp.Alias) else node

    @staticmethod
    def _column_in_scope(name: str, scope: Scope) -> bool:
        return any(name in s.columns for s in scope.sources)

    @staticmethod
    def _ref(src: Source, name: str):
        return (src.table, name, src.alias) if src.table else None

    def _add_source(self, node: exp.Expression, scope: Scope, scopes: list[Scope]) -> None:
        if isinstance(node, exp.Table):
            if node.args.get("db") or node.args.get("catalog"):
                raise SuiteQLError(
                    f"Record '{node.sql(dialect='oracle')}' was not found{self.ctx.where(node)}."
                )
            name = node.name.lower()
            alias = (node.alias or name).lower()
            if scope.find(alias):
                raise SuiteQLError(f"Table alias '{alias}' is used twice{self.ctx.where(node)}.")
            cte = self._lookup_cte(name, scopes)
            if cte is not None:
                columns, table = dict(cte), None
            elif name in TABLE_COLUMNS:
                columns, table = TABLE_COLUMNS[name], name
            else:
                raise SuiteQLError(f"Record '{node.name}' was not found{self.ctx.where(node)}.")
            node.set("this", _ident(name))
            node.set("alias", exp.TableAlias(this=_ident(alias)))
            scope.sources.append(Source(alias, table, columns))
        elif isinstance(node, exp.Subquery):
            # a derived table sees the CTEs of its block but not its sibling tables
            cols = self.statement(node.this, [Scope(ctes=scope.ctes), *scopes[1:]], False)
            self._name_outputs(node.this, cols)
            alias = (node.alias or f"__sq{len(scope.sources)}").lower()
            node.set("alias", exp.TableAlias(this=_ident(alias)))
            scope.sources.append(Source(alias, None, dict(cols)))
        else:
            raise SuiteQLError(f"Unsupported FROM item '{node.sql(dialect='oracle')}'.")

    def _extract_rownum(self, cond: exp.Expression):
        """Split 'ROWNUM <= n' conjuncts off a WHERE condition -> (rest or None, limit or None)."""
        conjuncts = list(cond.flatten()) if isinstance(cond, exp.And) else [cond]
        rest, limit = [], None
        for c in conjuncts:
            n = self._rownum_bound(c)
            if n is None:
                rest.append(c)
            else:
                limit = n if limit is None else min(limit, n)
        if limit is None:
            return cond, None
        if not rest:
            return None, limit
        out = rest[0]
        for c in rest[1:]:
            out = exp.And(this=out, expression=c)
        return out, limit

    @staticmethod
    def _rownum_bound(c: exp.Expression) -> int | None:
        def is_rownum(n):
            return isinstance(n, exp.Column) and not n.table and n.name.upper() == "ROWNUM"

        def num(n):
            if isinstance(n, exp.Literal) and not n.is_string:
                return float(n.this)
            return None

        left, right = c.args.get("this"), c.args.get("expression")
        if isinstance(c, exp.LTE | exp.LT | exp.EQ) and is_rownum(left) and num(right) is not None:
            v = num(right)
        elif isinstance(c, exp.GTE | exp.GT) and is_rownum(right) and num(left) is not None:
            v = num(left)
            c = (
                exp.LT(this=right, expression=left)
                if isinstance(c, exp.GT)
                else exp.LTE(this=right, expression=left)
            )
        else:
            return None
        if isinstance(c, exp.LT):
            return max(0, int(-(-v // 1)) - 1)
        if isinstance(c, exp.EQ):
            return 1 if v == 1 else 0
        return max(0, int(v // 1))

    def _resolve(self, node: exp.Expression, scopes: list[Scope]) -> None:
        """Qualify and type every column of ``node``; process nested queries with this scope outside."""
        stack = [node]
        while stack:
            n = stack.pop()
            if (
                isinstance(n, exp.Subquery | exp.Select | exp.Union | exp.Except | exp.Intersect)
                and n is not node
            ):
                inner = n.this if isinstance(n, exp.Subquery) else n
                self.statement(inner, scopes, False)
                continue
            if isinstance(n, exp.Select | exp.Union) and n is node:
                self.statement(n, scopes, False)
                continue
            if isinstance(n, exp.Column):
                self._resolve_column(n, scopes)
                continue
            if (
                isinstance(n, exp.Dot)
                and isinstance(n.this, exp.Identifier)
                and n.this.name.upper() == "BUILTIN"
            ):
                stack.extend(n.expression.expressions)
                continue
            stack.extend(n.iter_expressions())

    def _resolve_column(self, col: exp.Column, scopes: list[Scope]) -> None:
        name = col.name.lower()
        if isinstance(col.this, exp.Star):
            raise SuiteQLError(f"'*' is not allowed here{self.ctx.where(col)}.")
        if col.args.get("db") or col.args.get("catalog"):
            raise SuiteQLError(f"Invalid identifier '{col.sql(dialect='oracle')}'{self.ctx.where(col)}.")
        if col.table:
            alias = col.table.lower()
            for scope in scopes:
                src = scope.find(alias)
                if src is not None:
                    if name not in src.columns:
                        raise SuiteQLError(self._not_found(name, src, col))
                    self._bind(col, src, name)
                    return
            raise SuiteQLError(f"Invalid identifier '{col.table}.{col.name}'{self.ctx.where(col)}.")
        for scope in scopes:
            matches = [s for s in scope.sources if name in s.columns]
            if len(matches) > 1:
                raise SuiteQLError(f"Column '{col.name}' is ambiguous{self.ctx.where(col)}.")
            if matches:
                self._bind(col, matches[0], name)
                return
        if name == "rownum":
            # ROWNUM as a value: the row's number in this block's output
            if col.parent is None:
                raise SuiteQLError(f"ROWNUM is not supported here{self.ctx.where(col)}.")
            col.replace(_typed(exp.Window(this=exp.RowNumber(), over="OVER"), "integer"))
            return
        first = scopes[0].sources[0] if scopes and scopes[0].sources else None
        if first is not None:
            raise SuiteQLError(self._not_found(name, first, col))
        raise SuiteQLError(f"Invalid identifier '{col.name}'{self.ctx.where(col)}.")

    def _not_found(self, name: str, src: Source, col: exp.Column) -> str:
        record = src.table or src.alias
        return (
            f"Field '{name}' for record '{record}' was not found. Reason: NOT_EXPOSED - "
            f"Not available for channel SEARCH{self.ctx.where(col)}."
        )

    def _bind(self, col: exp.Column, src: Source, name: str) -> None:
        col.set("this", _ident(name))
        col.set("table", _ident(src.alias))
        col.meta[_TYPE_KEY] = src.columns.get(name)
        if src.table:
            col.meta[_REF_KEY] = (src.table, name, src.alias)

    # -- rewriting ---------------------------------------------------------------------------

    def _rewrite(self, node: exp.Expression) -> exp.Expression:
        """Post-order rewrite of Oracle/NetSuite specifics (nested queries were done on their own)."""
        if isinstance(node, exp.Select | exp.Union | exp.Except | exp.Intersect | exp.Subquery):
            return node
        for key, value in list(node.args.items()):
            if isinstance(value, exp.Expression):
                new = self._rewrite(value)
                if new is not value:
                    node.set(key, new)
            elif isinstance(value, list):
                new_list = [self._rewrite(v) if isinstance(v, exp.Expression) else v for v in value]
                if any(a is not b for a, b in zip(new_list, value)):
                    node.set(key, new_list)
        return self._rewrite_node(node)

    def _rewrite_node(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Dot) and isinstance(node.this, exp.Identifier):
            if node.this.name.upper() == "BUILTIN" and isinstance(node.expression, exp.Anonymous | exp.Func):
                return self._builtin(node.expression)
            raise SuiteQLError(f"Invalid identifier '{node.sql(dialect='oracle')}'.")
        if isinstance(node, exp.ToChar):
            return self._to_char(node)
        if isinstance(node, exp.StrToDate | exp.StrToTime):
            fmt = node.args.get("format")
            fmt_text = fmt.this if isinstance(fmt, exp.Literal) else None
            kind = "datetime" if isinstance(node, exp.StrToTime) else "date"
            if kind == "date" and fmt_text and re.search(r"%[HIMSp]", fmt_text):
                kind = "datetime"
            fmt_node = exp.Literal.string(fmt_text) if fmt_text is not None else (fmt or exp.Null())
            return _fn("ns_to_date", node.this, fmt_node, exp.Literal.string(kind), type_=kind)
        if isinstance(node, exp.DateStrToDate | exp.TsOrDsToDate):
            return self._date_value(node.this, "date")
        if isinstance(node, exp.Cast) and node.to.this in (
            exp.DataType.Type.DATE,
            exp.DataType.Type.TIMESTAMP,
            exp.DataType.Type.DATETIME,
        ):
            kind = "date" if node.to.this == exp.DataType.Type.DATE else "datetime"
            return self._date_value(node.this, kind)
        if isinstance(node, exp.Anonymous):
            fname = node.name.upper()
            args = node.expressions
            if fname in ("TO_TIMESTAMP", "TO_DATE"):
                kind = "datetime" if fname == "TO_TIMESTAMP" else "date"
                if len(args) == 1:
                    return _fn("ns_to_date", args[0], exp.Null(), exp.Literal.string(kind), type_=kind)
            if fname == "TRUNC" and args:
                if type_of(args[0]) in TEMPORAL:
                    unit = args[1] if len(args) > 1 else exp.Literal.string("DD")
                    return _fn("ns_trunc", args[0], unit, type_="date")
                return self._numeric_trunc(args)
            if fname == "SYSTIMESTAMP":
                return _fn("ns_sysdate", type_="datetime")
        if isinstance(node, exp.DateTrunc):
            unit = node.args.get("unit")
            unit_text = unit.name if isinstance(unit, exp.Expression) else str(unit or "DD")
            return _fn("ns_trunc", node.this, exp.Literal.string(unit_text), type_="date")
        if isinstance(node, exp.CurrentTimestamp):
            return _fn("ns_sysdate", type_="datetime")
        if isinstance(node, exp.CurrentDate):
            return _fn(
                "ns_trunc", _fn("ns_sysdate", type_="datetime"), exp.Literal.string("DD"), type_="date"
            )
        if isinstance(node, exp.AddMonths):
            kind = type_of(node.this) or "date"
            return _fn("ns_add_months", node.this, node.expression, type_=kind)
        if isinstance(node, exp.Add | exp.Sub):
            lt, rt = type_of(node.this), type_of(node.expression)
            if lt in TEMPORAL and rt in TEMPORAL and isinstance(node, exp.Sub):
                return _typed(
                    exp.Sub(this=_fn("julianday", node.this), expression=_fn("julianday", node.expression)),
                    "float",
                )
            if lt in TEMPORAL and rt not in TEMPORAL:
                days = (
                    node.expression
                    if isinstance(node, exp.Add)
                    else exp.Neg(this=exp.Paren(this=node.expression))
                )
                return _fn("ns_add_days", node.this, days, exp.Literal.string(lt), type_=lt)
            if rt in TEMPORAL and lt not in TEMPORAL and isinstance(node, exp.Add):
                return _fn("ns_add_days", node.expression, node.this, exp.Literal.string(rt), type_=rt)
        if isinstance(node, exp.Extract):
            unit = node.this.name.upper()
            fmt = {
                "YEAR": "%Y",
                "MONTH": "%m",
                "DAY": "%d",
                "HOUR": "%H",
                "MINUTE": "%M",
                "SECOND": "%S",
            }.get(unit)
            if fmt is None:
                raise SuiteQLError(f"EXTRACT({unit} FROM ...) is not supported.")
            return _typed(
                exp.Cast(
                    this=_fn("strftime", exp.Literal.string(fmt), node.expression),
                    to=exp.DataType.build("INTEGER"),
                ),
                "integer",
            )
        if isinstance(node, exp.DPipe):
            # Oracle treats NULL as an empty string when concatenating
            parts = []
            for side in (node.this, node.expression):
                if isinstance(side, exp.Literal | exp.DPipe):
                    parts.append(side)
                else:
                    parts.append(exp.Coalesce(this=side, expressions=[exp.Literal.string("")]))
            return _typed(exp.DPipe(this=parts[0], expression=parts[1]), "text")
        if isinstance(node, exp.Div):
            left = node.this
            return _typed(
                exp.Div(this=exp.Cast(this=left, to=exp.DataType.build("REAL")), expression=node.expression),
                "float",
            )
        if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE | exp.NullSafeEQ):
            left, right = self._align(node.this, node.expression)
            node.set("this", left)
            node.set("expression", right)
            return node
        if isinstance(node, exp.Between):
            this, low, high = node.this, node.args.get("low"), node.args.get("high")
            _, low = self._align(this, low)
            _, high = self._align(this, high)
            if type_of(this) == "date" and "datetime" in (type_of(low), type_of(high)):
                this = self._promote(this)  # promoted once, then both bounds compared as datetimes
                low, high = self._align(this, low)[1], self._align(this, high)[1]
            node.set("this", this)
            node.set("low", low)
            node.set("high", high)
            return node
        if isinstance(node, exp.In):
            t = type_of(node.this)
            if t in TEMPORAL:
                node.set("expressions", [self._align(node.this, v)[1] for v in node.expressions])
            return node
        return node

    def _numeric_trunc(self, args):
        if len(args) == 1:
            return _typed(exp.Cast(this=args[0], to=exp.DataType.build("INTEGER")), "integer")
        s = args[0].sql(dialect="sqlite", identify=True)
        d = args[1].sql(dialect="sqlite", identify=True)
        return _raw(f"CAST(({s}) * power(10, {d}) AS INTEGER) / power(10.0, {d})", "float")

    def _date_value(self, node: exp.Expression, kind: str) -> exp.Expression:
        if isinstance(node, exp.Literal) and node.is_string:
            parsed = parse_date_literal(node.this)
            if parsed is None:
                raise SuiteQLError(f"Invalid date literal '{node.this}'.")
            text, k = parsed
            return _typed(exp.Literal.string(text), k if kind == "date" else "datetime")
        if type_of(node) in TEMPORAL:
            return node
        return _fn("ns_to_date", node, exp.Null(), exp.Literal.string(kind), type_=kind)

    def _align(self, left: exp.Expression, right: exp.Expression):
        """Make a comparison of dates compare like with like (canonical text)."""
        lt, rt = type_of(left), type_of(right)
        if lt in TEMPORAL and isinstance(right, exp.Literal) and right.is_string:
            right = self._date_value(right, lt)
            rt = type_of(right)
        elif rt in TEMPORAL and isinstance(left, exp.Literal) and left.is_string:
            left = self._date_value(left, rt)
            lt = type_of(left)
        if lt == "date" and rt == "datetime":
            left = self._promote(left)
        elif lt == "datetime" and rt == "date":
            right = self._promote(right)
        return left, right

    @staticmethod
    def _promote(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Literal) and node.is_string:
            return _typed(exp.Literal.string(node.this + " 00:00:00"), "datetime")
        return _typed(
            exp.Paren(this=exp.DPipe(this=node, expression=exp.Literal.string(" 00:00:00"))), "datetime"
        )

    def _to_char(self, node: exp.ToChar) -> exp.Expression:
        value = node.this
        fmt = node.args.get("format")
        t = type_of(value)
        if fmt is None:
            if t in TEMPORAL:
                return _display_date(value)
            if t == "float":
                return _fn("ns_to_char", value, exp.Null(), type_="text")
            return _typed(exp.Cast(this=value, to=exp.DataType.build("TEXT")), "text")
        if isinstance(fmt, exp.Literal) and fmt.is_string and t in TEMPORAL:
            sqlite_fmt = oracle_to_sqlite_format(fmt.this)
            if sqlite_fmt is not None:
                return _fn("strftime", exp.Literal.string(sqlite_fmt), value, type_="text")
        return _fn("ns_to_char", value, fmt, type_="text")

    def _builtin(self, fn: exp.Expression) -> exp.Expression:
        name = fn.name.upper() if isinstance(fn, exp.Anonymous) else type(fn).__name__.upper()
        args = fn.expressions if isinstance(fn, exp.Anonymous) else list(fn.iter_expressions())
        if name == "DF":
            if len(args) != 1:
                raise SuiteQLError("BUILTIN.DF takes one argument.")
            return self._display_field(args[0])
        if name == "CONSOLIDATE" and args:
            return args[0]
        if name == "CURRENCY" and args:
            return _typed(exp.Cast(this=args[0], to=exp.DataType.build("TEXT")), "text")
        raise SuiteQLError(f"Unknown function BUILTIN.{name}.")

    def _display_field(self, arg: exp.Expression) -> exp.Expression:
        ref = arg.meta.get(_REF_KEY) if isinstance(arg, exp.Column) else None
        if not ref:
            return arg
        table, column, alias = ref
        if table == "transaction" and column == "status":
            return _raw(_status_case(alias), "text")
        if table == "transaction" and column == "type":
            whens = " ".join(f"WHEN '{code}' THEN '{label}'" for code, label in _TYPE_LABELS.items())
            return _raw(f'CASE "{alias}"."type" {whens} ELSE "{alias}"."type" END', "text")
        target = _REFERENCES.get((table, column))
        if target is None:
            return arg
        value = f'"{alias}"."{column}"'
        return _raw(
            f'(SELECT {_ENTITY_NAME[target]} FROM "{target}" AS __df WHERE __df.id = {value})', "text"
        )


def translate(query: str) -> Translated:
    """SuiteQL -> SQLite. Raises :class:`SuiteQLError` for what NetSuite would refuse."""
    if not isinstance(query, str) or not query.strip():
        raise SuiteQLError("The query is empty.")
    try:
        statements = [s for s in sqlglot.parse(query, read="oracle") if s is not None]
    except TokenError as e:
        raise SuiteQLError(f"Parse of query string failed: {e}.") from None
    except ParseError as e:
        err = (e.errors or [{}])[0]
        desc = err.get("description") or str(e)
        if desc.startswith("Required keyword"):
            desc = "Unexpected end of clause"
        highlight = err.get("highlight")
        near = f" near '{highlight}'" if highlight else ""
        pos = f" (at line {err.get('line')}, column {err.get('col')})" if err.get("line") else ""
        raise SuiteQLError(f"Parse of query string failed: {desc}{near}{pos}.") from None
    if len(statements) != 1:
        raise SuiteQLError("Exactly one SELECT statement is expected.")
    root = statements[0]
    if not isinstance(root, exp.Select | exp.Union | exp.Except | exp.Intersect):
        raise SuiteQLError("Only SELECT statements are supported.")
    tr = _Translator(query)
    cols = tr.statement(root, [], True)
    # The query's own FETCH FIRST / OFFSET / ROWNUM limit -> paging parameters
    own_limit, own_offset = None, 0
    limit = root.args.get("limit")
    if isinstance(limit, exp.Fetch):
        count = limit.args.get("count")
        own_limit = _int_literal(count, "FETCH FIRST") if count is not None else 1
        if limit.args.get("limit_options") is not None and limit.args["limit_options"].args.get("percent"):
            raise SuiteQLError("FETCH FIRST n PERCENT is not supported.")
    elif isinstance(limit, exp.Limit):
        own_limit = _int_literal(limit.expression, "Row limit")
    root.set("limit", None)
    offset = root.args.get("offset")
    if offset is not None:
        own_offset = _int_literal(offset.expression, "OFFSET")
        root.set("offset", None)
    try:
        sql = root.sql(dialect="sqlite", identify=True)
        count_sql = _count_sql(root)
    except Exception as e:  # noqa: BLE001 - sqlglot's own unsupported features
        raise SuiteQLError(f"Unsupported query construct: {e}.") from None
    return Translated(
        sql=sql, names=[n for n, _ in cols], own_limit=own_limit, own_offset=own_offset, count_sql=count_sql
    )


def _count_sql(root: exp.Expression) -> str:
    """COUNT(*) of the query's rows, without computing its columns or ordering when that is safe."""
    counted = root.copy()
    counted.set("order", None)
    simple = (
        isinstance(counted, exp.Select)
        and not counted.args.get("distinct")
        and not counted.args.get("group")
        and not counted.args.get("having")
        and not any(p.find(exp.AggFunc, exp.Window) for p in counted.expressions)
    )
    if simple:
        counted.set("expressions", [exp.Count(this=exp.Star())])
        return counted.sql(dialect="sqlite", identify=True)
    return f"SELECT COUNT(*) FROM ({counted.sql(dialect='sqlite', identify=True)})"


class TranslationCache:
    """Translations by query text (paging re-sends the same query for every page)."""

    def __init__(self, size: int = 256):
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Translated | SuiteQLError] = OrderedDict()

    def get(self, query: str) -> Translated:
        with self._lock:
            hit = self._items.get(query)
            if hit is not None:
                self._items.move_to_end(query)
        if hit is None:
            try:
                hit = translate(query)
            except SuiteQLError as e:
                hit = e
            with self._lock:
                self._items[query] = hit
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        if isinstance(hit, SuiteQLError):
            raise SuiteQLError(hit.message)
        return hit
