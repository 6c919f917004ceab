"""Records per second each emulator serves for a full paginated read, with the real clients.

Baseline in the same run: reading the same rows straight from the emulator's SQLite store and encoding
them to JSON in this process (what the emulator must do at least), so the ratio is the HTTP overhead.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import orjson

from benchmarks.common import bench_scales, start_emulators, table

TITLE = "Emulator throughput (full paginated read)"


def _baseline(store: Path, sql: str) -> tuple[int, float]:
    started = time.perf_counter()
    con = sqlite3.connect(store)
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    count = 0
    while batch := cur.fetchmany(2000):
        orjson.dumps([dict(zip(names, row)) for row in batch])
        count += len(batch)
    return count, time.perf_counter() - started


def _salesforce(info, settings) -> tuple[int, float]:
    import requests
    from simple_salesforce import Salesforce

    session = requests.Session()
    session.verify, session.trust_env = str(settings.tls_dir / "ca.pem"), False
    token = session.post(f"{info.salesforce_url}/services/oauth2/token", data={
        "grant_type": "password", "client_id": settings.salesforce_client_id,
        "client_secret": settings.salesforce_client_secret.get_secret_value(),
        "username": settings.salesforce_username, "password": settings.salesforce_password.get_secret_value(),
    }).json()["access_token"]
    sf = Salesforce(instance_url=info.salesforce_url, session_id=token, session=session)
    fields = ", ".join(c.name for c in __import__("emulators.schema", fromlist=["x"]).salesforce_columns("Task"))
    started = time.perf_counter()
    count = sum(1 for _ in sf.query_all_iter(f"SELECT {fields} FROM Task"))
    return count, time.perf_counter() - started


def _netsuite(info, settings) -> tuple[int, float]:
    import requests
    from requests_oauthlib import OAuth1

    auth = OAuth1(settings.netsuite_consumer_key, settings.netsuite_consumer_secret.get_secret_value(),
                  settings.netsuite_token_id, settings.netsuite_token_secret.get_secret_value(),
                  signature_method="HMAC-SHA256", realm=settings.netsuite_account_id)
    session = requests.Session()
    session.trust_env = False
    last, count = 0, 0
    started = time.perf_counter()
    while True:
        response = session.post(
            f"{info.netsuite_url}/query/v1/suiteql?limit=1000&offset=0", auth=auth,
            headers={"Prefer": "transient"},
            json={"q": f"SELECT * FROM transactionline WHERE uniquekey > {last} ORDER BY uniquekey"},
        )
        response.raise_for_status()
        items = response.json()["items"]
        count += len(items)
        if not items or not response.json()["hasMore"]:
            break
        last = items[-1]["uniquekey"]
    return count, time.perf_counter() - started


def run(quick: bool) -> dict:
    scale = bench_scales(quick, [1])[0]
    supervisor, info, settings = start_emulators(scale)
    try:
        company = Path(info.company_dir)
        sf_n, sf_s = _salesforce(info, settings)
        sfb_n, sfb_s = _baseline(company / "salesforce.sqlite", 'SELECT * FROM "Task" WHERE "IsDeleted" = 0')
        ns_n, ns_s = _netsuite(info, settings)
        nsb_n, nsb_s = _baseline(company / "netsuite.sqlite", "SELECT * FROM transactionline ORDER BY uniquekey")
    finally:
        supervisor.stop_all()
    rows = [
        ["Salesforce (simple-salesforce query_all, Task)", f"{sf_n:,}", f"{sf_s:.2f}", f"{sf_n / sf_s:,.0f}",
         f"{sfb_n / sfb_s:,.0f}", f"{(sfb_n / sfb_s) / (sf_n / sf_s):.1f}x"],
        ["NetSuite (SuiteQL keyset pages of 1000, transactionline)", f"{ns_n:,}", f"{ns_s:.2f}",
         f"{ns_n / ns_s:,.0f}", f"{nsb_n / nsb_s:,.0f}", f"{(nsb_n / nsb_s) / (ns_n / ns_s):.1f}x"],
    ]
    body = table(["read", "records", "seconds", "records/s", "baseline: store + JSON records/s", "slower by"], rows)
    return {
        "title": TITLE,
        "body": f"Scale {scale}.\n\n{body}\n\nAim: each emulator serves at least 20,000 records/s.",
        "summary": f"Salesforce {sf_n / sf_s:,.0f} records/s, NetSuite {ns_n / ns_s:,.0f} records/s (scale {scale})",
    }
