"""The app database on SQLite (default) and PostgreSQL (one setting): both migrate to the models and work.

The PostgreSQL run is a second `scc serve` without Redis, so it also covers the in-process fallbacks.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from api.db import alembic_config, migrate
from api.models import Base

from .fixtures import DEMO_LOGINS, DEMO_PASSWORD, start_api
from .helpers import wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres_app_url(postgres_url):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS scc_app")
        conn.execute("CREATE DATABASE scc_app")
    return postgres_url.rsplit("/", 1)[0] + "/scc_app"


def check_migrations(url: str) -> None:
    from api.db import database_url  # noqa: F401 - same URL handling as the product

    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    migrate(url if url.startswith("sqlite") else sa_url)
    engine = create_engine(sa_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert {"transactions", "conversations", "audit_log", "webhook_events"} <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(sa_url), "base")
    assert "transactions" not in inspect(engine).get_table_names()
    migrate(sa_url)
    assert "transactions" in inspect(engine).get_table_names()
    engine.dispose()


def test_sqlite_and_postgresql_migrate_to_the_models(tmp_path, postgres_app_url):
    check_migrations(f"sqlite:///{tmp_path / 'app.sqlite'}")
    check_migrations(postgres_app_url)


def test_the_api_works_on_postgresql_without_redis(warehouse, postgres_app_url, data_dir, emulators):
    from .test_webhooks import netsuite_event, post

    supervisor, child, url = start_api(data_dir, "api-postgres", {
        "SCC_APP_DATABASE_URL": postgres_app_url, "SCC_REDIS_URL": "", "SCC_API_WORKERS": "2",
        "SCC_LOG_LEVEL": "WARNING"})
    import httpx

    try:
        with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
            # the executives' dashboards are computed at start-up, before anyone asks
            exec_token = client.post("/api/v1/auth/token", data={"username": DEMO_LOGINS["sales_exec"],
                                                                 "password": DEMO_PASSWORD}).json()["access_token"]
            wait_for(lambda: "scc_api_dashboard_warm_ups_total 1.0" in client.get("/metrics").text,
                     timeout=60, what="the dashboards warmed at start-up")
            for path in ("dashboard/overview?period=quarter", "dashboard/pipeline", "dashboard/orders",
                         "dashboard/customers", "dashboard/products", "insights"):
                answer = client.get(f"/api/v1/{path}", headers={"Authorization": f"Bearer {exec_token}"})
                assert answer.status_code == 200 and answer.headers["x-cache"] == "hit", path
            health = client.get("/health").json()
            assert health["checks"]["app_database"]["dialect"] == "postgresql"
            assert health["checks"]["redis"]["kind"] == "memory"
            token = client.post("/api/v1/auth/token", data={"username": DEMO_LOGINS["sales_rep"],
                                                            "password": DEMO_PASSWORD}).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            tx = client.post("/api/v1/transactions/create",
                             json={"sentence": "Create a sales order for Disney, 3 hats, $50 each"}).json()
            assert tx["valid"], tx["checks"]
            with ThreadPoolExecutor(10) as pool:
                codes = list(pool.map(lambda _: client.post(f"/api/v1/transactions/{tx['id']}/approve").status_code,
                                      range(10)))
            assert set(codes) <= {200, 409} and 200 in codes
            with sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True) as store:
                (count,) = store.execute("SELECT count(*) FROM \"transaction\" WHERE externalid = ?",
                                         (tx["external_id"],)).fetchone()
            assert count == 1
            assert client.get(f"/api/v1/transactions/{tx['id']}").json()["status"] == "submitted"
            assert client.get("/api/v1/dashboard/orders").headers["x-cache"] == "miss"
            assert client.get("/api/v1/dashboard/orders").headers["x-cache"] == "hit"  # the in-process cache
            answer = client.post("/api/v1/query/ask", json={"question": "how many open orders do I have?"})
            assert answer.status_code == 200
            assert client.get("/api/v1/conversations").json()["items"][0]["question"] == "how many open orders do I have?"
            event = netsuite_event()
            assert post(client, "netsuite", event).json()["accepted"] == 1
            assert post(client, "netsuite", event).json()["duplicates"] == 1
    finally:
        supervisor.stop_all()
