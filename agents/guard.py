"""The SQL guard: every query an agent runs comes through here, whoever wrote it (planner, semantic layer,
LLM, plugin). Security by construction, in layers:

1. **Parse** with sqlglot (DuckDB dialect). Exactly one statement, and it must be a query (SELECT, or a
   UNION/INTERSECT/EXCEPT of them). Anything that does not parse is refused.
2. **Walk every node**: no DML or DDL anywhere (CTEs and subqueries included), no ``SELECT ... INTO``,
   no commands, settings, pragmas, ``COPY``/``ATTACH``/``INSTALL``/``LOAD``, no parameters or variables.
   (Recursive CTEs and queries without a mart are allowed: the resource budget bounds them.)
3. **Functions**: every call must be on the allow-list of :mod:`agents.sql_policy`, by the name DuckDB
   will run it as (computational functions only: no file, network, extension, system or row-making
   functions); table functions in ``FROM`` only from its short list (``unnest``). Texts too long or
   nested too deep are refused before parsing; any error of the guard itself is a refusal.
4. **Tables**: every table reference is resolved as DuckDB binds it (a qualified name is a table; an
   unqualified one is a CTE where sqlglot's scope analysis finds one visible). Every real table must be
   a mart of the catalogue, in the ``marts`` schema.
5. **Scope, applied by the guard**: every reference to a mart is rewritten into a subquery that applies
   the caller's scope (``rep_id = :rep`` for a rep, ``territory = :territory`` for a manager), so joins,
   subqueries, unions and CTEs cannot reach a row outside it. Values are inserted as SQL literals by
   sqlglot, never pasted as text.
6. **Limits**: the outermost query gets a LIMIT (at most ``agent_max_rows``); comments are dropped.
7. **Check what runs**: the rewritten query is rendered for DuckDB, parsed again and every check above
   runs on that text, which is what executes (a rendering never turns a refused function into an allowed
   spelling), with a check that every mart in it is read through its scoped ``SELECT *``; then DuckDB's
   own parser reads that text and the same rules are checked on its parse tree (:mod:`agents.engine_check`).
8. **Execution** on a read-only DuckDB connection with ``enable_external_access = false``, a resource
   budget (``memory_limit``, ``max_temp_directory_size``, ``threads``: :func:`scc.warehouse.reader_budget`)
   and ``lock_configuration = true`` set before any query runs; interrupted past ``agent_query_timeout``;
   a result larger than ``agent_max_result_bytes`` is refused before it is serialised. On PostgreSQL: a
   read-only transaction with ``statement_timeout``.

Every refusal is an :class:`agents.errors.Refusal` with a message a person can read.
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import re
import threading
import time
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from agents.catalog import MARTS_SCHEMA, Catalog, Mart
from agents.engine_check import check_engine_view
from agents.errors import QueryFailed, Refusal
from agents.scope import Scope
from agents.sql_policy import ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS, POSTGRES_FUNCTIONS
from scc.config import Settings, get_settings
from scc.warehouse import READERS, marts_path, release_readers

log = logging.getLogger(__name__)

DIALECT = "duckdb"

# Statement and clause types that must not appear anywhere in a query.
_FORBIDDEN_NAMES = (
    "DDL", "DML", "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterColumn",
    "AlterRename", "AlterSet", "AlterSession", "TruncateTable", "Copy", "Attach", "Detach", "Install",
    "LoadData", "Export", "Pragma", "Set", "SetItem", "Use", "Command", "Transaction", "Commit",
    "Rollback", "Describe", "Summarize", "Show", "Grant", "Revoke", "Kill", "Analyze", "Cache",
    "Uncache", "Refresh", "Lock", "LockingStatement", "Into", "Execute", "ExecuteSql", "Declare",
    "Put", "Get", "Undrop", "Placeholder", "Parameter", "SessionParameter", "Block", "IfBlock",
    "WhileBlock", "LoopBlock", "RepeatBlock", "UserDefinedFunction", "ToFile", "ReadCSV", "ReadParquet",
    "Pivot", "Unpivot",
)
FORBIDDEN_NODES = tuple(getattr(exp, n) for n in _FORBIDDEN_NAMES if isinstance(getattr(exp, n, None), type))
FILE_READERS = tuple(getattr(exp, n) for n in ("ReadCSV", "ReadParquet") if isinstance(getattr(exp, n, None), type))

# Function nodes DuckDB runs as syntax, not as a named call, when their rendering has no "name(" head:
# operators (sqlglot models AND, OR, ``||`` ... as functions), CASE, ``[...]``, ``{...}``.
SYNTAX_FUNCTIONS = (exp.Binary, exp.Unary, exp.Connector, exp.Case, exp.If, exp.Array, exp.Struct, exp.Cast,
                    exp.TryCast, exp.Extract)
_CALL_HEAD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(|$)")  # "name(...)", or a keyword: CURRENT_DATE

# Longest query text, deepest nesting (parentheses, and nodes of the parsed tree) the guard reads: past
# these a query is refused before sqlglot's recursive parser or generator could overflow the stack.
MAX_SQL_CHARS = 100_000
MAX_PAREN_DEPTH = 64
MAX_TREE_DEPTH = 256


@dataclass
class GuardedQuery:
    """A query the guard accepted: the SQL that will run, and what it reads."""

    sql: str
    original_sql: str
    marts: list[str]
    limit: int
    scope: Scope


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    sql: str
    truncated: bool = False
    seconds: float = 0.0
    marts: list[str] = field(default_factory=list)


def _refuse(message: str, detail: str | None = None, correctable: bool = False):
    raise Refusal(message, detail=detail, correctable=correctable)


def _written_name(node: exp.Func) -> str:
    """The function's name as the query wrote it (for messages)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    try:
        return node.sql_name().lower()
    except Exception:  # noqa: BLE001 - a few node types have no SQL name
        return type(node).__name__.lower()


_HEADS: dict[tuple, str | None] = {}


def executed_name(node: exp.Func, dialect: str = DIALECT) -> str | None:
    """The name the engine will run this call as: the head of its rendering (``GENERATOR(n)`` -> ``range``,
    ``CURRENT_DATE`` -> ``current_date``), or None for syntax (CASE, ``||``, ``[...]``).

    Rendering a call renders its whole subtree, so the head is cached by the node's type and the arguments
    it has (what decides the head). The cache only speeds up the first check: what finally runs is checked
    by DuckDB's own parser (agents.engine_check), uncached."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    key = (type(node), dialect, tuple(sorted(k for k, v in node.args.items() if v is not None)))
    if key not in _HEADS:
        head = _CALL_HEAD.match(node.sql(dialect=dialect))
        _HEADS[key] = head.group(1).lower() if head else None
    return _HEADS[key]


def _check_functions(tree: exp.Expression, dialect: str = DIALECT) -> None:
    """Every function call runs as a function of the allow-list (:mod:`agents.sql_policy`)."""
    functions = ALLOWED_FUNCTIONS if dialect == DIALECT else ALLOWED_FUNCTIONS | POSTGRES_FUNCTIONS
    for node in tree.find_all(exp.Func):
        if isinstance(node, FORBIDDEN_NODES):
            continue  # reported by _check_nodes as what it is
        name = executed_name(node, dialect)
        if name is None and isinstance(node, SYNTAX_FUNCTIONS):
            continue
        allowed = ALLOWED_TABLE_FUNCTIONS if isinstance(node.parent, exp.Table) else functions
        if name not in allowed:
            written = _written_name(node)
            runs_as = f" (it runs as {name}())" if name and name != written else ""
            _refuse(f"The function {written}(){runs_as} is not on the list of functions queries may use: "
                    "queries only compute over the marts, they do not make rows, read files, the network, "
                    "settings or the system.", correctable=True)


def _check_nodes(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, FILE_READERS):
            _refuse(f"The function {_written_name(node)}() reads files: queries may only read the marts.")
        if isinstance(node, FORBIDDEN_NODES):
            kind = type(node).__name__.upper()
            _refuse(f"Only read-only SELECT queries are allowed; this one contains {kind}.")
        if isinstance(node, exp.Table) and not isinstance(node.this, (exp.Identifier, exp.Func)):
            _refuse("Only the marts can be read in FROM, by name.")
        if isinstance(node, (exp.Lateral,)) and node.args.get("view"):
            _refuse("LATERAL VIEW is not allowed.")


def _check_size(sql: str) -> None:
    """Refuse a text too long or too deeply parenthesised to parse safely (before parsing it)."""
    if len(sql) > MAX_SQL_CHARS:
        _refuse(f"The query is too long ({len(sql):,} characters; at most {MAX_SQL_CHARS:,}).", correctable=True)
    depth = deepest = 0
    quote = None
    for char in sql:
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    if deepest > MAX_PAREN_DEPTH:
        _refuse(f"The query nests parentheses {deepest} deep; at most {MAX_PAREN_DEPTH} are allowed.",
                correctable=True)


def _check_depth(tree: exp.Expression) -> None:
    """Refuse a parsed tree deeper than MAX_TREE_DEPTH (long chains of operators nest too)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            _refuse(f"The query's expressions nest more than {MAX_TREE_DEPTH} deep; simplify it.", correctable=True)
        stack.extend((child, depth + 1) for child in node.iter_expressions())


def parse_one_query(sql: str) -> exp.Expression:
    """Parse ``sql`` as exactly one read-only query, or refuse."""
    if not sql or not sql.strip():
        _refuse("There is no query to run.")
    if "\x00" in sql:
        _refuse("The query contains a NUL character.")
    _check_size(sql)
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except ParseError as error:
        _refuse("The query is not valid SQL, so it was not run.", detail=str(error), correctable=True)
    except SqlglotError as error:
        _refuse("The query could not be read, so it was not run.", detail=str(error), correctable=True)
    if len(statements) != 1:
        _refuse(f"Exactly one statement is allowed; this has {len(statements)}.")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except)):
        _refuse(f"Only SELECT queries are allowed; this is {type(tree).__name__.upper()}.")
    _check_depth(tree)
    return tree


def scope_filter(mart: Mart, scope: Scope) -> tuple[str, str] | None:
    """(column, value) that every read of ``mart`` is limited by for ``scope``, or None (all rows)."""
    if scope.sees_everything or mart.public:
        return None
    if scope.role == "sales_rep":
        if not mart.rep_column:
            _refuse(f"The mart {mart.name} is not available to a sales rep (it cannot be limited to your rows).")
        return mart.rep_column, scope.rep_id
    if scope.role == "sales_manager":
        if not mart.territory_column:
            _refuse(f"The mart {mart.name} is not available to a manager (it cannot be limited to a territory).")
        return mart.territory_column, scope.territory
    _refuse("This role may not read the marts.")  # pragma: no cover - Scope validates roles


def _allowed_catalogs(settings: Settings) -> set[str]:
    from scc.warehouse import duckdb_path, is_postgres

    if is_postgres(settings):
        from urllib.parse import urlparse

        return {(urlparse(settings.warehouse_url).path or "/").lstrip("/").lower()}
    return {duckdb_path(settings).stem.lower()}


def _resolve_tables(tree: exp.Expression, catalog: Catalog, settings: Settings) -> list[tuple[exp.Table, Mart]]:
    """Every real table reference with its mart; refuses anything else.

    Resolved as DuckDB binds names: a qualified name (``marts.fct_orders``) is always a table, even where
    a CTE of that name is visible; an unqualified name is a CTE where sqlglot's scope analysis finds one
    visible, else a table.
    """
    real: set[int] = set()
    cte_refs: set[int] = set()
    for scope_ in traverse_scope(tree):
        for source in scope_.sources.values():
            if isinstance(source, exp.Table):
                real.add(id(source))
        for table in scope_.tables:
            if id(table) not in real:
                cte_refs.add(id(table))
    catalogs = _allowed_catalogs(settings)
    found = []
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Func):
            continue  # a table function: _check_functions holds it to the allow-list
        qualified = bool(table.args.get("db") or table.args.get("catalog"))
        if not qualified and id(table) in cte_refs:
            continue
        if not qualified and id(table) not in real:
            _refuse(f"The table reference {table.sql(DIALECT)} is not allowed here.")
        name = table.name.lower()
        schema = (table.db or "").lower()
        catalog_name = (table.catalog or "").lower()
        if catalog_name and catalog_name not in catalogs:
            _refuse(f"Only the warehouse's marts can be read, not {table.sql(DIALECT)}.")
        if schema and schema != MARTS_SCHEMA:
            _refuse(f"Only the {MARTS_SCHEMA} schema can be read, not {schema}.{name}.")
        mart = catalog.mart(name)
        if mart is None or not mart.built:
            _refuse(f"The table {name} is not a mart of the catalogue; the marts are: {', '.join(sorted(catalog.marts))}.",
                    correctable=True)
        extra = {k for k, v in table.args.items() if v and k not in ("this", "db", "catalog", "alias")}
        if extra:
            _refuse(f"Table options ({', '.join(sorted(extra))}) are not allowed on {name}.")
        found.append((table, mart))
    return found


def _apply_limit(tree: exp.Expression, max_rows: int) -> int:
    """Cap the outermost query at ``max_rows + 1`` rows (one more, to know whether it was cut)."""
    current = tree.args.get("limit")
    value = None
    if isinstance(current, exp.Limit):
        expr = current.expression
        if isinstance(expr, exp.Literal) and expr.is_int:
            value = int(expr.this)
    if value is not None and value <= max_rows:
        return value
    tree.set("limit", exp.Limit(expression=exp.Literal.number(max_rows + 1)))
    return max_rows + 1


def guard(sql: str, scope: Scope, catalog: Catalog, *, settings: Settings | None = None,
          max_rows: int | None = None) -> GuardedQuery:
    """Check ``sql``, rewrite it to apply ``scope`` and the row limit, and check again what will run.

    Refuses with a clear message, whatever goes wrong inside: an error of the guard itself (sqlglot on odd
    input) is a refusal the LLM path may correct, never an exception of another kind."""
    settings = settings or get_settings()
    max_rows = max_rows or settings.agent_max_rows
    try:
        return _guard(sql, scope, catalog, settings, max_rows)
    except Refusal:
        raise
    except RecursionError:
        _refuse("The query nests too deeply to be checked, so it was not run; simplify it.", correctable=True)
    except Exception as error:  # noqa: BLE001 - whatever sqlglot raises on odd input is a refusal
        log.info("guard could not check a query: %s: %s", type(error).__name__, error)
        _refuse("The query could not be checked, so it was not run; rewrite it in plain SQL.",
                detail=f"{type(error).__name__}: {error}", correctable=True)


def _guard(sql: str, scope: Scope, catalog: Catalog, settings: Settings, max_rows: int) -> GuardedQuery:
    tree = parse_one_query(sql)
    _check_nodes(tree)
    _check_functions(tree)
    tables = _resolve_tables(tree, catalog, settings)
    for table, mart in tables:
        alias = table.args.get("alias")
        alias = alias.copy() if alias is not None else exp.TableAlias(this=exp.to_identifier(mart.name))
        table.replace(exp.Subquery(this=_scoped_read(mart, scope), alias=alias))
    limit = _apply_limit(tree, max_rows)
    final = tree.sql(dialect=DIALECT, comments=False)
    _check_final(final, scope, catalog, settings, limit)
    check_engine_view(final, catalog, {mart.name: scope_filter(mart, scope) for _, mart in tables})
    return GuardedQuery(sql=final, original_sql=sql, marts=sorted({m.name for _, m in tables}), limit=limit,
                        scope=scope)


def _scoped_read(mart: Mart, scope: Scope) -> exp.Select:
    """``SELECT * FROM marts.<mart> [WHERE <scope>]``: what every reference to a mart becomes."""
    inner = exp.select("*").from_(exp.table_(mart.name, db=MARTS_SCHEMA))
    limited_by = scope_filter(mart, scope)
    if limited_by is None:
        return inner
    column, value = limited_by
    return inner.where(exp.column(column).eq(exp.Literal.string(value)))


def _check_final(final: str, scope: Scope, catalog: Catalog, settings: Settings, limit: int) -> None:
    """Parse the SQL that will run and check it again: every statement, node and function rule, and that
    every table it reads is a mart read exactly through its scoped ``SELECT *`` (so no rendering of
    sqlglot's can turn a checked query into another one)."""
    tree = parse_one_query(final)
    _check_nodes(tree)  # (its functions are checked by DuckDB's own parser, in agents.engine_check)
    for table, mart in _resolve_tables(tree, catalog, settings):
        select = table.parent.parent if isinstance(table.parent, exp.From) else None
        expected = _scoped_read(mart, scope).sql(dialect=DIALECT)
        if (not isinstance(select, exp.Select) or not isinstance(select.parent, exp.Subquery)
                or table.args.get("alias") is not None or select.sql(dialect=DIALECT) != expected):
            _refuse("The query could not be limited to your scope, so it was not run.",
                    detail=f"unscoped read of {mart.name} in the final SQL")
    outer = tree.args.get("limit")
    value = outer.expression if isinstance(outer, exp.Limit) else None
    if not (isinstance(value, exp.Literal) and value.is_int and int(value.this) <= limit):
        _refuse("The query could not be limited in rows, so it was not run.")


# --- execution ------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value
    return value


# One pool of read-only connections per process, shared with the API (scc.warehouse.READERS).
POOL = READERS


def release_connections() -> None:
    """Close the agents' idle warehouse connections now (before a build in this process, in tests)."""
    release_readers()


def execute(query: GuardedQuery, *, settings: Settings | None = None, max_rows: int | None = None,
            timeout: float | None = None) -> QueryResult:
    """Run a guarded query read-only with the time limit; the rows past ``max_rows`` are dropped."""
    from scc.warehouse import is_postgres

    settings = settings or get_settings()
    max_rows = max_rows or settings.agent_max_rows
    timeout = timeout or settings.agent_query_timeout
    started = time.perf_counter()
    if is_postgres(settings):
        columns, rows = _execute_postgres(query.sql, settings, timeout)
    else:
        columns, rows = _execute_duckdb(query.sql, settings, timeout)
    truncated = len(rows) > max_rows
    rows = [tuple(_plain(v) for v in row) for row in rows[:max_rows]]
    return QueryResult(columns=columns, rows=rows, sql=query.sql, truncated=truncated,
                       seconds=time.perf_counter() - started, marts=query.marts)


def _fetch_bounded(cursor, max_bytes: int, batch: int = 256) -> list[tuple]:
    """All rows of the cursor's result, fetched a batch at a time, refusing a result larger than
    ``max_bytes`` (text and bytes by length, other values by 16) before it is all held and serialised."""
    rows: list[tuple] = []
    size = 0
    while chunk := cursor.fetchmany(batch):
        for row in chunk:
            size += sum(len(v) if isinstance(v, (str, bytes)) else 16 for v in row)
        if size > max_bytes:
            raise QueryFailed(f"The answer is larger than {max_bytes / 1e6:g} MB, too large to show; ask for "
                              "fewer rows or columns.")
        rows.extend(chunk)
    return rows


def _execute_duckdb(sql: str, settings: Settings, timeout: float):
    import duckdb

    path = marts_path(settings)
    if not path.exists():
        raise QueryFailed("The warehouse is empty: run `scc sync` and `scc build` first.", correctable=False)
    try:
        entry, cursor = POOL.acquire(path)
    except (duckdb.Error, PermissionError) as error:
        raise QueryFailed("The warehouse cannot be opened read-only right now (is a build running?).",
                          detail=str(error), correctable=False) from error
    timer = threading.Timer(timeout, cursor.interrupt)
    timer.start()
    try:
        cursor.execute(sql)
        rows = _fetch_bounded(cursor, settings.agent_max_result_bytes)
        columns = [d[0] for d in cursor.description]
        return columns, rows
    except duckdb.InterruptException as error:
        raise QueryFailed(f"The query took longer than {timeout:g} s and was stopped.", correctable=False) from error
    except duckdb.OutOfMemoryException as error:
        raise QueryFailed("The query needed more memory than an answer may use and was stopped; ask for less "
                          "(fewer rows, columns or combinations).", detail=str(error).split("\n")[0]) from error
    except duckdb.Error as error:
        message = str(error).split("\n")[0]
        raise QueryFailed(f"The query failed: {message}", detail=str(error)) from error
    finally:
        timer.cancel()
        POOL.release(entry, cursor)


def _check_transpiled(pg_sql: str) -> None:
    """The PostgreSQL text is another rendering: parse it and check its statements and functions again."""
    try:
        statements = sqlglot.parse(pg_sql, read="postgres")
        if len(statements) != 1 or statements[0] is None:
            _refuse("The query could not be translated for PostgreSQL as one statement, so it was not run.")
        _check_nodes(statements[0])
        _check_functions(statements[0], dialect="postgres")
    except Refusal:
        raise
    except Exception as error:  # noqa: BLE001 - as in guard(): whatever goes wrong is a refusal
        _refuse("The query could not be checked for PostgreSQL, so it was not run.", detail=str(error))


def _execute_postgres(sql: str, settings: Settings, timeout: float):
    pg_sql = sqlglot.transpile(sql, read=DIALECT, write="postgres")[0]
    _check_transpiled(pg_sql)
    return _run_postgres(pg_sql, settings, timeout)


def _run_postgres(pg_sql: str, settings: Settings, timeout: float):
    """Run PostgreSQL text in a read-only transaction with the time limit (the last layer, below the guard)."""
    import psycopg

    url = settings.warehouse_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=False) as conn:
        conn.read_only = True
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                cur.execute(pg_sql)
                rows = _fetch_bounded(cur, settings.agent_max_result_bytes)
                columns = [d.name for d in cur.description]
            conn.rollback()
            return columns, rows
        except psycopg.errors.QueryCanceled as error:
            raise QueryFailed(f"The query took longer than {timeout:g} s and was stopped.") from error
        except psycopg.Error as error:
            raise QueryFailed(f"The query failed: {str(error).splitlines()[0]}", detail=str(error)) from error


def run_sql(sql: str, scope: Scope, catalog: Catalog, *, settings: Settings | None = None,
            max_rows: int | None = None, timeout: float | None = None) -> QueryResult:
    """Guard then execute: the one way agent code runs SQL."""
    settings = settings or get_settings()
    query = guard(sql, scope, catalog, settings=settings, max_rows=max_rows)
    return execute(query, settings=settings, max_rows=max_rows, timeout=timeout)


# --- questions -------------------------------------------------------------------------------------------

WRITE_INTENT = re.compile(
    r"\b(drop|truncate|alter)\s+(table|schema|database|view|column|index|macro|secret)\b|"
    r"\bdelete\s+from\b|\binsert\s+into\b|\bupdate\s+[\w.\"]+\s+set\b|\bmerge\s+into\b|\bcreate\s+(or\s+replace\s+)?"
    r"(table|view|schema|macro|secret|index|database)\b|\bgrant\s+\w+\s+on\b|"
    r"^\s*(please\s+|can you\s+|could you\s+)?(cancel|delete|remove|erase|wipe|void|drop|truncate|destroy|purge|"
    r"overwrite|modify|alter)\b(?!.*\?\s*$)|"
    r"^\s*(please\s+|can you\s+|could you\s+)?(update|change|set)\s+(the\s+|all\s+|every\s+)?\w*\s*"
    r"(table|records?|rows?|orders?|customers?|deals?|opportunit\w+|invoices?|data)\b",
    re.I,
)
SYSTEM_INTENT = re.compile(
    r"\b(read_(csv|csv_auto|parquet|json|json_auto|text|blob)|parquet_scan|sqlite_scan|postgres_scan|glob)\s*\(|"
    r"(^|\s)/(etc|proc|root|home|tmp|var|usr|dev)/|\bfile://|\bs3://|\bhttps?://|"
    r"\b(attach|detach|install|pragma|checkpoint|vacuum)\b\s+['\"\w]|\bload\s+(httpfs|extension|spatial|postgres)\b|"
    r"\bcopy\b[\s\S]*\b(to|from)\s+['\"]|\bexport\s+(the\s+)?database\b|\benable_external_access\b|"
    r"\block_configuration\b|\bgetenv\s*\(|\bcurrent_setting\s*\(|\bduckdb_\w+|\binformation_schema\b|"
    r"\braw_(netsuite|salesforce)\b|\bsqlite_master\b|\bpg_catalog\b|"
    r"\bignore\s+(all\s+|any\s+|the\s+|your\s+)?(previous|prior|above|earlier)\s+(instructions|rules|prompts?)\b|"
    r"\b(system|developer)\s+prompt\b|\byour\s+instructions\b|\bjailbreak\b|\bact as\s+(an?\s+)?(admin|dba|root)\b|"
    r";\s*(drop|delete|update|insert|alter|attach|copy|create)\b",
    re.I,
)


def screen_question(question: str) -> Refusal | None:
    """A refusal for a question that asks to change data, reach the system, or override the rules.

    The agents only read (the transactions agent only drafts): these requests are refused up front with
    a clear message, before any planning. The SQL guard would stop them anyway.
    """
    if WRITE_INTENT.search(question):
        return Refusal("I only read data: I can't change, delete or cancel anything. To change an order, draft it "
                       "here (\"create a sales order ...\") and submit it through the review step.")
    if SYSTEM_INTENT.search(question):
        return Refusal("I only answer questions about the sales marts: I don't read files, other schemas, system "
                       "settings or the network, and I don't run SQL or instructions typed into a question.")
    return None
