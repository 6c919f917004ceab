"""The Dagster code location of Sales Command Center: ``dagster dev -m dagster_project.definitions``.

* assets: every raw table (dlt, one multi-asset per source), every dbt model, dbt tests as asset checks,
  a freshness check per mart (``assets.py``), a check that each raw table matches its source
  (``verify.py``);
* schedules: the fallback cadence (``schedules.py``), the nightly verify (``verify.py``), and the
  executive digests' (``digests.py``);
* sensors: webhook change events -> one run, eager rebuild of what is downstream of new raw data, failed
  runs recorded, freshness checks evaluated (``sensors.py``);
* resources: dlt, and dbt with the project, profile and target of the settings (``scc.config``).

Runs execute in one process (no process per step: a step's start-up would cost more than most syncs).
"""

from __future__ import annotations

import logging
import sys
import warnings
from functools import cached_property
from pathlib import Path

from dagster import (
    AssetKey,
    AssetSelection,
    Definitions,
    DefaultSensorStatus,
    build_sensor_for_freshness_checks,
    in_process_executor,
)
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph
from dagster_dbt import DbtCliResource
from dagster_dlt import DagsterDltResource

from dagster_project.assets import make_dbt_assets, make_dlt_assets, manifest_path, mart_freshness_checks, raw_keys
from dagster_project.schedules import make_schedules
from dagster_project.sensors import (
    change_events_done_sensor,
    failed_runs_sensor,
    make_automation_sensor,
    make_change_sensor,
)
from dagster_project.verify import make_verify_checks, make_verify_schedule
from pipelines.run import SOURCES
from scc.config import PROJECT_ROOT, get_settings


class SccDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, minus two start-up costs of every run that the product does not need:
    asking the dbt executable for its version (``dbt --version``, a second dbt start-up: this environment's
    dbt is the dbt-core installed here) and opening a dbt adapter in the run's own process (only used to
    fetch row counts and column metadata, which these assets do not ask for)."""

    @cached_property
    def _cli_version(self):
        from importlib.metadata import version as installed

        from packaging import version

        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(installed("dbt-core"))
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource(settings=None) -> DbtCliResource:
    from scc.marts import default_target

    settings = settings or get_settings()
    executable = Path(sys.executable).parent / "dbt"  # this environment's dbt, PATH or not
    return SccDbtCliResource(
        project_dir=str(PROJECT_ROOT),
        profiles_dir=str(PROJECT_ROOT),
        target=default_target(settings),
        dbt_executable=str(executable) if executable.exists() else "dbt",
        global_config_flags=["--no-use-colors", "--no-send-anonymous-usage-stats", "--no-version-check"],
    )


def digest_schedules() -> list:
    """The executive digests' schedules (``dagster_project/digests.py``). A fault there is logged and leaves
    them out: it must not take the data pipelines' code location down with it."""
    try:
        from dagster_project.digests import make_digest_schedules

        return make_digest_schedules()
    except Exception:  # noqa: BLE001 - logged with its traceback; the rest of the location loads
        logging.getLogger("scc.orchestration").exception("the digest schedules could not be loaded; left out")
        return []


def build_definitions() -> Definitions:
    settings = get_settings()
    dlt_assets_defs = [make_dlt_assets(source) for source in SOURCES]
    dbt_models = make_dbt_assets(manifest_path(settings))
    freshness_checks = mart_freshness_checks(dbt_models)
    verify_checks = make_verify_checks()
    assets = [*dlt_assets_defs, dbt_models]
    graph = AssetGraph.from_assets(assets)

    def downstream(keys: list[AssetKey]) -> list[AssetKey]:
        return sorted(AssetSelection.assets(*keys).downstream().resolve(graph), key=lambda k: k.path)

    everything = AssetSelection.assets(*raw_keys()).downstream()
    with warnings.catch_warnings():  # superseded by freshness policies, which the marts carry as well
        warnings.simplefilter("ignore")
        freshness_sensor = build_sensor_for_freshness_checks(
            freshness_checks=freshness_checks,
            name="mart_freshness_sensor",
            minimum_interval_seconds=60,
            default_status=DefaultSensorStatus.RUNNING,
        )
    return Definitions(
        assets=assets,
        asset_checks=[*freshness_checks, *verify_checks],
        schedules=[*make_schedules(), make_verify_schedule(verify_checks), *digest_schedules()],
        sensors=[
            make_change_sensor(everything, downstream),
            change_events_done_sensor,
            failed_runs_sensor,
            make_automation_sensor(AssetSelection.assets(dbt_models)),
            freshness_sensor,
        ],
        resources={"dlt": DagsterDltResource(), "dbt": dbt_resource(settings)},
        executor=in_process_executor,
    )


defs = build_definitions()
