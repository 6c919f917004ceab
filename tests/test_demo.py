"""`make demo` runs `scc demo`: it starts every part, prints where they are, and Ctrl-C stops them all."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from emulators.server import RunInfo
from scc.config import Settings
from scc.processes import free_port

pytestmark = pytest.mark.slow


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_demo_starts_everything_prints_urls_and_stops_cleanly_on_ctrl_c(tmp_path):
    sf_port, ns_port = free_port(), free_port()
    env = {
        **os.environ,
        "SCC_DATA_DIR": str(tmp_path), "SCC_DEMO_SCALE": "0.02",
        "SCC_SALESFORCE_EMULATOR_PORT": str(sf_port), "SCC_NETSUITE_EMULATOR_PORT": str(ns_port),
        "COLUMNS": "200",
    }
    process = subprocess.Popen([sys.executable, "-m", "scc", "demo"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 600
    while "Press Ctrl-C" not in "".join(output):
        assert process.poll() is None, "demo exited early:\n" + "".join(output)
        assert time.monotonic() < deadline, "demo never became ready:\n" + "".join(output)
        time.sleep(0.2)

    text = "".join(output)
    assert f"https://127.0.0.1:{sf_port}" in text and f"http://127.0.0.1:{ns_port}/services/rest" in text
    # what a new user reads: the company generated (the first time only), the sync's and the build's progress
    # as they go, no library's log lines, and every URL and login whole (a pipe is no 80-column terminal)
    from scc.demo import _LIBRARY_LOG

    assert "generating the demo company" in text
    assert "passed" in text.split("scc build")[1].split("Starting the API")[0], "the build's result on the console"
    assert "total" in text.split("scc sync")[1].split("scc build")[0], "the sync's summary on the console"
    assert not [line for line in output if _LIBRARY_LOG.match(line)], "library log lines on the console"
    assert "finance@scc-demo.example (finance_viewer)" in text and "/docs" in text
    assert not [line for line in output if re.search(r"\w…", line)], "a value cut short"
    info = RunInfo.read(Settings(data_dir=tmp_path))
    assert info and _port_open(sf_port) and _port_open(ns_port)

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    assert process.wait(timeout=60) == 0, "".join(output)
    reader.join(timeout=5)
    gone_by = time.monotonic() + 10
    while _pid_alive(info.pid) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not _pid_alive(info.pid), "the emulators outlived the demo"
    assert not _port_open(sf_port) and not _port_open(ns_port)
    assert "Stopped." in "".join(output)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
