"""The API under test (a pytest plugin, loaded for the whole run by tests/conftest.py, so the API tests and
the dashboard tests share one instance of each fixture). As a user runs it: ``scc serve`` in its own process (two workers) over real HTTP, with a
real redis-server, on a warehouse loaded from the emulators (``scc sync``) and built by dbt (``scc build``).

Session-scoped and started once: redis-server, the warehouse, the API. Each is stopped by its own process id
at the end, even when a test fails.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from scc.processes import Supervisor, free_port, scc_command

from .helpers import mint, scope_for, wait_for

DEMO_PASSWORD = "scc-demo"
ROLES = ("sales_exec", "sales_manager", "sales_rep", "finance_viewer")
DEMO_LOGINS = {
    "sales_exec": "exec@scc-demo.example",
    "sales_manager": "manager@scc-demo.example",
    "sales_rep": "rep@scc-demo.example",
    "finance_viewer": "finance@scc-demo.example",
}


@dataclass
class RedisServer:
    url: str
    port: int
    process: subprocess.Popen

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a free loopback port, no persistence, stopped by its pid."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; `make test` installs it (apt package redis-server)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--dir", str(folder)],
        stdout=(folder / "redis.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = RedisServer(f"redis://127.0.0.1:{port}/0", port, process)
    try:
        wait_for(lambda: server.client().ping(), timeout=15, what="redis-server")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def warehouse(emulators):
    """The warehouse as `scc sync` and `scc build` leave it: both sources loaded, the marts built by dbt."""
    from pipelines.run import sync
    from scc import marts

    for source in ("salesforce", "netsuite"):
        sync(source)
    summary = marts.build()
    assert summary.success, f"the marts did not build: {summary.as_dict()}"
    return emulators


@dataclass
class Api:
    url: str
    child: object
    database_url: str
    redis_url: str = ""
    people: dict = field(default_factory=dict)  # role -> {"rep_id", "territory", "name"} of the demo logins
    tokens: dict = field(default_factory=dict)

    def client(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, trust_env=False, **kwargs)

    def login(self, role: str) -> str:
        if role not in self.tokens:
            with self.client() as c:
                response = c.post("/api/v1/auth/token", data={"username": DEMO_LOGINS[role], "password": DEMO_PASSWORD})
                response.raise_for_status()
                body = response.json()
            self.tokens[role] = body["access_token"]
            self.people[role] = body["user"]
        return self.tokens[role]

    def as_role(self, role: str) -> httpx.Client:
        """A client with a fresh identity of the demo person's role and scope (its own rate-limit budget)."""
        self.login(role)
        person = self.people[role]
        return self.client(mint(scope_for(role, rep_id=person["rep_id"], territory=person["territory"])))

    def as_scope(self, scope) -> httpx.Client:
        return self.client(mint(scope))


def start_api(data_dir: Path, name: str, env: dict[str, str], timeout: float = 90) -> tuple[Supervisor, object, str]:
    port = free_port()
    supervisor = Supervisor(data_dir / "logs")
    child = supervisor.start(name, scc_command("serve", "--port", str(port)), env={"SCC_API_PORT": str(port), **env})
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(url + "/health", timeout=5, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        supervisor.wait_until(child, ready, timeout=timeout)
    except Exception:
        supervisor.stop_all()
        raise
    return supervisor, child, url


@pytest.fixture(scope="session")
def oidc_provider():
    """An OpenID Connect identity provider on a free port (authorization-code flow, RS256 ID tokens)."""
    from .oidc_provider import Provider

    provider = Provider(free_port())
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def api(warehouse, redis_server, oidc_provider, data_dir):
    """`scc serve` with two workers, Redis, and a SQLite app database of its own."""
    database = f"sqlite:///{data_dir / 'api-test' / 'app.sqlite'}"
    (data_dir / "api-test").mkdir(exist_ok=True)
    env = {
        "SCC_REDIS_URL": redis_server.url,
        "SCC_APP_DATABASE_URL": database,
        "SCC_API_WORKERS": "2",
        "SCC_API_NETSUITE_TIMEOUT": "5",
        "SCC_API_NETSUITE_RETRIES": "2",
        "SCC_LOG_LEVEL": "WARNING",
        "SCC_API_WARM_DASHBOARDS": "false",  # the cache tests count hits and misses themselves
        "SCC_OIDC_ISSUER": oidc_provider.url,
        "SCC_OIDC_CLIENT_ID": "scc-api",
        "SCC_OIDC_CLIENT_SECRET": "test-oidc-client-secret",
    }
    supervisor, child, url = start_api(data_dir, "api", env)
    try:
        yield Api(url=url, child=child, database_url=database, redis_url=redis_server.url)
    finally:
        supervisor.stop_all()


@pytest.fixture(autouse=True)
def api_environment(request):
    """While an API test runs, this process talks to the same Redis and app database as the server (so
    invalidate_dashboards(), publish_event() and the event queue here reach it); other tests never see them."""
    if "api" not in request.fixturenames:
        yield
        return
    from scc.config import reset_settings_cache, temporary_environment

    api = request.getfixturevalue("api")
    wanted = {"SCC_REDIS_URL": api.redis_url, "SCC_APP_DATABASE_URL": api.database_url}
    with temporary_environment(wanted):
        reset_settings_cache()
        try:
            yield
        finally:
            reset_settings_cache()


@pytest.fixture(scope="session")
def marts():
    """Read the marts directly (the independent side of the scope checks)."""
    from api.services.warehouse import fetch_dicts

    return fetch_dicts


@pytest.fixture(scope="session")
def people_scopes(api):
    """Fresh identities with the scopes of the executive, manager and rep demo logins."""
    for role in ("sales_exec", "sales_manager", "sales_rep"):
        api.login(role)
    manager, rep = api.people["sales_manager"], api.people["sales_rep"]
    return (scope_for("sales_exec"),
            scope_for("sales_manager", rep_id=manager["rep_id"], territory=manager["territory"]),
            scope_for("sales_rep", rep_id=rep["rep_id"], territory=rep["territory"]))
