"""Accounts and contacts (Salesforce) and the customers that mirror them (NetSuite), with the realistic
cross-reference gaps: name variants without ids, NetSuite-only customers, Salesforce-only prospects."""

from __future__ import annotations

import re

import numpy as np

from . import catalog
from .clock import DAY
from .context import Context
from .org import Org

LEGACY_START = 10 * 3600  # migrated records: day 0, 10:00-12:59 UTC


def _slug(name: str) -> str:
    name = re.sub(r"( Inc\.| Corp| LLC| Group| Co\.| Holdings)$", "", name)
    return re.sub(r"[^a-z0-9]+", "", name.lower().replace("&", "and")) or "company"


def name_variant(name: str) -> str:
    """How the same company often appears in the ERP: legal suffix spelled out, '&' vs 'and' and so on."""
    if name.endswith(" Corp"):
        return name[:-5] + " Corporation, Inc."
    if name.endswith(" Inc."):
        return name[:-5] + ", Incorporated"
    if name.endswith(" Co."):
        return name[:-4] + " Company"
    if name.endswith(" LLC"):
        return name[:-4] + ", L.L.C."
    if name.endswith(" Holdings"):
        return name + ", Inc."
    if name.endswith(" Group"):
        return name + " Inc."
    if " & " in name:
        return name.replace(" & ", " and ") + ", Inc."
    if name.endswith(" Corporation"):
        return name[: -len(" Corporation")] + " Corp."
    return name + ", Inc."


class Accounts:
    def __init__(self, ctx: Context, org: Org):
        rng, clock = ctx.rng, ctx.clock
        T = clock.tday
        n = ctx.scaled(1500, 60)
        self.n = n
        territories = catalog.TERRITORY_NAMES

        # Size weight (drives orders, opportunities, annual revenue).
        weight = rng.lognormal(0.0, 1.1, n)
        order = np.argsort(-weight, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)

        # Types: prospects and partners are drawn among the smaller half-ish, customers dominate the top.
        acc_type = np.array(["Customer"] * n, dtype=object)
        n_prospect = max(5, int(round(0.13 * n)))
        n_partner = max(1, int(round(0.03 * n)))
        candidates = order[min(n - 1, max(10, n // 10)) :]
        picks = rng.choice(candidates, size=min(len(candidates), n_prospect + n_partner), replace=False)
        acc_type[picks[:n_prospect]] = "Prospect"
        acc_type[picks[n_prospect:]] = "Partner"
        self.type = acc_type.tolist()
        is_customer = acc_type != "Prospect"
        self.is_customer = is_customer
        cust_order = [int(i) for i in order if is_customer[i]]  # customers by size, largest first
        self.customers_by_size = cust_order

        # Story roles (chosen whether or not stories are planted, so the company looks the same).
        self.disney = cust_order[0]
        self.decline = cust_order[int(rng.integers(3, 8))]
        others = [i for i in cust_order[2:30] if i not in (self.disney, self.decline)]
        self.stalled_accounts = [int(x) for x in rng.choice(others, size=3, replace=False)]
        k_top = self.top_k = min(40, max(25, len(cust_order) // 3))
        protected = set(cust_order[: max(k_top + 5, min(3 * k_top, len(cust_order) * 2 // 3))])

        # Territory, state, city.
        terr = rng.integers(0, len(territories), n)
        terr[self.disney] = territories.index("Pacific")
        self.territory_idx = terr
        self.state: list[str] = []
        self.city: list[str] = []
        for i in range(n):
            _, states = catalog.TERRITORIES[territories[terr[i]]]
            w = np.array([s[1] for s in states])
            st = states[int(rng.choice(len(states), p=w / w.sum()))]
            self.state.append(st[0])
            self.city.append(st[2][int(rng.integers(len(st[2])))])
        self.territory = [territories[t] for t in terr]
        self.region = [catalog.REGION_OF_TERRITORY[t] for t in self.territory]

        # Names: well-known names go to larger accounts, the rest are composed.
        names: list[str | None] = [None] * n
        industry: list[str | None] = [None] * n
        famous = list(catalog.FAMOUS_ACCOUNTS)
        rng.shuffle(famous)
        n_famous = min(len(famous), max(8, int(round(0.04 * n))))
        pool = [int(i) for i in order[: max(n_famous + 5, int(0.4 * n))] if i != self.disney]
        for i, (nm, ind) in zip(rng.choice(pool, size=n_famous, replace=False), famous):
            names[int(i)], industry[int(i)] = nm, ind
        names[self.disney], industry[self.disney] = catalog.DISNEY[0], catalog.DISNEY[1]
        self.state[self.disney], self.city[self.disney] = catalog.DISNEY[2], catalog.DISNEY[3]
        used = {x for x in names if x} | set(catalog.NETSUITE_ONLY_NAMES)
        n_pre, n_noun, n_suf = (
            len(catalog.NAME_PREFIXES),
            len(catalog.NAME_NOUNS),
            len(catalog.LEGAL_SUFFIXES),
        )
        for i in range(n):
            if names[i] is not None:
                continue
            for attempt in range(50):
                noun, ind = catalog.NAME_NOUNS[int(rng.integers(n_noun))]
                nm = catalog.NAME_PREFIXES[int(rng.integers(n_pre))] + " " + noun
                nm += catalog.LEGAL_SUFFIXES[int(rng.integers(n_suf))]
                if attempt >= 40:
                    nm = f"{nm} of {self.city[i]}"
                if nm not in used:
                    break
            else:
                nm = f"{nm} {i}"
            used.add(nm)
            names[i], industry[i] = nm, ind
        self.name: list[str] = names  # type: ignore[assignment]
        self.industry: list[str] = industry  # type: ignore[assignment]
        self.website = [f"www.{_slug(x)}.com" for x in self.name]
        self.website[self.disney] = catalog.DISNEY[4]
        self.domain = [w[4:] for w in self.website]
        self.phone = [
            f"({int(a)}) 555-{int(b):04d}"
            for a, b in zip(rng.integers(201, 990, n), rng.integers(100, 10000, n))
        ]
        med = np.array([catalog.INDUSTRY_ANNUAL_REVENUE[x] for x in self.industry], dtype=float)
        rev = med * 1e6 * (weight / np.median(weight)) ** 0.8 * rng.lognormal(0, 0.4, n)
        rev = np.round(np.clip(rev, 2e5, 9e10) / 1e5) * 1e5
        rev[self.disney] = 88.9e9
        self.annual_revenue = rev
        emp = np.maximum(5, np.round(rev / rng.uniform(150e3, 400e3, n))).astype(np.int64)
        emp[self.disney] = 225_000
        self.employees = emp

        # Owner: a rep of the account's territory.
        self.owner = np.array(
            [org.reps_of_territory[territories[terr[i]]][int(rng.integers(5))] for i in range(n)],
            dtype=np.int64,
        )

        # Life cycle: when the customer started ordering, and (for a few) stopped.
        start = np.zeros(n, dtype=np.int64)
        end = np.full(n, T + 10_000, dtype=np.int64)
        u = rng.random(n)
        unprotected = np.array([i not in protected for i in range(n)])
        newer = is_customer & unprotected & (u < 0.2)
        start[newer] = rng.integers(30, max(31, T - 45), newer.sum())
        churned = is_customer & unprotected & (u >= 0.2) & (u < 0.25)
        end[churned] = rng.integers(250, max(251, T - 150), churned.sum())
        self.start, self.end = start, end
        created_day = np.where(newer, np.maximum(1, start - rng.integers(5, 40, n)), 0)
        prospect = ~is_customer
        late_prospect = prospect & (rng.random(n) < 0.6)
        created_day[late_prospect] = rng.integers(1, max(2, T - 10), late_prospect.sum())
        secs = clock.business_secs(rng, created_day)
        legacy = created_day == 0
        secs[legacy] = LEGACY_START + rng.integers(0, 3 * 3600, legacy.sum())
        self.created_secs = secs
        span = np.maximum(clock.cap - secs, 0)
        self.modified_secs = np.minimum(secs + (rng.random(n) ** 2 * span).astype(np.int64), clock.cap)
        self.weight = weight
        self.rank = rank

        # Contacts: about four per account.
        counts = np.clip(2 + rng.poisson(2.0, n), 1, 9)
        self.contact_count = counts
        self.contact_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        m = int(counts.sum())
        self.n_contacts = m
        c_acc = np.repeat(np.arange(n), counts)
        self.contact_account = c_acc
        fi = rng.integers(0, len(catalog.FIRST_NAMES), m)
        li = rng.integers(0, len(catalog.LAST_NAMES), m)
        ti = rng.integers(0, len(catalog.CONTACT_TITLES), m)
        self.contact_first = [catalog.FIRST_NAMES[i] for i in fi.tolist()]
        self.contact_last = [catalog.LAST_NAMES[i] for i in li.tolist()]
        self.contact_title = [catalog.CONTACT_TITLES[i] for i in ti.tolist()]
        dom = self.domain
        self.contact_email = [
            f"{first}.{last}@{dom[a]}".lower().replace("'", "")
            for first, last, a in zip(self.contact_first, self.contact_last, c_acc.tolist())
        ]
        self.contact_phone = [
            f"({int(a)}) 555-{int(b):04d}"
            for a, b in zip(rng.integers(201, 990, m), rng.integers(100, 10000, m))
        ]
        c_secs = secs[c_acc] + rng.integers(60, 3 * DAY, m)
        self.contact_created_secs = np.minimum(c_secs, clock.cap)
        span = np.maximum(clock.cap - self.contact_created_secs, 0)
        self.contact_modified_secs = np.minimum(
            self.contact_created_secs + (rng.random(m) ** 3 * span).astype(np.int64), clock.cap
        )
        self.contact_modified_secs = np.maximum(self.contact_modified_secs, self.contact_created_secs)
        self.ids: list[str] = []
        self.contact_ids: list[str] = []

        self._build_customers(ctx, org, protected)

    def _build_customers(self, ctx: Context, org: Org, protected: set[int]) -> None:
        """NetSuite customers: one per Customer/Partner account, plus a few that exist only in NetSuite."""
        rng, clock = ctx.rng, ctx.clock
        T = clock.tday
        acc = [i for i in range(self.n) if self.is_customer[i]]
        # NetSuite ids follow creation order.
        acc.sort(key=lambda i: (int(self.created_secs[i]), i))
        n_ns_only = 2 + int(rng.random() < 0.5)
        nc = len(acc) + n_ns_only
        self.n_customers = nc
        cust_acc = np.array(acc + [-1] * n_ns_only, dtype=np.int64)
        self.cust_account = cust_acc
        self.customer_of_account = np.full(self.n, -1, dtype=np.int64)
        self.customer_of_account[np.array(acc, dtype=np.int64)] = np.arange(len(acc))
        self.cust_id = np.arange(1001, 1001 + nc, dtype=np.int64)
        names = [self.name[i] for i in acc] + list(catalog.NETSUITE_ONLY_NAMES[:n_ns_only])
        weight = np.concatenate([self.weight[acc], np.quantile(self.weight, 0.3) * np.ones(n_ns_only)])
        start = np.concatenate([self.start[acc], rng.integers(60, T - 200, n_ns_only)])
        end = np.concatenate([self.end[acc], np.full(n_ns_only, T + 10_000)])
        created = np.concatenate(
            [
                self.created_secs[acc] + rng.integers(30, 900, len(acc)),
                clock.business_secs(rng, np.maximum(1, start[len(acc) :] - 10)),
            ]
        )
        created = np.minimum(created, clock.cap)
        rep_user = np.concatenate([self.owner[acc], rng.choice(org.reps, n_ns_only)])
        self.cust_weight, self.cust_start, self.cust_end = weight, start, end
        self.cust_created_secs = created
        self.cust_rep_user = rep_user
        self.cust_salesrep = np.array([org.employee_id[int(u)] for u in rep_user], dtype=np.int64)
        self.cust_territory = [org.territory[int(u)] for u in rep_user]

        # Name variants with no cross-reference ids on either side (~2% of customers).
        eligible = [
            k
            for k, a in enumerate(acc)
            if a not in protected and a not in (self.disney, self.decline) and a not in self.stalled_accounts
        ]
        with_suffix = [
            k for k in eligible if re.search(r"( Corp| Inc\.| Co\.| LLC| Group| Holdings| & )", names[k])
        ]
        n_var = max(2, int(round(0.02 * len(acc))))
        pool = with_suffix if len(with_suffix) >= n_var else eligible
        variants = sorted(int(k) for k in rng.choice(pool, size=min(n_var, len(pool)), replace=False))
        self.cust_unlinked = np.zeros(nc, dtype=bool)
        for k in variants:
            names[k] = name_variant(names[k])
            self.cust_unlinked[k] = True
        self.cust_name = names
        self.cust_ns_only = np.arange(nc) >= len(acc)
        self.variant_customers = variants

        # Terms, payment behaviour, category.
        terms = catalog.PAYMENT_TERMS
        p = np.array([t[2] for t in terms])
        ti = rng.choice(len(terms), size=nc, p=p / p.sum())
        self.cust_terms = [terms[i][0] for i in ti.tolist()]
        self.cust_terms_days = np.array([terms[i][1] for i in ti.tolist()], dtype=np.int64)
        slow = rng.random(nc) < 0.08
        self.cust_late_mean = np.where(slow, rng.uniform(20, 45, nc), rng.uniform(-4, 6, nc))
        q = np.quantile(weight, [0.9, 0.6])
        self.cust_category = np.where(
            weight >= q[0], "Enterprise", np.where(weight >= q[1], "Mid-Market", "SMB")
        )
        partner = np.array([self.type[a] == "Partner" if a >= 0 else False for a in cust_acc])
        self.cust_category = np.where(partner, "Reseller", self.cust_category).tolist()
        self.cust_email = [
            f"ap@{self.domain[a]}" if a >= 0 else f"office@{_slug(nm)}.org"
            for a, nm in zip(cust_acc.tolist(), names)
        ]
        self.cust_phone = [
            self.phone[a].replace("(", "").replace(") ", "-")
            if a >= 0
            else f"{int(rng.integers(201, 990))}-555-0199"
            for a in cust_acc.tolist()
        ]
        self.cust_inactive = np.where(end < T - 365, "T", "F").tolist()
