"""The semantic layer's one Python entry point: metric queries compiled by MetricFlow, run on the warehouse.

    from scc.semantic import query_metrics
    result = query_metrics(["bookings", "win_rate"], group_by=["metric_time__quarter", "rep__territory"],
                           where=["rep__region = 'West'", ("metric_time__quarter", ">=", "2025-01-01")],
                           order_by=["-metric_time__quarter"], limit=20)
    result.sql, result.columns, result.rows

Metrics and dimensions are those of ``models/semantic/`` (``list_metrics()``, ``list_dimensions()``).
MetricFlow compiles in-process from the semantic manifest that ``scc build`` (dbt) writes; nothing runs
dbt at query time. The compiled engine is cached and rebuilt when the manifest changes.

**Filters.** MetricFlow pastes ``where`` text into the SQL, so user text never goes there as is: each
filter is parsed (braces are refused: MetricFlow reads filters as Jinja) and only comparisons (``= != <> < <= > >=``, ``IN``, ``BETWEEN``, ``LIKE``, ``IS [NOT]
NULL``) of known group-by names with literals, joined by ``AND`` / ``OR`` / ``NOT`` and parentheses, are
accepted; the filter is then written anew with every literal quoted by this module. A filter is a string
(``"order__status in ('billed', 'closed')"``, MetricFlow's ``{{ Dimension('order__status') }}`` templates
are accepted too) or a tuple ``(name, operator, value)``, e.g. ``("customer__health", "in", ["at_risk"])``.
Names are group-by names: ``<entity>__<dimension>``, time dimensions with an optional grain
(``metric_time__month``, ``order__order_date__quarter``), or entities (``customer``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scc.config import Settings, get_settings

GRAINS = ("day", "week", "month", "quarter", "year")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE = re.compile(
    r"\{\{\s*(Dimension|TimeDimension|Entity)\(\s*'([a-z][a-z0-9_]*)'\s*(?:,\s*'([a-z]+)'\s*)?\)\s*\}\}"
)
MAX_FILTER_LENGTH = 2000


class SemanticLayerError(ValueError):
    """A metric query that cannot be answered: unknown metric or dimension, or a filter not allowed."""


@dataclass(frozen=True)
class MetricQueryResult:
    """A metric query's SQL and its answer."""

    sql: str
    columns: list[str]
    rows: list[tuple]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


# ------------------------------------------------------------------------------------------------
# The engine (cached)
# ------------------------------------------------------------------------------------------------


@dataclass
class _Engine:
    engine: Any
    manifest: Any
    manifest_path: Path
    mtime_ns: int
    key: tuple
    metrics: dict[str, Any]
    group_by_cache: dict[tuple[str, ...], tuple[set[str], set[str], set[str]]]


_lock = threading.Lock()
_compile_lock = threading.Lock()
_engines: dict[tuple, _Engine] = {}


def reset_cache() -> None:
    """Forget compiled engines (tests; the cache also notices a rewritten manifest by itself)."""
    with _lock:
        _engines.clear()


def _warehouse(settings: Settings) -> tuple[str, str]:
    """(engine kind, catalog name): the names MetricFlow must write for this warehouse's tables."""
    from urllib.parse import urlparse

    from scc.warehouse import duckdb_path, is_postgres

    if is_postgres(settings):
        return "postgres", (urlparse(settings.warehouse_url).path or "/postgres").lstrip("/") or "postgres"
    return "duckdb", duckdb_path(settings).stem


def manifest_path(settings: Settings | None = None) -> Path:
    """The semantic manifest of the configured warehouse (written by ``scc build`` / ``dbt parse``)."""
    from scc.marts import semantic_manifest_path

    return semantic_manifest_path(settings or get_settings())


def _load_manifest(path: Path, catalog: str):
    """Parse the dbt semantic manifest, pointing every table at this warehouse's catalog."""
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

    data = json.loads(path.read_text())

    def repoint(relation: dict) -> None:
        relation["database"] = catalog
        relation["relation_name"] = ".".join(
            '"' + part.replace('"', '""') + '"' for part in (catalog, relation["schema_name"], relation["alias"])
        )

    for model in data.get("semantic_models", []):
        repoint(model["node_relation"])
    for spine in data.get("project_configuration", {}).get("time_spines", []):
        repoint(spine["node_relation"])
    for spine in data.get("project_configuration", {}).get("time_spine_table_configurations", []):
        spine["location"] = f"{catalog}.{spine['location'].split('.', 1)[-1]}"
    return parse_manifest_from_dbt_generated_manifest(json.dumps(data))


class _CompileOnlyClient:
    """What MetricFlow needs of a SQL client to compile: the engine type and its SQL renderer."""

    def __init__(self, kind: str):
        from metricflow.protocols.sql_client import SqlEngine

        if kind == "postgres":
            from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer

            self.sql_engine_type, self.sql_plan_renderer = SqlEngine.POSTGRES, PostgresSQLSqlPlanRenderer()
        else:
            from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

            self.sql_engine_type, self.sql_plan_renderer = SqlEngine.DUCKDB, DuckDbSqlPlanRenderer()


def _engine(settings: Settings | None = None, path: Path | None = None) -> _Engine:
    settings = settings or get_settings()
    kind, catalog = _warehouse(settings)
    path = Path(path) if path else manifest_path(settings)
    if not path.exists():
        from scc.marts import parse

        parse(settings=settings)  # no manifest yet (nothing built): write it without touching the warehouse
    mtime = path.stat().st_mtime_ns
    key = (str(path), kind, catalog)
    with _lock:
        cached = _engines.get(key)
        if cached and cached.mtime_ns == mtime:
            return cached
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        manifest = _load_manifest(path, catalog)
        engine = MetricFlowEngine(SemanticManifestLookup(manifest), sql_client=_CompileOnlyClient(kind))
        built = _Engine(engine, manifest, path, mtime, key, {m.name: m for m in manifest.metrics}, {})
        _engines[key] = built
        return built


# ------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------


def list_metrics(settings: Settings | None = None) -> list[dict[str, str]]:
    """Every metric: name, label, type and description (which standard definition it is)."""
    engine = _engine(settings)
    return [
        {"name": m.name, "label": m.label or m.name, "type": str(m.type.value), "description": m.description or ""}
        for m in sorted(engine.metrics.values(), key=lambda m: m.name)
    ]


def list_dimensions(metrics: Sequence[str] | None = None, settings: Settings | None = None) -> list[str]:
    """Group-by names usable with all of ``metrics`` (every one known, without ``metrics``)."""
    engine = _engine(settings)
    names = tuple(_check_metrics(engine, metrics)) if metrics else tuple(sorted(engine.metrics))
    plain, time_dims, entities = _group_bys(engine, names)
    with_grains = {f"{t}__{g}" for t in time_dims for g in GRAINS}
    return sorted(plain | time_dims | entities | with_grains)


def describe_dimensions(settings: Settings | None = None) -> dict[str, dict[str, str]]:
    """Group-by name (without a time grain) → its type and description, from the semantic models."""
    engine = _engine(settings)
    out: dict[str, dict[str, str]] = {
        "metric_time": {"type": "time", "description": "Each metric's own date (an order's date for bookings, a "
                                                       "deal's close date for won amounts); add a grain: __month."}}
    for model in engine.manifest.semantic_models:
        primary = model.primary_entity or next((e.name for e in model.entities if str(e.type.value) == "primary"),
                                               None)
        for entity in model.entities:
            out.setdefault(entity.name, {"type": "entity", "description": " ".join((entity.description or "").split())})
        if primary is None:
            continue
        for dimension in model.dimensions:
            out.setdefault(f"{primary}__{dimension.name}", {
                "type": str(dimension.type.value), "description": " ".join((dimension.description or "").split())})
    return out


def compile_metrics(
    metrics: Sequence[str] | str,
    group_by: Sequence[str] = (),
    where: Sequence[str | tuple] | str | tuple = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
    *,
    settings: Settings | None = None,
) -> str:
    """The SQL of a metric query, for the configured warehouse's dialect (nothing is run)."""
    settings = settings or get_settings()
    engine = _engine(settings)
    request = _request(engine, metrics, group_by, where, order_by, limit)
    try:
        with _compile_lock:  # MetricFlow numbers its SQL aliases from a process-wide counter
            return engine.engine.explain(request).sql_statement.sql
    except Exception as error:  # MetricFlow's own errors: unknown names, impossible joins, ...
        raise SemanticLayerError(_first_line(error)) from error


def query_metrics(
    metrics: Sequence[str] | str,
    group_by: Sequence[str] = (),
    where: Sequence[str | tuple] | str | tuple = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
    *,
    settings: Settings | None = None,
    connection=None,
) -> MetricQueryResult:
    """Compile a metric query with MetricFlow and run it on the warehouse.

    ``metrics``: metric names; ``group_by``: group-by names (``metric_time__month``, ``rep__territory``);
    ``where``: filters (see the module's documentation); ``order_by``: metric or group-by names, ``-`` in
    front for descending; ``limit``: at most this many rows. ``connection``: an open DB-API connection to
    the warehouse to use instead of opening one (read-only) for this query.
    """
    settings = settings or get_settings()
    sql = compile_metrics(metrics, group_by, where, order_by, limit, settings=settings)
    columns, rows = _run(sql, settings, connection)
    return MetricQueryResult(sql=sql, columns=columns, rows=rows)


def validate(settings: Settings | None = None, *, data_warehouse: bool = False) -> list[str]:
    """MetricFlow's validation of the semantic layer (what ``mf validate-configs`` checks).

    Returns the blocking issues (empty when valid). With ``data_warehouse``, also compiles and runs a
    query per semantic model, dimension, entity and metric against the warehouse (LIMIT 0 probes).
    """
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator

    engine = _engine(settings)
    manifest = engine.manifest
    result = SemanticManifestValidator().validate_semantic_manifest(manifest)
    issues = [issue.as_readable_str() for issue in result.errors]
    if data_warehouse and not issues:
        issues += _validate_in_warehouse(engine, manifest, settings or get_settings())
    return issues


# ------------------------------------------------------------------------------------------------
# Requests and filters
# ------------------------------------------------------------------------------------------------


def _request(engine: _Engine, metrics, group_by, where, order_by, limit):
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    metric_names = _check_metrics(engine, [metrics] if isinstance(metrics, str) else list(metrics))
    plain, time_dims, entities = _group_bys(engine, tuple(metric_names))
    known = _Names(plain, time_dims, entities)
    group_by = [group_by] if isinstance(group_by, str) else list(group_by or ())
    for name in group_by:
        known.check(name, "group by")
    order_by = [order_by] if isinstance(order_by, str) else list(order_by or ())
    for name in order_by:
        bare = name[1:] if isinstance(name, str) and name.startswith("-") else name
        if bare not in metric_names and bare not in group_by:
            raise SemanticLayerError(f"order by {name!r}: order by one of the query's metrics or group-by names")
    if isinstance(where, str) or _is_filter_tuple(where):
        where = [where]
    constraints = [render_filter(item, known) for item in (where or ())]
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise SemanticLayerError(f"limit must be a whole number >= 0, not {limit!r}")
    return MetricFlowQueryRequest.create(
        metric_names=metric_names,
        group_by_names=group_by or None,
        where_constraints=constraints or None,
        order_by_names=order_by or None,
        limit=limit,
    )


_OPERATORS = {"=", "==", "!=", "<>", "<", "<=", ">", ">=", "like", "in", "not in", "between", "is null", "is not null"}


def _is_filter_tuple(value) -> bool:
    return (
        isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[1], str)
        and value[1].strip().lower() in _OPERATORS
    )


def _check_metrics(engine: _Engine, metrics: Iterable[str]) -> list[str]:
    names = list(metrics)
    if not names:
        raise SemanticLayerError("name at least one metric (list_metrics() shows them)")
    for name in names:
        if not isinstance(name, str) or name not in engine.metrics:
            raise SemanticLayerError(
                f"unknown metric {name!r}; known: {', '.join(sorted(engine.metrics))}"
            )
    return names


def _group_bys(engine: _Engine, metric_names: tuple[str, ...]) -> tuple[set[str], set[str], set[str]]:
    cached = engine.group_by_cache.get(metric_names)
    if cached is not None:
        return cached
    from metricflow_semantic_interfaces.type_enums.dimension_type import DimensionType

    plain, time_dims, entities = set(), {"metric_time"}, set()
    with _compile_lock:
        items = engine.engine.list_group_bys(list(metric_names))
    for item in items:
        name = getattr(item, "dunder_name", None)
        if name is None:  # an entity
            entities.add(item.name)
        elif getattr(item, "type", None) == DimensionType.TIME:
            base = re.sub(rf"__({'|'.join(GRAINS)})$", "", name) if name.startswith("metric_time") else name
            time_dims.add(base)
        else:
            plain.add(name)
    engine.group_by_cache[metric_names] = (plain, time_dims, entities)
    return plain, time_dims, entities


@dataclass
class _Names:
    plain: set[str]
    time_dims: set[str]
    entities: set[str]

    def template(self, name: str, where: str) -> str:
        """The MetricFlow template for a group-by name (after checking it is one)."""
        kind, base, grain = self.check(name, where)
        if kind == "entity":
            return "{{ Entity('%s') }}" % name
        if kind == "time" and grain:
            return "{{ TimeDimension('%s', '%s') }}" % (base, grain)
        return "{{ Dimension('%s') }}" % name

    def check(self, name: str, where: str) -> tuple[str, str, str | None]:
        if not isinstance(name, str) or not _NAME.match(name):
            raise SemanticLayerError(f"{where}: {name!r} is not a group-by name")
        if name in self.entities:
            return "entity", name, None
        if name in self.plain:
            return "dimension", name, None
        if name in self.time_dims:
            return "time", name, None
        match = re.match(rf"^(.*)__({'|'.join(GRAINS)})$", name)
        if match and match.group(1) in self.time_dims:
            return "time", match.group(1), match.group(2)
        raise SemanticLayerError(
            f"{where}: unknown group-by name {name!r} for these metrics; list_dimensions(metrics) shows them"
        )


def render_filter(item: str | tuple, names: _Names) -> str:
    """A filter (string or (name, operator, value)) checked and rewritten as a MetricFlow where clause."""
    import sqlglot
    from sqlglot import exp

    if isinstance(item, tuple):
        text = _tuple_filter(item)
    elif isinstance(item, str):
        text = item
    else:
        raise SemanticLayerError(f"a filter is a string or a (name, operator, value) tuple, not {item!r}")
    if len(text) > MAX_FILTER_LENGTH:
        raise SemanticLayerError(f"filter longer than {MAX_FILTER_LENGTH} characters")
    # MetricFlow templates become plain names; anything else that looks like a template is refused.
    text = _TEMPLATE.sub(lambda m: m.group(2) + (f"__{m.group(3)}" if m.group(3) else ""), text)
    # MetricFlow renders the filter as a Jinja template: no braces anywhere, not even in values.
    if "{" in text or "}" in text:
        raise SemanticLayerError(f"filter not allowed (braces): {item!r}")
    try:
        trees = [tree for tree in sqlglot.parse(text, read="duckdb") if tree is not None]
    except Exception as error:  # sqlglot's ParseError and friends
        raise SemanticLayerError(f"filter does not parse: {item!r}") from error
    if len(trees) != 1:
        raise SemanticLayerError(f"filter must be one condition: {item!r}")
    tree = trees[0]
    if any(getattr(node, "comments", None) for node in tree.walk()):
        raise SemanticLayerError(f"filter not allowed (comment): {item!r}")
    if not isinstance(tree, exp.Condition) or isinstance(tree, (exp.Column, exp.Literal)):
        raise SemanticLayerError(f"filter must be a condition: {item!r}")
    return _render(tree, names, repr(item))


def _tuple_filter(item: tuple) -> str:
    if len(item) == 2 and str(item[1]).lower() in ("is null", "is not null"):
        name, op = item
        return f"{_plain_name(name)} {str(op).upper()}"
    if len(item) != 3:
        raise SemanticLayerError(f"a filter tuple is (name, operator, value): {item!r}")
    name, op, value = item
    op = str(op).strip().lower()
    name = _plain_name(name)
    if op in ("=", "==", "!=", "<>", "<", "<=", ">", ">=", "like"):
        if value is None:
            return f"{name} IS NULL" if op in ("=", "==") else f"{name} IS NOT NULL"
        return f"{name} {'=' if op == '==' else op.upper()} {_literal(value)}"
    if op in ("in", "not in"):
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        if not values:
            raise SemanticLayerError(f"an IN filter needs at least one value: {item!r}")
        return f"{name} {op.upper()} ({', '.join(_literal(v) for v in values)})"
    if op == "between":
        low, high = value
        return f"{name} BETWEEN {_literal(low)} AND {_literal(high)}"
    raise SemanticLayerError(f"unknown filter operator {op!r}")


def _plain_name(name) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SemanticLayerError(f"{name!r} is not a group-by name")
    return name


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, decimal.Decimal)) or (isinstance(value, float) and value == value and abs(value) != float("inf")):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise SemanticLayerError(f"filter value {value!r} is not a string, number, boolean, date or None")


_COMPARISONS = {
    "EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<=", "Like": "LIKE", "ILike": "ILIKE",
}


def _render(node, names: _Names, original: str) -> str:
    """Write an allowed expression tree back as SQL; anything not explicitly allowed is refused."""
    from sqlglot import exp

    def r(child) -> str:
        return _render(child, names, original)

    kind = type(node).__name__
    if isinstance(node, exp.Paren):
        return f"({r(node.this)})"
    if isinstance(node, exp.And):
        return f"({r(node.left)} AND {r(node.right)})"
    if isinstance(node, exp.Or):
        return f"({r(node.left)} OR {r(node.right)})"
    if isinstance(node, exp.Not):
        return f"NOT ({r(node.this)})"
    if kind in _COMPARISONS and not node.args.get("escape"):
        return f"{r(node.left)} {_COMPARISONS[kind]} {r(node.right)}"
    if isinstance(node, exp.In):
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise SemanticLayerError(f"filter not allowed (IN takes a list of values): {original}")
        return f"{r(node.this)} IN ({', '.join(r(v) for v in node.expressions)})"
    if isinstance(node, exp.Between):
        return f"{r(node.this)} BETWEEN {r(node.args['low'])} AND {r(node.args['high'])}"
    if isinstance(node, exp.Is):
        target = node.expression
        if isinstance(target, exp.Null):
            return f"{r(node.this)} IS NULL"
        if isinstance(target, exp.Boolean):
            return f"{r(node.this)} IS {'TRUE' if target.this else 'FALSE'}"
        raise SemanticLayerError(f"filter not allowed (IS takes NULL, TRUE or FALSE): {original}")
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise SemanticLayerError(f"filter not allowed (qualified name): {original}")
        name = node.name
        if not isinstance(node.this, exp.Identifier) or node.this.quoted:
            raise SemanticLayerError(f"filter not allowed (quoted name): {original}")
        return names.template(name, f"filter {original}")
    if isinstance(node, exp.Literal):
        if node.is_string:
            return _literal(node.this)
        if re.fullmatch(r"\d+(\.\d+)?([eE][+-]?\d+)?", node.this):
            return node.this
        raise SemanticLayerError(f"filter not allowed (number): {original}")
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return f"-{r(node.this)}"
    if isinstance(node, exp.Boolean):
        return "TRUE" if node.this else "FALSE"
    if isinstance(node, exp.Null):
        return "NULL"
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        target = node.to.this.name.upper() if hasattr(node.to.this, "name") else str(node.to.this).upper()
        if target in ("DATE", "TIMESTAMP"):
            return f"CAST({_literal(node.this.this)} AS {target})"
    raise SemanticLayerError(f"filter not allowed ({kind}): {original}")


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------


def _run(sql: str, settings: Settings, connection=None) -> tuple[list[str], list[tuple]]:
    from scc.warehouse import is_postgres, read_marts

    def execute(cursor) -> tuple[list[str], list[tuple]]:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return columns, [tuple(row) for row in cursor.fetchall()]

    if connection is not None:
        return execute(connection.cursor() if is_postgres(settings) or not hasattr(connection, "fetchall")
                       else connection)
    with read_marts(settings) as cursor:
        return execute(cursor)


def _validate_in_warehouse(engine: _Engine, manifest, settings: Settings) -> list[str]:
    """Run every metric, and every dimension once (with a metric that has it), with LIMIT 0 on the warehouse."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    issues, probed = [], set()
    for metric in sorted(manifest.metrics, key=lambda m: m.name):
        plain, _, _ = _group_bys(engine, (metric.name,))
        fresh = sorted(n for n in plain if n.count("__") == 1 and n not in probed)
        probed.update(fresh)
        for group_by in [None, *fresh]:
            request = MetricFlowQueryRequest.create(
                metric_names=[metric.name], group_by_names=[group_by] if group_by else None, limit=0
            )
            try:
                with _compile_lock:
                    sql = engine.engine.explain(request).sql_statement.sql
                _run(sql, settings)
            except Exception as error:  # report and go on: one broken element must not hide the others
                issues.append(f"metric {metric.name} by {group_by or 'nothing'}: {_first_line(error)}")
    return issues


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else repr(error)
