"""The Salesforce emulator against the real simple-salesforce client, over real HTTPS.

The store is filled by hand (tests/emulators/sf_fixtures.py); every number a test checks is computed a
second way with plain SQL over the store file.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from emulators.faults import FaultInjector
from emulators.salesforce.app import create_app
from emulators.salesforce.soql import date_literal_range
from scc.config import Settings
from tests.emulators.sf_fixtures import make_store, make_tls, serve_tls

OPPORTUNITIES = 10_000
TODAY = dt.datetime.now(dt.UTC).date()


@dataclass
class Env:
    url: str
    ca: Path
    store_path: Path
    app: object
    settings: Settings

    def session(self) -> requests.Session:
        s = requests.Session()
        s.verify = str(self.ca)
        s.trust_env = False
        return s

    def token_response(self, **overrides) -> requests.Response:
        st = self.settings
        form = {
            "grant_type": "password",
            "client_id": st.salesforce_client_id,
            "client_secret": st.salesforce_client_secret.get_secret_value(),
            "username": st.salesforce_username,
            "password": st.salesforce_password.get_secret_value(),
        }
        form.update(overrides)
        return self.session().post(f"{self.url}/services/oauth2/token", data=form)

    def token(self) -> str:
        response = self.token_response()
        response.raise_for_status()
        return response.json()["access_token"]

    def client(self, token: str | None = None) -> Salesforce:
        return Salesforce(instance_url=self.url, session_id=token or self.token(), session=self.session())

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self.session().request(method, f"{self.url}/__admin/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def sql(self, query: str, params=()) -> list[tuple]:
        conn = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("sf-emulator")
    store_path = make_store(root / "salesforce.sqlite", opportunities=OPPORTUNITIES, today=TODAY)
    ca, cert, key = make_tls(root / "tls")
    settings = Settings(today=TODAY, salesforce_daily_api_limit=100_000, salesforce_session_ttl=3600)
    app = create_app(store_path, settings, FaultInjector())
    with serve_tls(app, cert, key) as url:
        yield Env(url, ca, store_path, app, settings)
    app.state.store.close()


@pytest.fixture
def sf(env) -> Salesforce:
    return env.client()


def _plain(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "attributes"}


# --- queries -----------------------------------------------------------------------------------


def test_query_all_paginates_and_returns_exactly_the_store_rows(env, sf):
    env.admin("POST", "reset-stats")
    fields = (
        "Id, Name, AccountId, OwnerId, StageName, Amount, Probability, CloseDate, IsClosed, IsWon, "
        "ForecastCategoryName, Type, LeadSource, CreatedDate, LastModifiedDate, SystemModstamp, IsDeleted"
    )
    started = time.perf_counter()
    result = sf.query_all(f"SELECT {fields} FROM Opportunity")
    elapsed = time.perf_counter() - started
    rows = env.sql(f"SELECT {fields} FROM Opportunity WHERE IsDeleted = 0")
    assert len(rows) > 2000
    got = {tuple(_plain(r).values()) for r in result["records"]}
    bools = [i for i, name in enumerate(fields.split(", ")) if name.startswith("Is")]
    want = {tuple(bool(v) if i in bools else v for i, v in enumerate(row)) for row in rows}
    assert got == want and result["totalSize"] == len(rows)
    record = result["records"][0]
    assert list(record)[:2] == ["attributes", "Id"]
    assert record["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{record['Id']}",
    }
    stats = env.admin("GET", "stats")["requests"]
    assert stats["query"] == 1 and stats["queryMore"] == math.ceil(len(rows) / 2000) - 1
    rate = len(rows) / elapsed
    print(f"\nquery_all: {len(rows)} opportunities x 17 fields in {elapsed:.3f}s = {rate:,.0f} records/s")
    assert rate > 5_000  # the target is >= 20,000/s on an idle machine; keep slack for a busy one


def test_an_eleventh_open_cursor_invalidates_the_oldest_as_salesforce_does(sf):
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    first_pages = [sf.query("SELECT Id FROM Opportunity") for _ in range(11)]
    assert all(not page["done"] for page in first_pages)
    with pytest.raises(SalesforceMalformedRequest, match="INVALID_QUERY_LOCATOR"):
        sf.query_more(first_pages[0]["nextRecordsUrl"], identifier_is_url=True)
    assert sf.query_more(first_pages[-1]["nextRecordsUrl"], identifier_is_url=True)["records"]


def test_batch_size_header_sets_page_sizes(sf):
    def first_page(size):
        return sf.query("SELECT Id FROM Opportunity", headers={"Sforce-Query-Options": f"batchSize={size}"})

    page = first_page(500)
    assert len(page["records"]) == 500 and not page["done"]
    assert page["nextRecordsUrl"].startswith("/services/data/v59.0/query/") and page[
        "nextRecordsUrl"
    ].endswith("-500")
    second = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 500 and second["nextRecordsUrl"].endswith("-1000")
    assert {r["Id"] for r in page["records"]}.isdisjoint(r["Id"] for r in second["records"])
    assert len(first_page(50)["records"]) == 200  # clamped to 200..2000
    assert len(first_page(5000)["records"]) == 2000
    assert len(sf.query("SELECT Id FROM Opportunity")["records"]) == 2000
    sizes = []
    for_all = sf.query_all_iter(
        "SELECT Id FROM Opportunity", headers={"Sforce-Query-Options": "batchSize=1000"}
    )
    assert sum(1 for _ in for_all) == page["totalSize"]
    del sizes


def test_query_all_with_deleted_rows(env, sf):
    deleted = env.sql("SELECT Id FROM Opportunity WHERE IsDeleted = 1")
    assert deleted
    everything = sf.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)["records"]
    assert len(everything) == env.sql("SELECT COUNT(*) FROM Opportunity")[0][0]
    assert {r["Id"] for r in everything if r["IsDeleted"] is True} == {row[0] for row in deleted}
    live = sf.query_all("SELECT Id, IsDeleted FROM Opportunity")["records"]
    assert all(r["IsDeleted"] is False for r in live)
    assert sf.query("SELECT COUNT() FROM Opportunity WHERE IsDeleted = true")["totalSize"] == 0


def _range(literal: str, n: int | None = None) -> tuple[str, str]:
    start, end = date_literal_range(literal, n, TODAY)
    return start.isoformat(), end.isoformat()


LAST_30 = _range("LAST_N_DAYS", 30)
THIS_QUARTER = _range("THIS_QUARTER")
CASES = [
    (
        (
            "SELECT Id, Amount FROM Opportunity WHERE Amount >= 150000 AND StageName IN ('Closed Won', 'Prospecting') "
            "ORDER BY Amount DESC, Id LIMIT 25 OFFSET 5"
        ),
        (
            "SELECT Id, Amount FROM Opportunity WHERE IsDeleted = 0 AND Amount >= 150000 AND StageName IN "
            "('Closed Won', 'Prospecting') ORDER BY Amount DESC, Id LIMIT 25 OFFSET 5"
        ),
    ),
    (
        "SELECT Id, Name FROM Account WHERE Name LIKE 'ACME%' ORDER BY Name",
        "SELECT Id, Name FROM Account WHERE IsDeleted = 0 AND lower(Name) LIKE 'acme%' ORDER BY lower(Name)",
    ),
    (
        "SELECT Id FROM Account WHERE Industry != 'Retail' AND BillingState NOT IN ('CA', 'NY') ORDER BY Id",
        (
            "SELECT Id FROM Account WHERE IsDeleted = 0 AND (Industry IS NULL OR Industry != 'Retail') "
            "AND (BillingState IS NULL OR BillingState NOT IN ('CA', 'NY')) ORDER BY Id"
        ),
    ),
    (
        "SELECT Id FROM Account WHERE (Industry = null OR Industry = 'banking') AND NOT (Type = 'Prospect') ORDER BY Id",
        (
            "SELECT Id FROM Account WHERE IsDeleted = 0 AND (Industry IS NULL OR Industry = 'Banking') "
            "AND Type != 'Prospect' ORDER BY Id"
        ),
    ),
    (
        "SELECT Id, CloseDate FROM Opportunity WHERE CloseDate = LAST_N_DAYS:30 ORDER BY CloseDate, Id",
        (
            f"SELECT Id, CloseDate FROM Opportunity WHERE IsDeleted = 0 AND CloseDate >= '{LAST_30[0]}' "
            f"AND CloseDate < '{LAST_30[1]}' ORDER BY CloseDate, Id"
        ),
    ),
    (
        "SELECT COUNT() FROM Opportunity WHERE CloseDate = THIS_QUARTER AND IsWon = true",
        (
            f"SELECT COUNT(*) FROM Opportunity WHERE IsDeleted = 0 AND CloseDate >= '{THIS_QUARTER[0]}' "
            f"AND CloseDate < '{THIS_QUARTER[1]}' AND IsWon = 1"
        ),
    ),
    (
        (
            f"SELECT Id FROM Opportunity WHERE CloseDate > {TODAY.isoformat()} AND CreatedDate < "
            f"{(TODAY - dt.timedelta(days=20)).isoformat()}T12:00:00Z ORDER BY Id"
        ),
        (
            f"SELECT Id FROM Opportunity WHERE IsDeleted = 0 AND CloseDate > '{TODAY.isoformat()}' AND CreatedDate < "
            f"'{(TODAY - dt.timedelta(days=20)).isoformat()}T12:00:00.000+0000' ORDER BY Id"
        ),
    ),
    (
        (
            "SELECT Id, Name, Account.Name, Owner.Name FROM Opportunity WHERE Account.Industry = 'Technology' "
            "ORDER BY Id LIMIT 50"
        ),
        (
            "SELECT o.Id, o.Name, a.Name, u.Name FROM Opportunity o LEFT JOIN Account a ON a.Id = o.AccountId "
            "LEFT JOIN User u ON u.Id = o.OwnerId WHERE o.IsDeleted = 0 AND a.Industry = 'Technology' ORDER BY o.Id LIMIT 50"
        ),
    ),
    (
        "SELECT StageName, COUNT(Id), SUM(Amount) FROM Opportunity GROUP BY StageName ORDER BY StageName",
        (
            "SELECT StageName, COUNT(Id), SUM(Amount) FROM Opportunity WHERE IsDeleted = 0 GROUP BY StageName "
            "ORDER BY lower(StageName)"
        ),
    ),
    (
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE Amount > 190000) ORDER BY Id",
        (
            "SELECT Id FROM Account WHERE IsDeleted = 0 AND Id IN (SELECT AccountId FROM Opportunity "
            "WHERE IsDeleted = 0 AND Amount > 190000) ORDER BY Id"
        ),
    ),
    (
        "SELECT Id, Name FROM Opportunity WHERE Amount = null ORDER BY Name DESC NULLS LAST LIMIT 7",
        "SELECT Id, Name FROM Opportunity WHERE IsDeleted = 0 AND Amount IS NULL ORDER BY lower(Name) DESC LIMIT 7",
    ),
]


@pytest.mark.parametrize("soql,sql", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_soql_matches_independent_sql(env, sf, soql, sql):
    want = env.sql(sql)
    if soql.startswith("SELECT COUNT()"):  # query_all would recount the (empty) records
        result = sf.query(soql)
        assert result == {"totalSize": want[0][0], "done": True, "records": []}
        return
    result = sf.query_all(soql)
    assert want, "a case that selects nothing proves little"

    def flat(value):
        if isinstance(value, dict):
            return [x for k, v in value.items() if k != "attributes" for x in flat(v)]
        return [value]

    got = [tuple(flat(r)) for r in result["records"]]
    assert got == [tuple(row) for row in want]
    if "GROUP BY" in soql:
        assert result["records"][0]["attributes"] == {"type": "AggregateResult"}
        assert list(result["records"][0])[1:] == ["StageName", "expr0", "expr1"]


def test_relationship_fields_are_nested(sf):
    record = sf.query(
        "SELECT Id, Account.Name, Owner.Manager.Name FROM Opportunity WHERE Owner.ManagerId != null LIMIT 1"
    )["records"][0]
    assert record["Account"]["attributes"]["type"] == "Account"
    assert set(record["Account"]) == {"attributes", "Name"}
    assert record["Owner"]["Manager"]["attributes"]["url"].startswith(
        "/services/data/v59.0/sobjects/User/005"
    )


# --- errors --------------------------------------------------------------------------------------


def test_query_errors_are_salesforces(sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Idd FROM Account")
    (body,) = err.value.content
    assert body["errorCode"] == "INVALID_FIELD"
    assert body["message"].startswith(
        "\nSELECT Idd FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Idd'"
    )
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Acount")
    assert err.value.content[0]["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Acount' is not supported" in err.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Account WHERE Name = 'x' ORDER")
    assert err.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in err.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Opportunity WHERE CloseDate > '2024-01-01'")
    assert "must be of type date and should not be enclosed in quotes" in err.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query_more("/services/data/v59.0/query/01gNOPE-2000", identifier_is_url=True)
    assert err.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_http_errors_raise_the_clients_exceptions(env, sf):
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Opportunity.get("006AA0000099999AAA")
    assert err.value.content[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("no/such/thing")
    with pytest.raises(SalesforceExpiredSession) as err:
        env.client("00Dbogus!token").query("SELECT Id FROM Account LIMIT 1")
    assert err.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]

    limit = env.settings.salesforce_daily_api_limit
    used = env.admin("GET", "api-usage")["used"]
    env.admin("POST", "api-usage", {"used": limit})
    try:
        with pytest.raises(SalesforceRefusedRequest) as err:
            sf.query("SELECT Id FROM Account LIMIT 1")
        assert err.value.content == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
    finally:
        env.admin("POST", "api-usage", {"used": used})

    env.admin("POST", "faults", {"error_rate": 1.0, "seed": 3})
    try:
        seen = {}
        for _ in range(20):
            with pytest.raises(SalesforceGeneralError) as err:
                sf.query("SELECT Id FROM Account LIMIT 1")
            seen[err.value.status] = err.value.content[0]["errorCode"]
            if len(seen) == 2:
                break
        assert seen == {500: "UNKNOWN_EXCEPTION", 503: "SERVER_UNAVAILABLE"}
    finally:
        env.admin("POST", "faults", {"error_rate": 0.0, "seed": 0})


def test_api_usage_is_reported(env, sf):
    sf.query("SELECT Id FROM User LIMIT 1")
    first = sf.api_usage["api-usage"]
    sf.query("SELECT Id FROM User LIMIT 1")
    second = sf.api_usage["api-usage"]
    assert second.used == first.used + 1 and second.total == env.settings.salesforce_daily_api_limit
    limits = sf.limits()["DailyApiRequests"]
    assert limits["Max"] == env.settings.salesforce_daily_api_limit
    assert limits["Remaining"] == limits["Max"] - (second.used + 1)


# --- auth ----------------------------------------------------------------------------------------


def test_token_endpoint(env):
    good = env.token_response()
    assert good.status_code == 200
    body = good.json()
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert body["token_type"] == "Bearer" and body["instance_url"] == env.url
    assert env.token_response(password="wrong").json() == {
        "error": "invalid_grant",
        "error_description": "authentication failure",
    }
    assert env.token_response(password="wrong").status_code == 400
    assert env.token_response(client_secret="wrong").json()["error"] == "invalid_client"
    assert env.token_response(client_id="nobody").json()["error"].startswith("invalid_client")
    creds = env.session().post(
        f"{env.url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": env.settings.salesforce_client_id,
            "client_secret": env.settings.salesforce_client_secret.get_secret_value(),
        },
    )
    assert creds.status_code == 200 and creds.json()["access_token"]


def test_tokens_expire(env):
    token = env.token()
    client = env.client(token)
    assert client.query("SELECT COUNT() FROM User")["totalSize"] == 12
    state = env.app.state.emulator
    with state.lock:  # as if settings.salesforce_session_ttl seconds had passed
        state.tokens[token] = time.time() - 1
    with pytest.raises(SalesforceExpiredSession):
        client.query("SELECT COUNT() FROM User")
    env.admin("POST", "expire-sessions")
    with pytest.raises(SalesforceExpiredSession):
        env.client(token).query("SELECT COUNT() FROM User")


# --- writes --------------------------------------------------------------------------------------


def test_closing_a_deal_won_updates_derived_fields_history_and_emits_cdc(env, sf):
    events = []
    store = env.app.state.store
    store.add_listener(events.append)
    try:
        opp_id, before = env.sql(
            "SELECT Id, SystemModstamp FROM Opportunity WHERE IsDeleted = 0 AND StageName = 'Prospecting' LIMIT 1"
        )[0]
        newest = env.sql("SELECT MAX(SystemModstamp) FROM Opportunity")[0][0]
        history_before = env.sql(
            "SELECT COUNT(*) FROM OpportunityHistory WHERE OpportunityId = ?", (opp_id,)
        )[0][0]
        assert sf.Opportunity.update(opp_id, {"StageName": "Closed Won"}) == 204
        record = sf.Opportunity.get(opp_id)
        assert (
            record["IsWon"],
            record["IsClosed"],
            record["Probability"],
            record["ForecastCategoryName"],
        ) == (True, True, 100.0, "Closed")
        assert (
            record["SystemModstamp"] > max(before, newest)
            and record["LastModifiedDate"] == record["SystemModstamp"]
        )
        history = sf.query(
            f"SELECT StageName, Probability, CreatedDate FROM OpportunityHistory "
            f"WHERE OpportunityId = '{opp_id}' ORDER BY CreatedDate DESC"
        )
        assert history["totalSize"] == history_before + 1
        assert history["records"][0]["StageName"] == "Closed Won"
        assert history["records"][0]["CreatedDate"] == record["SystemModstamp"]

        (event,) = events
        header = event["ChangeEventHeader"]
        assert set(header) == {
            "entityName",
            "recordIds",
            "changeType",
            "changedFields",
            "commitTimestamp",
            "commitUser",
            "sequenceNumber",
            "transactionKey",
        }
        assert (header["entityName"], header["recordIds"], header["changeType"]) == (
            "Opportunity",
            [opp_id],
            "UPDATE",
        )
        assert set(header["changedFields"]) == {
            "StageName",
            "IsClosed",
            "IsWon",
            "Probability",
            "ForecastCategoryName",
            "LastModifiedDate",
        }
        assert event["StageName"] == "Closed Won" and event["IsWon"] is True
        assert header["commitUser"].startswith("005") and isinstance(header["commitTimestamp"], int)
        stamp = dt.datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
        assert header["commitTimestamp"] == int(stamp.timestamp() * 1000)
    finally:
        store.remove_listener(events.append)


def test_create_update_delete_undelete(env, sf):
    events = []
    env.app.state.store.add_listener(events.append)
    account_id = env.sql("SELECT Id FROM Account WHERE IsDeleted = 0 LIMIT 1")[0][0]
    created = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "AccountId": account_id})
    assert created["success"] is True and created["errors"] == [] and created["id"].startswith("003")
    contact = sf.Contact.get(created["id"])
    assert contact["Name"] == "Ada Lovelace" and contact["AccountId"] == account_id
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.update(created["id"], {"Nope__c": 1})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"FirstName": "No last name"})
    assert err.value.content[0] == {
        "message": "Required fields are missing: [LastName]",
        "errorCode": "REQUIRED_FIELD_MISSING",
        "fields": ["LastName"],
    }
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get(created["id"])
    assert err.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"
    env.admin("POST", f"records/Contact/{created['id']}/undelete")
    assert sf.Contact.get(created["id"])["IsDeleted"] is False
    env.app.state.store.remove_listener(events.append)

    assert [e["ChangeEventHeader"]["changeType"] for e in events] == ["CREATE", "DELETE", "UNDELETE"]
    create, delete, _ = events
    assert create["ChangeEventHeader"]["changedFields"] == [] and create["LastName"] == "Lovelace"
    assert create["Name"] == "Ada Lovelace" and "Id" not in create
    assert set(delete) == {"ChangeEventHeader"} and delete["ChangeEventHeader"]["recordIds"] == [
        created["id"]
    ]


def test_custom_field_shows_in_describe_and_queries(env, sf):
    field = env.admin(
        "POST",
        "fields/Opportunity",
        {"name": "Discount_Reason__c", "type": "string", "label": "Discount Reason"},
    )
    assert field["name"] == "Discount_Reason__c" and field["custom"] is True
    described = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert described["Discount_Reason__c"]["label"] == "Discount Reason"
    assert described["Discount_Reason__c"]["type"] == "string"
    opp_id = env.sql("SELECT Id FROM Opportunity WHERE IsDeleted = 0 LIMIT 1")[0][0]
    env.admin("PATCH", f"records/Opportunity/{opp_id}", {"Discount_Reason__c": "volume"})
    rows = sf.query("SELECT Id, Discount_Reason__c FROM Opportunity WHERE Discount_Reason__c = 'VOLUME'")[
        "records"
    ]
    assert [(_plain(r)) for r in rows] == [{"Id": opp_id, "Discount_Reason__c": "volume"}]


def test_deleted_and_updated_resources(env, sf):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    account_id, other_id = [
        r[0] for r in env.sql("SELECT Id FROM Account WHERE IsDeleted = 0 ORDER BY Id DESC LIMIT 2")
    ]
    sf.Account.update(other_id, {"Website": "https://example.com"})
    sf.Account.delete(account_id)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    deleted = sf.Account.deleted(start, end)
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}
    deleted_date = env.sql("SELECT SystemModstamp FROM Account WHERE Id = ?", (account_id,))[0][0]
    assert deleted["deletedRecords"] == [{"id": account_id, "deletedDate": deleted_date}]
    assert deleted["latestDateCovered"].endswith(":00.000+0000")
    updated = sf.Account.updated(start, end)
    assert set(updated) == {"ids", "latestDateCovered"}
    assert other_id in updated["ids"] and account_id not in updated["ids"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Account.deleted(start - dt.timedelta(days=40), end)
    assert err.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_monotonic_clock_stays_ahead_of_future_stamps(env):
    store = env.app.state.store
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    user_id = env.sql("SELECT Id FROM User WHERE Sales_Role__c = 'Sales Rep' LIMIT 1")[0][0]
    with sqlite3.connect(env.store_path) as conn:
        conn.execute("UPDATE User SET SystemModstamp = ? WHERE Id = ?", (future, user_id))
    task_id = store.create("Task", {"Subject": "Follow up", "Status": "Completed"})
    row = env.sql("SELECT SystemModstamp, IsClosed, OwnerId FROM Task WHERE Id = ?", (task_id,))[0]
    assert row[0] == future.replace(".000+", ".001+") and row[1] == 1 and row[2].startswith("005")
    assert store.now() > dt.datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%S.%f%z")


# --- faults --------------------------------------------------------------------------------------


def _outcomes(env, token: str, n: int) -> list:
    session = env.session()
    out = []
    for _ in range(n):
        try:
            r = session.get(
                f"{env.url}/services/data/v59.0/limits/", headers={"Authorization": f"Bearer {token}"}
            )
            out.append(
                (
                    r.status_code,
                    r.json()[0]["errorCode"] if r.status_code >= 300 else "",
                    r.headers.get("Retry-After"),
                )
            )
        except requests.RequestException:
            out.append("dropped")
            session = env.session()
    return out


def test_fault_injection_is_seeded_and_reproducible(env):
    token = env.token()
    plan = {"error_rate": 0.2, "rate_limit_rate": 0.2, "drop_rate": 0.1, "retry_after_s": 2.0, "seed": 11}
    try:
        env.admin("POST", "faults", plan)
        first = _outcomes(env, token, 30)
        env.admin("POST", "faults", plan)  # the same plan again restarts the same sequence
        second = _outcomes(env, token, 30)
        assert first == second
        kinds = {o if o == "dropped" else o[:2] for o in first}
        assert {"dropped", (200, ""), (403, "REQUEST_LIMIT_EXCEEDED")} <= kinds
        assert kinds & {(500, "UNKNOWN_EXCEPTION"), (503, "SERVER_UNAVAILABLE")}
        assert all(o[2] == "2" for o in first if o != "dropped" and o[0] == 403)
        assert env.admin("GET", "faults")["requests_seen"] == 30

        env.admin(
            "POST",
            "faults",
            {
                "error_rate": 0.0,
                "rate_limit_rate": 0.0,
                "drop_rate": 0.0,
                "expire_session_after": 2,
                "seed": 0,
            },
        )
        assert [o[0] for o in _outcomes(env, token, 4)] == [200, 200, 401, 401]  # revoked for good
    finally:
        env.admin(
            "POST",
            "faults",
            {
                "error_rate": 0.0,
                "rate_limit_rate": 0.0,
                "drop_rate": 0.0,
                "expire_session_after": 0,
                "seed": 0,
            },
        )


def test_versions_and_describe_global(env, sf):
    versions = env.session().get(f"{env.url}/services/data/").json()
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in versions
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert names == {"Account", "Contact", "Event", "Opportunity", "OpportunityHistory", "Task", "User"}
    describe = sf.Opportunity.describe()
    account = next(f for f in describe["fields"] if f["name"] == "AccountId")
    assert (account["type"], account["referenceTo"], account["relationshipName"]) == (
        "reference",
        ["Account"],
        "Account",
    )
    assert describe["keyPrefix"] == "006"
