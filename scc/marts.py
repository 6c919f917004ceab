"""Build the marts: run the dbt project (``models/``, ``profiles.yml``) in-process with dbt's Python API.

``scc build``, ``make demo``, the tests and the benchmarks come through :func:`build`. The wrapper is the
only place that knows how the product's settings become dbt's: it sets the ``SCC_DBT_*`` variables that
``profiles.yml`` reads (the DuckDB file, or the PostgreSQL server of ``SCC_WAREHOUSE_URL``), passes the
product's clock as the ``today`` variable (models never use ``current_date``), and keeps dbt's working
files (``target/``, logs) under the data folder, one set per warehouse.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from scc.config import PROJECT_ROOT, Settings, get_settings, temporary_environment, today
from scc.publish import marts_published, refresh_failed
from scc.warehouse import duckdb_path, is_postgres, warehouse_key

TARGETS = ("duckdb", "postgres")
MARTS_SCHEMA = "marts"

# dbt keeps global state (adapters, flags, the invocation context): one invocation at a time per process.
_DBT_LOCK = threading.Lock()


@dataclass
class NodeResult:
    """What happened to one dbt node (model, test, unit test, seed) in a run."""

    name: str
    resource_type: str  # model, test, unit_test, seed, ...
    status: str  # success, error, skipped, pass, fail, warn
    seconds: float
    message: str = ""
    failures: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in {"success", "pass", "warn"}


@dataclass
class BuildSummary:
    """The outcome of ``dbt build``: per-node results and the counts ``scc build`` prints."""

    target: str
    success: bool
    seconds: float
    full_refresh: bool = False
    results: list[NodeResult] = field(default_factory=list)
    error: str | None = None  # a failure before any node ran (cannot connect, project does not parse)
    published: str | None = None  # DuckDB: the file the readers now see (scc.warehouse.publish_marts)
    notified: dict | None = None  # what scc.publish.marts_published did (cache dropped, pushed)
    publish_seconds: float = 0.0

    def _count(self, types: set[str], statuses: set[str]) -> int:
        return sum(1 for r in self.results if r.resource_type in types and r.status in statuses)

    @property
    def models_built(self) -> int:
        return self._count({"model", "seed", "snapshot"}, {"success"})

    @property
    def models_failed(self) -> int:
        return self._count({"model", "seed", "snapshot"}, {"error"})

    @property
    def tests_passed(self) -> int:
        return self._count({"test", "unit_test"}, {"pass", "success"})

    @property
    def tests_failed(self) -> int:
        return self._count({"test", "unit_test"}, {"fail", "error"})

    @property
    def tests_warned(self) -> int:
        return self._count({"test", "unit_test"}, {"warn"})

    @property
    def skipped(self) -> int:
        return sum(1 for r in self.results if r.status == "skipped")

    @property
    def failures(self) -> list[NodeResult]:
        return [r for r in self.results if r.status in {"error", "fail"}]

    @property
    def warnings(self) -> list[NodeResult]:
        """Data tests of severity warn that found rows: data quality to look at, published all the same."""
        return [r for r in self.results if r.status == "warn"]

    def as_dict(self) -> dict:
        return {
            "target": self.target, "success": self.success, "seconds": round(self.seconds, 2),
            "full_refresh": self.full_refresh, "models_built": self.models_built,
            "models_failed": self.models_failed, "tests_passed": self.tests_passed,
            "tests_failed": self.tests_failed, "tests_warned": self.tests_warned, "skipped": self.skipped,
            "error": self.error, "published": self.published,
            "failures": [{"name": r.name, "type": r.resource_type, "message": r.message} for r in self.failures],
        }


class DbtError(RuntimeError):
    """dbt could not run at all (bad project, unreachable warehouse)."""


def default_target(settings: Settings | None = None) -> str:
    """The dbt target of the configured warehouse: postgres when SCC_WAREHOUSE_URL is set, else duckdb."""
    return "postgres" if is_postgres(settings or get_settings()) else "duckdb"


def dbt_dir(settings: Settings | None = None, target: str | None = None) -> Path:
    """dbt's working folder for one warehouse: ``<data_dir>/dbt/<warehouse>`` (target/ and logs/ inside)."""
    settings = settings or get_settings()
    target = target or default_target(settings)
    key = warehouse_key(settings) if target == default_target(settings) else target
    return settings.data_dir / "dbt" / key


def semantic_manifest_path(settings: Settings | None = None, target: str | None = None) -> Path:
    """Where ``dbt build`` / ``dbt parse`` leave the semantic manifest that scc.semantic compiles from."""
    return dbt_dir(settings, target) / "target" / "semantic_manifest.json"


def dbt_environment(settings: Settings | None = None, target: str | None = None) -> dict[str, str]:
    """The ``SCC_DBT_*`` variables profiles.yml reads, derived from the product's settings."""
    settings = settings or get_settings()
    target = target or default_target(settings)
    if target not in TARGETS:
        raise ValueError(f"unknown dbt target {target!r}; choose {' or '.join(TARGETS)}")
    env = {"SCC_DBT_TARGET": target, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    if target == "duckdb":
        path = duckdb_path(settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        env["SCC_DBT_DUCKDB_PATH"] = str(path)
        env["SCC_DBT_THREADS"] = "2"
    else:
        if not is_postgres(settings):
            raise DbtError("the postgres target needs SCC_WAREHOUSE_URL=postgresql://user:password@host:port/db")
        url = urlparse(settings.warehouse_url)
        env.update({
            "SCC_DBT_PG_HOST": url.hostname or "127.0.0.1",
            "SCC_DBT_PG_PORT": str(url.port or 5432),
            "SCC_DBT_PG_USER": unquote(url.username or "postgres"),
            "SCC_DBT_PG_PASSWORD": unquote(url.password or ""),
            "SCC_DBT_PG_DBNAME": (url.path or "/postgres").lstrip("/") or "postgres",
            "SCC_DBT_THREADS": "4",
        })
    return env


def dbt_vars() -> dict[str, str]:
    """Variables every run gets: the product's clock (``today``), never the database's current_date."""
    return {"today": today().isoformat()}


def run_dbt(
    command: list[str],
    *,
    target: str | None = None,
    settings: Settings | None = None,
    callbacks: list[Callable] | None = None,
):
    """Run one dbt command (e.g. ``["build", "--select", "marts"]``) in-process; returns dbt's result."""
    from dbt.cli.main import dbtRunner

    settings = settings or get_settings()
    target = target or default_target(settings)
    work = dbt_dir(settings, target)
    args = [
        *command,
        "--project-dir", str(PROJECT_ROOT),
        "--profiles-dir", str(PROJECT_ROOT),
        "--target", target,
        "--target-path", str(work / "target"),
        "--log-path", str(work / "logs"),
        "--vars", json.dumps(dbt_vars()),
    ]
    global_flags = ["--no-use-colors", "--log-level", "none", "--log-level-file", "info",
                    "--no-send-anonymous-usage-stats", "--no-version-check"]
    with _DBT_LOCK, temporary_environment(dbt_environment(settings, target)):
        runner = dbtRunner(callbacks=callbacks or [])
        try:
            return runner.invoke(global_flags + args)
        finally:
            _release_connections()


def _release_connections() -> None:
    """Close what dbt leaves open, so this process (and others) can open the DuckDB file afterwards."""
    try:
        from dbt.adapters.factory import cleanup_connections

        cleanup_connections()
    except Exception:  # noqa: BLE001 - best effort: nothing to close when no adapter was loaded
        pass
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None and hasattr(environment, "close"):
        try:
            environment.close()
        except Exception:  # noqa: BLE001 - already closed
            pass


def build(
    *,
    full_refresh: bool = False,
    target: str | None = None,
    select: str | None = None,
    settings: Settings | None = None,
    on_node_done: Callable[[NodeResult], None] | None = None,
) -> BuildSummary:
    """``dbt build`` (seeds, models, data tests and unit tests, in DAG order) on the configured warehouse.

    ``target`` defaults to the warehouse of the settings (postgres when SCC_WAREHOUSE_URL is set).
    ``on_node_done`` is called as each node finishes (for progress displays).
    """
    settings = settings or get_settings()
    target = target or default_target(settings)
    command = ["build"]
    if full_refresh:
        command.append("--full-refresh")
    if select:
        command += ["--select", select]
    callbacks = [_node_callback(on_node_done)] if on_node_done else []
    started = time.perf_counter()
    result = run_dbt(command, target=target, settings=settings, callbacks=callbacks)
    seconds = time.perf_counter() - started
    summary = BuildSummary(target=target, success=bool(result.success), seconds=seconds, full_refresh=full_refresh)
    if result.exception is not None:
        summary.error = _describe(result.exception)
        summary.success = False
    run = result.result
    for node_result in getattr(run, "results", None) or []:
        summary.results.append(_node_result(node_result))
    if not summary.success and summary.error is None and not summary.failures:
        summary.error = "dbt build failed; see " + str(dbt_dir(settings, target) / "logs" / "dbt.log")
    if summary.success:
        # Readers see the new marts only now, and only because every test passed; the API's cache is
        # dropped and the dashboards pushed the same way as after a Dagster run (scc.publish).
        started = time.perf_counter()
        try:
            marts = [r.name for r in summary.results
                     if r.resource_type == "model" and r.ok and r.name.startswith(("dim_", "fct_"))]
            summary.notified = marts_published(marts, by="scc build", settings=settings)
            summary.published = summary.notified["published"]
        except Exception as error:  # noqa: BLE001 - reported as the build's failure
            summary.success = False
            summary.error = f"the marts were built but could not be published to the readers: {error}"
        summary.publish_seconds = time.perf_counter() - started
    if not summary.success:
        failing = ", ".join(f"{r.resource_type} {r.name}" for r in summary.failures[:5])
        refresh_failed(summary.error or f"failed: {failing}", by="scc build", settings=settings)
    return summary


def parse(*, target: str | None = None, settings: Settings | None = None) -> Path:
    """``dbt parse``: write the manifest and the semantic manifest without touching the warehouse."""
    result = run_dbt(["parse"], target=target, settings=settings)
    if not result.success:
        raise DbtError(f"dbt parse failed: {_describe(result.exception) if result.exception else 'see dbt.log'}")
    return semantic_manifest_path(settings, target)


def _node_result(node_result) -> NodeResult:
    node = node_result.node
    status = str(getattr(node_result.status, "value", node_result.status))
    return NodeResult(
        name=node.name,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        status=status,
        seconds=float(node_result.execution_time or 0.0),
        message=(node_result.message or "") if status in {"error", "fail", "warn"} else "",
        failures=node_result.failures,
    )


def _node_callback(on_node_done: Callable[[NodeResult], None]) -> Callable:
    def callback(event) -> None:
        if event.info.name != "NodeFinished":
            return
        data = event.data
        info = data.node_info
        run_result = data.run_result
        status = str(run_result.status or info.node_status)
        on_node_done(NodeResult(
            name=info.node_name,
            resource_type=info.resource_type,
            status=status,
            seconds=float(run_result.execution_time or 0.0),
            message=run_result.message if status in {"error", "fail", "warn"} else "",
        ))

    return callback


def _describe(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = " ".join(lines)
    return (text[:600] + " ...") if len(text) > 600 else (text or repr(error))
