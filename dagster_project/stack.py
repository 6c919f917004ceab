"""Run the orchestration as real processes: ``scc demo``, the end-to-end tests and the freshness benchmark.

Each Dagster process is a child of a :class:`scc.processes.Supervisor` (own process group, stopped with
SIGINT to the group) with ``DAGSTER_HOME`` under the data folder. Nothing here sleeps for a fixed time:
every wait is for a condition, with a deadline.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

from dagster_project.home import (
    CODE_LOCATION,
    _bin,
    console_argv,
    daemon_argv,
    dagster_home,
    subprocess_environment,
)
from scc.config import Settings, get_settings
from scc.processes import Child, Supervisor


def materialize_all(settings: Settings | None = None, *, env: dict[str, str] | None = None,
                    timeout: float = 900) -> subprocess.CompletedProcess:
    """``dagster asset materialize --select '*'``: the first load, recorded in the instance like any run
    (so the console shows it and the automation conditions see every asset materialised)."""
    settings = settings or get_settings()
    argv = [_bin("dagster"), "asset", "materialize", "-m", CODE_LOCATION, "--select", "*"]
    import os

    full_env = {**os.environ, **(env or {}), **subprocess_environment(settings)}
    return subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=timeout,
                          start_new_session=True)


def start_daemon(supervisor: Supervisor, settings: Settings | None = None, *, env: dict[str, str] | None = None,
                 timeout: float = 180, name: str = "dagster-daemon") -> Child:
    """``dagster-daemon run`` (sensors, schedules, automation, run queue); returns once its sensor daemon
    has evaluated the code location (it reported a heartbeat and a change-sensor tick)."""
    settings = settings or get_settings()
    started = time.time()
    child = supervisor.start(name, daemon_argv(), env={**(env or {}), **subprocess_environment(settings)})
    supervisor.wait_until(child, lambda: _sensor_ticked(settings, "change_events_sensor", since=started),
                          timeout=timeout)
    return child


def start_console(supervisor: Supervisor, settings: Settings | None = None, *, port: int | None = None,
                  env: dict[str, str] | None = None, timeout: float = 180,
                  stopping: Callable[[], bool] = lambda: False) -> tuple[Child, str]:
    """``dagster dev`` (console + daemon) on ``port``; returns the child and the console's URL once it serves."""
    import httpx

    settings = settings or get_settings()
    port = port or settings.dagster_port
    url = f"http://{settings.dagster_host}:{port}"
    child = supervisor.start("dagster", console_argv(settings.dagster_host, port),
                             env={**(env or {}), **subprocess_environment(settings)})

    def ready() -> bool:
        try:
            return httpx.get(url + "/server_info", timeout=2, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return stopping()

    supervisor.wait_until(child, ready, timeout=timeout)
    return child, url


def instance(settings: Settings | None = None):
    """The product's Dagster instance (``<data dir>/dagster``), to read runs and ticks from."""
    from dagster import DagsterInstance

    from dagster_project.home import ensure_dagster_home

    home = ensure_dagster_home(settings)
    return DagsterInstance.from_config(str(home))


def _sensor_ticked(settings: Settings, sensor_name: str, since: float) -> bool:
    from dagster._core.scheduler.instigation import InstigatorType

    if not (dagster_home(settings) / "history").exists() and not (dagster_home(settings) / "storage").exists():
        return False
    with instance(settings) as inst:
        for state in inst.all_instigator_state(instigator_type=InstigatorType.SENSOR):
            if state.instigator_name == sensor_name:
                ticks = inst.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
                if ticks and ticks[0].timestamp >= since:
                    return True
    return False


def wait_for(condition: Callable[[], object], *, timeout: float, what: str, interval: float = 0.25,
             alive: Callable[[], None] | None = None):
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds.
    ``alive`` is called on every poll and may raise (a child process died)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if alive:
            alive()
        try:
            last = condition()
        except Exception as error:  # noqa: BLE001 - e.g. the warehouse locked by a writer: poll again
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")




def run_timeline(inst, run_id: str) -> dict[str, float]:
    """When each stage of a run happened (Unix seconds): created, enqueued, dequeued, started, the dlt step's
    start and end, the dbt step's start, its first and last mart, the notification, the run's end."""
    from dagster import DagsterEventType

    from dagster_project.notify import LOG_PREFIX

    record = inst.get_run_record_by_id(run_id)
    out: dict[str, float] = {"created": record.create_timestamp.timestamp()}
    for entry in inst.all_logs(run_id):
        event = entry.dagster_event
        stamp = entry.timestamp
        if event is None:
            if entry.user_message.startswith(LOG_PREFIX):
                out["notified"] = stamp
            continue
        kind = event.event_type
        step = event.step_key or ""
        if kind == DagsterEventType.RUN_ENQUEUED:
            out["enqueued"] = stamp
        elif kind == DagsterEventType.RUN_DEQUEUED:
            out["dequeued"] = stamp
        elif kind == DagsterEventType.RUN_STARTING:
            out.setdefault("starting", stamp)
        elif kind == DagsterEventType.RUN_START:
            out["started"] = stamp
        elif kind == DagsterEventType.STEP_START:
            out.setdefault("sync_start" if step.endswith("_sync") else "build_start", stamp)
        elif kind == DagsterEventType.STEP_SUCCESS:
            out["sync_end" if step.endswith("_sync") else "build_end"] = stamp
        elif kind == DagsterEventType.ASSET_MATERIALIZATION and event.asset_key \
                and event.asset_key.path[0] == "marts":
            out.setdefault("first_mart", stamp)
            out["last_mart"] = stamp
        elif kind in (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE):
            out["finished"] = stamp
    return out
