"""The SQL guard: every query an agent runs comes through here, whoever wrote it (planner, semantic layer,
LLM, plugin). Security by construction, in layers:

1. **Parse** with sqlglot (DuckDB dialect). Exactly one statement, and it must be a query (SELECT, or a
   UNION/INTERSECT/EXCEPT of them). Anything that does not parse is refused.
2. **Walk every node**: no DML or DDL anywhere (CTEs and subqueries included), no ``SELECT ... INTO``,
   no commands, settings, pragmas, ``COPY``/``ATTACH``/``INSTALL``/``LOAD``, no parameters or variables,
   no recursive CTEs.
3. **Functions**: no file, network, extension or system functions (``read_csv``, ``read_parquet``,
   ``glob``, ``getenv``, ``current_setting``, ``duckdb_*``, ``pragma_*``, ``*_scan``, ``query`` ...);
   functions sqlglot does not know must be on a short allow list; no table functions in ``FROM``.
4. **Tables**: sqlglot's scope analysis resolves every table reference (as the database will: a CTE
   name shadows a table only where the CTE is visible). Every real table must be a mart of the
   catalogue, in the ``marts`` schema.
5. **Scope, applied by the guard**: every reference to a mart is rewritten into a subquery that applies
   the caller's scope (``rep_id = :rep`` for a rep, ``territory = :territory`` for a manager), so joins,
   subqueries, unions and CTEs cannot reach a row outside it. Values are inserted as SQL literals by
   sqlglot, never pasted as text.
6. **Limits**: the outermost query gets a LIMIT (at most ``agent_max_rows``); comments are dropped.
7. **Execution** on a read-only DuckDB connection with ``enable_external_access = false`` and
   ``lock_configuration = true`` set before the query runs, interrupted past ``agent_query_timeout``.
   On PostgreSQL: a read-only transaction with ``statement_timeout``.

Every refusal is an :class:`agents.errors.Refusal` with a message a person can read.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import threading
import time
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.scope import traverse_scope

from agents.catalog import MARTS_SCHEMA, Catalog, Mart
from agents.errors import QueryFailed, Refusal
from agents.scope import Scope
from scc.config import Settings, get_settings
from scc.warehouse import READERS, marts_path, release_readers

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

# Function names (lower case) that reach outside the warehouse or inspect the system.
FORBIDDEN_FUNCTION = re.compile(
    r"^(read_\w*|sniff_\w*|parquet_\w*|\w*_scan|glob|getenv|getvariable|current_setting|set_\w*|"
    r"duckdb_\w*|pragma_\w*|sqlite_\w*|postgres_\w*|mysql_\w*|iceberg_\w*|delta_\w*|http\w*|s3\w*|"
    r"query|query_table|load\w*|install\w*|system|shell|export\w*|import\w*|copy\w*|attach|detach|"
    r"checkpoint|force_checkpoint|enable_\w*|disable_\w*|pg_\w*|txid\w*|nextval|currval|setseed|"
    r"current_(user|role|database|catalog|schema|schemas|query|setting|connection_id|transaction_id)|"
    r"user|session_user|version|which_secret|secret\w*|write\w*|file\w*|\w*_file|list_files|"
    r"json_execute_serialized_sql|json_serialize_sql|from_json_sql|sql_\w*|\w*_extension\w*|"
    r"test_all_types|test_vector_types|summary|repeat_row|range|generate_series|unnest_table)$"
)
# DuckDB functions sqlglot does not model (parsed as Anonymous) that are plainly computational.
ANONYMOUS_ALLOWED = frozenset({
    "date_diff", "datediff", "date_sub", "date_part", "datepart", "date_trunc", "datetrunc", "make_date",
    "last_day", "dayname", "monthname", "quarter", "yearweek", "isodow", "dayofweek", "dayofmonth",
    "dayofyear", "weekofyear", "epoch", "epoch_ms", "to_days", "to_months", "to_years", "to_weeks",
    "greatest", "least", "ifnull", "nullif", "coalesce", "round_even", "trunc", "sign", "ln", "log10",
    "log2", "nullifzero", "zeroifnull", "median", "mode", "quantile_cont", "quantile_disc", "quantile",
    "list_value", "list_aggregate", "string_agg", "listagg", "list", "array_agg", "bool_and", "bool_or",
    "arg_max", "arg_min", "max_by", "min_by", "count_if", "countif", "sum_no_overflow", "fsum", "favg",
    "strip_accents", "lcase", "ucase", "contains", "starts_with", "ends_with", "prefix", "suffix",
    "split_part", "string_split", "regexp_matches", "regexp_replace", "regexp_extract", "format",
    "printf", "left", "right", "lpad", "rpad", "ltrim", "rtrim", "trim", "concat_ws", "length",
    "strlen", "nfc_normalize", "jaro_winkler_similarity", "levenshtein", "damerau_levenshtein",
    "hamming", "mismatches", "jaccard", "editdist3", "array_length", "len", "cardinality", "isnan",
    "isinf", "isfinite", "try_cast", "typeof", "row_number", "rank", "dense_rank", "percent_rank",
    "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value", "first", "last",
    "any_value", "product", "entropy", "kurtosis", "skewness", "regr_slope", "regr_intercept",
    "corr", "covar_pop", "covar_samp", "stddev", "stddev_pop", "stddev_samp", "var_pop", "var_samp",
    "variance", "time_bucket", "age", "century", "decade", "millennium", "era", "week", "yearweek",
    "strftime", "strptime", "try_strptime", "today", "bit_count", "histogram", "fdiv", "fmod",
    "divide", "add", "subtract", "multiply", "even", "gamma", "lgamma", "factorial", "cbrt", "pi",
    "radians", "degrees", "bar", "format_bytes", "formatreadabledecimalsize", "to_base", "concat",
})


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


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    try:
        return node.sql_name().lower()
    except Exception:  # noqa: BLE001
        return type(node).__name__.lower()


CLOCK_FUNCTIONS = frozenset({"CurrentDate", "CurrentTime", "CurrentTimestamp", "CurrentDatetime", "CurrentTimestampLTZ"})


def _check_functions(tree: exp.Expression) -> None:
    for node in tree.find_all(exp.Func):
        name = _function_name(node)
        names = {name, type(node).__name__.lower()}
        system_info = type(node).__name__.startswith("Current") and type(node).__name__ not in CLOCK_FUNCTIONS
        if system_info or any(FORBIDDEN_FUNCTION.match(n) for n in names):
            _refuse(f"The function {name}() is not allowed: queries may only compute over the marts, "
                    "not read files, the network, settings or the system.")
        if isinstance(node, exp.Anonymous) and name not in ANONYMOUS_ALLOWED:
            _refuse(f"The function {name}() is not on the list of functions queries may use.")


def _check_nodes(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, FORBIDDEN_NODES):
            kind = type(node).__name__.upper()
            _refuse(f"Only read-only SELECT queries are allowed; this one contains {kind}.")
        if isinstance(node, exp.With) and node.args.get("recursive"):
            _refuse("Recursive queries (WITH RECURSIVE) are not allowed.")
        if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
            _refuse("Table functions are not allowed in FROM; read the marts by name.")
        if isinstance(node, (exp.Lateral,)) and node.args.get("view"):
            _refuse("LATERAL VIEW is not allowed.")


def parse_one_query(sql: str) -> exp.Expression:
    """Parse ``sql`` as exactly one read-only query, or refuse."""
    if not sql or not sql.strip():
        _refuse("There is no query to run.")
    if "\x00" in sql:
        _refuse("The query contains a NUL character.")
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
    return tree


def _scope_predicate(mart: Mart, scope: Scope) -> exp.Expression | None:
    if scope.sees_everything or mart.public:
        return None
    if scope.role == "sales_rep":
        if not mart.rep_column:
            _refuse(f"The mart {mart.name} is not available to a sales rep (it cannot be limited to your rows).")
        return exp.column(mart.rep_column).eq(exp.Literal.string(scope.rep_id))
    if scope.role == "sales_manager":
        if not mart.territory_column:
            _refuse(f"The mart {mart.name} is not available to a manager (it cannot be limited to a territory).")
        return exp.column(mart.territory_column).eq(exp.Literal.string(scope.territory))
    _refuse("This role may not read the marts.")  # pragma: no cover - Scope validates roles


def _allowed_catalogs(settings: Settings) -> set[str]:
    from scc.warehouse import duckdb_path, is_postgres

    if is_postgres(settings):
        from urllib.parse import urlparse

        return {(urlparse(settings.warehouse_url).path or "/").lstrip("/").lower()}
    return {duckdb_path(settings).stem.lower()}


def _resolve_tables(tree: exp.Expression, catalog: Catalog, settings: Settings) -> list[tuple[exp.Table, Mart]]:
    """Every real table reference (not a CTE reference) with its mart; refuses anything else."""
    real: dict[int, exp.Table] = {}
    cte_refs: set[int] = set()
    cte_names: set[str] = set()
    for cte in tree.find_all(exp.CTE):
        cte_names.add(cte.alias_or_name.lower())
    for scope_ in traverse_scope(tree):
        for source in scope_.sources.values():
            if isinstance(source, exp.Table):
                real[id(source)] = source
        for table in scope_.tables:
            if id(table) not in real:
                cte_refs.add(id(table))
    catalogs = _allowed_catalogs(settings)
    found = []
    for table in tree.find_all(exp.Table):
        if id(table) in cte_refs and id(table) not in real:
            if table.args.get("db") or table.args.get("catalog"):
                _refuse("A qualified table name cannot refer to a CTE.")  # pragma: no cover
            continue
        if id(table) not in real:
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
    for name in cte_names:
        if catalog.mart(name) is not None or re.match(r"^(duckdb_|pragma_|sqlite_|pg_|information_schema)", name):
            _refuse(f"A CTE may not be named {name}: that name belongs to a table.")
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
    """Check ``sql`` and rewrite it to apply ``scope`` and the row limit; refuse with a clear message."""
    settings = settings or get_settings()
    max_rows = max_rows or settings.agent_max_rows
    tree = parse_one_query(sql)
    _check_nodes(tree)
    _check_functions(tree)
    tables = _resolve_tables(tree, catalog, settings)
    if not tables:
        _refuse("A query must read at least one mart.", correctable=True)
    for table, mart in tables:
        inner = exp.select("*").from_(exp.table_(mart.name, db=MARTS_SCHEMA))
        predicate = _scope_predicate(mart, scope)
        if predicate is not None:
            inner = inner.where(predicate)
        alias = table.args.get("alias")
        alias = alias.copy() if alias is not None else exp.TableAlias(this=exp.to_identifier(mart.name))
        table.replace(exp.Subquery(this=inner, alias=alias))
    limit = _apply_limit(tree, max_rows)
    final = tree.sql(dialect=DIALECT, comments=False)
    return GuardedQuery(sql=final, original_sql=sql, marts=sorted({m.name for _, m in tables}), limit=limit,
                        scope=scope)


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
        rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
        return columns, rows
    except duckdb.InterruptException as error:
        raise QueryFailed(f"The query took longer than {timeout:g} s and was stopped.", correctable=False) from error
    except duckdb.Error as error:
        message = str(error).split("\n")[0]
        raise QueryFailed(f"The query failed: {message}", detail=str(error)) from error
    finally:
        timer.cancel()
        POOL.release(entry, cursor)


def _execute_postgres(sql: str, settings: Settings, timeout: float):
    import psycopg

    pg_sql = sqlglot.transpile(sql, read=DIALECT, write="postgres")[0]
    url = settings.warehouse_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=False) as conn:
        conn.read_only = True
        try:
            with conn.cursor() as cur:
                cur.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                cur.execute(pg_sql)
                rows = cur.fetchall()
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
