"""The demo-company generator: determinism, scale, integrity, cross-references and the planted stories.

Every story is checked with SQL of its own against the generated SQLite stores (independent gold), not
by calling the generator's code again.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

from emulators import schema
from emulators.demo_company import CompanyFiles, generate_company

TODAY = dt.date(2026, 5, 20)
SCALE = 0.03
CUTOFF_SF = "2026-05-20T06:00:00.000+0000"
CUTOFF_NS = "2026-05-20 06:00:00"
STORY_KINDS = {
    "customer_decline",
    "customer_growth",
    "stalled_deals",
    "win_rate_dip",
    "order_anomaly",
    "stockout_risk",
}


def _gen(tmp_path_factory, name: str, **kw) -> CompanyFiles:
    kw.setdefault("seed", 42)
    kw.setdefault("scale", SCALE)
    return generate_company(tmp_path_factory.mktemp(name), today=TODAY, **kw)


PROGRESS: list[tuple[str, int, int]] = []


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> CompanyFiles:
    return _gen(tmp_path_factory, "company", progress=lambda s, d, t: PROGRESS.append((s, d, t)))


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> CompanyFiles:
    return _gen(tmp_path_factory, "plain", plant_stories=False)


@pytest.fixture(scope="module")
def sf(company):
    conn = sqlite3.connect(f"file:{company.salesforce}?mode=ro", uri=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def ns(company):
    conn = sqlite3.connect(f"file:{company.netsuite}?mode=ro", uri=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def stories(company) -> dict[str, dict]:
    return {s["kind"]: s for s in json.loads(company.stories.read_text())}


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _all_rows(path: Path) -> dict[str, list[tuple]]:
    conn = _open(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    out = {
        t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()
        for t in tables
        if not t.startswith("sqlite_")
    }
    conn.close()
    return out


def _one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def _ts(text: str) -> dt.datetime:
    return dt.datetime.strptime(text[:19].replace("T", " "), "%Y-%m-%d %H:%M:%S")


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_company(company, tmp_path_factory):
    again = _gen(tmp_path_factory, "again")
    assert again.fingerprint == company.fingerprint
    assert _all_rows(again.salesforce) == _all_rows(company.salesforce)
    assert _all_rows(again.netsuite) == _all_rows(company.netsuite)
    assert again.stories.read_text() == company.stories.read_text()


def test_different_seed_gives_different_company(company, tmp_path_factory):
    other = _gen(tmp_path_factory, "other", seed=43)
    assert other.fingerprint != company.fingerprint
    assert len(company.fingerprint) == 64


def test_files_and_progress(company):
    assert company.salesforce.name == "salesforce.sqlite" and company.salesforce.exists()
    assert company.netsuite.name == "netsuite.sqlite" and company.netsuite.exists()
    assert company.stories.name == "stories.json"
    steps = PROGRESS
    assert steps and all(0 <= d <= t for _, d, t in steps)
    finished = {s for s, d, t in steps if d == t}
    assert {
        "sales orders and invoices",
        "netsuite: transaction lines",
        "salesforce: opportunities",
    } <= finished


# --- size ----------------------------------------------------------------------------------------


def test_row_counts_scale(company, tmp_path_factory):
    bigger = _gen(tmp_path_factory, "bigger", scale=SCALE * 3)

    def counts(files):
        s, n = _open(files.salesforce), _open(files.netsuite)
        out = {
            "users": _one(s, "SELECT COUNT(*) FROM User"),
            "accounts": _one(s, "SELECT COUNT(*) FROM Account"),
            "contacts": _one(s, "SELECT COUNT(*) FROM Contact"),
            "opps": _one(s, "SELECT COUNT(*) FROM Opportunity"),
            "history": _one(s, "SELECT COUNT(*) FROM OpportunityHistory"),
            "activities": _one(s, "SELECT (SELECT COUNT(*) FROM Task) + (SELECT COUNT(*) FROM Event)"),
            "orders": _one(n, "SELECT COUNT(*) FROM \"transaction\" WHERE type = 'SalesOrd'"),
            "lines": _one(
                n,
                'SELECT COUNT(*) FROM transactionline tl JOIN "transaction" t '
                "ON t.id = tl.\"transaction\" WHERE t.type = 'SalesOrd'",
            ),
            "items": _one(n, "SELECT COUNT(*) FROM item"),
            "employees": _one(n, "SELECT COUNT(*) FROM employee"),
        }
        s.close()
        n.close()
        return out

    small, big = counts(company), counts(bigger)
    for c in (small, big):
        assert c["users"] == 33 and c["employees"] == 31
        assert 390 <= c["items"] <= 400
        assert 3.5 <= c["contacts"] / c["accounts"] <= 4.5
        assert 5.0 <= c["history"] / c["opps"] <= 8.0
        assert 7.5 <= c["activities"] / c["opps"] <= 9.5
        assert 4.0 <= c["lines"] / c["orders"] <= 4.6  # one main line + ~3.3 item lines
    # Orders scale linearly: 60,000 at scale 1 (+ a few story orders).
    assert 0.95 * 60_000 * SCALE <= small["orders"] <= 1.08 * 60_000 * SCALE
    assert 2.7 <= big["orders"] / small["orders"] <= 3.2
    # 1,500 accounts at scale 1, at least 60.
    assert small["accounts"] == max(60, round(1500 * SCALE)) and big["accounts"] == max(
        60, round(4500 * SCALE)
    )
    assert small["opps"] >= 900 and big["opps"] >= 12_000 * SCALE * 3 * 0.99


# --- the organisation ----------------------------------------------------------------------------


def test_sales_team(sf, ns):
    roles = dict(sf.execute("SELECT Sales_Role__c, COUNT(*) FROM User GROUP BY 1").fetchall())
    assert roles == {
        "Sales Executive": 1,
        "Sales Manager": 5,
        "Sales Rep": 25,
        "Finance": 1,
        "Integration": 1,
    }
    mapping = dict(
        sf.execute(
            "SELECT DISTINCT Territory__c, Region__c FROM User WHERE Sales_Role__c IN ('Sales Rep', 'Sales Manager')"
        ).fetchall()
    )
    assert mapping == {
        "Pacific": "West",
        "Southwest": "West",
        "Midwest": "Central",
        "Northeast": "East",
        "Southeast": "East",
    }
    # Reps report to their territory's manager, managers to the executive.
    bad = _one(
        sf,
        """SELECT COUNT(*) FROM User r JOIN User m ON m.Id = r.ManagerId
                      WHERE r.Sales_Role__c = 'Sales Rep'
                        AND (m.Sales_Role__c != 'Sales Manager' OR m.Territory__c != r.Territory__c)""",
    )
    assert bad == 0
    assert (
        _one(
            sf,
            """SELECT COUNT(*) FROM User m JOIN User e ON e.Id = m.ManagerId
                       WHERE m.Sales_Role__c = 'Sales Manager' AND e.Sales_Role__c = 'Sales Executive'""",
        )
        == 5
    )
    assert (
        _one(sf, "SELECT COUNT(*) FROM User WHERE Sales_Role__c = 'Sales Rep' AND Quarterly_Quota__c > 0")
        == 25
    )
    assert _one(sf, "SELECT COUNT(*) FROM User WHERE Username = 'integration@scc-demo.example'") == 1
    # Sellers mirrored as NetSuite employees.
    sellers = {
        r[0]
        for r in sf.execute(
            "SELECT Id FROM User WHERE Sales_Role__c IN ('Sales Executive', 'Sales Manager', 'Sales Rep')"
        )
    }
    mirrored = {r[0] for r in ns.execute("SELECT custentity_scc_sf_user_id FROM employee")}
    assert mirrored == sellers


def test_quota_attainment_is_realistic(sf):
    """Closed-won over the last four complete quarters is 75-115% of quota for the team as a whole."""
    won = _one(
        sf,
        """SELECT SUM(o.Amount) FROM Opportunity o WHERE o.IsWon = 1 AND o.IsDeleted = 0
                      AND o.CloseDate BETWEEN '2025-04-01' AND '2026-03-31'""",
    )
    quota = _one(sf, "SELECT SUM(Quarterly_Quota__c) FROM User WHERE Sales_Role__c = 'Sales Rep'")
    assert 0.75 <= won / (4 * quota) <= 1.15


# --- ids, stamps, integrity ----------------------------------------------------------------------


def _checksum(id15: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    out = ""
    for i in range(0, 15, 5):
        bits = sum(1 << j for j, ch in enumerate(id15[i : i + 5]) if ch.isupper())
        out += alphabet[bits]
    return out


def test_salesforce_ids(sf):
    for obj, (prefix, _) in schema.SALESFORCE_OBJECTS.items():
        ids = [r[0] for r in sf.execute(f'SELECT Id FROM "{obj}"')]
        assert ids, obj
        assert len(set(ids)) == len(ids)
        for i in ids[:500]:
            assert len(i) == 18 and i.startswith(prefix) and i[15:] == _checksum(i[:15]), (obj, i)


def test_timestamps_are_bounded_and_ordered(sf, ns):
    for obj, (_, cols) in schema.SALESFORCE_OBJECTS.items():
        for c in cols:
            if c.type == "datetime":
                assert _one(sf, f'SELECT COUNT(*) FROM "{obj}" WHERE "{c.name}" > ?', CUTOFF_SF) == 0, (
                    obj,
                    c.name,
                )
                assert (
                    _one(
                        sf,
                        f'SELECT COUNT(*) FROM "{obj}" WHERE "{c.name}" NOT LIKE "____-__-__T__:__:__.000+0000"',
                    )
                    == 0
                )
        if any(c.name == "LastModifiedDate" for c in cols):
            assert (
                _one(
                    sf,
                    f'SELECT COUNT(*) FROM "{obj}" WHERE LastModifiedDate < CreatedDate '
                    f"OR SystemModstamp < LastModifiedDate",
                )
                == 0
            ), obj
    for table, cols in schema.NETSUITE_TABLES.items():
        for c in cols:
            if c.type == "datetime":
                assert _one(ns, f'SELECT COUNT(*) FROM "{table}" WHERE "{c.name}" > ?', CUTOFF_NS) == 0, (
                    table,
                    c.name,
                )
    assert _one(ns, 'SELECT COUNT(*) FROM "transaction" WHERE lastmodifieddate < createddate') == 0
    assert _one(ns, 'SELECT MIN(trandate) FROM "transaction"') >= "2023-05-20"
    assert _one(ns, 'SELECT MAX(trandate) FROM "transaction"') <= "2026-05-20"


def test_referential_integrity(sf, ns):
    checks_sf = [
        "SELECT COUNT(*) FROM Opportunity o LEFT JOIN Account a ON a.Id = o.AccountId WHERE a.Id IS NULL",
        "SELECT COUNT(*) FROM Opportunity o LEFT JOIN User u ON u.Id = o.OwnerId WHERE u.Id IS NULL",
        "SELECT COUNT(*) FROM Account a LEFT JOIN User u ON u.Id = a.OwnerId "
        "WHERE u.Id IS NULL OR u.Sales_Role__c != 'Sales Rep' OR u.Territory__c IS NULL",
        "SELECT COUNT(*) FROM Contact c LEFT JOIN Account a ON a.Id = c.AccountId WHERE a.Id IS NULL",
        "SELECT COUNT(*) FROM OpportunityHistory h LEFT JOIN Opportunity o ON o.Id = h.OpportunityId WHERE o.Id IS NULL",
    ]
    for act in ("Task", "Event"):
        checks_sf += [
            f"SELECT COUNT(*) FROM {act} t LEFT JOIN Opportunity o ON o.Id = t.WhatId WHERE o.Id IS NULL",
            f"SELECT COUNT(*) FROM {act} t LEFT JOIN Contact c ON c.Id = t.WhoId "
            f"WHERE c.Id IS NULL OR c.AccountId != t.AccountId",
            f"SELECT COUNT(*) FROM {act} t JOIN Opportunity o ON o.Id = t.WhatId WHERE o.AccountId != t.AccountId",
        ]
    for sql in checks_sf:
        assert _one(sf, sql) == 0, sql
    checks_ns = [
        'SELECT COUNT(*) FROM transactionline l LEFT JOIN "transaction" t ON t.id = l."transaction" WHERE t.id IS NULL',
        "SELECT COUNT(*) FROM transactionline l LEFT JOIN item i ON i.id = l.item "
        "WHERE l.mainline = 'F' AND i.id IS NULL",
        'SELECT COUNT(*) FROM "transaction" t LEFT JOIN customer c ON c.id = t.entity WHERE c.id IS NULL',
        'SELECT COUNT(*) FROM "transaction" t LEFT JOIN employee e ON e.id = t.employee WHERE e.id IS NULL',
        "SELECT COUNT(*) FROM customer c LEFT JOIN employee e ON e.id = c.salesrep WHERE e.id IS NULL",
        'SELECT COUNT(*) FROM "transaction" i LEFT JOIN "transaction" s ON s.id = i.createdfrom '
        "WHERE i.type = 'CustInvc' AND (s.type IS NOT 'SalesOrd' OR i.trandate < s.trandate OR s.entity != i.entity)",
        "SELECT COUNT(*) FROM transactionline l LEFT JOIN location x ON x.id = l.location WHERE x.id IS NULL",
        "SELECT COUNT(*) FROM inventoryitemlocations s LEFT JOIN item i ON i.id = s.item WHERE i.id IS NULL",
    ]
    for sql in checks_ns:
        assert _one(ns, sql) == 0, sql


def test_opportunities_and_history_are_consistent(sf):
    for stage, prob, fc, closed, won in sf.execute(
        "SELECT StageName, Probability, ForecastCategoryName, IsClosed, IsWon FROM Opportunity"
    ):
        assert prob == schema.STAGE_PROBABILITY[stage] and fc == schema.STAGE_FORECAST_CATEGORY[stage]
        assert closed == (stage in ("Closed Won", "Closed Lost")) and won == (stage == "Closed Won")
    for stage, prob, fc, amount, expected in sf.execute(
        "SELECT StageName, Probability, ForecastCategory, Amount, ExpectedRevenue FROM OpportunityHistory"
    ):
        assert prob == schema.STAGE_PROBABILITY[stage] and fc == schema.STAGE_FORECAST_CATEGORY[stage]
        assert abs(expected - amount * prob / 100) < 0.01
    opp = {
        r[0]: r[1:]
        for r in sf.execute(
            "SELECT Id, StageName, Amount, CloseDate, CreatedDate, IsClosed, IsDeleted FROM Opportunity"
        )
    }
    hist = defaultdict(list)
    for row in sf.execute(
        "SELECT OpportunityId, CreatedDate, StageName, Amount, CloseDate, IsDeleted "
        "FROM OpportunityHistory ORDER BY OpportunityId, CreatedDate, Id"
    ):
        hist[row[0]].append(row[1:])
    assert set(hist) == set(opp)
    pushes = amount_changes = 0
    for oid, rows in hist.items():
        stage, amount, close, created, is_closed, deleted = opp[oid]
        times = [r[0] for r in rows]
        assert times == sorted(set(times)), oid  # strictly increasing
        assert times[0] == created
        assert rows[-1][1:4] == (stage, amount, close)
        assert all(r[4] == deleted for r in rows)
        assert not any(r[1].startswith("Closed") for r in rows[:-1])
        if not is_closed:
            assert close > "2026-05-20"
        for a, b in zip(rows, rows[1:]):
            if a[1] == b[1] and b[3] > a[3]:
                pushes += 1
            if a[2] != b[2]:
                amount_changes += 1
    assert pushes > 0.05 * len(opp) and amount_changes > 0.05 * len(opp)
    assert _one(sf, "SELECT COUNT(*) FROM Opportunity WHERE IsDeleted = 1") >= 2
    win = _one(sf, "SELECT 1.0 * SUM(IsWon) / SUM(IsClosed) FROM Opportunity WHERE IsDeleted = 0")
    assert 0.25 <= win <= 0.35
    open_stages = {r[0] for r in sf.execute("SELECT DISTINCT StageName FROM Opportunity WHERE IsClosed = 0")}
    assert len(open_stages) >= 7
    # LastActivityDate is the latest past event or completed task.
    bad = _one(
        sf,
        """
        SELECT COUNT(*) FROM Opportunity o WHERE o.IsDeleted = 0 AND IFNULL(o.LastActivityDate, '') != IFNULL((
          SELECT MAX(d) FROM (
            SELECT ActivityDate d FROM Task WHERE WhatId = o.Id AND Status = 'Completed' AND ActivityDate <= '2026-05-20'
            UNION ALL SELECT ActivityDate FROM Event WHERE WhatId = o.Id AND ActivityDate <= '2026-05-20')), '')""",
    )
    assert bad == 0


def test_orders_lines_and_invoices_are_consistent(ns):
    codes = {r[0] for r in ns.execute("SELECT DISTINCT status FROM \"transaction\" WHERE type = 'SalesOrd'")}
    assert codes == set("ABCDEFGH")
    cancelled = _one(ns, "SELECT AVG(status = 'C') FROM \"transaction\" WHERE type = 'SalesOrd'")
    assert 0.015 <= cancelled <= 0.045
    assert (
        _one(
            ns,
            """SELECT COUNT(*) FROM "transaction" t WHERE ABS(t.foreigntotal - (
                         SELECT SUM(foreignamount) FROM transactionline l
                         WHERE l."transaction" = t.id AND l.mainline = 'F')) > 0.005""",
        )
        == 0
    )
    assert (
        _one(
            ns,
            """SELECT COUNT(*) FROM "transaction" t JOIN transactionline l ON l."transaction" = t.id
                       WHERE l.mainline = 'T' AND (l.id != 0 OR ABS(l.foreignamount - t.foreigntotal) > 0.005)""",
        )
        == 0
    )
    assert (
        _one(
            ns,
            """SELECT COUNT(*) FROM "transaction" t WHERE (SELECT COUNT(*) FROM transactionline l
                       WHERE l."transaction" = t.id AND l.mainline = 'T') != 1""",
        )
        == 0
    )
    assert (
        _one(
            ns,
            "SELECT COUNT(*) FROM transactionline WHERE mainline = 'F' "
            "AND (ABS(foreignamount - ROUND(quantity * rate, 2)) > 0.005 OR id < 1)",
        )
        == 0
    )
    assert _one(ns, 'SELECT COUNT(*) FROM "transaction" WHERE ROUND(foreigntotal, 2) != foreigntotal') == 0
    # Fulfilment and billing follow the status.
    rows = ns.execute("""SELECT t.status, SUM(l.quantity), SUM(l.quantityshiprecv), SUM(l.quantitybilled)
                         FROM "transaction" t JOIN transactionline l ON l."transaction" = t.id
                         WHERE t.type = 'SalesOrd' AND l.mainline = 'F' GROUP BY t.status""").fetchall()
    by = {s: (q, sh, b) for s, q, sh, b in rows}
    for s in "ABC":
        assert by[s][1] == 0 and by[s][2] == 0
    for s in "DE":
        assert 0 < by[s][1] < by[s][0]
    assert by["F"][1] == by["F"][0] and by["F"][2] == 0
    for s in "GH":
        assert by[s][0] == by[s][1] == by[s][2]
    # Invoices: billed quantities, paid or open, customer balance = open amounts.
    assert (
        _one(
            ns,
            """SELECT COUNT(*) FROM "transaction" i WHERE i.type = 'CustInvc' AND ABS(i.foreigntotal - (
                         SELECT SUM(l.quantitybilled * l.rate) FROM transactionline l
                         WHERE l."transaction" = i.createdfrom AND l.mainline = 'F')) > 0.01""",
        )
        == 0
    )
    assert (
        _one(
            ns,
            """SELECT COUNT(*) FROM "transaction" WHERE type = 'CustInvc' AND
                       ((status = 'B') != (foreignamountunpaid = 0) OR duedate < trandate)""",
        )
        == 0
    )
    assert (
        _one(
            ns,
            """SELECT COUNT(*) FROM customer c WHERE ABS(c.balance - IFNULL((SELECT SUM(foreignamountunpaid)
                       FROM "transaction" t WHERE t.entity = c.id AND t.type = 'CustInvc' AND t.status = 'A'), 0)) > 0.01""",
        )
        == 0
    )
    overdue = _one(
        ns,
        "SELECT COUNT(*) FROM \"transaction\" WHERE type = 'CustInvc' AND status = 'A' AND duedate < '2026-05-20'",
    )
    paid_old = _one(
        ns,
        "SELECT AVG(status = 'B') FROM \"transaction\" WHERE type = 'CustInvc' AND trandate < '2025-11-01'",
    )
    assert overdue > 0 and paid_old > 0.97
    sources = {
        r[0] for r in ns.execute("SELECT DISTINCT source FROM \"transaction\" WHERE type = 'SalesOrd'")
    }
    assert sources == {"Web Services", "CSV", "User Interface"}
    assert _one(ns, "SELECT MIN(tranid) FROM \"transaction\" WHERE type = 'SalesOrd'") == "SO100001"
    assert _one(ns, "SELECT MIN(tranid) FROM \"transaction\" WHERE type = 'CustInvc'") == "INV100001"


def test_seasonality_and_growth(ns):
    by_month = dict(
        ns.execute("""SELECT substr(trandate, 6, 2), SUM(foreigntotal) FROM "transaction"
                                  WHERE type = 'SalesOrd' AND status != 'C' AND trandate BETWEEN '2023-06-01' AND '2026-04-30'
                                  GROUP BY 1""").fetchall()
    )
    q4 = (by_month["10"] + by_month["11"] + by_month["12"]) / 3
    rest = sum(v for k, v in by_month.items() if k in ("01", "02", "03", "04", "05")) / 5
    assert q4 > 1.1 * rest
    years = {
        y: (n, v)
        for y, n, v in ns.execute("""SELECT substr(trandate, 1, 4), COUNT(*), SUM(foreigntotal) FROM "transaction"
                                     WHERE type = 'SalesOrd' AND status != 'C' GROUP BY 1""")
    }
    # ~15% a year: order counts follow the curve closely, revenue with the noise of order sizes.
    assert 1.08 <= years["2025"][0] / years["2024"][0] <= 1.22
    assert 0.95 <= years["2025"][1] / years["2024"][1] <= 1.35


# --- cross-references ----------------------------------------------------------------------------


def test_cross_references(sf, ns, stories):
    accounts = {
        r[0]: r[1:]
        for r in sf.execute("SELECT Id, Name, Type, OwnerId, NetSuite_Customer_Id__c FROM Account")
    }
    customers = {
        r[0]: r[1:] for r in ns.execute("SELECT id, companyname, externalid, salesrep FROM customer")
    }
    employee_of_user = dict(ns.execute("SELECT custentity_scc_sf_user_id, id FROM employee").fetchall())
    mism = stories["mismatches"]
    variant_ids = {v["netsuite_customer_id"] for v in mism["name_variants"]}
    ns_only = {v["netsuite_customer_id"] for v in mism["netsuite_only"]}
    linked = 0
    for cid, (name, ext, rep) in customers.items():
        if cid in variant_ids or cid in ns_only:
            assert ext is None
            continue
        aname, atype, owner, xref = accounts[ext]
        assert xref == str(cid) and aname == name and atype in ("Customer", "Partner")
        assert rep == employee_of_user[owner]
        linked += 1
    assert linked >= 0.9 * len(customers)
    assert 2 <= len(ns_only) <= 3
    assert not {c[0] for c in customers.values()} & {n for n in (customers[i][0] for i in ns_only)} - {
        customers[i][0] for i in ns_only
    }
    account_names = {a[0] for a in accounts.values()}
    for i in ns_only:
        assert customers[i][0] not in account_names
    assert len(variant_ids) >= 2
    for v in mism["name_variants"]:
        aname, atype, _, xref = accounts[v["salesforce_account_id"]]
        cname = customers[v["netsuite_customer_id"]][0]
        assert xref is None and cname != aname and cname == v["companyname"]
        # Still recognisably the same company: the account name's first word starts the customer name.
        assert cname.split()[0] == aname.split()[0]
    prospects = [k for k, a in accounts.items() if a[1] == "Prospect"]
    assert prospects and all(accounts[k][3] is None for k in prospects)
    assert set(prospects) == set(mism["salesforce_only_prospects"]["salesforce_account_ids"])
    externals = {c[1] for c in customers.values() if c[1]}
    assert not externals & set(prospects)


def test_disney_and_the_hat_offer(sf, ns, stories):
    assert _one(sf, "SELECT COUNT(*) FROM Account WHERE Name = 'Disney'") == 1
    assert _one(sf, "SELECT COUNT(*) FROM Account WHERE Name LIKE '%disney%'") == 1
    disney_cust = int(_one(sf, "SELECT NetSuite_Customer_Id__c FROM Account WHERE Name = 'Disney'"))
    ranked = [
        r[0]
        for r in ns.execute("""SELECT entity FROM "transaction" WHERE type = 'SalesOrd' AND status != 'C'
                                          GROUP BY entity ORDER BY SUM(foreigntotal) DESC LIMIT 5""")
    ]
    assert disney_cust in ranked
    offers = ns.execute("""SELECT i.itemid FROM item i JOIN inventoryitemlocations s ON s.item = i.id
                           WHERE i.itemid LIKE 'HAT-%' AND i.isinactive = 'F' AND i.custitem_scc_min_price <= 50
                             AND i.baseprice >= 50 AND s.quantityavailable >= 500""").fetchall()
    assert offers
    assert stories["reference"]["offer_hat"]["sku"] in {o[0] for o in offers}


def test_inventory(ns):
    assert _one(ns, "SELECT COUNT(*) FROM location") == 2
    assert _one(ns, "SELECT COUNT(*) FROM inventoryitemlocations") == 2 * _one(
        ns, "SELECT COUNT(*) FROM item"
    )
    assert (
        _one(
            ns,
            """SELECT COUNT(*) FROM inventoryitemlocations WHERE quantityavailable != quantityonhand - quantitycommitted
                       OR quantitycommitted > quantityonhand OR quantityavailable < 0""",
        )
        == 0
    )
    # Committed stock is the approved open order quantity (capped by what is on hand).
    bad = _one(
        ns,
        """SELECT COUNT(*) FROM inventoryitemlocations s WHERE ABS(s.quantitycommitted + s.quantitybackordered - IFNULL((
                        SELECT SUM(l.quantity - l.quantityshiprecv) FROM transactionline l JOIN "transaction" t ON t.id = l."transaction"
                        WHERE t.status IN ('B', 'D', 'E') AND t.type = 'SalesOrd' AND l.mainline = 'F'
                          AND l.item = s.item AND l.location = s.location), 0)) > 0.001""",
    )
    assert bad == 0
    for sku, lo, hi, cost in ns.execute("SELECT itemid, custitem_scc_min_price, baseprice, cost FROM item"):
        assert 0.69 * hi <= lo <= 0.81 * hi and cost < lo, sku
    rates_ok = _one(
        ns,
        """SELECT AVG(l.rate BETWEEN i.custitem_scc_min_price - 0.005 AND i.baseprice + 0.005)
                           FROM transactionline l JOIN item i ON i.id = l.item WHERE l.mainline = 'F'""",
    )
    assert rates_ok == 1


# --- stories: each is in the data, measured independently -----------------------------------------


def _window_revenue(ns, customer: int, lo: str, hi: str) -> float:
    return _one(
        ns,
        """SELECT IFNULL(SUM(foreigntotal), 0) FROM "transaction" WHERE type = 'SalesOrd' AND status != 'C'
                       AND entity = ? AND trandate BETWEEN ? AND ?""",
        customer,
        lo,
        hi,
    )


def _change_pct(ns, customer: int, inclusive_today: bool = True) -> float:
    end = TODAY if inclusive_today else TODAY - dt.timedelta(days=1)
    last = _window_revenue(ns, customer, str(end - dt.timedelta(days=89)), str(end))
    prior = _window_revenue(ns, customer, str(end - dt.timedelta(days=179)), str(end - dt.timedelta(days=90)))
    return (last / prior - 1) * 100


def _top_customers(ns, n: int, established: bool = False) -> list[int]:
    """The n largest customers by lifetime bookings (``established``: only those ordering before the
    prior 90-day window, i.e. not new customers)."""
    having = "HAVING MIN(trandate) < '2025-11-22'" if established else ""
    return [
        r[0]
        for r in ns.execute(
            f"""SELECT entity FROM "transaction" WHERE type = 'SalesOrd' AND status != 'C'
                                         GROUP BY entity {having} ORDER BY SUM(foreigntotal) DESC LIMIT ?""",
            (n,),
        )
    ]


def _company_change(ns) -> float:
    last = _one(
        ns,
        """SELECT SUM(foreigntotal) FROM "transaction" WHERE type = 'SalesOrd' AND status != 'C'
                       AND memo IS NOT 'Spring promo - bulk upload' AND trandate BETWEEN '2026-02-20' AND '2026-05-20'""",
    )
    prior = _one(
        ns,
        """SELECT SUM(foreigntotal) FROM "transaction" WHERE type = 'SalesOrd' AND status != 'C'
                        AND trandate BETWEEN '2025-11-22' AND '2026-02-19'""",
    )
    return (last / prior - 1) * 100


def test_story_file(stories, plain):
    assert STORY_KINDS <= set(stories)
    for kind in STORY_KINDS:
        assert stories[kind]["headline"] and stories[kind]["planted"] is True
    plain_kinds = {s["kind"] for s in json.loads(plain.stories.read_text())}
    assert plain_kinds == {"mismatches", "reference"}


def test_customer_decline_story(sf, ns, stories):
    s = stories["customer_decline"]
    cust = s["netsuite_customer_id"]
    assert _one(
        sf, "SELECT NetSuite_Customer_Id__c FROM Account WHERE Id = ?", s["salesforce_account_id"]
    ) == str(cust)
    assert cust in _top_customers(ns, 20)
    for inclusive in (True, False):
        assert -45 <= _change_pct(ns, cust, inclusive) <= -35
    assert abs(_change_pct(ns, cust) - s["change_pct"]) < 0.01
    assert s["window"]["last_90d"] == {"start": "2026-02-20", "end": "2026-05-20"}


def test_customer_growth_story(sf, ns, stories):
    s = stories["customer_growth"]
    assert s["customer_name"] == "Disney"
    cust = int(_one(sf, "SELECT NetSuite_Customer_Id__c FROM Account WHERE Name = 'Disney'"))
    assert cust == s["netsuite_customer_id"]
    for inclusive in (True, False):
        assert 20 <= _change_pct(ns, cust, inclusive) <= 30


def test_top_customers_otherwise_move_with_the_company(ns, stories):
    planted = {
        stories["customer_decline"]["netsuite_customer_id"],
        stories["customer_growth"]["netsuite_customer_id"],
    }
    company = _company_change(ns)
    for cust in _top_customers(ns, 20, established=True):
        if cust not in planted:
            assert abs(_change_pct(ns, cust) - company) <= 12, cust


def _stage_times(sf):
    """Per opportunity: list of (stage, entered_at) for each stage change, in order."""
    out = defaultdict(list)
    for oid, stage, created in sf.execute(
        "SELECT OpportunityId, StageName, CreatedDate FROM OpportunityHistory WHERE IsDeleted = 0 "
        "ORDER BY OpportunityId, CreatedDate"
    ):
        if not out[oid] or out[oid][-1][0] != stage:
            out[oid].append((stage, _ts(created)))
    return out


def _stalled_open_deals(sf) -> set[str]:
    """Open deals in their stage for more than twice the median days won deals spent in it."""
    changes = _stage_times(sf)
    status = dict(sf.execute("SELECT Id, StageName FROM Opportunity WHERE IsDeleted = 0").fetchall())
    spent = defaultdict(list)
    for oid, seq in changes.items():
        if status[oid] == "Closed Won":
            for (stage, t0), (_, t1) in zip(seq, seq[1:]):
                spent[stage].append((t1 - t0).total_seconds() / 86400)
    median = {k: statistics.median(v) for k, v in spent.items()}
    now = dt.datetime(2026, 5, 20, 6, 0)
    out = set()
    for oid, seq in changes.items():
        stage, entered = seq[-1]
        if stage.startswith("Closed"):
            continue
        if (now - entered).total_seconds() / 86400 > 2 * max(median[stage], 1.0):
            out.add(oid)
    return out


def test_stalled_deals_story(sf, stories):
    s = stories["stalled_deals"]
    ids = [d["opportunity_id"] for d in s["opportunities"]]
    assert len(ids) == 3
    changes = _stage_times(sf)
    for oid in ids:
        stage, amount, closed = sf.execute(
            "SELECT StageName, Amount, IsClosed FROM Opportunity WHERE Id = ?", (oid,)
        ).fetchone()
        assert stage == "Negotiation/Review" and amount >= 250_000 and closed == 0
        last_stage, entered = changes[oid][-1]
        assert last_stage == "Negotiation/Review"
        days = (dt.datetime(2026, 5, 20) - entered).days
        assert 60 <= days <= 120
        recent = _one(
            sf,
            """SELECT COUNT(*) FROM (SELECT ActivityDate FROM Task WHERE WhatId = ?
                             UNION ALL SELECT ActivityDate FROM Event WHERE WhatId = ?) WHERE ActivityDate > ?""",
            oid,
            oid,
            str(entered.date() + dt.timedelta(days=10)),
        )
        assert recent == 0
    # They are the only stalled open deals.
    assert _stalled_open_deals(sf) == set(ids)
    # Every other open deal was touched in the last two weeks.
    quiet = _one(
        sf,
        f"""SELECT COUNT(*) FROM Opportunity WHERE IsClosed = 0 AND IsDeleted = 0
                         AND Id NOT IN ({",".join("?" * len(ids))}) AND (LastActivityDate IS NULL OR LastActivityDate < '2026-05-06')""",
        *ids,
    )
    assert quiet == 0


def _win_rate(sf, lo: str, hi: str, regions: tuple[str, ...] = ()) -> float:
    sql = """SELECT 1.0 * SUM(o.IsWon) / COUNT(*) FROM Opportunity o JOIN User u ON u.Id = o.OwnerId
             WHERE o.IsClosed = 1 AND o.IsDeleted = 0 AND o.CloseDate BETWEEN ? AND ?"""
    if regions:
        sql += f" AND u.Region__c IN ({','.join('?' * len(regions))})"
    return _one(sf, sql, lo, hi, *regions)


def test_win_rate_dip_story(sf, stories):
    s = stories["win_rate_dip"]
    assert s["quarter"] == "2026-Q1" and s["region"] in ("West", "Central", "East")
    last = _win_rate(sf, "2026-01-01", "2026-03-31")
    before = _win_rate(sf, "2025-10-01", "2025-12-31")
    after = _win_rate(sf, "2026-04-01", "2026-05-20")
    assert abs(last - s["win_rate"]) < 1e-3
    assert (before + after) / 2 - last >= 0.065
    assert before - last >= 0.04 and after - last >= 0.04

    # Concentrated in the named region: it fell far more there than elsewhere.
    def drop(regions):
        rate = lambda lo, hi: _win_rate(sf, lo, hi, regions)
        around = (rate("2025-10-01", "2025-12-31") + rate("2026-04-01", "2026-05-20")) / 2
        return around - rate("2026-01-01", "2026-03-31")

    others = tuple(r for r in ("West", "Central", "East") if r != s["region"])
    assert drop((s["region"],)) >= 0.08
    assert drop((s["region"],)) >= 2.5 * drop(others)


def _daily_orders(ns) -> dict[str, tuple[int, float]]:
    return {
        d: (c, v)
        for d, c, v in ns.execute(
            """SELECT trandate, COUNT(*), SUM(foreigntotal) FROM "transaction" WHERE type = 'SalesOrd' AND status != 'C'
           GROUP BY trandate"""
        )
    }


def _spikes(ns) -> list[str]:
    """Days of the last 60 with at least 2.5x the orders of the same weekday in the 8 weeks before."""
    daily = _daily_orders(ns)
    out = []
    for back in range(60):
        day = TODAY - dt.timedelta(days=back)
        base = [daily.get(str(day - dt.timedelta(weeks=w)), (0, 0.0))[0] for w in range(1, 9)]
        mean = max(sum(base) / 8, 1.0)
        if daily.get(str(day), (0, 0.0))[0] >= 2.5 * mean:
            out.append(str(day))
    return out


def test_order_anomaly_story(ns, stories):
    s = stories["order_anomaly"]
    day = dt.date.fromisoformat(s["date"])
    assert TODAY - dt.timedelta(days=60) < day < TODAY
    daily = _daily_orders(ns)
    base = [daily.get(str(day - dt.timedelta(weeks=w)), (0, 0.0)) for w in range(1, 9)]
    count, value = daily[s["date"]]
    assert count >= 3 * sum(b[0] for b in base) / 8
    assert value >= 3 * sum(b[1] for b in base) / 8
    assert count == s["order_count"]
    assert _spikes(ns) == [s["date"]]


def _short_items(ns) -> list[tuple[int, float, float]]:
    """Items whose stock on hand cannot cover their open (unfulfilled) order quantities."""
    return ns.execute("""
        SELECT o.item, o.open_qty, s.onhand FROM (
            SELECT l.item, SUM(l.quantity - l.quantityshiprecv) open_qty FROM transactionline l
            JOIN "transaction" t ON t.id = l."transaction"
            WHERE t.type = 'SalesOrd' AND t.status IN ('A', 'B', 'D', 'E') AND l.mainline = 'F' GROUP BY l.item) o
        JOIN (SELECT item, SUM(quantityonhand) onhand, SUM(quantityavailable) available
              FROM inventoryitemlocations GROUP BY item) s ON s.item = o.item
        WHERE o.open_qty > s.onhand""").fetchall()


def test_stockout_story(ns, stories):
    s = stories["stockout_risk"]
    short = _short_items(ns)
    assert [r[0] for r in short] == [s["item_id"]]
    _, open_qty, onhand = short[0]
    assert open_qty == s["open_order_quantity"] and onhand == s["quantity_on_hand"]
    assert open_qty >= 2 * onhand
    assert (
        _one(ns, "SELECT SUM(quantitybackordered) FROM inventoryitemlocations WHERE item = ?", s["item_id"])
        > 0
    )
    assert _one(ns, "SELECT itemid FROM item WHERE id = ?", s["item_id"]) == s["sku"]


def test_no_stories_without_planting(plain):
    s, n = _open(plain.salesforce), _open(plain.netsuite)
    try:
        company = _company_change(n)
        for cust in _top_customers(n, 20, established=True):
            assert abs(_change_pct(n, cust) - company) <= 12, cust
        assert _stalled_open_deals(s) == set()
        assert _spikes(n) == []
        assert _short_items(n) == []
        last = _win_rate(s, "2026-01-01", "2026-03-31")
        before = _win_rate(s, "2025-10-01", "2025-12-31")
        after = _win_rate(s, "2026-04-01", "2026-05-20")
        assert abs(last - (before + after) / 2) < 0.04
        assert _one(s, "SELECT COUNT(*) FROM Account WHERE Name = 'Disney'") == 1
    finally:
        s.close()
        n.close()
