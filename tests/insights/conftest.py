"""Fixtures of the insights tests.

- ``planted``: the session's demo company (stories planted), served by the session's emulators, synced and
  built into the session's warehouse, as ``scc sync`` and ``scc build`` leave it.
- ``plain``: a second company generated without the stories (``plant_stories=False``, same seed and scale) in
  a data folder of its own, served by its own emulator process, synced and built by ``scc sync`` and ``scc
  build`` run as child processes with that folder's settings; the tests read it with a ``Settings`` object of
  their own, so this process's settings stay the session's.
- ``smtp``: a real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest

from scc.processes import Supervisor, free_port, scc_command


@pytest.fixture(scope="session")
def planted(emulators):
    """The session's settings, with the planted company synced into the warehouse and the marts built."""
    from pipelines.run import sync
    from scc.config import get_settings
    from scc.marts import build

    for source in ("salesforce", "netsuite"):
        sync(source)
    summary = build()
    assert summary.success, summary.as_dict()
    from agents import catalog
    from agents.insights import clear_cache

    catalog.clear_cache()
    clear_cache()
    return get_settings()


@pytest.fixture(scope="session")
def stories(emulators) -> dict[str, dict]:
    return {s["kind"]: s for s in emulators.stories if s.get("planted")}


@pytest.fixture(scope="session")
def plain(test_environment, tmp_path_factory):
    """Settings of a warehouse built from a company without planted stories (its own emulators, sync, build)."""
    from emulators.demo_company import generate_company
    from emulators.server import RunInfo, company_dir
    from scc.config import Settings, today

    data_dir: Path = tmp_path_factory.mktemp("insights-plain")
    env = {"SCC_DATA_DIR": str(data_dir), "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()),
           "SCC_NETSUITE_EMULATOR_PORT": str(free_port()), "SCC_EMULATOR_LIVE": "false",
           "SCC_REDIS_URL": "", "SCC_WAREHOUSE_URL": ""}
    settings = Settings(data_dir=data_dir)
    folder = company_dir(settings)
    files = generate_company(folder, seed=settings.demo_seed, scale=settings.demo_scale, today=today(),
                             plant_stories=False)
    (folder / "company.json").write_text(json.dumps({k: str(v) for k, v in asdict(files).items()}))
    supervisor = Supervisor(data_dir / "logs")
    try:
        child = supervisor.start("emulators", scc_command("emulators", "start"), env=env)
        supervisor.wait_until(child, lambda: bool((info := RunInfo.read(settings)) and info.pid == child.process.pid),
                              timeout=300)
        for command in (("sync",), ("build",)):
            done = subprocess.run(scc_command(*command), env={**os.environ, **env}, capture_output=True, text=True,
                                  timeout=600)
            assert done.returncode == 0, f"scc {command[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    finally:
        supervisor.stop_all()
    assert not any(s.get("planted") for s in json.loads(files.stories.read_text()))
    return Settings(data_dir=data_dir, redis_url=None, warehouse_url=None)


@pytest.fixture(scope="session")
def marts_reader():
    """Read a warehouse's marts directly (the independent side of the checks): ``read(settings, sql, params)``."""
    import duckdb

    from scc.warehouse import duckdb_path

    def read(settings, sql: str, params: list | None = None) -> list[dict]:
        con = duckdb.connect(str(duckdb_path(settings)), read_only=True)
        try:
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
        finally:
            con.close()

    return read


class Mailbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes
        from email.policy import default

        message = message_from_bytes(envelope.content, policy=default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message,
                              "login": getattr(session, "login_data", None)})
        return "250 Message accepted for delivery"


class _Authenticator:
    def __init__(self, user: str, password: str):
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        ok = auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp():
    """aiosmtpd on a free port, accepting AUTH PLAIN/LOGIN as digest/secret (without TLS: loopback only)."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(),
                            authenticator=_Authenticator("digest", "secret"), auth_require_tls=False)
    controller.start()
    try:
        mailbox.port = controller.port
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture(scope="module", autouse=True)
def release_warehouse_connections():
    """Other tests build the marts in this process: never leave them a warehouse held open."""
    yield
    from agents.guard import release_connections

    release_connections()
