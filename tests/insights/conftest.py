"""Fixtures of the insights tests.

Each company here has a data folder of its own, served by its own emulator process, synced and built by
``scc sync`` and ``scc build`` run as child processes with that folder's settings; nothing else in the run
touches them, so the stories the tests measure are exactly as generated (other folders place orders on the
session's shared company).

- ``planted_company`` / ``planted``: the demo company with its stories planted (its folder, stores and
  stories; its settings). While a test that uses ``planted`` runs, this process's settings point at it too
  (for the code under test that reads the settings itself: the CLI, the Dagster job).
- ``plain``: the same company generated without the stories (``plant_stories=False``, same seed and scale).
- ``smtp``: a real SMTP server (aiosmtpd) on a free loopback port that keeps what it receives.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from scc.processes import Supervisor, free_port, scc_command
from tests.conftest import CompanyStores

_OWN_SERVICES = {"SCC_REDIS_URL": "", "SCC_WAREHOUSE_URL": ""}  # the embedded defaults, never the session's


@dataclass
class Company(CompanyStores):
    settings: object  # scc.config.Settings of the company's data folder
    company_dir: Path  # the generated company: salesforce.sqlite, netsuite.sqlite, stories.json

    @property
    def environment(self) -> dict[str, str]:
        return {"SCC_DATA_DIR": str(self.settings.data_dir), **_OWN_SERVICES}


def company_of_its_own(tmp_path_factory, name: str, *, plant_stories: bool) -> Company:
    """A demo company generated into a new data folder, served by its own emulators, synced and built there."""
    from emulators.demo_company import generate_company
    from emulators.server import RunInfo, company_dir
    from scc.config import Settings, today

    data_dir: Path = tmp_path_factory.mktemp(name)
    env = {"SCC_DATA_DIR": str(data_dir), "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()),
           "SCC_NETSUITE_EMULATOR_PORT": str(free_port()), "SCC_EMULATOR_LIVE": "false", **_OWN_SERVICES}
    settings = Settings(data_dir=data_dir)
    folder = company_dir(settings)
    files = generate_company(folder, seed=settings.demo_seed, scale=settings.demo_scale, today=today(),
                             plant_stories=plant_stories)
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
    company = Company(Settings(data_dir=data_dir, redis_url=None, warehouse_url=None), folder)
    assert any(s.get("planted") for s in company.stories) == plant_stories
    return company


@pytest.fixture(scope="session")
def planted_company(test_environment, tmp_path_factory) -> Company:
    return company_of_its_own(tmp_path_factory, "insights-planted", plant_stories=True)


@pytest.fixture(scope="session")
def planted(planted_company):
    """Settings of the warehouse built from the company with the planted stories."""
    return planted_company.settings


@pytest.fixture(autouse=True)
def planted_environment(request):
    """While a test that uses ``planted`` runs, this process's settings are the planted company's."""
    if "planted" not in request.fixturenames:
        yield
        return
    from agents import catalog
    from agents.guard import release_connections
    from agents.insights import clear_cache
    from scc.config import reset_settings_cache, temporary_environment

    company = request.getfixturevalue("planted_company")
    with temporary_environment(company.environment):
        reset_settings_cache()
        catalog.clear_cache()
        clear_cache()
        try:
            yield
        finally:
            release_connections()
            catalog.clear_cache()
            clear_cache()
    reset_settings_cache()


@pytest.fixture(scope="session")
def stories(planted_company) -> dict[str, dict]:
    return {s["kind"]: s for s in planted_company.stories if s.get("planted")}


@pytest.fixture(scope="session")
def plain(test_environment, tmp_path_factory):
    """Settings of a warehouse built from a company without planted stories."""
    return company_of_its_own(tmp_path_factory, "insights-plain", plant_stories=False).settings


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
                              "login": getattr(session, "login_data", None), "tls": session.ssl is not None})
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
