"""Sales orders, their lines, invoices and stock (NetSuite), with the order-side stories.

Everything is vectorised over orders and lines with numpy. Money is handled in integer cents, so a
line's amount is exactly quantity x rate and an order's total exactly the sum of its lines.
"""

from __future__ import annotations

import numpy as np

from . import catalog
from .accounts import Accounts
from .clock import DAY, ORDER_WEEKDAY_FACTOR
from .context import Context
from .products import Items

STATUS_CODES = np.array(list("ABCDEFGH"))
A, B, C, D, E, F, G, H = range(8)
# (max age in days, {status: probability}) - how far an order of that age has got.
AGE_BUCKETS = (
    (1, {A: 0.45, B: 0.55}),
    (6, {A: 0.05, B: 0.45, C: 0.02, D: 0.12, E: 0.08, F: 0.18, G: 0.10}),
    (20, {B: 0.08, C: 0.03, D: 0.08, E: 0.07, F: 0.17, G: 0.57}),
    (45, {B: 0.01, C: 0.03, E: 0.01, F: 0.03, G: 0.92}),
    (10**9, {C: 0.03, G: 0.71, H: 0.26}),
)
LINES_PER_ORDER = (np.arange(1, 9), np.array([0.15, 0.2, 0.22, 0.18, 0.12, 0.07, 0.04, 0.02]))
SOURCES = ("Web Services", "CSV", "User Interface")
SOURCE_P = np.array([0.33, 0.07, 0.60])
LOCATION_MAIN, LOCATION_WEST = 1, 2
WINDOW = 90  # days of the "last 90 days vs prior 90 days" comparison
DECLINE_RATIO = 0.60
GROWTH_RATIO = 1.25
ANOMALY_MEMO = "Spring promo - bulk upload"


class Orders:
    def __init__(self, ctx: Context, accts: Accounts, items: Items):
        self.ctx, self.accts, self.items = ctx, accts, items
        self.clock = ctx.clock
        self.T = ctx.clock.tday
        self.stories: dict[str, dict] = {}
        self._headers()
        self._statuses()
        self._lines()
        if ctx.plant:
            self._plant_stockout()
        self._ensure_all_statuses()
        self._amounts()
        if ctx.plant:
            self._scale_customer(self.decline_c, DECLINE_RATIO)
            self._scale_customer(self.disney_c, GROWTH_RATIO)
        self._steady_top_customers()
        if ctx.plant:
            self._ensure_anomaly_value()
        self._fulfilment()
        self._invoices()
        self._stamps()
        self._inventory()
        self._customer_totals()

    # --- windows --------------------------------------------------------------------------
    @property
    def last_window(self) -> tuple[int, int]:
        return self.T - WINDOW + 1, self.T

    @property
    def prior_window(self) -> tuple[int, int]:
        return self.T - 2 * WINDOW + 1, self.T - WINDOW

    # --- headers --------------------------------------------------------------------------
    def _headers(self) -> None:
        ctx, rng, clock, accts, T = self.ctx, self.ctx.rng, self.clock, self.accts, self.T
        n_base = ctx.scaled(60_000, 300)
        dens = clock.demand(0, T, ORDER_WEEKDAY_FACTOR)
        cum = np.cumsum(dens / dens.sum() * n_base)
        counts = np.diff(np.floor(np.concatenate([[0.0], cum]) + rng.random())).astype(np.int64)
        self.expected_per_day = dens / dens.sum() * n_base
        day = np.repeat(np.arange(T + 1), counts)

        nc = accts.n_customers
        p = accts.cust_weight / accts.cust_weight.sum()
        cust = rng.choice(nc, size=len(day), p=p)
        full = np.flatnonzero((accts.cust_start == 0) & (accts.cust_end > T))
        for _ in range(40):
            bad = np.flatnonzero((day < accts.cust_start[cust]) | (day > accts.cust_end[cust]))
            if len(bad) == 0:
                break
            cust[bad] = rng.choice(nc, size=len(bad), p=p)
        else:
            pf = accts.cust_weight[full] / accts.cust_weight[full].sum()
            cust[bad] = rng.choice(full, size=len(bad), p=pf)
        kind = np.zeros(len(day), dtype=np.int64)  # 0 regular, 2 bulk upload (anomaly)

        self.disney_c = int(accts.customer_of_account[accts.disney])
        self.decline_c = int(accts.customer_of_account[accts.decline])
        self.story_customers = {self.disney_c, self.decline_c}
        ranked = np.argsort(-accts.cust_weight, kind="stable")[: accts.top_k + 5].tolist()
        keep = np.zeros(nc, dtype=bool)
        keep[ranked] = True
        keep[accts.cust_ns_only] = True
        keep[list(self.story_customers)] = True

        # Orders are moved between customers, never added, so the daily order counts stay smooth.
        def take(c: int, lo: int, hi: int, k: int) -> None:
            """Give customer ``c`` ``k`` more orders dated lo..hi, taken from smaller customers."""
            if k <= 0:
                return
            lo, hi = max(lo, int(accts.cust_start[c])), min(hi, int(accts.cust_end[c]))
            inside = (day >= lo) & (day <= hi)
            donors = np.flatnonzero(~keep[cust] & inside)
            if len(donors) < k:  # small company: also take from big customers with orders to spare
                spare = np.bincount(cust[inside], minlength=nc) > 5
                spare[list(self.story_customers)] = False
                spare[accts.cust_ns_only] = False
                spare[c] = False
                donors = np.flatnonzero((~keep[cust] | spare[cust]) & inside)
            if len(donors):
                cust[rng.choice(donors, size=min(k, len(donors)), replace=False)] = c

        # Every NetSuite-only customer orders now and then.
        for c in np.flatnonzero(accts.cust_ns_only).tolist():
            take(c, 0, T - 5, 4 - int((cust == c).sum()))

        lo_last, _ = self.last_window
        lo_prior, hi_prior = self.prior_window
        if ctx.plant:
            # Keep the story customers' orders away from the window edges, so any reading of
            # "last 90 days" (with or without today, > or >=) gives the same numbers.
            for c in sorted(self.story_customers):
                for i in np.flatnonzero(cust == c).tolist():
                    d = int(day[i])
                    targets: list[int] = []
                    for edge in (lo_last, lo_prior):
                        if edge - 3 <= d < edge:
                            targets = list(range(edge - 4, edge - 14, -1))
                        elif edge <= d <= edge + 2:
                            targets = list(range(edge + 3, edge + 13))
                    if d >= T - 1:
                        targets = list(range(T - 3, T - 13, -1))
                    if not targets:
                        continue
                    # Swap customers with a smaller customer's order a few days away (daily counts unchanged).
                    for x in targets:
                        swap = np.flatnonzero((day == x) & ~keep[cust])
                        if len(swap):
                            j = int(swap[rng.integers(len(swap))])
                            cust[i], cust[j] = cust[j], c
                            break
                    else:  # no partner: the quietest weekday among the targets
                        weekdays = [x for x in targets if clock.weekday[x] < 5]
                        day[i] = min(weekdays, key=lambda x: (int((day == x).sum()), targets.index(x)))
                take(
                    c,
                    lo_prior + 3,
                    hi_prior - 3,
                    6 - int(((cust == c) & (day >= lo_prior) & (day <= hi_prior)).sum()),
                )
                take(c, lo_last + 3, T - 3, 6 - int(((cust == c) & (day >= lo_last)).sum()))
        # The largest customers order steadily: at least three orders in each of the two 90-day windows
        # (matters at small scales, where a big customer could otherwise miss a whole quarter).
        for c in ranked:
            if c in self.story_customers and ctx.plant:
                continue
            for lo, hi in (self.prior_window, self.last_window):
                take(c, lo, hi, 3 - int(((cust == c) & (day >= lo) & (day <= hi)).sum()))

        if ctx.plant:
            day, cust, kind = self._plant_anomaly(day, cust, kind)

        self.keep = keep
        order = np.lexsort((cust, day))
        self.day, self.cust, self.kind = day[order], cust[order], kind[order]
        n = len(self.day)
        self.n = n
        west = np.array([t in ("Pacific", "Southwest") for t in accts.cust_territory])
        pref = np.where(west[self.cust], LOCATION_WEST, LOCATION_MAIN)
        other = np.where(pref == LOCATION_WEST, LOCATION_MAIN, LOCATION_WEST)
        u = rng.random(n)
        self.location = np.where(u < np.where(pref == LOCATION_WEST, 0.8, 0.92), pref, other)
        self.location[accts.cust_ns_only[self.cust]] = LOCATION_MAIN
        src = rng.choice(3, size=n, p=SOURCE_P)
        src[self.kind == 2] = 1
        self.source_idx = src

    def _plant_anomaly(self, day, cust, kind):
        """One weekday in the last 60 days with several times the usual orders (a bulk CSV upload)."""
        rng, clock, accts, T = self.ctx.rng, self.clock, self.accts, self.T
        cand = [d for d in range(T - 55, T - 13) if clock.weekday[d] in (1, 2, 3)]
        d_star = int(cand[int(rng.integers(len(cand)))])
        extra = max(8, int(round(self.expected_per_day[d_star] * rng.uniform(3.6, 4.4))))
        ranked = np.argsort(-accts.cust_weight, kind="stable")
        small = ranked[min(accts.top_k + 5, len(ranked) - 10) :]
        ok = small[
            (accts.cust_start[small] <= d_star)
            & (accts.cust_end[small] >= d_star)
            & ~accts.cust_ns_only[small]
        ]
        ok = np.array([c for c in ok if c not in self.story_customers], dtype=np.int64)
        w = np.sqrt(accts.cust_weight[ok])
        chosen = rng.choice(ok, size=extra, p=w / w.sum())
        self.anomaly_day = d_star
        day = np.concatenate([day, np.full(extra, d_star, dtype=np.int64)])
        cust = np.concatenate([cust, chosen.astype(np.int64)])
        kind = np.concatenate([kind, np.full(extra, 2, dtype=np.int64)])
        return day, cust, kind

    # --- statuses -------------------------------------------------------------------------
    def _statuses(self) -> None:
        rng = self.ctx.rng
        age = self.T - self.day
        u = rng.random(self.n)
        status = np.zeros(self.n, dtype=np.int64)
        lo = -1
        for hi, probs in AGE_BUCKETS:
            m = (age > lo) & (age <= hi)
            codes = np.array(list(probs), dtype=np.int64)
            cum = np.cumsum([probs[c] for c in probs])
            status[m] = codes[np.minimum(np.searchsorted(cum / cum[-1], u[m], side="right"), len(codes) - 1)]
            lo = hi
        # Story customers and the bulk upload: nothing cancelled where the stories are measured.
        protect = self.kind == 2
        if self.ctx.plant:
            protect |= np.isin(self.cust, list(self.story_customers)) & (self.day >= self.prior_window[0])
        # A large customer keeps at least two live orders in each 90-day window.
        for lo, hi in (self.prior_window, self.last_window):
            inside = (self.day >= lo) & (self.day <= hi) & self.keep[self.cust]
            live = np.bincount(self.cust[inside & (status != C)], minlength=len(self.keep))
            protect |= inside & (live[self.cust] < 2)
        cancelled = protect & (status == C)
        status[cancelled] = np.where(age[cancelled] > 6, G, B)
        self.status = status

    # --- lines ----------------------------------------------------------------------------
    def _lines(self) -> None:
        rng, items, accts, T = self.ctx.rng, self.items, self.accts, self.T
        nl = rng.choice(LINES_PER_ORDER[0], size=self.n, p=LINES_PER_ORDER[1])
        self.n_lines_of = nl
        L = int(nl.sum())
        self.L = L
        self.line_order = np.repeat(np.arange(self.n), nl)
        first = np.concatenate([[0], np.cumsum(nl)[:-1]])
        self.first_line = first
        self.line_no = np.arange(L) - np.repeat(first, nl) + 1
        item = rng.choice(items.n, size=L, p=items.popularity)
        recent = self.day[self.line_order] > T - 180
        bad = np.flatnonzero(~items.active[item] & recent)
        item[bad] = rng.choice(items.n, size=len(bad), p=items.active_popularity)
        self.item = item
        size = (accts.cust_weight / np.median(accts.cust_weight)) ** 0.2
        q = items.median_qty[item] * rng.lognormal(0, 0.6, L) * size[self.cust[self.line_order]]
        step = items.step[item]
        self.qty = np.maximum(step, np.round(q / step) * step).astype(np.int64)
        self.rate_c = self._rates(item, self.qty)

    def _rates(self, item: np.ndarray, qty: np.ndarray) -> np.ndarray:
        items = self.items
        ratio = qty / items.median_qty[item]
        disc = 0.07 * np.clip(np.log2(np.maximum(ratio, 1e-9)), 0, 3) + self.ctx.rng.uniform(
            0, 0.06, len(item)
        )
        rate = items.base_price[item] * (1 - disc)
        rate = np.clip(rate, items.min_price[item], items.base_price[item])
        return np.round(rate * 100).astype(np.int64)

    def _ensure_all_statuses(self) -> None:
        """Every status code appears at least twice (a small company could otherwise miss one)."""
        rng = self.ctx.rng
        age = self.T - self.day
        allowed = {
            A: (0, 6),
            B: (0, 45),
            C: (2, 10**9),
            D: (2, 45),
            E: (2, 45),
            F: (2, 45),
            G: (2, 10**9),
            H: (46, 10**9),
        }
        fixed = self.kind == 2
        if self.ctx.plant:
            fixed |= np.isin(self.cust, list(self.story_customers)) & (self.day >= self.prior_window[0])
            fixed[getattr(self, "stockout_orders", [])] = True
        for code, (lo, hi) in allowed.items():
            need = 2 - int((self.status == code).sum())
            if need <= 0:
                continue
            counts = np.bincount(self.status, minlength=8)
            ok = ~fixed & (age >= lo) & (age <= hi) & (counts[self.status] > 2)
            cand = np.flatnonzero(ok & ~self.keep[self.cust])  # not the largest customers' orders
            if len(cand) == 0:
                cand = np.flatnonzero(ok)
            if len(cand):
                self.status[rng.choice(cand, size=min(need, len(cand)), replace=False)] = code

    def _plant_stockout(self) -> None:
        """Open orders for one popular item that its stock cannot cover."""
        rng, T, accts = self.ctx.rng, self.T, self.accts
        item = self.items.stockout_item
        age = T - self.day
        ok = (
            (age >= 2)
            & (age <= 20)
            & (self.status != C)
            & (self.kind == 0)
            & ~np.isin(self.cust, list(self.story_customers))
            & ~accts.cust_ns_only[self.cust]
        )
        cand = np.flatnonzero(ok)
        k = min(len(cand), 4)
        chosen = np.sort(rng.choice(cand, size=k, replace=False))
        for o in chosen:
            self.status[o] = B
            self.location[o] = LOCATION_MAIN
            line = self.first_line[o]
            self.item[line] = item
            self.qty[line] = int(rng.integers(25, 45)) * 24
            self.rate_c[line] = self._rates(np.array([item]), np.array([self.qty[line]]))[0]
        self.stockout_orders = chosen

    # --- money ----------------------------------------------------------------------------
    def _amounts(self) -> None:
        self.amount_c = self.qty * self.rate_c
        self.total_c = np.bincount(self.line_order, weights=self.amount_c, minlength=self.n).astype(np.int64)

    def _window_revenue(self, customers: np.ndarray | None = None):
        """(prior, last) 90-day bookings per customer in cents, cancelled orders excluded."""
        nc = self.accts.n_customers
        live = self.status != C
        lo_p, hi_p = self.prior_window
        lo_l, hi_l = self.last_window
        in_p = live & (self.day >= lo_p) & (self.day <= hi_p)
        in_l = live & (self.day >= lo_l) & (self.day <= hi_l)
        rp = np.bincount(self.cust[in_p], weights=self.total_c[in_p], minlength=nc)
        rl = np.bincount(self.cust[in_l], weights=self.total_c[in_l], minlength=nc)
        return rp, rl

    def _rescale_last_window(self, c: int, k: float, exact: bool) -> None:
        """Scale the quantities of customer ``c``'s orders in the last 90 days by ``k``: in whole packs
        (randomly rounded, so the expected total is right) or, with ``exact``, per unit."""
        lo_l, hi_l = self.last_window
        orders = (self.cust == c) & (self.day >= lo_l) & (self.day <= hi_l) & (self.kind != 2)
        lines = np.flatnonzero(orders[self.line_order])
        q = self.qty[lines] * k
        if exact:
            q = np.maximum(1, np.round(q))
        else:
            step = self.items.step[self.item[lines]]
            packs = q / step
            whole = np.floor(packs)
            packs = whole + (self.ctx.rng.random(len(lines)) < packs - whole)
            q = np.maximum(1, packs) * step
        self.qty[lines] = q.astype(np.int64)
        self._amounts()

    def _scale_customer(self, c: int, ratio: float, tolerance: float = 0.004, passes: int = 6) -> None:
        """Bring customer ``c``'s last-90 / prior-90 bookings ratio to ``ratio``."""
        for it in range(passes):
            rp, rl = self._window_revenue()
            if rl[c] <= 0 or rp[c] <= 0:
                return
            k = ratio * rp[c] / rl[c]
            if abs(k - 1) < tolerance:
                return
            self._rescale_last_window(c, k, exact=it >= 2)

    def _steady_top_customers(self) -> None:
        """The largest customers move with the company's expected trend (within about 5 points over
        90 days); only planted stories stand out among them."""
        accts = self.accts
        live = self.status != C
        life = np.bincount(self.cust[live], weights=self.total_c[live], minlength=accts.n_customers)
        top = [int(c) for c in np.argsort(-life, kind="stable")[: accts.top_k]]
        if self.ctx.plant:
            top = [c for c in top if c not in self.story_customers]
        lo_p, hi_p = self.prior_window
        lo_l, hi_l = self.last_window
        base = (self.kind != 2) & live
        in_p = base & (self.day >= lo_p) & (self.day <= hi_p)
        in_l = base & (self.day >= lo_l) & (self.day <= hi_l)
        # Pull the outliers into a band around the company's own change; repeat, since moving big
        # customers moves the company too.
        for _ in range(4):
            r_co = float(self.total_c[in_l].sum() / self.total_c[in_p].sum())
            rp, rl = self._window_revenue()
            moved = False
            for c in top:
                if rp[c] <= 0 or rl[c] <= 0:
                    continue
                r = rl[c] / rp[c]
                if abs(r - r_co) > 0.045:
                    self._scale_customer(
                        c, float(np.clip(r, r_co - 0.035, r_co + 0.035)), tolerance=0.01, passes=4
                    )
                    moved = True
            if not moved:
                break
        self.company_ratio = r_co

    def _ensure_anomaly_value(self, factor: float = 3.5) -> None:
        """The bulk-upload day stands out by value too, not only by count."""
        d = self.anomaly_day
        live = self.status != C
        base = sum(float(self.total_c[live & (self.day == d - 7 * w)].sum()) for w in range(1, 9)) / 8
        value = float(self.total_c[live & (self.day == d)].sum())
        if value >= factor * base or value <= 0:
            return
        k = factor * base / value * 1.05
        lines = np.flatnonzero((self.kind == 2)[self.line_order])
        self.qty[lines] = np.maximum(1, np.round(self.qty[lines] * k)).astype(np.int64)
        self._amounts()

    # --- fulfilment and billing -----------------------------------------------------------
    def _fulfilment(self) -> None:
        rng = self.ctx.rng
        st = self.status[self.line_order]
        L = self.L
        frac = rng.uniform(0.3, 0.8, L)
        partial_line = (self.line_no == 1) | (rng.random(L) < 0.6)
        partial = np.where(partial_line, np.floor(self.qty * frac), 0).astype(np.int64)
        partial = np.where((self.line_no == 1) & (partial == 0), np.minimum(1, self.qty), partial)
        ship = np.zeros(L, dtype=np.int64)
        ship = np.where((st == D) | (st == E), partial, ship)
        ship = np.where((st == F) | (st == G) | (st == H), self.qty, ship)
        billed = np.where(st == D, ship, 0)
        billed = np.where((st == G) | (st == H), self.qty, billed)
        self.ship = ship
        self.billed = billed.astype(np.int64)

    def _invoices(self) -> None:
        rng, clock, accts, T = self.ctx.rng, self.clock, self.accts, self.T
        so_secs = clock.business_secs(rng, self.day)
        bulk = self.kind == 2
        if bulk.any():  # the CSV import runs once, in a few minutes
            so_secs[bulk] = self.day[bulk] * DAY + 15 * 3600 + np.sort(rng.integers(0, 900, bulk.sum()))
        self.created_secs = so_secs
        billed_amt = self.billed * self.rate_c
        inv_total = np.bincount(self.line_order, weights=billed_amt, minlength=self.n).astype(np.int64)
        has_inv = np.isin(self.status, [D, G, H]) & (inv_total > 0)
        inv_orders = np.flatnonzero(has_inv)
        self.inv_order = inv_orders
        m = len(inv_orders)
        self.n_inv = m
        age = T - self.day[inv_orders]
        lag = 2 + np.round(rng.gamma(2.0, 3.5, m)).astype(np.int64)
        lag = np.minimum(lag, np.maximum(age, 0))
        inv_day = self.day[inv_orders] + lag
        self.inv_day = inv_day
        secs = clock.business_secs(rng, inv_day)
        secs = np.minimum(np.maximum(secs, so_secs[inv_orders] + 3600), clock.cap)
        inv_day = secs // DAY
        self.inv_day = inv_day
        self.inv_created_secs = secs
        c = self.cust[inv_orders]
        terms = accts.cust_terms_days[c]
        self.inv_due_day = inv_day + terms
        late = np.round(rng.normal(accts.cust_late_mean[c], 6.0)).astype(np.int64)
        pay_day = np.maximum(inv_day, self.inv_due_day + late)
        disputed = rng.random(m) < 0.004
        paid = (pay_day <= T) & ~disputed
        self.inv_total_c = inv_total[inv_orders]
        unpaid = np.where(paid, 0, self.inv_total_c)
        part = ~paid & (rng.random(m) < 0.15)
        unpaid = np.where(part, np.round(self.inv_total_c * rng.uniform(0.2, 0.8, m)), unpaid).astype(
            np.int64
        )
        self.inv_paid = paid
        self.inv_unpaid_c = unpaid
        pay_secs = np.minimum(
            np.maximum(clock.business_secs(rng, np.minimum(pay_day, T)), secs + 60), clock.cap
        )
        part_secs = np.minimum(secs + rng.integers(5, 25, m) * DAY, clock.cap)
        self.inv_modified_secs = np.where(paid, pay_secs, np.where(part, np.maximum(part_secs, secs), secs))
        self.inv_source = np.where(rng.random(m) < 0.85, "User Interface", "Web Services").tolist()

    def _stamps(self) -> None:
        rng, clock, T = self.ctx.rng, self.clock, self.T
        n = self.n
        created = self.created_secs
        st = self.status
        ship_day = np.minimum(self.day + rng.integers(2, 12, n), T)
        ship_secs = clock.business_secs(rng, ship_day)
        mod = created + rng.integers(60, 7200, n)
        mod = np.where(st == C, created + rng.integers(1, 5, n) * DAY, mod)
        mod = np.where(np.isin(st, [D, E, F]), ship_secs, mod)
        inv_created = np.zeros(n, dtype=np.int64)
        inv_mod = np.zeros(n, dtype=np.int64)
        inv_created[self.inv_order] = self.inv_created_secs
        inv_mod[self.inv_order] = self.inv_modified_secs
        mod = np.where(st == G, np.maximum(mod, inv_created), mod)
        mod = np.where(st == H, np.maximum(inv_mod, inv_created + DAY), mod)
        self.modified_secs = np.minimum(np.maximum(mod, created), clock.cap)
        self.modified_secs = np.maximum(self.modified_secs, created)

    # --- stock ----------------------------------------------------------------------------
    def _inventory(self) -> None:
        rng, items, T = self.ctx.rng, self.items, self.T
        st = self.status[self.line_order]
        loc = self.location[self.line_order]
        key = self.item * 2 + (loc - 1)
        nk = items.n * 2
        open_q = np.where(np.isin(st, [A, B, D, E]), self.qty - self.ship, 0)
        approved = np.where(np.isin(st, [B, D, E]), open_q, 0)
        open_all = np.bincount(key, weights=open_q, minlength=nk)
        open_appr = np.bincount(key, weights=approved, minlength=nk)
        recent = self.day[self.line_order] > T - 365
        demand = np.bincount(key[recent], weights=self.qty[recent], minlength=nk) / 365.0
        step = np.repeat(items.step, 2)
        onhand = np.ceil(open_all * rng.uniform(1.6, 2.4, nk) + demand * rng.uniform(25, 60, nk))
        onhand += step * rng.integers(2, 10, nk)
        onhand = np.where(np.repeat(items.active, 2), onhand, np.floor(onhand * 0.2))
        hat = items.offer_hat * 2
        onhand[hat] = max(onhand[hat], open_appr[hat] + 1500 + step[hat] * int(rng.integers(10, 60)))
        if self.ctx.plant:
            s = items.stockout_item * 2
            for k in (s, s + 1):
                onhand[k] = (
                    np.floor(open_appr[k] * 0.3) if open_appr[k] > 0 else float(rng.integers(0, 3) * 24)
                )
        committed = np.minimum(open_appr, onhand)
        self.inv_onhand = onhand
        self.inv_committed = committed
        self.inv_available = onhand - committed
        self.inv_backordered = open_appr - committed
        self.open_qty = open_all
        self.open_approved = open_appr

    def _customer_totals(self) -> None:
        accts, clock = self.accts, self.clock
        nc = accts.n_customers
        open_inv = ~self.inv_paid
        c = self.cust[self.inv_order]
        self.cust_balance_c = np.bincount(c[open_inv], weights=self.inv_unpaid_c[open_inv], minlength=nc)
        live = self.status != C
        recent = live & (self.day > self.T - 365)
        yearly = np.bincount(self.cust[recent], weights=self.total_c[recent], minlength=nc) / 100.0
        limit = np.ceil(np.maximum(yearly / 12 * 2.5, 10_000) / 5_000) * 5_000
        self.cust_credit_limit = limit
        last = np.array(accts.cust_created_secs)
        np.maximum.at(last, c, self.inv_modified_secs)
        self.cust_modified_secs = np.minimum(last, clock.cap)

    # --- text helpers used by the writer ----------------------------------------------------
    @property
    def status_codes(self) -> list[str]:
        return STATUS_CODES[self.status].tolist()

    @property
    def sources(self) -> list[str]:
        return [SOURCES[i] for i in self.source_idx.tolist()]

    def memos(self) -> list[str | None]:
        rng = self.ctx.rng
        u = rng.random(self.n)
        po = rng.integers(10_000, 99_999, self.n)
        pick = rng.integers(0, len(catalog.ORDER_MEMOS), self.n)
        out: list[str | None] = []
        for i in range(self.n):
            if self.kind[i] == 2:
                out.append(ANOMALY_MEMO)
            elif u[i] < 0.4:
                out.append(f"PO {po[i]}")
            elif u[i] < 0.6:
                out.append(catalog.ORDER_MEMOS[pick[i]])
            else:
                out.append(None)
        return out
