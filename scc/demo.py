"""``scc demo`` / ``make demo``: every part of the product that exists, on the embedded defaults.

Each part runs as its own child process (own process group) so one Ctrl-C stops them all cleanly.
Once the emulators are ready, ``scc sync`` and ``scc build`` run to completion (one-shot children) so
the warehouse and the marts are there before the URLs are announced. Then redis-server and the API
(``scc serve``, several workers) start, then the Dagster console (``dagster dev``: the webserver and the daemon
that runs the change sensor, the schedules and the automation). Later parts join the list in :func:`run_demo`
as they land.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table

from emulators.server import RunInfo
from scc.config import get_settings
from scc.processes import Supervisor, scc_command


def warehouse_location(settings) -> str:
    from scc.warehouse import duckdb_path, is_postgres

    if is_postgres(settings):
        from urllib.parse import urlparse

        url = urlparse(settings.warehouse_url)
        return f"postgresql://{url.hostname}:{url.port or 5432}{url.path}"
    return str(duckdb_path(settings))


# A library's log line (dlt, dbt, urllib3, ...): "2026-05-20 12:00:00,123 INFO dlt: ..."; the product's own
# loggers are named scc.*. Those stay in the log file; the console gets the command's own output.
_LIBRARY_LOG = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\S*\s+(DEBUG|INFO|WARNING)\s+(?!scc[.:])")


def console_lines(text: str) -> list[str]:
    """What of a one-shot child's log the console shows while it runs: its own lines, not libraries' logs."""
    return [line.rstrip() for line in text.splitlines() if line.strip() and not _LIBRARY_LOG.match(line)]


def _run_to_completion(supervisor: Supervisor, name: str, argv: list[str], stop: threading.Event,
                       console: Console | None = None) -> int | None:
    """Run a one-shot child to its end, its progress on the console as it comes (its own lines, not the
    libraries' logs, which stay in its log file); its exit code, or None when Ctrl-C came first (it is stopped)."""
    child = supervisor.start(name, argv, env={"COLUMNS": "160"})  # its tables wide enough to cut no cell
    log, shown = Path(supervisor.log_dir) / f"{name}.log", 0

    def show() -> None:
        nonlocal shown
        if console is None or not log.exists():
            return
        with log.open("rb") as handle:
            handle.seek(shown)
            chunk = handle.read()
        end = chunk.rfind(b"\n") + 1  # whole lines only; the rest next time
        shown += end
        for line in console_lines(chunk[:end].decode(errors="replace")):
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)

    try:
        while child.alive:
            show()
            if stop.wait(0.2):
                child.stop()
                return None
        show()
        return child.process.returncode
    finally:
        supervisor.children.remove(child)


def choose_api_port(settings, console: Console) -> int:
    """SCC_API_PORT, or a free port when something else listens there already (said on the console)."""
    import socket

    from scc.processes import free_port

    with socket.socket() as sock:
        sock.settimeout(0.5)
        busy = sock.connect_ex((settings.api_host, settings.api_port)) == 0
    if not busy:
        return settings.api_port
    port = free_port()
    console.print(f"[yellow]Port {settings.api_port} is in use; the API takes {port} (set SCC_API_PORT to choose).[/]")
    return port


def start_api(supervisor: Supervisor, settings, stop: threading.Event, api_port: int) -> str | None:
    """redis-server (when installed and no SCC_REDIS_URL is set) and the API with its workers; the API's URL."""
    import shutil

    import httpx

    from scc.processes import free_port

    env = {}
    binary = shutil.which("redis-server")
    if not settings.redis_url and binary:
        port = free_port()
        while port == api_port:  # the API's port is chosen but not bound yet
            port = free_port()
        redis = supervisor.start("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                           "--appendonly", "no", "--daemonize", "no"])
        env["SCC_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"

        def redis_ready() -> bool:
            import redis as redis_client

            try:
                return bool(redis_client.Redis.from_url(env["SCC_REDIS_URL"], socket_timeout=1).ping())
            except Exception:  # noqa: BLE001 - not up yet
                return stop.is_set()

        supervisor.wait_until(redis, redis_ready, timeout=30)
        # children started after this one (orchestration) reach the same Redis, so their
        # api.cache.invalidate_dashboards() / publish_event() reach the API's workers
        import os

        from scc.config import reset_settings_cache

        os.environ["SCC_REDIS_URL"] = env["SCC_REDIS_URL"]
        reset_settings_cache()
    url = f"http://{settings.api_host}:{api_port}"
    api = supervisor.start("api", scc_command("serve"), env={**env, "SCC_API_PORT": str(api_port)})

    def api_ready() -> bool:
        try:
            return httpx.get(url + "/api/v1/auth/config", timeout=2, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return stop.is_set()

    supervisor.wait_until(api, api_ready, timeout=120)
    return None if stop.is_set() else url


def print_parts(console: Console, table: Table) -> None:
    """The parts, their URLs and logins: a table on a terminal; elsewhere (a pipe, a log file, CI) one part
    per line, so no URL or login is ever cut to fit a fixed 80-column table."""
    if console.is_terminal:
        console.print(table)
        return
    console.print(table.title or "", soft_wrap=True)
    what, where, login = (list(column.cells) for column in table.columns)
    for part, url, how in zip(what, where, login):
        console.print(f"- {part}: {url}\n  log in: {how}", markup=False, highlight=False, soft_wrap=True)


def add_api_rows(table: Table, settings, url: str) -> None:
    from api.security import DEMO_USERS

    password = settings.api_demo_password.get_secret_value()
    logins = ", ".join(f"{user} ({role})" for user, role in DEMO_USERS.items())
    table.add_row("Dashboard (open this in a browser)", f"{url}/", f"one of {logins}; password {password!r}")
    table.add_row("API (REST + WebSocket /ws/dashboard)", url, f"POST /api/v1/auth/token; password {password!r} for "
                  f"{logins}")
    table.add_row("API docs (OpenAPI)", f"{url}/docs", "Authorize with one of the demo logins above")


def start_orchestration(supervisor: Supervisor, settings, stop: threading.Event, console: Console) -> str | None:
    """The Dagster console (``dagster dev``: webserver + daemon with the sensors and schedules) on
    SCC_DAGSTER_PORT, or a free port when that one is taken; its URL, or None when it could not start
    (the demo goes on without it)."""
    import socket

    from dagster_project.stack import start_console
    from scc.processes import free_port

    port = settings.dagster_port
    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((settings.dagster_host, port)) == 0:
            port = free_port()
            console.print(f"[yellow]Port {settings.dagster_port} is in use; the Dagster console takes {port} "
                          "(set SCC_DAGSTER_PORT to choose).[/]")
    try:
        _, url = start_console(supervisor, settings, port=port, timeout=300, stopping=stop.is_set)
    except (RuntimeError, TimeoutError) as error:
        child = next((c for c in supervisor.children if c.name == "dagster"), None)
        if child:
            child.stop()
            supervisor.children.remove(child)
        console.print(f"[yellow]The Dagster console did not start; the demo goes on without it:[/] {error}")
        return None
    return None if stop.is_set() else url


def run_demo(*, fresh: bool, console: Console) -> int:
    settings = get_settings()
    for noisy in ("httpx", "httpcore"):  # its readiness polls are no news for the console
        logging.getLogger(noisy).setLevel(logging.WARNING)
    supervisor = Supervisor(settings.data_dir / "logs")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    try:
        from emulators.server import company_dir

        generated = not fresh and (company_dir(settings) / "company.json").exists()
        console.print("[bold]Starting the Salesforce and NetSuite emulators[/]"
                      + (f" with the demo company in {company_dir(settings)}…" if generated
                         else " (generating the demo company)…"), soft_wrap=True)
        # live-mode change events go to the API's webhooks (it starts once the marts are built)
        api_port = choose_api_port(settings, console)
        webhooks = {} if settings.emulator_webhook_url else {
            "SCC_EMULATOR_WEBHOOK_URL": f"http://{settings.api_host}:{api_port}/webhooks"}
        emulators = supervisor.start("emulators", scc_command("emulators", "start", *(["--fresh"] if fresh else [])),
                                     env=webhooks)
        supervisor.wait_until(
            emulators,
            lambda: bool((info := RunInfo.read(settings)) and info.pid == emulators.process.pid) or stop.is_set(),
            timeout=900,
        )
        if stop.is_set():
            return 130

        # Load the warehouse and build the marts before announcing anything: one-shot children, each
        # in its own process group like the rest, so Ctrl-C stops them too.
        for name, argv, what in (
            ("sync", scc_command("sync"), "Loading Salesforce and NetSuite into the warehouse (scc sync)"),
            ("build", scc_command("build"), "Building the marts and the semantic layer (scc build)"),
        ):
            console.print(f"[bold]{what}[/]…")
            code = _run_to_completion(supervisor, name, argv, stop, console)
            if code is None:
                return 130
            if code != 0:
                console.print(f"[yellow]{name} exited with code {code}; the demo goes on without it.[/]\n"
                              f"{supervisor.log_dir / (name + '.log')}:\n"
                              + "\n".join((supervisor.log_dir / f"{name}.log").read_text(errors="replace")
                                           .splitlines()[-15:]))
        info = RunInfo.read(settings)

        console.print("[bold]Starting the API[/] (scc serve)…")
        api_url = start_api(supervisor, settings, stop, api_port)
        if api_url is None:
            return 130

        console.print("[bold]Starting the Dagster console[/] (dagster dev: assets, sensors, schedules)…")
        dagster_url = start_orchestration(supervisor, settings, stop, console)
        if stop.is_set():
            return 130

        table = Table("what", "where", "log in with", title="Sales Command Center demo")
        table.add_row(
            "Salesforce emulator (REST, TLS)",
            info.salesforce_url,
            f"{settings.salesforce_username} via /services/oauth2/token; CA {settings.tls_dir / 'ca.pem'}",
        )
        table.add_row(
            "NetSuite emulator (REST, OAuth 1.0a)",
            info.netsuite_url,
            f"account {settings.netsuite_account_id}, consumer key {settings.netsuite_consumer_key}",
        )
        table.add_row("Demo company", info.company_dir, "stories.json lists the planted stories")
        table.add_row("Warehouse (marts in schema marts)", str(warehouse_location(settings)),
                      "scc.semantic.query_metrics(...) for metrics")
        add_api_rows(table, settings, api_url)
        if dagster_url:
            table.add_row("Dagster console (assets, lineage, runs, freshness)", dagster_url,
                          "no login; webhook changes sync and rebuild the marts by themselves")
        print_parts(console, table)
        console.print(f"Logs in {supervisor.log_dir}. Press [bold]Ctrl-C[/] to stop everything.", soft_wrap=True)

        while not stop.wait(0.5):
            dead = supervisor.first_dead()
            if dead:
                console.print(f"[red]{dead.name} stopped unexpectedly:[/]\n{dead.tail()}")
                return 1
        return 0
    except (RuntimeError, TimeoutError) as error:
        console.print(f"[red]Demo failed to start:[/] {error}")
        return 1
    finally:
        console.print("Stopping…")
        supervisor.stop_all()
        console.print("Stopped.")
