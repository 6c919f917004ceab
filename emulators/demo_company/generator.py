"""``generate_company``: build the demo company and write both vendor stores and ``stories.json``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import schema
from . import catalog
from .accounts import Accounts
from .clock import Clock
from .context import Context
from .ids import salesforce_ids
from .orders import LOCATION_MAIN, LOCATION_WEST, C, H, Orders
from .org import Org
from .pipeline import Pipeline
from .products import Items
from .stories import build_stories
from .writer import StoreWriter

Progress = Callable[[str, int, int], None]
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Other")
LEAD_SOURCE_P = np.array([0.35, 0.15, 0.2, 0.2, 0.1])
TASK_STATUS = ("Not Started", "In Progress", "Completed", "Deferred")
TASK_SUBTYPES = ("Call", "Email", "Task")
PRIORITIES = ("High", "Normal", "Low")
STAGES = schema.OPPORTUNITY_STAGES


@dataclass(frozen=True)
class CompanyFiles:
    salesforce: Path
    netsuite: Path
    stories: Path
    fingerprint: str


def generate_company(
    out_dir: Path,
    *,
    seed: int = 42,
    scale: float = 1.0,
    today: dt.date,
    plant_stories: bool = True,
    progress: Progress | None = None,
) -> CompanyFiles:
    """Generate the demo company into ``out_dir`` (salesforce.sqlite, netsuite.sqlite, stories.json).

    Deterministic: the same seed, scale and today give byte-identical table contents and the same
    fingerprint. Every date is relative to ``today``; no instant is later than today 06:00 UTC.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return _Generator(out_dir, seed, scale, today, plant_stories, progress).run()


class _Generator:
    def __init__(self, out_dir: Path, seed: int, scale: float, today: dt.date, plant: bool, progress):
        self.out_dir = out_dir
        self.progress = progress
        self.clock = Clock(today)
        self.ctx = Context(seed=seed, scale=scale, clock=self.clock, plant=plant)
        self.counts: dict[str, int] = {}

    def _step(self, name: str, fn):
        if self.progress:
            self.progress(name, 0, 1)
        result = fn()
        if self.progress:
            self.progress(name, 1, 1)
        return result

    def run(self) -> CompanyFiles:
        ctx = self.ctx
        self.org = self._step("sales team", lambda: Org(ctx))
        self.accts = self._step("accounts and customers", lambda: Accounts(ctx, self.org))
        self.items = self._step("items", lambda: Items(ctx))
        self.orders = self._step("sales orders and invoices", lambda: Orders(ctx, self.accts, self.items))
        self.pipeline = self._step(
            "opportunities and activities", lambda: Pipeline(ctx, self.org, self.accts)
        )

        sf_path = self.out_dir / "salesforce.sqlite"
        ns_path = self.out_dir / "netsuite.sqlite"
        sf = schema.create_salesforce_store(sf_path)
        indexes = _drop_indexes(sf)
        sf_writer = StoreWriter(sf, schema.salesforce_columns, self.progress)
        self._write_salesforce(sf_writer)
        _finish(sf, indexes)
        ns = schema.create_netsuite_store(ns_path)
        indexes = _drop_indexes(ns)
        ns_writer = StoreWriter(ns, lambda t: schema.NETSUITE_TABLES[t], self.progress)
        self._write_netsuite(ns_writer)
        _finish(ns, indexes)

        self.counts = {**sf_writer.counts, **ns_writer.counts}
        h = hashlib.sha256()
        for table in schema.SALESFORCE_OBJECTS:
            h.update(f"salesforce.{table}={sf_writer.digests[table]};".encode())
        for table in schema.NETSUITE_TABLES:
            h.update(f"netsuite.{table}={ns_writer.digests[table]};".encode())
        fingerprint = h.hexdigest()

        stories = build_stories(self)
        for entry in stories:
            if entry["kind"] == "reference":
                entry["fingerprint"] = fingerprint
        stories_path = self.out_dir / "stories.json"
        stories_path.write_text(json.dumps(stories, indent=2, ensure_ascii=False) + "\n")
        return CompanyFiles(
            salesforce=sf_path, netsuite=ns_path, stories=stories_path, fingerprint=fingerprint
        )

    # ------------------------------------------------------------------------------------------
    # Salesforce
    # ------------------------------------------------------------------------------------------
    def _write_salesforce(self, w: StoreWriter) -> None:
        clock, org, accts, p, rng = self.clock, self.org, self.accts, self.pipeline, self.ctx.rng
        sf = clock.sf_text

        # Users.
        self.user_ids = salesforce_ids("005", 1, org.n)
        org.ids = self.user_ids
        with w.table("User", org.n, "salesforce: users") as t:
            t.write(
                org.n,
                {
                    "Id": self.user_ids,
                    "Username": [e if e == catalog.INTEGRATION_USERNAME else e + ".scc" for e in org.email],
                    "Name": org.name,
                    "FirstName": org.first,
                    "LastName": org.last,
                    "Email": org.email,
                    "Title": org.title,
                    "IsActive": 1,
                    "ManagerId": [self.user_ids[m] if m is not None else None for m in org.manager],
                    "Sales_Role__c": org.role,
                    "Territory__c": org.territory,
                    "Region__c": org.region,
                    "Quarterly_Quota__c": org.quota,
                    "CreatedDate": sf(org.created_secs),
                    "LastModifiedDate": sf(org.modified_secs),
                    "SystemModstamp": sf(org.modified_secs),
                },
            )

        # Accounts, in creation order.
        n = accts.n
        order = np.lexsort((np.arange(n), accts.created_secs))
        ids = salesforce_ids("001", 1, n)
        self.account_ids = [""] * n
        for k, a in enumerate(order.tolist()):
            self.account_ids[a] = ids[k]
        ns_id = []
        for a in order.tolist():
            c = int(accts.customer_of_account[a])
            ns_id.append(str(int(accts.cust_id[c])) if c >= 0 and not accts.cust_unlinked[c] else None)
        pick = order.tolist()
        with w.table("Account", n, "salesforce: accounts") as t:
            t.write(
                n,
                {
                    "Id": ids,
                    "Name": [accts.name[a] for a in pick],
                    "Type": [accts.type[a] for a in pick],
                    "Industry": [accts.industry[a] for a in pick],
                    "BillingCity": [accts.city[a] for a in pick],
                    "BillingState": [accts.state[a] for a in pick],
                    "BillingCountry": "United States",
                    "Phone": [accts.phone[a] for a in pick],
                    "Website": [accts.website[a] for a in pick],
                    "AnnualRevenue": accts.annual_revenue[order],
                    "NumberOfEmployees": accts.employees[order],
                    "OwnerId": [self.user_ids[int(accts.owner[a])] for a in pick],
                    "NetSuite_Customer_Id__c": ns_id,
                    "IsDeleted": 0,
                    "CreatedDate": sf(accts.created_secs[order]),
                    "LastModifiedDate": sf(accts.modified_secs[order]),
                    "SystemModstamp": sf(accts.modified_secs[order]),
                },
            )

        # Contacts.
        m = accts.n_contacts
        corder = np.lexsort((np.arange(m), accts.contact_created_secs))
        cids = salesforce_ids("003", 1, m)
        self.contact_ids = [""] * m
        for k, c in enumerate(corder.tolist()):
            self.contact_ids[c] = cids[k]
        cp = corder.tolist()
        c_acc = accts.contact_account[corder]
        with w.table("Contact", m, "salesforce: contacts") as t:
            t.write(
                m,
                {
                    "Id": cids,
                    "AccountId": [self.account_ids[a] for a in c_acc.tolist()],
                    "FirstName": [accts.contact_first[c] for c in cp],
                    "LastName": [accts.contact_last[c] for c in cp],
                    "Name": [f"{accts.contact_first[c]} {accts.contact_last[c]}" for c in cp],
                    "Title": [accts.contact_title[c] for c in cp],
                    "Email": [accts.contact_email[c] for c in cp],
                    "Phone": [accts.contact_phone[c] for c in cp],
                    "OwnerId": [self.user_ids[int(accts.owner[a])] for a in c_acc.tolist()],
                    "IsDeleted": 0,
                    "CreatedDate": sf(accts.contact_created_secs[corder]),
                    "LastModifiedDate": sf(accts.contact_modified_secs[corder]),
                    "SystemModstamp": sf(accts.contact_modified_secs[corder]),
                },
            )

        # Opportunities, in creation order.
        n = p.n
        oorder = np.lexsort((np.arange(n), p.created_secs))
        oids = salesforce_ids("006", 1, n)
        self.opportunity_ids = [""] * n
        for k, i in enumerate(oorder.tolist()):
            self.opportunity_ids[i] = oids[k]
        self.opportunity_names = p.names()
        stage = p.final_stage[oorder]
        owner = accts.owner[p.acc[oorder]]
        acc = p.acc[oorder]
        cust = accts.customer_of_account[acc]
        existing = (cust >= 0) & (accts.start[acc] <= p.created_day[oorder])
        u = rng.random(n)
        otype = np.where(
            existing, np.where(u < 0.75, "Existing Business", "Renewal"), "New Business"
        ).tolist()
        lead = [LEAD_SOURCES[i] for i in rng.choice(5, size=n, p=LEAD_SOURCE_P).tolist()]
        nxt = rng.integers(0, len(catalog.NEXT_STEPS), n)
        closed = stage >= 8
        last_act = p.last_activity_day[oorder]
        stage_names = [STAGES[s] for s in stage.tolist()]
        with w.table("Opportunity", n, "salesforce: opportunities") as t:
            t.write(
                n,
                {
                    "Id": oids,
                    "Name": [self.opportunity_names[i] for i in oorder.tolist()],
                    "AccountId": [self.account_ids[a] for a in acc.tolist()],
                    "OwnerId": [self.user_ids[o] for o in owner.tolist()],
                    "StageName": stage_names,
                    "Amount": p.final_amount[oorder],
                    "Probability": np.array([schema.STAGE_PROBABILITY[s] for s in stage_names], dtype=float),
                    "CloseDate": clock.dates_text(p.final_close[oorder]),
                    "IsClosed": closed,
                    "IsWon": stage == 8,
                    "ForecastCategoryName": [schema.STAGE_FORECAST_CATEGORY[s] for s in stage_names],
                    "Type": otype,
                    "LeadSource": lead,
                    "NextStep": [
                        None if c else catalog.NEXT_STEPS[k] for c, k in zip(closed.tolist(), nxt.tolist())
                    ],
                    "Product_Category__c": [catalog.CATEGORY_NAMES[c] for c in p.category[oorder].tolist()],
                    "LastActivityDate": [clock.day_str[d] if d >= 0 else None for d in last_act.tolist()],
                    "IsDeleted": p.deleted[oorder],
                    "CreatedDate": sf(p.created_secs[oorder]),
                    "LastModifiedDate": sf(p.modified_secs[oorder]),
                    "SystemModstamp": sf(p.modified_secs[oorder]),
                },
            )

        # Opportunity history, in time order.
        h = p.h
        m = len(h["opp"])
        horder = np.lexsort((np.arange(m), h["secs"]))
        hstage = [STAGES[s] for s in h["stage"][horder].tolist()]
        prob = np.array([schema.STAGE_PROBABILITY[s] for s in hstage], dtype=float)
        amount = h["amount"][horder]
        with w.table("OpportunityHistory", m, "salesforce: opportunity history") as t:
            t.write(
                m,
                {
                    "Id": salesforce_ids("008", 1, m),
                    "OpportunityId": [self.opportunity_ids[i] for i in h["opp"][horder].tolist()],
                    "StageName": hstage,
                    "Amount": amount,
                    "ExpectedRevenue": np.round(amount * prob / 100, 2),
                    "CloseDate": clock.dates_text(h["close"][horder]),
                    "Probability": prob,
                    "ForecastCategory": [schema.STAGE_FORECAST_CATEGORY[s] for s in hstage],
                    "CreatedById": [self.user_ids[o] for o in accts.owner[p.acc[h["opp"][horder]]].tolist()],
                    "CreatedDate": sf(h["secs"][horder]),
                    "SystemModstamp": sf(p.h_modstamp[horder]),
                    "IsDeleted": p.h_deleted[horder],
                },
            )

        # Tasks.
        tk = p.task
        m = len(tk["opp"])
        torder = np.lexsort((np.arange(m), tk["created"]))
        t_opp = tk["opp"][torder]
        t_acc = p.acc[t_opp]
        subtype = tk["subtype"][torder]
        pick = tk["subject_pick"][torder]
        subjects = [catalog.TASK_SUBJECTS[TASK_SUBTYPES[s]] for s in subtype.tolist()]
        status = tk["status"][torder]
        with w.table("Task", m, "salesforce: tasks") as t:
            t.write(
                m,
                {
                    "Id": salesforce_ids("00T", 1, m),
                    "Subject": [lst[k % len(lst)] for lst, k in zip(subjects, pick.tolist())],
                    "TaskSubtype": [TASK_SUBTYPES[s] for s in subtype.tolist()],
                    "ActivityDate": clock.dates_text(tk["day"][torder]),
                    "Status": [TASK_STATUS[s] for s in status.tolist()],
                    "Priority": [PRIORITIES[s] for s in tk["priority"][torder].tolist()],
                    "IsClosed": status == 2,
                    "WhatId": [self.opportunity_ids[i] for i in t_opp.tolist()],
                    "WhoId": [self.contact_ids[c] for c in tk["who"][torder].tolist()],
                    "AccountId": [self.account_ids[a] for a in t_acc.tolist()],
                    "OwnerId": [self.user_ids[o] for o in accts.owner[t_acc].tolist()],
                    "IsDeleted": 0,
                    "CreatedDate": sf(tk["created"][torder]),
                    "LastModifiedDate": sf(tk["modified"][torder]),
                    "SystemModstamp": sf(tk["modified"][torder]),
                },
            )

        # Events.
        ev = p.event
        m = len(ev["opp"])
        eorder = np.lexsort((np.arange(m), ev["created"]))
        e_opp = ev["opp"][eorder]
        e_acc = p.acc[e_opp]
        with w.table("Event", m, "salesforce: events") as t:
            t.write(
                m,
                {
                    "Id": salesforce_ids("00U", 1, m),
                    "Subject": [catalog.EVENT_SUBJECTS[k] for k in ev["subject_pick"][eorder].tolist()],
                    "ActivityDate": clock.dates_text(ev["day"][eorder]),
                    "StartDateTime": sf(ev["start"][eorder]),
                    "EndDateTime": sf(ev["end"][eorder]),
                    "DurationInMinutes": ev["dur"][eorder],
                    "Location": [catalog.EVENT_LOCATIONS[k] for k in ev["location_pick"][eorder].tolist()],
                    "WhatId": [self.opportunity_ids[i] for i in e_opp.tolist()],
                    "WhoId": [self.contact_ids[c] for c in ev["who"][eorder].tolist()],
                    "AccountId": [self.account_ids[a] for a in e_acc.tolist()],
                    "OwnerId": [self.user_ids[o] for o in accts.owner[e_acc].tolist()],
                    "IsDeleted": 0,
                    "CreatedDate": sf(ev["created"][eorder]),
                    "LastModifiedDate": sf(ev["modified"][eorder]),
                    "SystemModstamp": sf(ev["modified"][eorder]),
                },
            )

    # ------------------------------------------------------------------------------------------
    # NetSuite
    # ------------------------------------------------------------------------------------------
    def _write_netsuite(self, w: StoreWriter) -> None:
        clock, org, accts, items, o, rng = (
            self.clock,
            self.org,
            self.accts,
            self.items,
            self.orders,
            self.ctx.rng,
        )
        ns = clock.ns_text
        T = clock.tday

        sellers = org.sellers
        with w.table("employee", len(sellers), "netsuite: employees") as t:
            t.write(
                len(sellers),
                {
                    "id": np.array([org.employee_id[u] for u in sellers]),
                    "entityid": [org.name[u] for u in sellers],
                    "firstname": [org.first[u] for u in sellers],
                    "lastname": [org.last[u] for u in sellers],
                    "email": [org.email[u] for u in sellers],
                    "issalesrep": ["F" if org.role[u] == "Sales Executive" else "T" for u in sellers],
                    "isinactive": "F",
                    "custentity_scc_sf_user_id": [self.user_ids[u] for u in sellers],
                    "datecreated": ns(org.created_secs[sellers]),
                    "lastmodifieddate": ns(org.created_secs[sellers] + 600),
                },
            )
        with w.table("location", 2, "netsuite: locations") as t:
            t.write(
                2,
                {
                    "id": np.array([LOCATION_MAIN, LOCATION_WEST]),
                    "name": ["Main Warehouse", "West Coast DC"],
                    "isinactive": "F",
                    "lastmodifieddate": ns(np.array([8 * 3600, 8 * 3600 + 60])),
                },
            )

        nc = accts.n_customers
        ext = []
        for k in range(nc):
            a = int(accts.cust_account[k])
            ext.append(self.account_ids[a] if a >= 0 and not accts.cust_unlinked[k] else None)
        with w.table("customer", nc, "netsuite: customers") as t:
            t.write(
                nc,
                {
                    "id": accts.cust_id,
                    "entityid": [f"CUST-{i}" for i in accts.cust_id.tolist()],
                    "companyname": accts.cust_name,
                    "email": accts.cust_email,
                    "phone": accts.cust_phone,
                    "salesrep": accts.cust_salesrep,
                    "creditlimit": o.cust_credit_limit,
                    "balance": np.round(o.cust_balance_c / 100.0, 2),
                    "terms": accts.cust_terms,
                    "category": accts.cust_category,
                    "isinactive": accts.cust_inactive,
                    "externalid": ext,
                    "datecreated": ns(accts.cust_created_secs),
                    "lastmodifieddate": ns(o.cust_modified_secs),
                },
            )

        ni = items.n
        i_created = 9 * 3600 + 1800 + np.arange(ni) * 5
        i_mod_day = rng.integers(1, T, ni)
        i_mod = np.maximum(clock.business_secs(rng, i_mod_day), i_created)
        with w.table("item", ni, "netsuite: items") as t:
            t.write(
                ni,
                {
                    "id": items.ids,
                    "itemid": items.sku,
                    "displayname": items.name,
                    "salesdescription": items.description,
                    "itemtype": "InvtPart",
                    "custitem_scc_category": items.category,
                    "baseprice": items.base_price,
                    "custitem_scc_min_price": items.min_price,
                    "cost": items.cost,
                    "isinactive": ["F" if a else "T" for a in items.active.tolist()],
                    "externalid": [f"SKU:{s}" for s in items.sku],
                    "createddate": ns(i_created),
                    "lastmodifieddate": ns(i_mod),
                },
            )
        nk = ni * 2
        inv_mod = clock.business_secs(rng, T - rng.integers(0, 3, nk))
        with w.table("inventoryitemlocations", nk, "netsuite: stock") as t:
            t.write(
                nk,
                {
                    "item": np.repeat(items.ids, 2),
                    "location": np.tile(np.array([LOCATION_MAIN, LOCATION_WEST]), ni),
                    "quantityonhand": o.inv_onhand,
                    "quantityavailable": o.inv_available,
                    "quantitycommitted": o.inv_committed,
                    "quantitybackordered": o.inv_backordered,
                    "lastmodifieddate": ns(inv_mod),
                },
            )

        # Transaction ids follow creation time across sales orders and invoices.
        n, m = o.n, o.n_inv
        all_secs = np.concatenate([o.created_secs, o.inv_created_secs])
        typ = np.concatenate([np.zeros(n, np.int64), np.ones(m, np.int64)])
        idx = np.concatenate([np.arange(n), np.arange(m)])
        order = np.lexsort((idx, typ, all_secs))
        tid = np.empty(n + m, dtype=np.int64)
        tid[order] = 20_001 + np.arange(n + m)
        so_id, inv_id = tid[:n], tid[n:]
        self.so_ids = so_id
        so_rank = np.empty(n, dtype=np.int64)
        so_rank[np.lexsort((np.arange(n), o.created_secs))] = np.arange(n)
        inv_rank = np.empty(m, dtype=np.int64)
        inv_rank[np.lexsort((np.arange(m), o.inv_created_secs))] = np.arange(m)
        so_tranid = [f"SO{100_001 + r}" for r in so_rank.tolist()]
        sources = o.sources
        ext = [
            None if s == "User Interface" else ("SHOP-" if s == "Web Services" else "CSV-") + tr[2:]
            for s, tr in zip(sources, so_tranid)
        ]
        so_mod_text = ns(o.modified_secs)
        cust_ids = accts.cust_id
        salesrep = accts.cust_salesrep
        with w.table("transaction", n + m, "netsuite: transactions") as t:
            t.write(
                n,
                {
                    "id": so_id,
                    "tranid": so_tranid,
                    "type": "SalesOrd",
                    "entity": cust_ids[o.cust],
                    "employee": salesrep[o.cust],
                    "trandate": clock.dates_text(o.day),
                    "duedate": None,
                    "status": o.status_codes,
                    "foreigntotal": o.total_c / 100.0,
                    "foreignamountunpaid": None,
                    "createdfrom": None,
                    "memo": o.memos(),
                    "externalid": ext,
                    "source": sources,
                    "createddate": ns(o.created_secs),
                    "lastmodifieddate": so_mod_text,
                },
            )
            ic = o.cust[o.inv_order]
            t.write(
                m,
                {
                    "id": inv_id,
                    "tranid": [f"INV{100_001 + r}" for r in inv_rank.tolist()],
                    "type": "CustInvc",
                    "entity": cust_ids[ic],
                    "employee": salesrep[ic],
                    "trandate": clock.dates_text(o.inv_day),
                    "duedate": clock.dates_text(o.inv_due_day),
                    "status": np.where(o.inv_paid, "B", "A").tolist(),
                    "foreigntotal": o.inv_total_c / 100.0,
                    "foreignamountunpaid": o.inv_unpaid_c / 100.0,
                    "createdfrom": so_id[o.inv_order],
                    "memo": None,
                    "externalid": None,
                    "source": o.inv_source,
                    "createddate": ns(o.inv_created_secs),
                    "lastmodifieddate": ns(o.inv_modified_secs),
                },
            )

        # Lines: unique keys follow (transaction id, line id).
        inv_of_order = np.full(n, -1, dtype=np.int64)
        inv_of_order[o.inv_order] = np.arange(m)
        il = np.flatnonzero((inv_of_order[o.line_order] >= 0) & (o.billed > 0))
        il_inv = inv_of_order[o.line_order[il]]
        starts = (
            np.concatenate([[0], np.flatnonzero(np.diff(il_inv)) + 1]) if len(il) else np.zeros(0, np.int64)
        )
        lens = np.diff(np.concatenate([starts, [len(il)]]))
        il_no = np.arange(len(il)) - np.repeat(starts, lens) + 1
        keys = np.concatenate(
            [
                so_id * 1000,
                so_id[o.line_order] * 1000 + o.line_no,
                inv_id * 1000,
                inv_id[il_inv] * 1000 + il_no,
            ]
        )
        ukey = np.empty(len(keys), dtype=np.int64)
        ukey[np.argsort(keys, kind="stable")] = 1 + np.arange(len(keys))
        k1, k2, k3 = n, n + o.L, n + o.L + m
        so_closed = np.where(np.isin(o.status, [C, H]), "T", "F")
        inv_mod_text = ns(o.inv_modified_secs)
        total_lines = len(keys)
        with w.table("transactionline", total_lines, "netsuite: transaction lines") as t:
            t.write(
                n,
                {
                    "uniquekey": ukey[:k1],
                    "transaction": so_id,
                    "id": 0,
                    "linesequencenumber": 0,
                    "mainline": "T",
                    "item": None,
                    "location": o.location,
                    "quantity": None,
                    "rate": None,
                    "foreignamount": o.total_c / 100.0,
                    "quantityshiprecv": None,
                    "quantitybilled": None,
                    "isclosed": so_closed.tolist(),
                    "linelastmodifieddate": so_mod_text,
                },
            )
            lo = o.line_order
            t.write(
                o.L,
                {
                    "uniquekey": ukey[k1:k2],
                    "transaction": so_id[lo],
                    "id": o.line_no,
                    "linesequencenumber": o.line_no,
                    "mainline": "F",
                    "item": items.ids[o.item],
                    "location": o.location[lo],
                    "quantity": o.qty.astype(float),
                    "rate": o.rate_c / 100.0,
                    "foreignamount": o.amount_c / 100.0,
                    "quantityshiprecv": o.ship.astype(float),
                    "quantitybilled": o.billed.astype(float),
                    "isclosed": so_closed[lo].tolist(),
                    "linelastmodifieddate": [so_mod_text[i] for i in lo.tolist()],
                },
            )
            t.write(
                m,
                {
                    "uniquekey": ukey[k2:k3],
                    "transaction": inv_id,
                    "id": 0,
                    "linesequencenumber": 0,
                    "mainline": "T",
                    "item": None,
                    "location": o.location[o.inv_order],
                    "quantity": None,
                    "rate": None,
                    "foreignamount": o.inv_total_c / 100.0,
                    "quantityshiprecv": None,
                    "quantitybilled": None,
                    "isclosed": "F",
                    "linelastmodifieddate": inv_mod_text,
                },
            )
            src = il
            t.write(
                len(il),
                {
                    "uniquekey": ukey[k3:],
                    "transaction": inv_id[il_inv],
                    "id": il_no,
                    "linesequencenumber": il_no,
                    "mainline": "F",
                    "item": items.ids[o.item[src]],
                    "location": o.location[lo[src]],
                    "quantity": o.billed[src].astype(float),
                    "rate": o.rate_c[src] / 100.0,
                    "foreignamount": (o.billed[src] * o.rate_c[src]) / 100.0,
                    "quantityshiprecv": None,
                    "quantitybilled": None,
                    "isclosed": "F",
                    "linelastmodifieddate": [inv_mod_text[i] for i in il_inv.tolist()],
                },
            )
        with w.table("deletedrecord", 0, "netsuite: deleted records") as t:
            t.write(0, {})


def _drop_indexes(conn) -> list[str]:
    """The schema's secondary indexes, dropped for the bulk load and rebuilt afterwards (much faster)."""
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def _finish(conn, indexes: list[str]) -> None:
    for sql in indexes:
        conn.execute(sql)
    conn.execute("ANALYZE")  # statistics for the emulators' query planner (see NetSuiteStore)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
