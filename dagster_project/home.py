"""Where Dagster keeps its instance (runs, event log, schedules and sensor state) and how to start it.

``DAGSTER_HOME`` is ``<SCC_DATA_DIR>/dagster``; :func:`ensure_dagster_home` writes its ``dagster.yaml`` from
the template next to this file (telemetry off, a run queue, one warehouse writer at a time). The console
(``dagster dev``: webserver + daemon) and the daemon alone are started through :func:`console_argv` and
:func:`daemon_argv` as children in their own process group (``scc.processes.Supervisor``): started from a
non-interactive shell ``dagster dev`` ignores signals sent to it alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from scc.config import Settings, get_settings

TEMPLATE = Path(__file__).with_name("dagster.yaml")
CODE_LOCATION = "dagster_project.definitions"


def dagster_home(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "dagster"


def ensure_dagster_home(settings: Settings | None = None) -> Path:
    """Create ``<data dir>/dagster`` with the instance's ``dagster.yaml`` (rewritten when the template changed)."""
    home = dagster_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    text = TEMPLATE.read_text()
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return home


def dagster_environment(settings: Settings | None = None) -> dict[str, str]:
    """Variables every Dagster process of the product gets (its home, and no telemetry)."""
    home = ensure_dagster_home(settings)
    return {"DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def _bin(name: str) -> str:
    """A console script of this virtual environment (so nothing depends on PATH being activated)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def console_argv(host: str, port: int) -> list[str]:
    """``dagster dev``: the console (webserver) and the daemon (sensors, schedules, run queue)."""
    return [_bin("dagster"), "dev", "-m", CODE_LOCATION, "--host", host, "--port", str(port),
            "--log-level", "warning"]


def daemon_argv() -> list[str]:
    """``dagster-daemon run``: sensors, schedules, automation and the run queue, without the console."""
    return [_bin("dagster-daemon"), "run", "-m", CODE_LOCATION, "--log-level", "warning"]


def subprocess_environment(settings: Settings | None = None) -> dict[str, str]:
    """Environment of a Dagster child: DAGSTER_HOME, and the virtual environment first on PATH (the run
    workers Dagster starts look up ``dbt`` and ``dagster`` there)."""
    env = dagster_environment(settings)
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    env["PATH"] = path if path.split(os.pathsep)[0] == bin_dir else bin_dir + os.pathsep + path
    return env
