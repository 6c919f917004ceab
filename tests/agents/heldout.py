"""The held-out question set (tests/agents/heldout.yaml): gold from the emulators' stores, and the measure.

Nobody tunes the planner on this set (issue 16): its questions were written by someone who never read the
planner or the development set (tests/agents/questions.yaml), as executives, managers and reps would ask.

Gold is computed straight from the emulators' SQLite stores (Salesforce and NetSuite, attached to one
SQLite connection as ``sf`` and ``ns``), never through the warehouse or the marts. The gold SQL reads a
few TEMP views defined here over the raw store tables, so that every question's SQL states only what the
question asks; the views encode the business conventions of shared/reference/sales-metrics.md and the
marts contract (which customer a NetSuite customer is, which rep an order is credited to, what a status
code means). ``GoldStore`` documents them.

A question is right when ``tests.agents.evaluation.compare`` accepts the answer against its gold rows;
``ratio: true`` questions (a share, a rate) also accept the answer in percent (gold x 100). A question
with ``expect: clarify`` or ``expect: refuse`` is right when the answer declines to give numbers (a
refusal, an error such as "no plan", or no rows), and wrong when it answers with rows. A wrong answer
is "confident" when it came back with rows (a number or a table), as opposed to a refusal or a question.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HELDOUT = Path(__file__).with_name("heldout.yaml")
TODAY = dt.date(2026, 5, 20)
SCALE, SEED = 0.05, 42
DECLINE = ("clarify", "refuse")

_LEGAL = r"( +(inc|incorporated|corp|corporation|co|company|llc|ltd|limited|plc|lp|llp))+ *$"


def load_heldout(path: Path = HELDOUT) -> list[dict]:
    return yaml.safe_load(path.read_text())["questions"]


def normalize_company_name(name: str | None) -> str:
    """The marts' rule for matching company names across systems (macros/company_names.sql)."""
    text = (name or "").lower().replace("&", " and ")
    text = re.sub(r"[^a-z0-9 ]", "", text)
    text = re.sub(_LEGAL, "", text)
    return re.sub(r" +", " ", text).strip()


def _match_customers(conn: sqlite3.Connection) -> list[tuple]:
    """(customer_id, customer_name, salesforce_account_id, netsuite_customer_id, rep_id): one row per
    customer of the business, Salesforce accounts matched to NetSuite customers by cross-reference ids
    (confirmed from both sides first, then the lowest id), then by unique normalised company name."""
    accounts = conn.execute('SELECT "Id", "Name", "NetSuite_Customer_Id__c", "OwnerId" FROM sf."Account" '
                            'WHERE "IsDeleted" = 0').fetchall()
    customers = conn.execute("SELECT c.id, c.companyname, c.externalid, e.custentity_scc_sf_user_id "
                             "FROM ns.customer c LEFT JOIN ns.employee e ON e.id = c.salesrep").fetchall()
    links = []
    for a_id, _, a_ref, _ in accounts:
        for c_id, _, c_ext, _ in customers:
            conf = (a_ref == str(c_id)) + (c_ext == a_id)
            if conf:
                links.append((a_id, c_id, conf))
    best_per_account: dict[str, tuple] = {}
    for a_id, c_id, conf in sorted(links, key=lambda x: (x[0], -x[2], x[1])):
        best_per_account.setdefault(a_id, (a_id, c_id, conf))
    pairs: dict[str, int] = {}
    taken: set[int] = set()
    for a_id, c_id, conf in sorted(best_per_account.values(), key=lambda x: (x[1], -x[2], x[0])):
        if c_id not in taken:
            taken.add(c_id)
            pairs[a_id] = c_id
    left_a = [a for a in accounts if a[0] not in pairs]
    left_c = [c for c in customers if c[0] not in taken]
    count_a = Counter(normalize_company_name(a[1]) for a in left_a)
    count_c = Counter(normalize_company_name(c[1]) for c in left_c)
    by_name_c = {normalize_company_name(c[1]): c[0] for c in left_c}
    for a in left_a:
        n = normalize_company_name(a[1])
        if n and count_a[n] == 1 and count_c.get(n) == 1:
            pairs[a[0]] = by_name_c[n]
            taken.add(by_name_c[n])
    c_by_id = {c[0]: c for c in customers}
    rows = []
    for a_id, a_name, _, owner in accounts:
        c_id = pairs.get(a_id)
        rows.append((a_id, a_name, a_id, c_id, owner or (c_by_id[c_id][3] if c_id else None)))
    for c_id, c_name, _, c_rep in customers:
        if c_id not in taken:
            rows.append((f"NS-{c_id}", c_name, None, c_id, c_rep))
    return rows


VIEWS = """
-- Sellers: Salesforce users with a sales role.
CREATE TEMP VIEW reps AS
SELECT "Id" AS rep_id, "Name" AS rep_name, "Sales_Role__c" AS role, "Territory__c" AS territory,
       "Region__c" AS region, "Quarterly_Quota__c" AS quarterly_quota, "ManagerId" AS manager_id
FROM sf."User" WHERE "Sales_Role__c" IN ('Sales Rep', 'Sales Manager', 'Sales Executive');

-- Customers (customers_matched is filled by GoldStore): with the Salesforce account's industry, the
-- owner's territory and region, the NetSuite credit limit, balance, category and terms.
CREATE TEMP VIEW customers AS
SELECT m.customer_id, m.customer_name, m.salesforce_account_id, m.netsuite_customer_id, m.rep_id,
       u.rep_name, u.territory, u.region, a."Industry" AS industry, a."Type" AS account_type,
       a."BillingState" AS billing_state, a."BillingCity" AS billing_city,
       c.creditlimit AS credit_limit, c.balance AS balance, c.category AS customer_category, c.terms AS terms
FROM customers_matched m
LEFT JOIN sf."Account" a ON a."Id" = m.salesforce_account_id
LEFT JOIN ns.customer c ON c.id = m.netsuite_customer_id
LEFT JOIN reps u ON u.rep_id = m.rep_id;

-- Sales orders: status codes read as the marts' statuses; credited to the order's own sales rep (the
-- NetSuite employee's Salesforce user), else the customer's rep; territory and region of that rep.
CREATE TEMP VIEW orders AS
SELECT t.id AS order_id, t.tranid AS order_number, t.trandate AS order_date, t.foreigntotal AS total_amount,
       t.status AS status_code,
       CASE t.status WHEN 'A' THEN 'pending_approval' WHEN 'B' THEN 'pending_fulfillment'
            WHEN 'C' THEN 'cancelled' WHEN 'D' THEN 'partially_fulfilled' WHEN 'E' THEN 'partially_fulfilled'
            WHEN 'F' THEN 'pending_billing' WHEN 'G' THEN 'billed' WHEN 'H' THEN 'closed' END AS status,
       CASE WHEN t.status IN ('A', 'B') THEN 'pending' WHEN t.status IN ('D', 'E') THEN 'partial'
            WHEN t.status = 'C' THEN 'cancelled' ELSE 'fulfilled' END AS status_group,
       t.status <> 'C' AS is_booked,
       cu.customer_id, cu.customer_name, t.entity AS netsuite_customer_id,
       coalesce(e.custentity_scc_sf_user_id, cu.rep_id) AS rep_id, u.rep_name, u.territory, u.region,
       t.source AS source
FROM ns."transaction" t
LEFT JOIN customers_matched cu ON cu.netsuite_customer_id = t.entity
LEFT JOIN ns.employee e ON e.id = t.employee
LEFT JOIN reps u ON u.rep_id = coalesce(e.custentity_scc_sf_user_id, cu.rep_id)
WHERE t.type = 'SalesOrd';

-- Sales order item lines (the main line left out), with the item and the order's attribution.
CREATE TEMP VIEW order_lines AS
SELECT l.uniquekey AS line_id, o.order_id, o.order_number, o.order_date, o.status, o.status_group,
       o.is_booked, o.customer_id, o.customer_name, o.rep_id, o.rep_name, o.territory, o.region,
       i.id AS product_id, i.itemid AS sku, i.displayname AS product_name,
       i.custitem_scc_category AS category, l.quantity, l.rate AS unit_price, l.foreignamount AS amount,
       l.quantityshiprecv AS quantity_fulfilled, l.quantitybilled AS quantity_billed
FROM ns.transactionline l
JOIN orders o ON o.order_id = l."transaction"
JOIN ns.item i ON i.id = l.item
WHERE l.mainline = 'F';

-- Items with stock summed over the locations.
CREATE TEMP VIEW products AS
SELECT i.id AS product_id, i.itemid AS sku, i.displayname AS product_name,
       i.custitem_scc_category AS category, i.baseprice AS list_price, i.custitem_scc_min_price AS min_price,
       i.cost AS unit_cost,
       i.isinactive = 'F' AS is_active,
       (SELECT sum(quantityonhand) FROM ns.inventoryitemlocations s WHERE s.item = i.id) AS quantity_on_hand,
       (SELECT sum(quantityavailable) FROM ns.inventoryitemlocations s WHERE s.item = i.id)
           AS quantity_available,
       (SELECT sum(quantitybackordered) FROM ns.inventoryitemlocations s WHERE s.item = i.id)
           AS quantity_backordered
FROM ns.item i;

-- Invoices: open (A) or paid (B); days overdue counted to today for open invoices past due.
CREATE TEMP VIEW invoices AS
SELECT t.id AS invoice_id, t.tranid AS invoice_number, t.trandate AS invoice_date, t.duedate AS due_date,
       t.foreigntotal AS amount, t.foreignamountunpaid AS amount_remaining,
       CASE t.status WHEN 'A' THEN 'open' ELSE 'paid' END AS status,
       CASE WHEN t.status = 'A' AND t.duedate < :today
            THEN CAST(julianday(:today) - julianday(t.duedate) AS INTEGER) ELSE 0 END AS days_overdue,
       cu.customer_id, cu.customer_name, coalesce(e.custentity_scc_sf_user_id, cu.rep_id) AS rep_id,
       u.rep_name, u.territory, u.region
FROM ns."transaction" t
LEFT JOIN customers_matched cu ON cu.netsuite_customer_id = t.entity
LEFT JOIN ns.employee e ON e.id = t.employee
LEFT JOIN reps u ON u.rep_id = coalesce(e.custentity_scc_sf_user_id, cu.rep_id)
WHERE t.type = 'CustInvc';

-- Opportunities (deleted ones left out), with the account's customer and the owner's territory.
CREATE TEMP VIEW opportunities AS
SELECT o."Id" AS opportunity_id, o."Name" AS opportunity_name, o."StageName" AS stage, o."Amount" AS amount,
       o."Probability" AS probability, o."Amount" * o."Probability" / 100.0 AS weighted_amount,
       o."ForecastCategoryName" AS forecast_category, o."CloseDate" AS close_date,
       substr(o."CreatedDate", 1, 10) AS created_date, o."IsClosed" AS is_closed, o."IsWon" AS is_won,
       o."IsClosed" = 1 AND o."IsWon" = 0 AS is_lost, o."Type" AS opportunity_type,
       o."LeadSource" AS lead_source,
       o."Product_Category__c" AS product_category, o."LastActivityDate" AS last_activity_date,
       cu.customer_id, cu.customer_name, o."OwnerId" AS rep_id, u.rep_name, u.territory, u.region
FROM sf."Opportunity" o
LEFT JOIN customers_matched cu ON cu.salesforce_account_id = o."AccountId"
LEFT JOIN reps u ON u.rep_id = o."OwnerId"
WHERE o."IsDeleted" = 0;

-- Opportunity history rows (one per stage, amount or close-date change), deleted ones left out.
CREATE TEMP VIEW opportunity_history AS
SELECT h."OpportunityId" AS opportunity_id, h."StageName" AS stage, h."Amount" AS amount,
       h."CloseDate" AS close_date, h."CreatedDate" AS changed_at,
       substr(h."CreatedDate", 1, 10) AS changed_date,
       h."Id" AS history_id
FROM sf."OpportunityHistory" h WHERE h."IsDeleted" = 0;

-- Activities: tasks (kind call, email or task, from the task subtype) and events (kind meeting).
CREATE TEMP VIEW activities AS
SELECT t."Id" AS activity_id, lower(coalesce(t."TaskSubtype", 'Task')) AS kind, 'task' AS activity_type,
       t."Subject" AS subject, t."ActivityDate" AS activity_date, t."Status" AS status,
       t."IsClosed" AS is_done, t."WhatId" AS opportunity_id, t."AccountId" AS account_id,
       t."OwnerId" AS rep_id, u.rep_name, u.territory, u.region, NULL AS duration_minutes
FROM sf."Task" t LEFT JOIN reps u ON u.rep_id = t."OwnerId" WHERE t."IsDeleted" = 0
UNION ALL
SELECT e."Id", 'meeting', 'event', e."Subject", e."ActivityDate", NULL, 1, e."WhatId", e."AccountId",
       e."OwnerId", u.rep_name, u.territory, u.region, e."DurationInMinutes"
FROM sf."Event" e LEFT JOIN reps u ON u.rep_id = e."OwnerId" WHERE e."IsDeleted" = 0;
"""


class GoldStore:
    """One read-only SQLite connection over a company's two stores, with the gold views."""

    def __init__(self, salesforce: Path, netsuite: Path, today: dt.date = TODAY):
        self.today = today
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("ATTACH DATABASE ? AS sf", (f"file:{salesforce}?mode=ro",))
        self.conn.execute("ATTACH DATABASE ? AS ns", (f"file:{netsuite}?mode=ro",))
        self.conn.execute("CREATE TEMP TABLE customers_matched (customer_id TEXT, customer_name TEXT, "
                          "salesforce_account_id TEXT, netsuite_customer_id INTEGER, rep_id TEXT)")
        self.conn.executemany("INSERT INTO customers_matched VALUES (?, ?, ?, ?, ?)",
                              _match_customers(self.conn))
        for statement in VIEWS.split(";\n"):
            if statement.strip():
                self.conn.execute(statement.replace(":today", f"'{today.isoformat()}'"))

    @classmethod
    def of(cls, company_dir: Path, today: dt.date = TODAY) -> "GoldStore":
        return cls(Path(company_dir) / "salesforce.sqlite", Path(company_dir) / "netsuite.sqlite", today)

    def rows(self, sql: str) -> list[tuple]:
        return self.conn.execute(sql.replace(":today", f"'{self.today.isoformat()}'")).fetchall()

    def rep_id(self, name: str) -> str:
        return self.conn.execute("SELECT rep_id FROM reps WHERE rep_name = ?", (name,)).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


def generate_company(out_dir: Path, *, scale: float = SCALE, seed: int = SEED,
                     today: dt.date = TODAY) -> Path:
    """The demo company the held-out set was written on (the tests' one: scale 0.05, seed 42)."""
    from emulators.demo_company import generate_company as generate

    generate(Path(out_dir), seed=seed, scale=scale, today=today)
    return Path(out_dir)


# --- the measure ---------------------------------------------------------------------------------------

def scope_of(question: dict, gold: GoldStore):
    """The caller's scope: ``persona: rep`` with ``rep: <name>``, ``persona: manager`` with
    ``territory: <name>``, else an executive (all data)."""
    from agents import Scope

    persona = question.get("persona", "exec")
    if persona == "rep":
        return Scope.rep(gold.rep_id(question["rep"]))
    if persona == "manager":
        return Scope.manager(question["territory"])
    return Scope.all()


def _declined(answer) -> bool:
    return bool(answer.refused or answer.error or (not answer.rows and not any(p.rows for p in answer.parts)))


def _candidates(answer) -> list[tuple[list, list, bool]]:
    """(columns, rows, truncated) readings of an answer: its own table, else its parts' (each, and
    all together when they have the same columns, as a two-part comparison does)."""
    out = [(answer.columns, answer.rows, answer.truncated)]
    parts = [p for p in answer.parts if p.rows]
    if parts and not answer.rows:
        out += [(p.columns, p.rows, p.truncated) for p in parts]
        if len({len(p.columns) for p in parts}) == 1:
            rows = [r for p in parts for r in p.rows]
            out.append((parts[0].columns, rows, any(p.truncated for p in parts)))
    return out


def judge(question: dict, gold_rows: list[tuple] | None, answer) -> tuple[bool, str]:
    from tests.agents.evaluation import compare

    if question.get("expect") in DECLINE:
        if _declined(answer):
            return True, ""
        return False, f"answered with {len(answer.rows)} rows instead of a {question['expect']}"
    if answer.error and answer.error != "no_plan" and not answer.refused and not answer.rows:
        return False, f"error: {answer.text}"
    golds = [gold_rows]
    if question.get("ratio"):
        def percent(v):
            return v * 100 if isinstance(v, (int, float)) and not isinstance(v, bool) else v

        golds.append([tuple(percent(v) for v in r) for r in gold_rows])
    why = ""
    for g in golds:
        for columns, rows, truncated in _candidates(answer):
            ok, reason = compare(g, columns, rows, truncated=truncated)
            if ok:
                return True, ""
            why = why or reason
    if _declined(answer):
        why = f"declined ({'refused' if answer.refused else answer.error or 'no rows'}): {answer.text[:120]}"
    return False, why


@dataclass
class Outcome:
    id: str
    klass: str
    question: str
    correct: bool
    confident: bool          # came back with rows (a number, a table), not a refusal or a question
    why: str = ""
    text: str = ""
    seconds: float = 0.0


@dataclass
class HeldoutReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(o.correct for o in self.outcomes) / max(1, len(self.outcomes))

    @property
    def confident_wrong(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct and o.confident]

    def by_class(self) -> dict[str, tuple[int, int, int]]:
        """class -> (right, questions, confident wrong)."""
        out: dict[str, list[int]] = {}
        for o in self.outcomes:
            v = out.setdefault(o.klass, [0, 0, 0])
            v[0] += o.correct
            v[1] += 1
            v[2] += (not o.correct and o.confident)
        return {k: tuple(v) for k, v in sorted(out.items())}


def compute_golds(questions: list[dict], gold: GoldStore) -> dict[str, list[tuple] | None]:
    return {q["id"]: (None if q.get("expect") in DECLINE else gold.rows(q["gold"])) for q in questions}


def measure(questions: list[dict], *, settings, company_dir: Path, store=None) -> HeldoutReport:
    """Ask every question through ``agents.ask`` (a follow-up in its parent's conversation) and judge it."""
    from agents import ask

    gold = GoldStore.of(company_dir)
    try:
        golds = compute_golds(questions, gold)
        scopes = {q["id"]: scope_of(q, gold) for q in questions}
    finally:
        gold.close()
    conversations: dict[str, str | None] = {}
    report = HeldoutReport()
    for q in questions:
        parent = q.get("follow_up_of")
        conversation = conversations.get(parent) if parent else None
        started = time.perf_counter()
        answer = ask(q["question"], scopes[q["id"]], conversation_id=conversation, settings=settings,
                     store=store)
        seconds = time.perf_counter() - started
        conversations[q["id"]] = answer.conversation_id
        ok, why = judge(q, golds[q["id"]], answer)
        report.outcomes.append(Outcome(
            id=q["id"], klass=q["class"], question=q["question"], correct=ok,
            confident=not _declined(answer), why=why, text=(answer.text or "")[:200], seconds=seconds,
        ))
    return report
