"""The assets: one per raw table (dlt, through dagster-dlt), one per dbt model, dbt tests as asset checks.

Asset keys follow the warehouse: ``["raw_salesforce", "opportunity"]`` for the table dlt loads from the
Salesforce object ``Opportunity``, ``["staging", "stg_salesforce__opportunities"]``, ``["intermediate", ...]``,
``["marts", "fct_opportunities"]``. The dbt translator maps each dbt source to the key of the dlt table that
fills it, so the lineage runs raw table -> staging -> intermediate -> marts in one graph.

Everything comes from the product's own code paths and settings: the dlt sources and pipelines of
``pipelines/`` (``build_source``, ``pipeline_for``), and dbt run with the variables and profile environment
``scc/marts.py`` derives from the settings (``dbt_environment``, ``dbt_vars``). Settings are read when a
step runs, not when this module is imported.
"""

# No ``from __future__ import annotations`` here: Dagster reads the ``context`` annotation of the asset
# functions at definition time and refuses it as a string.
import datetime as dt
import json
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dlt as dlt_lib
from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    AutomationCondition,
    FreshnessPolicy,
    MaterializeResult,
    Output,
    build_last_update_freshness_checks,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from pipelines.progress import SyncProgress
from pipelines.run import DATASETS, SOURCES, build_source, finish_pending_packages, pipeline_for
from scc.config import PROJECT_ROOT, Settings, get_settings, temporary_environment

WAREHOUSE_POOL = "warehouse"  # every step that writes the warehouse; dagster.yaml allows one at a time
MARTS = "marts"

# --- the raw tables -----------------------------------------------------------------------------------


def salesforce_objects() -> tuple[str, ...]:
    from pipelines.salesforce import OBJECTS

    return OBJECTS


def netsuite_tables() -> tuple[str, ...]:
    from pipelines.netsuite import LINE_TABLES, TABLES

    return tuple(t.name for t in TABLES) + tuple(LINE_TABLES)


def resources_of(source: str) -> tuple[str, ...]:
    return salesforce_objects() if source == "salesforce" else netsuite_tables()


def table_name(resource: str) -> str:
    """The warehouse table dlt loads a resource into (``OpportunityHistory`` -> ``opportunity_history``)."""
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    return NamingConvention().normalize_table_identifier(resource)


def raw_key(source: str, resource: str) -> AssetKey:
    return AssetKey([DATASETS[source], table_name(resource)])


def raw_keys(source: str | None = None) -> list[AssetKey]:
    return [raw_key(s, r) for s in SOURCES if source in (None, s) for r in resources_of(s)]


# The design's fallback cadence: which raw tables each schedule refreshes, and every how many minutes.
CADENCES: dict[str, tuple[int, dict[str, tuple[str, ...]]]] = {
    "salesforce": (5, {"salesforce": ("Account", "Contact", "Opportunity", "OpportunityHistory", "Task", "Event",
                                      "User")}),
    "netsuite_orders": (5, {"netsuite": ("customers", "employees", "sales_orders", "sales_order_lines")}),
    "products_and_inventory": (15, {"netsuite": ("items", "inventory", "locations")}),
    "invoices": (60, {"netsuite": ("invoices", "invoice_lines")}),
}


def cadence_keys(name: str) -> list[AssetKey]:
    return [raw_key(source, r) for source, resources in CADENCES[name][1].items() for r in resources]


def cadence_minutes_of(key: AssetKey) -> int:
    for minutes, tables in CADENCES.values():
        if any(raw_key(source, r) == key for source, resources in tables.items() for r in resources):
            return minutes
    return 60


class SccDltTranslator(DagsterDltTranslator):
    """Each dlt resource is the raw warehouse table it fills: ``["raw_<source>", "<table>"]``."""

    def __init__(self, source: str):
        self.source = source

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        name = data.resource.name
        table = table_name(name)
        vendor = "Salesforce object" if self.source == "salesforce" else "NetSuite table (SuiteQL)"
        return spec.replace_attributes(
            key=raw_key(self.source, name),
            deps=[],  # the vendor system itself is not an asset here
            group_name=DATASETS[self.source],
            description=f"{vendor} `{name}` loaded incrementally by dlt into `{DATASETS[self.source]}.{table}` "
            f"(pipelines/{self.source}). Refreshed by the change sensor when the vendor reports a change, and "
            f"at least every {cadence_minutes_of(raw_key(self.source, name))} minutes by schedule.",
        ).merge_attributes(
            metadata={"scc/source": self.source, "scc/resource": name},
            tags={"scc/source": self.source},
        )


def _loader_file_format(settings: Settings) -> str:
    from scc.warehouse import is_postgres

    return "csv" if is_postgres(settings) else "parquet"


def make_dlt_assets(source: str):
    """The multi-asset of one source: every resource an asset, any subset of them syncable in one step."""
    settings = get_settings()
    translator = SccDltTranslator(source)

    @dlt_assets(
        dlt_source=build_source(source, settings, SyncProgress(source)),
        dlt_pipeline=pipeline_for(source, settings),
        name=f"{source}_sync",
        dagster_dlt_translator=translator,
        pool=WAREHOUSE_POOL,
    )
    def _sync(context: AssetExecutionContext, dlt: DagsterDltResource):
        # Built now, from the settings of the run: the same source and pipeline `scc sync` uses.
        current = get_settings()
        dlt_lib.config["extract.next_item_mode"] = "fifo"  # one object at a time (see pipelines/run.py)
        progress = SyncProgress(source)
        started = time.perf_counter()
        pipeline = pipeline_for(source, current)
        # What a killed or failed run extracted is loaded first, then this run reads (pipelines/run.py).
        if resumed := finish_pending_packages(pipeline):
            context.log.info(f"finished {len(resumed)} load package(s) an interrupted sync had left: {resumed}")
        for result in dlt.run(
            context=context,
            dlt_source=build_source(source, current, progress),
            dlt_pipeline=pipeline,
            dagster_dlt_translator=translator,
            loader_file_format=_loader_file_format(current),
        ):
            yield _with_progress(result, progress, time.perf_counter() - started)

    return _sync


def _with_progress(result, progress: SyncProgress, seconds: float):
    """Add what the sync read from the vendor (pages, rows, deletions) to a table's materialization."""
    if not isinstance(result, MaterializeResult) or result.asset_key is None:
        return result
    extra: dict[str, Any] = {"sync_seconds": round(seconds, 3)}
    for name, stat in progress.resources.items():
        if table_name(name) == result.asset_key.path[-1]:
            extra.update(read_pages=stat.pages, read_rows=stat.rows, read_deleted=stat.deleted)
    return MaterializeResult(asset_key=result.asset_key, metadata={**(result.metadata or {}), **extra})


# --- the dbt models ------------------------------------------------------------------------------------


def _project_files() -> Iterator[Path]:
    for name in ("dbt_project.yml", "profiles.yml"):
        yield PROJECT_ROOT / name
    for folder in ("models", "macros", "tests/marts/dbt", "seeds", "snapshots"):
        root = PROJECT_ROOT / folder
        if root.exists():
            yield from (p for p in root.rglob("*") if p.is_file())


def manifest_path(settings: Settings | None = None) -> Path:
    """The dbt manifest of the project, written by ``dbt parse`` (in-process) when missing or older than
    any file of the project. It lives with dbt's other working files (``<data dir>/dbt/<warehouse>/``)."""
    from scc import marts

    settings = settings or get_settings()
    path = marts.dbt_dir(settings) / "target" / "manifest.json"
    newest = max((p.stat().st_mtime for p in _project_files()), default=0.0)
    if not path.exists() or path.stat().st_mtime < newest:
        marts.parse(settings=settings)
    return path


def dbt_target_path(settings: Settings | None = None) -> Path:
    """dbt's target folder for Dagster's runs: one per warehouse, kept between runs for partial parsing
    (the warehouse pool lets one run at a time write, so runs never share it concurrently)."""
    from scc import marts

    return marts.dbt_dir(settings or get_settings()) / "dagster"


@contextmanager
def dbt_environment(settings: Settings) -> Iterator[None]:
    """The ``SCC_DBT_*`` variables profiles.yml reads (from scc.marts), set while dbt runs."""
    from scc import marts

    with temporary_environment(marts.dbt_environment(settings)):
        yield


def _layer(props: Mapping[str, Any]) -> str:
    fqn = props.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "models"


def freshness_window(cadence_minutes: int) -> dt.timedelta:
    """How old a mart may get: three of its fastest schedule's periods (one missed run is only a warning)."""
    return dt.timedelta(minutes=3 * cadence_minutes)


class SccDbtTranslator(DagsterDbtTranslator):
    """dbt sources are the dlt tables; models are keyed ``[layer, name]``; marts carry freshness policies."""

    def get_asset_key(self, props: Mapping[str, Any]) -> AssetKey:
        if props["resource_type"] == "source":
            return AssetKey([f"raw_{props['source_name']}", props["name"]])
        return AssetKey([_layer(props), props["name"]])

    def get_group_name(self, props: Mapping[str, Any]) -> str | None:
        if props["resource_type"] == "source":
            return f"raw_{props['source_name']}"
        return _layer(props)

    def get_automation_condition(self, props: Mapping[str, Any]) -> AutomationCondition | None:
        # Raw data that lands by any path (a schedule, the change sensor, a manual materialisation in the
        # console, `dagster asset materialize`) rebuilds what is downstream of it.
        return AutomationCondition.eager() if props["resource_type"] == "model" else None

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] != "model" or _layer(props) != MARTS:
            return spec
        cadence = mart_cadence(manifest, unique_id)
        if cadence is None:  # no raw table upstream (the time spine): nothing makes it stale
            return spec
        window = freshness_window(cadence)
        return spec.replace_attributes(
            freshness_policy=FreshnessPolicy.time_window(fail_window=window, warn_window=window * 2 / 3)
        ).merge_attributes(metadata={"scc/freshness_minutes": int(window.total_seconds() // 60)})


def mart_cadence(manifest: Mapping[str, Any], unique_id: str) -> int | None:
    """The shortest schedule period among the raw tables upstream of a node (None: no raw table)."""
    parents = manifest.get("parent_map", {})
    seen, stack, cadences = set(), [unique_id], []
    while stack:
        node = stack.pop()
        for parent in parents.get(node, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                source = manifest["sources"][parent]
                cadences.append(cadence_minutes_of(AssetKey([f"raw_{source['source_name']}", source["name"]])))
            else:
                stack.append(parent)
    return min(cadences) if cadences else None


DBT_TRANSLATOR = SccDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

# Unit tests check the SQL, not the data: `scc build` and CI run them; refreshes of the data do not.
DBT_BUILD_EXCLUDE = "resource_type:unit_test"


def make_dbt_assets(manifest: Path):
    @dbt_assets(
        manifest=manifest,
        dagster_dbt_translator=DBT_TRANSLATOR,
        name="dbt_models",
        pool=WAREHOUSE_POOL,
    )
    def _models(context: AssetExecutionContext, dbt: DbtCliResource):
        from scc import marts as scc_marts

        from dagster_project import notify

        settings = get_settings()
        refreshed: list[str] = []
        started = time.perf_counter()
        try:
            with dbt_environment(settings):
                invocation = dbt.cli(
                    ["build", "--vars", json.dumps(scc_marts.dbt_vars()), "--exclude", DBT_BUILD_EXCLUDE],
                    context=context,
                    target_path=dbt_target_path(settings),
                )
                for event in invocation.stream():
                    if isinstance(event, Output):
                        key = context.asset_key_for_output(event.output_name)
                    elif isinstance(event, MaterializeResult):
                        key = event.asset_key
                    else:  # check results, observations
                        key = None
                    if key is not None and key.path[0] == MARTS:
                        refreshed.append(key.path[-1])
                    yield event
        except Exception as error:
            # Nothing is published: the dashboards keep the last good figures and say the refresh failed.
            notify.build_failed(context.run.run_id, f"dbt build failed: {error}")
            raise
        build_seconds = time.perf_counter() - started
        if refreshed:
            # The line before the call marks when the dashboards are told (the freshness benchmark times it).
            context.log.info(f"{notify.LOG_PREFIX} dbt build {build_seconds:.1f} s; telling the dashboards about "
                             f"{len(refreshed)} marts ({', '.join(sorted(refreshed))})")
            outcome = notify.marts_refreshed(refreshed, reason=f"marts refreshed by run {context.run_id[:8]}",
                                             run_id=context.run_id)
            context.log.info(f"dashboards told: {outcome}")

    return _models


# --- freshness checks ----------------------------------------------------------------------------------


def mart_freshness_checks(dbt_assets_def) -> list:
    """One check per mart that fails (severity ERROR) when the mart is older than its freshness policy."""
    windows: dict[dt.timedelta, list[AssetKey]] = {}
    for key in dbt_assets_def.keys:
        spec = dbt_assets_def.specs_by_key[key]
        policy = getattr(spec, "freshness_policy", None)
        if key.path[0] == MARTS and policy is not None:
            windows.setdefault(policy.fail_window.to_timedelta(), []).append(key)
    checks = []
    with warnings.catch_warnings():  # "superseded" by the policies, which are there too: the UI shows both
        warnings.simplefilter("ignore")
        for window, keys in sorted(windows.items()):
            checks += build_last_update_freshness_checks(
                assets=sorted(keys, key=lambda k: k.to_user_string()),
                lower_bound_delta=window,
                severity=AssetCheckSeverity.ERROR,
            )
    return checks
