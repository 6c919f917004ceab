"""Shared fixtures: one pinned clock, one small demo company, and the real emulators over real HTTP.

Everything session-scoped is started once, as its own process, and stopped by its own process id at the
end, even when a test fails (see shared/reference/testing.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests

from scc.processes import free_port

# The API's fixture chain (redis-server, synced warehouse, `scc serve`): one instance for the API and the
# dashboard tests alike.
pytest_plugins = ["tests.api.fixtures"]

TEST_TODAY = "2026-05-20"
TEST_SCALE = "0.05"
TEST_SEED = "42"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scc-data")


@pytest.fixture(scope="session", autouse=True)
def test_environment(data_dir) -> dict[str, str]:
    """Pin the settings for the whole run, in this process and in every child it starts."""
    from scc.config import reset_settings_cache, temporary_environment

    env = {
        "SCC_DATA_DIR": str(data_dir),
        "SCC_TODAY": TEST_TODAY,
        "SCC_DEMO_SEED": TEST_SEED,
        "SCC_DEMO_SCALE": TEST_SCALE,
        "SCC_EMULATOR_LIVE": "false",
        "SCC_EMULATOR_FAULTS": "",
        "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()),
        "SCC_NETSUITE_EMULATOR_PORT": str(free_port()),
    }
    with temporary_environment(env):
        reset_settings_cache()
        yield env
    reset_settings_cache()


class CompanyStores:
    """A generated demo company's files (``company_dir``): the emulators' SQLite stores and its stories."""

    company_dir: Path

    @property
    def salesforce_store(self) -> Path:
        return self.company_dir / "salesforce.sqlite"

    @property
    def netsuite_store(self) -> Path:
        return self.company_dir / "netsuite.sqlite"

    @property
    def stories(self) -> list[dict]:
        return json.loads((self.company_dir / "stories.json").read_text())


@dataclass
class Emulators(CompanyStores):
    """The running emulator process and what a test needs to talk to it."""

    salesforce_url: str
    netsuite_url: str  # .../services/rest
    ca_path: Path
    company_dir: Path
    settings: object

    @property
    def netsuite_root(self) -> str:
        return self.netsuite_url.removesuffix("/services/rest")

    def _base(self, vendor: str) -> str:
        return self.salesforce_url if vendor == "salesforce" else self.netsuite_root

    def admin(self, vendor: str, method: str, path: str, body: dict | None = None) -> dict:
        with httpx.Client(verify=self.ssl_context(), trust_env=False, timeout=30) as client:
            response = client.request(method, self._base(vendor) + "/__admin/" + path.lstrip("/"), json=body)
            response.raise_for_status()
            return response.json() if response.content else {}

    def ssl_context(self):
        import ssl

        return ssl.create_default_context(cafile=str(self.ca_path))

    def set_faults(self, **plan) -> None:
        for vendor in ("salesforce", "netsuite"):
            self.admin(vendor, "POST", "faults", plan)

    def reset_faults(self) -> None:
        from dataclasses import asdict

        from emulators.faults import FaultPlan

        self.set_faults(**asdict(FaultPlan()))

    def requests_session(self) -> requests.Session:
        """A requests session that trusts the project CA (and ignores the machine's CA variables)."""
        session = requests.Session()
        session.verify = str(self.ca_path)
        session.trust_env = False
        return session

    def salesforce_token(self) -> str:
        s = self.settings
        response = self.requests_session().post(
            f"{self.salesforce_url}/services/oauth2/token",
            data={
                "grant_type": "password",
                "client_id": s.salesforce_client_id,
                "client_secret": s.salesforce_client_secret.get_secret_value(),
                "username": s.salesforce_username,
                "password": s.salesforce_password.get_secret_value(),
            },
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def salesforce_client(self):
        from simple_salesforce import Salesforce

        return Salesforce(
            instance_url=self.salesforce_url,
            session_id=self.salesforce_token(),
            session=self.requests_session(),
            version=self.settings.salesforce_api_version,
        )

    def netsuite_auth(self):
        from requests_oauthlib import OAuth1

        s = self.settings
        return OAuth1(
            s.netsuite_consumer_key,
            s.netsuite_consumer_secret.get_secret_value(),
            s.netsuite_token_id,
            s.netsuite_token_secret.get_secret_value(),
            signature_method="HMAC-SHA256",
            realm=s.netsuite_account_id,
        )


@pytest.fixture(scope="session")
def emulators(test_environment, data_dir):
    """The emulators as a user starts them (`scc emulators start`), in their own process."""
    from emulators.server import RunInfo
    from scc.config import get_settings
    from scc.processes import Supervisor, scc_command

    settings = get_settings()
    supervisor = Supervisor(data_dir / "logs")
    child = supervisor.start("emulators", scc_command("emulators", "start"))
    try:
        supervisor.wait_until(
            child, lambda: bool((info := RunInfo.read(settings)) and info.pid == child.process.pid), timeout=300
        )
        info = RunInfo.read(settings)
        yield Emulators(
            salesforce_url=info.salesforce_url,
            netsuite_url=info.netsuite_url,
            ca_path=settings.tls_dir / "ca.pem",
            company_dir=Path(info.company_dir),
            settings=settings,
        )
    finally:
        supervisor.stop_all()


@pytest.fixture
def clean_faults(emulators):
    """Tests that inject faults use this, so the next test starts with none."""
    emulators.reset_faults()
    yield emulators
    emulators.reset_faults()


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server on a free port, in a temporary data directory, as the postgres user."""
    import glob
    import shutil
    import subprocess

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.fail("PostgreSQL is not installed; `make test` installs it (apt package postgresql)")
    import tempfile

    bin_dir = Path(bins[-1])
    # Not under pytest's tmp folder: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="scc-postgres-"))
    pgdata, sockets = root / "data", root / "run"
    sockets.mkdir()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run([*as_postgres, bin_dir / "initdb", "-D", pgdata, "-A", "trust", "-U", "scc", "--no-sync"],
                   check=True, capture_output=True)
    port = free_port()
    subprocess.run(
        [*as_postgres, bin_dir / "pg_ctl", "-D", pgdata, "-l", root / "server.log", "-w", "-t", "60", "start",
         "-o", f"-p {port} -h 127.0.0.1 -k {sockets} -F"],
        check=True, capture_output=True,
    )
    try:
        subprocess.run([bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "scc", "warehouse"],
                       check=True, capture_output=True)
        yield f"postgresql://scc:scc@127.0.0.1:{port}/warehouse"  # trust auth; dlt wants a password
    finally:
        subprocess.run([*as_postgres, bin_dir / "pg_ctl", "-D", pgdata, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
