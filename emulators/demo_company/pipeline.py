"""Opportunities with their stage history, activities (tasks and events) and quotas (Salesforce), with
the pipeline-side stories: stalled large deals and a regional win-rate dip."""

from __future__ import annotations

import math

import numpy as np

from . import catalog
from .accounts import Accounts
from .clock import BUSINESS_SPAN, BUSINESS_START, DAY, OPPORTUNITY_WEEKDAY_FACTOR, TODAY_CUTOFF
from .context import Context
from .org import Org

N_OPEN_STAGES = 8
WON, LOST = 8, 9
NEGOTIATION = 7
STAGE_WEIGHT = (0.6, 0.8, 1.0, 1.0, 0.9, 0.9, 1.2, 1.5)
LOST_AT = np.array([0.10, 0.16, 0.16, 0.14, 0.10, 0.10, 0.14, 0.10])
BASE_WIN_RATE = 0.30
DIP_TOTAL_DROP = 0.09  # win rate points below the quarters around the dip
DIP_OTHER_DROP = 0.015  # of which the other regions lose only this much
REGIONS = ("West", "Central", "East")
STALLED_AMOUNTS = (265_000, 340_000, 480_000)
STALLED_CATEGORIES = ("Apparel", "Drinkware", "Bags")
STALLED_PURPOSES = ("Global Employee Apparel Program", "Annual Drinkware Program", "Onboarding Kit Program")


class Pipeline:
    def __init__(self, ctx: Context, org: Org, accts: Accounts):
        self.ctx, self.org, self.accts = ctx, org, accts
        self.clock = ctx.clock
        self.T = ctx.clock.tday
        self._draw()
        self._outcomes()
        self._histories()
        self._deleted()
        self._activities()
        self._quotas()

    # --- draws ---------------------------------------------------------------------------
    def _draw(self) -> None:
        ctx, rng, clock, accts, T = self.ctx, self.ctx.rng, self.clock, self.accts, self.T
        n = ctx.scaled(12_000, 900)
        dens = clock.demand(0, T, OPPORTUNITY_WEEKDAY_FACTOR)
        cd = rng.choice(T + 1, size=n, p=dens / dens.sum())
        med_w = float(np.median(accts.weight))
        aw = np.where(accts.is_customer, np.sqrt(accts.weight), 0.8 * math.sqrt(med_w))
        p = aw / aw.sum()
        acc = rng.choice(accts.n, size=n, p=p)
        acc_day = accts.created_secs // DAY
        for _ in range(40):
            bad = np.flatnonzero(cd < acc_day[acc])
            if len(bad) == 0:
                break
            acc[bad] = rng.choice(accts.n, size=len(bad), p=p)
        cd = np.maximum(cd, acc_day[acc])
        amount = rng.lognormal(math.log(22_000), 0.95, n) * (accts.weight[acc] / med_w) ** 0.15
        amount = np.clip(amount, 2_000, 1_200_000)
        amount = np.where(amount >= 20_000, np.round(amount / 500) * 500, np.round(amount / 100) * 100)
        cycle = rng.lognormal(math.log(45), 0.5, n) * (amount / 22_000) ** 0.12
        cycle = np.where(rng.random(n) < 0.15, cycle * rng.uniform(2.0, 3.5, n), cycle)
        cycle = np.clip(np.round(cycle), 7, 300).astype(np.int64)
        self.n = n
        self.acc = acc
        self.created_day = cd.astype(np.int64)
        self.amount0 = amount
        self.cycle = cycle
        self.close_day = cd + cycle  # actual close (closed deals) or planned close (open deals)
        self.closed = self.close_day <= T
        self.lost_at = rng.choice(N_OPEN_STAGES, size=n, p=LOST_AT)
        self.region = np.array([REGIONS.index(accts.region[a]) for a in acc.tolist()], dtype=np.int64)
        self.category = rng.choice(len(catalog.CATEGORY_NAMES), size=n, p=self._category_p())
        self.purpose = rng.integers(0, len(catalog.OPPORTUNITY_PURPOSES), n)
        self.story = np.zeros(n, dtype=bool)

    @staticmethod
    def _category_p() -> np.ndarray:
        p = np.array([catalog.CATEGORIES[c][2] for c in catalog.CATEGORY_NAMES])
        return p / p.sum()

    # --- outcomes ------------------------------------------------------------------------
    def _outcomes(self) -> None:
        """Win or lose each closed deal so that every quarter lands near the base win rate (a steady
        business), except the planted dip: last quarter, concentrated in one region."""
        rng, clock, T = self.ctx.rng, self.clock, self.T
        won = np.zeros(self.n, dtype=bool)
        closed = np.flatnonzero(self.closed)
        q = clock.quarter[self.close_day[closed]]
        eligible = np.array(self.accts.is_customer)[self.acc]
        self.dip_quarter = int(clock.quarter[T]) - 1
        self.dip_region = int(rng.choice([0, 2])) if self.ctx.plant else None

        def allocate(members: np.ndarray, rates: list[float]) -> None:
            u0 = rng.random()
            cum = 0.0
            for r in range(len(REGIONS)):
                g = members[self.region[members] == r]
                want = rates[r] * len(g)
                wins = int(math.floor(cum + want + u0) - math.floor(cum + u0))
                cum += want
                elig = g[eligible[g]]
                wins = min(wins, len(elig))
                if wins:
                    w = self.amount0[elig] ** -0.15
                    won[rng.choice(elig, size=wins, replace=False, p=w / w.sum())] = True

        quarters = np.unique(q).tolist()
        for qq in quarters:
            base = BASE_WIN_RATE + rng.uniform(-0.015, 0.015)
            if self.ctx.plant and qq == self.dip_quarter:
                continue
            allocate(closed[q == qq], [base] * len(REGIONS))
        if self.ctx.plant and self.dip_quarter in quarters:
            # Aim ~9 points below the quarters around it, almost all of the drop in one region.
            def around(regions) -> float:
                rates = []
                for qq in (self.dip_quarter - 1, self.dip_quarter + 1):
                    m = closed[(q == qq) & np.isin(self.region[closed], regions)]
                    if len(m):
                        rates.append(won[m].mean())
                return float(np.mean(rates)) if rates else BASE_WIN_RATE

            members = closed[q == self.dip_quarter]
            other_regions = [r for r in range(len(REGIONS)) if r != self.dip_region]
            rates = [around(other_regions) - DIP_OTHER_DROP] * len(REGIONS)
            counts = [int((self.region[members] == r).sum()) for r in range(len(REGIONS))]
            target = (around(list(range(len(REGIONS)))) - DIP_TOTAL_DROP) * len(members)
            others = sum(rates[r] * counts[r] for r in range(len(REGIONS)) if r != self.dip_region)
            p_r = (target - others) / max(counts[self.dip_region], 1)
            rates[self.dip_region] = float(np.clip(p_r, 0.03, around([self.dip_region])))
            allocate(members, rates)
        self.won = won

    # --- histories -----------------------------------------------------------------------
    def _path(self, start: int, top: int) -> list[int]:
        py = self.ctx.py
        path = [start]
        for s in range(start + 1, top):
            if py.random() < 0.8:
                path.append(s)
        if top > start:
            path.append(top)
        return path

    def _entries(self, path: list[int], lo: int, hi: int, include_last: bool) -> list[int]:
        """Entry day of each stage of ``path``; stages share [lo, hi] by weighted random lengths.
        With ``include_last`` the last stage also gets a share (it ends at ``hi``); otherwise it
        starts at ``hi``."""
        py = self.ctx.py
        k = len(path) if include_last else len(path) - 1
        if k <= 0:
            return [lo]
        g = [py.gammavariate(3.0, 1.0) * STAGE_WEIGHT[s] for s in path[:k]]
        tot = sum(g)
        out = [lo]
        acc = 0.0
        for j in range(1, len(path)):
            acc += g[j - 1] if j - 1 < k else 0.0
            out.append(lo + int(round((hi - lo) * min(acc / tot, 1.0))))
        if not include_last:
            out[-1] = hi
        return out

    def _pushes(self, cd: int, target: int, cycle: int, closed: bool) -> tuple[int, list[tuple[int, int]]]:
        """The first expected close date and the later pushes (day of the change, new close date)."""
        py, T = self.ctx.py, self.T
        exp = cd + max(7, int(round(cycle * py.uniform(0.75, 1.15))))
        first = exp
        out: list[tuple[int, int]] = []
        limit = target - 1 if closed else T
        last = cd
        record = (not closed) or py.random() < 0.6
        while record and exp < target - 5 and len(out) < 3:
            day = max(last, cd, exp - py.randint(0, 5))
            if day > limit:
                break
            exp += py.randint(14, 45)
            out.append((day, exp))
            last = day
        if not closed and exp <= T:
            day = max(last, T - py.randint(0, 3))
            exp = target if target > T else T + py.randint(10, 40)
            out.append((day, exp))
        return first, out

    def _emit(
        self,
        i: int,
        events: list[tuple[int, int, str, int]],
        amount: float,
        close0: int,
        amount_change: tuple[int, float] | None,
    ) -> None:
        """Turn day-level events into OpportunityHistory rows with strictly increasing instants."""
        py, T = self.ctx.py, self.T
        events.sort(key=lambda e: (e[0], e[1]))
        secs = []
        for e in events:
            d = e[0]
            secs.append(
                d * DAY
                + (
                    BUSINESS_START + int(py.random() * BUSINESS_SPAN)
                    if d < T
                    else int(py.random() * TODAY_CUTOFF)
                )
            )
        secs.sort()
        for j in range(1, len(secs)):
            if secs[j] <= secs[j - 1]:
                secs[j] = secs[j - 1] + 1
        stage, close = -1, close0
        stage_changes = 0
        h = self.h
        for (d, _, kind, value), s in zip(events, secs):
            if kind == "S":
                stage = value
                if amount_change and stage_changes == amount_change[0]:
                    amount = amount_change[1]
                stage_changes += 1
            elif kind == "P":
                close = value
            else:  # closing
                stage = value
                close = d
            h["opp"].append(i)
            h["stage"].append(stage)
            h["amount"].append(amount)
            h["close"].append(close)
            h["secs"].append(s)
        self.final_stage[i] = stage
        self.final_amount[i] = amount
        self.final_close[i] = close
        self.created_secs[i] = secs[0]
        self.modified_secs[i] = secs[-1]

    def _amount_change(self, path: list[int], amount: float) -> tuple[int, float] | None:
        py = self.ctx.py
        if len(path) < 2 or py.random() >= 0.2:
            return None
        new = round(amount * py.uniform(0.75, 1.3), -2)
        return py.randint(1, len(path) - 1), max(1000.0, new)

    def _histories(self) -> None:
        py, T = self.ctx.py, self.T
        n = self.n
        self.h = {"opp": [], "stage": [], "amount": [], "close": [], "secs": []}
        self.final_stage = np.zeros(n, dtype=np.int64)
        self.final_amount = np.zeros(n)
        self.final_close = np.zeros(n, dtype=np.int64)
        self.created_secs = np.zeros(n, dtype=np.int64)
        self.modified_secs = np.zeros(n, dtype=np.int64)
        self.stage_entry_day = np.zeros(n, dtype=np.int64)
        won_days: dict[int, list[int]] = {s: [] for s in range(N_OPEN_STAGES)}

        for i in np.flatnonzero(self.closed).tolist():
            cd, c, cyc = int(self.created_day[i]), int(self.close_day[i]), int(self.cycle[i])
            won = bool(self.won[i])
            top = (NEGOTIATION if py.random() < 0.95 else NEGOTIATION - 1) if won else int(self.lost_at[i])
            start = 0 if py.random() < 0.8 else min(1, top)
            path = self._path(start, top)
            entries = self._entries(path, cd, c, include_last=True)
            if won:
                ends = entries[1:] + [c]
                for s, a, b in zip(path, entries, ends):
                    won_days[s].append(b - a)
            close0, pushes = self._pushes(cd, c, cyc, closed=True)
            events = [(d, 0, "S", s) for d, s in zip(entries, path)]
            events += [(d, 1, "P", v) for d, v in pushes]
            events.append((c, 2, "C", WON if won else LOST))
            amount = float(self.amount0[i])
            self._emit(i, events, amount, close0, self._amount_change(path, amount))
            self.stage_entry_day[i] = c

        self.median_stage_days = {s: float(np.median(v)) if v else 7.0 for s, v in won_days.items()}
        for i in np.flatnonzero(~self.closed).tolist():
            cd, c, cyc = int(self.created_day[i]), int(self.close_day[i]), int(self.cycle[i])
            progress = (T - cd) / max(cyc, 1)
            s_cur = int(min(NEGOTIATION, max(0, math.floor(progress * 8 + py.gauss(0, 0.8)))))
            start = 0 if py.random() < 0.8 else min(1, s_cur)
            path = self._path(start, s_cur)
            limit = 1.3 * max(self.median_stage_days[s_cur], 3.0)
            if len(path) == 1 and T - cd > limit:
                path = [0, 1] if s_cur == 0 else [0, s_cur]
                s_cur = path[-1]
                limit = 1.3 * max(self.median_stage_days[s_cur], 3.0)
            if len(path) == 1:
                entries = [cd]
            else:
                entry = T - int(py.random() * min(limit, T - cd))
                entries = self._entries(path, cd, entry, include_last=False)
            close0, pushes = self._pushes(cd, c, cyc, closed=False)
            events = [(d, 0, "S", s) for d, s in zip(entries, path)]
            events += [(d, 1, "P", v) for d, v in pushes]
            amount = float(self.amount0[i])
            self._emit(i, events, amount, close0, self._amount_change(path, amount))
            self.stage_entry_day[i] = entries[-1]

        self._add_stalled()
        for key in ("opp", "stage", "close", "secs"):
            self.h[key] = np.array(self.h[key], dtype=np.int64)
        self.h["amount"] = np.array(self.h["amount"], dtype=float)

    def _add_stalled(self) -> None:
        """Three large deals stuck in Negotiation/Review for months, with no activity since."""
        self.stalled: list[int] = []
        if not self.ctx.plant:
            return
        py, clock, T = self.ctx.py, self.clock, self.T
        accts = self.accts
        k = 3
        days_in_stage = sorted(py.sample(range(62, 119), k))
        start = self.n
        self._grow(k)
        _, q_last = clock.quarter_bounds(int(clock.quarter[T]))
        for j, (a, d_in) in enumerate(zip(accts.stalled_accounts, days_in_stage)):
            i = start + j
            entry = T - d_in
            cd = entry - py.randint(30, 55)
            amount = round(STALLED_AMOUNTS[j] * py.uniform(0.97, 1.08), -3)
            path = self._path(0, NEGOTIATION)
            entries = self._entries(path, cd, entry, include_last=False)
            new_close = max(q_last, T + 21)
            push_day = entry + int(round(d_in * 0.25))
            events = [(dd, 0, "S", s) for dd, s in zip(entries, path)]
            events.append((push_day, 1, "P", new_close))
            self.acc[i] = a
            self.created_day[i] = cd
            self.amount0[i] = amount
            self.cycle[i] = new_close - cd
            self.close_day[i] = new_close
            self.closed[i] = False
            self.won[i] = False
            self.region[i] = REGIONS.index(accts.region[a])
            self.category[i] = catalog.CATEGORY_NAMES.index(STALLED_CATEGORIES[j])
            self.purpose[i] = -1 - j
            self.story[i] = True
            self._emit(i, events, amount, entry + 21, None)
            self.stage_entry_day[i] = entry
            self.stalled.append(i)
        self.stalled_activity_end = {i: int(self.stage_entry_day[i]) + py.randint(3, 8) for i in self.stalled}

    def _grow(self, k: int) -> None:
        for name in (
            "acc",
            "created_day",
            "amount0",
            "cycle",
            "close_day",
            "closed",
            "won",
            "lost_at",
            "region",
            "category",
            "purpose",
            "story",
            "final_stage",
            "final_amount",
            "final_close",
            "created_secs",
            "modified_secs",
            "stage_entry_day",
        ):
            arr = getattr(self, name)
            setattr(self, name, np.concatenate([arr, np.zeros(k, dtype=arr.dtype)]))
        self.n += k

    # --- deletions -----------------------------------------------------------------------
    def _deleted(self) -> None:
        rng, T = self.ctx.rng, self.T
        cand = np.flatnonzero(self.closed & ~self.won & ~self.story & (self.close_day < T - 400))
        k = min(len(cand), max(2, int(round(0.003 * self.n))))
        deleted = np.zeros(self.n, dtype=bool)
        deleted[rng.choice(cand, size=k, replace=False)] = True
        self.deleted = deleted
        gone = self.modified_secs + rng.integers(5, 60, self.n) * DAY
        self.modified_secs = np.where(deleted, np.minimum(gone, self.clock.cap), self.modified_secs)
        self.h_deleted = deleted[self.h["opp"]]
        self.h_modstamp = np.where(self.h_deleted, self.modified_secs[self.h["opp"]], self.h["secs"])

    # --- activities ----------------------------------------------------------------------
    def _activities(self) -> None:
        ctx, rng, clock, accts, T = self.ctx, self.ctx.rng, self.clock, self.accts, self.T
        n = self.n
        lo = self.created_day
        hi = np.where(self.closed, self.close_day, T)
        for i in self.stalled:
            hi[i] = self.stalled_activity_end[i]
        hi = np.minimum(hi, T)
        natural_open = ~self.closed & ~self.story
        w = (hi - lo + 1.0) ** 0.8 * (self.final_amount / 22_000) ** 0.2
        w[self.deleted] = 0
        open_idx = np.flatnonzero(natural_open)
        future_idx = open_idx[rng.random(len(open_idx)) < 0.7]
        total = max(int(round(100_000 * ctx.scale)), int(8.3 * n))
        n_gen = max(0, total - len(open_idx) - len(future_idx))
        g_opp = rng.choice(n, size=n_gen, p=w / w.sum())
        g_day = lo[g_opp] + np.floor(rng.random(n_gen) * (hi[g_opp] - lo[g_opp] + 1)).astype(np.int64)
        r_day = np.maximum(lo[open_idx], T - rng.integers(0, 8, len(open_idx)))
        f_day = T + rng.integers(1, 15, len(future_idx))
        opp = np.concatenate([g_opp, open_idx, future_idx])
        day = np.concatenate([np.minimum(g_day, T), np.minimum(r_day, T), f_day])
        kind = np.concatenate(
            [
                np.zeros(n_gen, np.int64),
                np.ones(len(open_idx), np.int64),
                np.full(len(future_idx), 2, np.int64),
            ]
        )
        m = len(opp)
        is_event = (rng.random(m) < 0.4) & (kind != 2) & (day < T)
        acc = self.acc[opp]
        who = accts.contact_start[acc] + np.floor(rng.random(m) * accts.contact_count[acc]).astype(np.int64)
        opp_created = self.created_secs[opp]

        # Tasks.
        t = np.flatnonzero(~is_event)
        t_day = day[t]
        u = rng.random(len(t))
        status = np.where(
            t_day < T - 2,
            np.where(u < 0.94, 2, np.where(u < 0.97, 3, 0)),
            np.where(t_day <= T, np.where(u < 0.7, 2, np.where(u < 0.85, 1, 0)), np.where(u < 0.85, 0, 1)),
        )
        status = np.where(kind[t] == 1, 2, status)  # the recent touch on every open deal was done
        subtype = rng.choice(3, size=len(t), p=[0.4, 0.35, 0.25])
        c_day = np.maximum(self.created_day[opp[t]], np.minimum(t_day, T) - rng.integers(0, 7, len(t)))
        c_secs = np.maximum(clock.business_secs(rng, c_day), opp_created[t] + 60)
        c_secs = np.minimum(c_secs, clock.cap)
        done_secs = np.maximum(clock.business_secs(rng, np.minimum(t_day, T)), c_secs)
        m_secs = np.where(status == 2, np.minimum(done_secs, clock.cap), c_secs)
        subj_pick = rng.integers(0, 1000, len(t))
        self.task = {
            "opp": opp[t],
            "day": t_day,
            "status": status,
            "subtype": subtype,
            "who": who[t],
            "created": c_secs,
            "modified": np.maximum(m_secs, c_secs),
            "subject_pick": subj_pick,
            "priority": rng.choice(3, size=len(t), p=[0.2, 0.7, 0.1]),
        }

        # Events (all in the past).
        e = np.flatnonzero(is_event)
        e_day = day[e]
        start = e_day * DAY + (14 + rng.integers(0, 8, len(e))) * 3600 + rng.integers(0, 2, len(e)) * 1800
        dur = rng.choice(np.array([30, 45, 60, 90]), size=len(e), p=[0.35, 0.15, 0.4, 0.1])
        ec_day = np.maximum(self.created_day[opp[e]], e_day - rng.integers(1, 11, len(e)))
        ec = np.maximum(clock.business_secs(rng, ec_day), opp_created[e] + 60)
        ec = np.minimum(ec, start - 600)
        late = ec < opp_created[e] + 60
        start = np.where(late, (opp_created[e] + 3600) // 1800 * 1800 + 1800, start)
        ec = np.where(late, opp_created[e] + 60, ec)
        end = start + dur * 60
        keep = end <= clock.cap
        e = e[keep]
        self.event = {
            "opp": opp[e],
            "start": start[keep],
            "end": end[keep],
            "dur": dur[keep],
            "who": who[e],
            "created": ec[keep],
            "modified": np.maximum(ec[keep], np.minimum(start[keep], clock.cap)),
            "subject_pick": rng.integers(0, len(catalog.EVENT_SUBJECTS), len(e)),
            "location_pick": rng.integers(0, len(catalog.EVENT_LOCATIONS), len(e)),
        }
        self.event["day"] = self.event["start"] // DAY

        # LastActivityDate: the latest past event or completed task of each opportunity.
        last = np.full(n, -1, dtype=np.int64)
        done = self.task["status"] == 2
        past = done & (self.task["day"] <= T)
        np.maximum.at(last, self.task["opp"][past], self.task["day"][past])
        ev_past = self.event["day"] <= T
        np.maximum.at(last, self.event["opp"][ev_past], self.event["day"][ev_past])
        self.last_activity_day = last

    # --- quotas --------------------------------------------------------------------------
    def _quotas(self) -> None:
        rng, clock, org, T = self.ctx.rng, self.clock, self.org, self.T
        q_now = int(clock.quarter[T])
        basis = self.closed & self.won & ~self.deleted
        q = clock.quarter[self.close_day]
        owner = self.accts.owner[self.acc]
        for rep in org.reps:
            amounts = [
                float(self.final_amount[basis & (owner == rep) & (q == qq)].sum())
                for qq in range(q_now - 4, q_now)
            ]
            mean = sum(amounts) / 4
            quota = max(10_000.0, round(mean / rng.uniform(0.88, 1.05) / 5_000) * 5_000)
            org.quota[rep] = float(quota)

    # --- labels --------------------------------------------------------------------------
    def names(self) -> list[str]:
        accts = self.accts
        out = []
        for i in range(self.n):
            p = int(self.purpose[i])
            label = STALLED_PURPOSES[-1 - p] if p < 0 else catalog.OPPORTUNITY_PURPOSES[p]
            year = self.clock.year[min(int(self.close_day[i]), self.clock.n_days - 1)]
            out.append(f"{accts.name[self.acc[i]]} - {label} {year}")
        return out
