"""Helpers for the Salesforce emulator tests: a hand-filled store, a throwaway CA, a server in a thread.

Kept small on purpose; the shared fixtures (tests/conftest.py, emulators/tls.py) take over these jobs in the
end-to-end tests.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import socket
import threading
import time
from pathlib import Path

from emulators.salesforce.soql import id18
from emulators.schema import (
    OPPORTUNITY_STAGES,
    SALESFORCE_OBJECTS,
    STAGE_FORECAST_CATEGORY,
    STAGE_PROBABILITY,
    create_salesforce_store,
)

INDUSTRIES = ("Technology", "Retail", "Banking", "Healthcare", "Manufacturing", None)
STATES = ("CA", "NY", "TX", "WA", "MA", None)


def _ids(prefix: str, n: int) -> list[str]:
    return [id18(f"{prefix}AA0{i:09d}") for i in range(n)]


def _ts(base: dt.datetime, seconds: int) -> str:
    value = base + dt.timedelta(seconds=seconds)
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def make_store(
    path: Path, *, opportunities: int = 10_000, seed: int = 7, today: dt.date | None = None
) -> Path:
    """A store with users, accounts, contacts, ``opportunities`` opportunities (some deleted), their
    history, tasks and events. Stamps lie in the 40 days before now; close dates around ``today``."""
    rng = random.Random(seed)
    today = today or dt.datetime.now(dt.UTC).date()
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=40)
    conn = create_salesforce_store(path)
    cols = {obj: [c.name for c in columns] for obj, (_, columns) in SALESFORCE_OBJECTS.items()}

    def insert(obj: str, rows: list[dict]) -> None:
        names = cols[obj]
        sql = f'INSERT INTO "{obj}" ({", ".join(chr(34) + n + chr(34) for n in names)}) VALUES ({", ".join("?" * len(names))})'
        conn.executemany(sql, [[r.get(n) for n in names] for r in rows])

    users = _ids("005", 12)
    insert(
        "User",
        [
            {
                "Id": uid,
                "Username": f"user{i}@example.com",
                "FirstName": f"First{i}",
                "LastName": f"Last{i}",
                "Name": f"First{i} Last{i}",
                "Email": f"user{i}@example.com",
                "IsActive": 1,
                "ManagerId": users[0] if i else None,
                "Sales_Role__c": "Integration" if i == 11 else ("Sales Manager" if i < 3 else "Sales Rep"),
                "Territory__c": rng.choice(["West", "East"]),
                "Quarterly_Quota__c": 250000.0,
                "CreatedDate": _ts(base, i),
                "LastModifiedDate": _ts(base, i),
                "SystemModstamp": _ts(base, i),
            }
            for i, uid in enumerate(users)
        ],
    )
    accounts = _ids("001", 400)
    insert(
        "Account",
        [
            {
                "Id": aid,
                "Name": f"Account {i:03d}" if i % 7 else f"acme {i:03d}",
                "Type": rng.choice(["Customer", "Prospect"]),
                "Industry": rng.choice(INDUSTRIES),
                "BillingState": rng.choice(STATES),
                "BillingCountry": "USA",
                "AnnualRevenue": float(rng.randint(1, 500) * 10000),
                "NumberOfEmployees": rng.randint(5, 5000),
                "OwnerId": rng.choice(users[:11]),
                "IsDeleted": 1 if i % 97 == 5 else 0,
                "CreatedDate": _ts(base, 100 + i),
                "LastModifiedDate": _ts(base, 100 + i),
                "SystemModstamp": _ts(base, 100 + i),
            }
            for i, aid in enumerate(accounts)
        ],
    )
    contacts = _ids("003", 600)
    insert(
        "Contact",
        [
            {
                "Id": cid,
                "AccountId": accounts[i % len(accounts)],
                "FirstName": f"C{i}",
                "LastName": f"Person{i}",
                "Name": f"C{i} Person{i}",
                "Email": f"c{i}@example.com",
                "OwnerId": rng.choice(users),
                "IsDeleted": 0,
                "CreatedDate": _ts(base, 1000 + i),
                "LastModifiedDate": _ts(base, 1000 + i),
                "SystemModstamp": _ts(base, 1000 + i),
            }
            for i, cid in enumerate(contacts)
        ],
    )
    opps = _ids("006", opportunities)
    opp_rows, history = [], []
    hist_ids = iter(_ids("008", opportunities * 2))
    for i, oid in enumerate(opps):
        stage = rng.choice(OPPORTUNITY_STAGES)
        amount = None if i % 50 == 0 else float(rng.randint(10, 2000) * 100)
        close = today + dt.timedelta(days=rng.randint(-200, 200))
        created = 3000 + i * 300
        modified = created + rng.randint(0, 3000)
        row = {
            "Id": oid,
            "Name": f"Deal {i:05d}",
            "AccountId": accounts[rng.randrange(len(accounts))],
            "OwnerId": rng.choice(users[:11]),
            "StageName": stage,
            "Amount": amount,
            "Probability": float(STAGE_PROBABILITY[stage]),
            "CloseDate": close.isoformat(),
            "IsClosed": int(stage.startswith("Closed")),
            "IsWon": int(stage == "Closed Won"),
            "ForecastCategoryName": STAGE_FORECAST_CATEGORY[stage],
            "Type": rng.choice(["New Business", "Existing Business", "Renewal", None]),
            "LeadSource": rng.choice(["Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Other"]),
            "NextStep": None if i % 3 else "Call back",
            "Product_Category__c": rng.choice(["Apparel", "Gear"]),
            "LastActivityDate": None,
            "IsDeleted": 1 if i % 40 == 3 else 0,
            "CreatedDate": _ts(base, created),
            "LastModifiedDate": _ts(base, modified),
            "SystemModstamp": _ts(base, modified),
        }
        opp_rows.append(row)
        history.append(
            {
                "Id": next(hist_ids),
                "OpportunityId": oid,
                "StageName": stage,
                "Amount": amount,
                "CloseDate": row["CloseDate"],
                "Probability": row["Probability"],
                "ForecastCategory": row["ForecastCategoryName"],
                "CreatedById": row["OwnerId"],
                "CreatedDate": row["CreatedDate"],
                "SystemModstamp": row["CreatedDate"],
                "IsDeleted": row["IsDeleted"],
            }
        )
    insert("Opportunity", opp_rows)
    insert("OpportunityHistory", history)
    insert(
        "Task",
        [
            {
                "Id": tid,
                "Subject": f"Call {i}",
                "TaskSubtype": "Call",
                "ActivityDate": today.isoformat(),
                "Status": "Completed" if i % 2 else "Not Started",
                "Priority": "Normal",
                "IsClosed": i % 2,
                "WhatId": opps[i % len(opps)],
                "WhoId": contacts[i % len(contacts)],
                "AccountId": accounts[i % 400],
                "OwnerId": users[i % 11],
                "IsDeleted": 0,
                "CreatedDate": _ts(base, 5000 + i),
                "LastModifiedDate": _ts(base, 5000 + i),
                "SystemModstamp": _ts(base, 5000 + i),
            }
            for i, tid in enumerate(_ids("00T", 300))
        ],
    )
    conn.close()
    return path


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """The project's own CA and server certificate (the same code the emulator runner uses)."""
    from emulators.tls import ensure_tls_files

    files = ensure_tls_files(directory)
    return files.ca_cert, files.server_cert, files.server_key


@contextlib.contextmanager
def serve_tls(app, cert: Path, key: Path):
    """Run ``app`` with uvicorn over TLS on a free 127.0.0.1 port in a thread; yields the base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, ssl_certfile=str(cert), ssl_keyfile=str(key), log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the Salesforce emulator did not start")
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(1)
        server.force_exit = True  # idle keep-alive TLS connections of the tests' clients would hold it up
        thread.join(10)
        sock.close()
