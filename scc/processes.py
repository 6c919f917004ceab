"""Start, watch and stop the product's long-running processes (used by ``scc demo`` and the tests).

Each child runs in its own process group, so stopping it also stops whatever it started (``dagster dev``
ignores signals sent to it alone when started from a non-interactive shell; see offline-stack.md).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


# Set by the Supervisor in each child's environment: the pid the child must not outlive.
PARENT_PID_VARIABLE = "SCC_EXIT_WITH_PARENT"


def parent_is_gone() -> bool:
    """True when this process was started by a Supervisor that has since died (even by SIGKILL).

    Long-running children poll this, so a killed ``scc demo`` or test run leaves nothing behind.
    """
    expected = os.environ.get(PARENT_PID_VARIABLE)
    return bool(expected) and os.getppid() != int(expected)


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path | None = None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGINT to the group, then SIGTERM, then SIGKILL, each given its share of ``timeout``."""
        for sig, share in ((signal.SIGINT, 0.6), (signal.SIGTERM, 0.3), (signal.SIGKILL, 0.1)):
            if not self.alive:
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=max(timeout * share, 1.0))
            except subprocess.TimeoutExpired:
                continue
        return self.process.poll()

    def tail(self, lines: int = 30) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Supervisor:
    log_dir: Path
    children: list[Child] = field(default_factory=list)

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, *, exit_with_parent: bool = True
    ) -> Child:
        """Start ``argv`` in its own process group, logging to ``<log_dir>/<name>.log``.

        ``exit_with_parent`` asks the child to stop when this process dies (children that honour it
        poll :func:`parent_is_gone`); ``scc emulators start --detach`` turns it off on purpose.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **(env or {})}
        env.pop(PARENT_PID_VARIABLE, None)
        if exit_with_parent:
            env[PARENT_PID_VARIABLE] = str(os.getpid())
        log_path = self.log_dir / f"{name}.log"
        log_file = log_path.open("ab")
        process = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        log_file.close()
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def wait_until(self, child: Child, ready: Callable[[], bool], timeout: float) -> None:
        """Poll ``ready`` until it holds; fail with the child's log if it dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not child.alive:
                raise RuntimeError(f"{child.name} exited with code {child.process.returncode}:\n{child.tail()}")
            if ready():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{child.name} was not ready after {timeout:.0f} s:\n{child.tail()}")

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()

    def first_dead(self) -> Child | None:
        return next((child for child in self.children if not child.alive), None)


def scc_command(*args: str) -> list[str]:
    """The argv to run an ``scc`` sub-command with this interpreter (works without the venv on PATH)."""
    return [sys.executable, "-m", "scc", *args]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (for tests and benchmarks)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
