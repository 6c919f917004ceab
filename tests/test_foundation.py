"""The foundation: settings, offline switches, the command line, fault plans and the emulator process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emulators.faults import Fault, FaultInjector, FaultPlan
from scc.cli import app
from scc.config import PROJECT_ROOT, OFFLINE_ENVIRONMENT, settings_markdown_table

from scc.processes import free_port


def test_readme_lists_every_setting_with_its_default():
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [row for row in settings_markdown_table().splitlines()[2:] if row not in readme]
    assert not missing, "README is out of date; paste `scc settings --markdown`:\n" + "\n".join(missing)


def test_readme_shows_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_offline_switches_are_set_by_importing_the_project():
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENVIRONMENT}
    out = subprocess.run(
        [sys.executable, "-c", "import scc, os, json; print(json.dumps({k: os.environ.get(k) for k in "
         f"{sorted(OFFLINE_ENVIRONMENT)!r}}}))"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    import json

    assert json.loads(out) == OFFLINE_ENVIRONMENT


def test_settings_come_from_the_environment(monkeypatch):
    from scc.config import Settings

    monkeypatch.setenv("SCC_NETSUITE_CONCURRENCY_LIMIT", "3")
    monkeypatch.setenv("SCC_TODAY", "2026-01-31")
    settings = Settings()
    assert settings.netsuite_concurrency_limit == 3
    assert settings.today.isoformat() == "2026-01-31"
    assert "scc-demo-secret" not in repr(settings), "secrets must not show in logs"


COMMANDS = [[], ["emulators"], ["emulators", "start"], ["emulators", "stop"], ["emulators", "status"],
            ["emulators", "faults"], ["demo"], ["generate"], ["settings"], ["build"], ["sync"], ["digest"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "scc")
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "<bool>" not in result.output, "a flag takes no value: its help shows no type"


def test_the_dagster_console_greets_a_local_user_without_a_sign_up_pop_up(tmp_path):
    from dagster import DagsterInstance

    from dagster_project.home import ensure_dagster_home
    from scc.config import Settings

    home = ensure_dagster_home(Settings(data_dir=tmp_path))
    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.nux_enabled is False and instance.telemetry_enabled is False


def test_the_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "scc", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "emulators" in result.stdout


def test_fault_plan_parses_and_rejects_nonsense():
    plan = FaultPlan.parse("error_rate=0.1, latency_ms=50,seed=7")
    assert (plan.error_rate, plan.latency_ms, plan.seed) == (0.1, 50.0, 7)
    with pytest.raises(ValueError, match="unknown fault setting"):
        FaultPlan.parse("eror_rate=0.1")
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan.parse("error_rate=2")


def test_faults_are_reproducible_from_their_seed_and_close_to_their_rates():
    def sequence(seed):
        injector = FaultInjector(FaultPlan(error_rate=0.1, rate_limit_rate=0.05, drop_rate=0.05, seed=seed))
        return [injector.draw().fault for _ in range(4000)]

    first, again, other = sequence(3), sequence(3), sequence(4)
    assert first == again and first != other
    share = first.count(Fault.SERVER_ERROR) / len(first)
    assert 0.08 < share < 0.12
    assert 0.03 < first.count(Fault.RATE_LIMITED) / len(first) < 0.07


def test_session_expiry_fires_exactly_once_after_n_requests():
    injector = FaultInjector(FaultPlan(expire_session_after=5))
    faults = [injector.draw().fault for _ in range(20)]
    assert faults.index(Fault.SESSION_EXPIRED) == 5
    assert faults.count(Fault.SESSION_EXPIRED) == 1


@pytest.mark.slow
def test_emulators_start_detached_report_status_and_stop(tmp_path, test_environment):
    env = {
        **os.environ,
        "SCC_DATA_DIR": str(tmp_path),
        "SCC_DEMO_SCALE": "0.02",
        "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()),
        "SCC_NETSUITE_EMULATOR_PORT": str(free_port()),
    }

    def scc(*args):
        return subprocess.run([sys.executable, "-m", "scc", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    started = scc("emulators", "start", "--detach")
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        status = scc("emulators", "status")
        assert status.returncode == 0 and "running" in status.stdout, status.stdout + status.stderr
        changed = scc("emulators", "faults", "error_rate=0.25")
        assert changed.returncode == 0 and "0.25" in changed.stdout, changed.stdout + changed.stderr
        assert Path(tmp_path, "emulators", "run.json").exists()
    finally:
        stopped = scc("emulators", "stop")
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert scc("emulators", "status").returncode == 1
    assert not Path(tmp_path, "emulators", "run.json").exists()


@pytest.mark.slow
def test_supervised_emulators_exit_when_their_supervisor_is_killed(tmp_path):
    import json
    import signal
    import time

    env = {
        **os.environ, "SCC_DATA_DIR": str(tmp_path), "SCC_DEMO_SCALE": "0.02",
        "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()), "SCC_NETSUITE_EMULATOR_PORT": str(free_port()),
    }
    supervisor_code = (
        "import time; from pathlib import Path; from scc.processes import Supervisor, scc_command\n"
        f"Supervisor(Path({str(tmp_path)!r})).start('emulators', scc_command('emulators', 'start'))\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", supervisor_code], env=env)
    run_file = tmp_path / "emulators" / "run.json"
    deadline = time.monotonic() + 120
    while not run_file.exists():
        assert time.monotonic() < deadline and parent.poll() is None, "emulators never started"
        time.sleep(0.2)
    emulator_pid = json.loads(run_file.read_text())["pid"]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(emulator_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.kill(emulator_pid, signal.SIGKILL)
    pytest.fail("the emulators outlived their supervisor")


def test_emulators_on_a_port_in_use_fail_fast_with_a_clear_message(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "SCC_DATA_DIR": str(tmp_path), "SCC_DEMO_SCALE": "0.02",
               "SCC_SALESFORCE_EMULATOR_PORT": str(port),
               "SCC_NETSUITE_EMULATOR_PORT": str(free_port()), "COLUMNS": "200"}
        result = subprocess.run([sys.executable, "-m", "scc", "emulators", "start"], env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "could not start" in result.stdout and str(port) in result.stdout, result.stdout
