"""The guard's last check, made by DuckDB itself: what will its parser run?

sqlglot checks the query and renders the final SQL, but DuckDB's parser, not sqlglot's, decides what
that text means. So before a query runs, the final SQL is handed to DuckDB's own parser
(``json_serialize_sql``, on a private in-memory database: nothing is read or bound) and its parse tree is
walked:

- every function it will call (scalar, aggregate, window, table function) is on the allow-list of
  :mod:`agents.sql_policy`, unqualified; operators (``+``, ``||``, ``~~`` for LIKE ...) are symbols;
- every table is a mart of the catalogue in the ``marts`` schema, or the name of a CTE of the query;
- every mart is read as ``SELECT * FROM marts.<mart>`` with exactly the caller's scope predicate;
- nothing else: no parameters, no PIVOT or SHOW references, exactly one SELECT statement.

A failure is a :class:`agents.errors.Refusal` (via the guard). PostgreSQL runs the same DuckDB-dialect
SQL transpiled, and is checked here too, on the DuckDB text it is transpiled from.
"""

from __future__ import annotations

import json
import re
import threading

from agents.catalog import MARTS_SCHEMA, Catalog
from agents.errors import Refusal
from agents.sql_policy import ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS

OPERATOR = re.compile(r"^[^\w\s]+$")  # DuckDB names operators by their symbols: + - || ~~ !~~ ...
TABLE_REFS = frozenset({"BASE_TABLE", "JOIN", "SUBQUERY", "TABLE_FUNCTION", "EMPTY", "EXPRESSION_LIST"})
FORBIDDEN_CLASSES = frozenset({"PARAMETER", "DEFAULT"})

_local = threading.local()


def _parser():
    """This thread's private in-memory DuckDB, used only for its parser."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        import duckdb

        conn = _local.conn = duckdb.connect(":memory:", config={"enable_external_access": False})
    return conn


def _refuse(message: str, detail: str | None = None) -> None:
    raise Refusal(message, detail=detail, correctable=True)


def parse_tree(sql: str) -> dict:
    """DuckDB's parse tree of ``sql`` (one SELECT), or a refusal."""
    text = _parser().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
    tree = json.loads(text)
    if tree.get("error"):
        _refuse("The query is not one SELECT that DuckDB can read, so it was not run.",
                detail=tree.get("error_message"))
    if len(tree.get("statements") or []) != 1:
        _refuse("Exactly one statement is allowed.")
    return tree["statements"][0]["node"]


def check_engine_view(sql: str, catalog: Catalog, scope_predicates: dict[str, tuple[str, str] | None]) -> None:
    """Refuse ``sql`` unless DuckDB's reading of it calls only allowed functions and reads every mart
    through its scoped ``SELECT *``. ``scope_predicates`` maps each mart to the (column, value) its reads
    must be limited by, or None where the caller sees all of it."""
    root = parse_tree(sql)
    cte_names = {entry["key"].lower() for node in _dicts(root) for entry in (node.get("cte_map") or {}).get("map", [])}
    for node, parent, key in _walk(root):
        kind = node.get("type")
        if node.get("class") in FORBIDDEN_CLASSES:
            _refuse(f"Queries may not contain {node['class'].lower()}s.")
        if "function_name" in node:
            _check_function(node, in_from=parent is not None and parent.get("type") == "TABLE_FUNCTION"
                            and key == "function")
        holds_table = key == "from_table" or (parent is not None and parent.get("type") == "JOIN"
                                              and key in ("left", "right"))
        if holds_table and kind not in TABLE_REFS:
            _refuse(f"Only the marts can be read ({kind.lower().replace('_', ' ')} is not allowed).")
        if kind == "BASE_TABLE":
            _check_table(node, parent, catalog, cte_names, scope_predicates)


def _check_function(node: dict, *, in_from: bool) -> None:
    name = str(node["function_name"]).lower()
    if node.get("schema") or node.get("catalog"):
        _refuse(f"Functions are called by their plain name, not {node.get('schema')}.{name}().")
    allowed = ALLOWED_TABLE_FUNCTIONS if in_from else ALLOWED_FUNCTIONS
    if name not in allowed and not (not in_from and OPERATOR.match(name)):
        _refuse(f"The function {name}() is not on the list of functions queries may use: queries only compute "
                "over the marts, they do not make rows, read files, the network, settings or the system.")


def _check_table(node: dict, parent: dict | None, catalog: Catalog, cte_names: set[str],
                 scope_predicates: dict[str, tuple[str, str] | None]) -> None:
    schema, name = str(node.get("schema_name") or "").lower(), str(node.get("table_name") or "").lower()
    if not schema and name in cte_names and not node.get("catalog_name"):
        return
    if schema != MARTS_SCHEMA or name not in scope_predicates or catalog.mart(name) is None:
        _refuse(f"Only the marts can be read, not {'.'.join(p for p in (schema, name) if p)}.")
    select = parent or {}
    star = select.get("select_list") or []
    plain = (select.get("type") == "SELECT_NODE" and len(star) == 1 and star[0].get("class") == "STAR"
             and not star[0].get("exclude_list") and not star[0].get("replace_list") and not star[0].get("expr")
             and not select.get("modifiers") and not select.get("group_expressions") and not select.get("having")
             and not (select.get("cte_map") or {}).get("map") and not node.get("alias"))
    if not plain or not _is_scope(select.get("where_clause"), scope_predicates[name]):
        _refuse("The query could not be limited to your scope, so it was not run.",
                detail=f"unscoped read of {name} in the final SQL")


def _is_scope(where: dict | None, predicate: tuple[str, str] | None) -> bool:
    if predicate is None:
        return where is None
    column, value = predicate
    return (isinstance(where, dict) and where.get("type") == "COMPARE_EQUAL"
            and (where.get("left") or {}).get("column_names") == [column]
            and (where.get("right") or {}).get("literal") == {"kind": "STRING", "text": value})


def _walk(root: dict):
    """(node, the dict that holds it, the key it is held under) for every dict of the tree, iteratively."""
    stack = [(root, None, None)]
    while stack:
        node, parent, key = stack.pop()
        yield node, parent, key
        for child_key, value in node.items():
            if isinstance(value, dict):
                stack.append((value, node, child_key))
            elif isinstance(value, list):
                stack.extend(_list_children(value, node, child_key))


def _list_children(values: list, parent: dict, key: str):
    for value in values:
        if isinstance(value, dict):
            yield value, parent, key
        elif isinstance(value, list):
            yield from _list_children(value, parent, key)


def _dicts(root: dict):
    return (node for node, _parent, _key in _walk(root))
