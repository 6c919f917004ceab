"""``scc demo`` / ``make demo``: every part of the product that exists, on the embedded defaults.

Each part runs as its own child process (own process group) so one Ctrl-C stops them all cleanly.
Later parts (sync and build, the API and dashboard, the Dagster console) join the list in
:func:`run_demo` as they land.
"""

from __future__ import annotations

import signal
import threading

from rich.console import Console
from rich.table import Table

from emulators.server import RunInfo
from scc.config import get_settings
from scc.processes import Supervisor, scc_command


def run_demo(*, fresh: bool, console: Console) -> int:
    settings = get_settings()
    supervisor = Supervisor(settings.data_dir / "logs")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    try:
        console.print("[bold]Starting the Salesforce and NetSuite emulators[/] (generating the demo company on first run)…")
        emulators = supervisor.start("emulators", scc_command("emulators", "start", *(["--fresh"] if fresh else [])))
        supervisor.wait_until(
            emulators,
            lambda: bool((info := RunInfo.read(settings)) and info.pid == emulators.process.pid) or stop.is_set(),
            timeout=900,
        )
        if stop.is_set():
            return 130
        info = RunInfo.read(settings)

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
        console.print(table)
        console.print(f"Logs in {supervisor.log_dir}. Press [bold]Ctrl-C[/] to stop everything.")

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
