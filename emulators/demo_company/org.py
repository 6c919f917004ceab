"""The sales organisation: Salesforce users (executive, managers, reps, finance, integration) and their
NetSuite employee mirrors."""

from __future__ import annotations

import numpy as np

from . import catalog
from .clock import DAY
from .context import Context

REPS_PER_TERRITORY = 5


class Org:
    """Users by index: 0 executive, 1-5 managers (territory order), 6-30 reps, 31 finance, 32 integration."""

    def __init__(self, ctx: Context):
        rng = ctx.rng
        clock = ctx.clock
        territories = catalog.TERRITORY_NAMES
        n_sellers = 1 + len(territories) * (1 + REPS_PER_TERRITORY)
        n = n_sellers + 2
        pairs: list[tuple[str, str]] = []
        seen = set()
        while len(pairs) < n - 1:
            first = catalog.FIRST_NAMES[int(rng.integers(len(catalog.FIRST_NAMES)))]
            last = catalog.LAST_NAMES[int(rng.integers(len(catalog.LAST_NAMES)))]
            if (first, last) in seen or any(last == p[1] for p in pairs):
                continue
            seen.add((first, last))
            pairs.append((first, last))
        pairs.append(("Integration", "User"))

        self.n = n
        self.first = [p[0] for p in pairs]
        self.last = [p[1] for p in pairs]
        self.name = [f"{first} {last}" for first, last in pairs]
        self.email = [f"{first}.{last}@{catalog.EMAIL_DOMAIN}".lower() for first, last in pairs]
        self.email[-1] = catalog.INTEGRATION_USERNAME
        self.role: list[str] = []
        self.title: list[str] = []
        self.territory: list[str | None] = []
        self.region: list[str | None] = []
        self.manager: list[int | None] = []
        self.reps_of_territory: dict[str, list[int]] = {}
        self.manager_of_territory: dict[str, int] = {}

        self.role.append("Sales Executive")
        self.title.append("VP of Sales")
        self.territory.append(None)
        self.region.append(None)
        self.manager.append(None)
        for t in territories:
            self.manager_of_territory[t] = len(self.role)
            self.role.append("Sales Manager")
            self.title.append(f"Regional Sales Manager, {t}")
            self.territory.append(t)
            self.region.append(catalog.REGION_OF_TERRITORY[t])
            self.manager.append(0)
        for t in territories:
            reps = []
            for k in range(REPS_PER_TERRITORY):
                reps.append(len(self.role))
                self.role.append("Sales Rep")
                self.title.append("Senior Account Executive" if k < 2 else "Account Executive")
                self.territory.append(t)
                self.region.append(catalog.REGION_OF_TERRITORY[t])
                self.manager.append(self.manager_of_territory[t])
            self.reps_of_territory[t] = reps
        self.role.append("Finance")
        self.title.append("Finance Manager")
        self.territory.append(None)
        self.region.append(None)
        self.manager.append(0)
        self.role.append("Integration")
        self.title.append("Integration User")
        self.territory.append(None)
        self.region.append(None)
        self.manager.append(None)

        self.reps = [i for i, r in enumerate(self.role) if r == "Sales Rep"]
        self.sellers = list(range(n_sellers))  # mirrored as NetSuite employees
        self.finance = n - 2
        self.integration = n - 1
        # Everyone exists from the first day of history (the org's go-live), created 09:00 UTC onwards.
        self.created_secs = np.array([9 * 3600 + 60 * i for i in range(n)], dtype=np.int64)
        # Quotas are set at the start of each quarter: users were last modified then.
        q_first, _ = clock.quarter_bounds(int(clock.quarter[clock.tday]))
        q_day = max(q_first, 1)
        stamp = min(q_day * DAY + 14 * 3600, clock.cap)
        self.modified_secs = np.maximum(self.created_secs, stamp)
        self.quota: list[float | None] = [None] * n  # filled once the pipeline exists
        self.employee_id = {u: 101 + k for k, u in enumerate(self.sellers)}
        self.ids: list[str] = []  # Salesforce ids, assigned by the generator

    def territory_index(self, user: int) -> int:
        return catalog.TERRITORY_NAMES.index(self.territory[user])
