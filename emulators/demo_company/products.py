"""The item catalog (NetSuite items): about 400 branded-merchandise items in eight categories."""

from __future__ import annotations

import numpy as np

from . import catalog
from .context import Context


class Items:
    def __init__(self, ctx: Context):
        rng = ctx.rng
        names, skus, cats, base_names = [], [], [], []
        price, median_qty, step, share = [], [], [], []
        for cat, (prefix, count, demand, qty_step, bases) in catalog.CATEGORIES.items():
            variants = catalog.VARIANTS[cat]
            used: set[tuple[int, int]] = set()
            for k in range(count):
                b = k % len(bases)
                v_order = rng.permutation(len(variants))
                v = next((int(x) for x in v_order if (b, int(x)) not in used), None)
                if v is None:
                    continue
                used.add((b, v))
                base, lo, hi, mq = bases[b]
                names.append(f"{variants[v]} {base}")
                skus.append(f"{prefix}-{len([c for c in cats if c == cat]) + 1:04d}")
                cats.append(cat)
                base_names.append(base)
                price.append(rng.uniform(lo, hi))
                median_qty.append(mq)
                step.append(qty_step)
                share.append(demand)
        n = len(names)
        self.n = n
        self.name, self.sku, self.category, self.base_name = names, skus, cats, base_names
        price = np.array(price)
        price = np.where(price >= 100, np.round(price / 5) * 5, np.round(price * 4) / 4)
        price = np.maximum(price, 0.5)
        min_factor = rng.uniform(0.70, 0.80, n)
        self.base_price = np.round(price, 2)
        self.min_price = np.round(price * min_factor, 2)
        self.cost = np.round(price * rng.uniform(0.38, 0.55, n), 2)
        self.median_qty = np.array(median_qty, dtype=float)
        self.step = np.array(step, dtype=np.int64)
        self.category_idx = np.array([catalog.CATEGORY_NAMES.index(c) for c in cats], dtype=np.int64)

        # "500 hats at $50 each": the first premium hat lists above $50 with a floor below it.
        self.offer_hat = next(i for i in range(n) if base_names[i] == "Premium Leather-Patch Cap")
        self.base_price[self.offer_hat] = float(np.round(rng.uniform(56, 62) * 4) / 4)
        self.min_price[self.offer_hat] = round(float(self.base_price[self.offer_hat]) * 0.75, 2)
        self.cost[self.offer_hat] = round(float(self.base_price[self.offer_hat]) * 0.45, 2)

        # Popularity: category share spread over its items, with a long tail.
        pop = np.array(share) * rng.lognormal(0, 0.8, n)
        per_cat = np.bincount(self.category_idx, weights=pop)
        cat_share = np.array([catalog.CATEGORIES[c][2] for c in catalog.CATEGORY_NAMES])
        pop = pop / per_cat[self.category_idx] * cat_share[self.category_idx]
        # A few discontinued items: inactive, no orders in the last 180 days.
        inactive = rng.random(n) < 0.03
        inactive[self.offer_hat] = False
        self.active = ~inactive
        self.popularity = pop / pop.sum()
        active_pop = np.where(self.active, pop, 0.0)
        self.active_popularity = active_pop / active_pop.sum()
        drk = [i for i in range(n) if cats[i] == "Drinkware" and self.active[i]]
        self.stockout_item = max(drk, key=lambda i: (pop[i], -i))
        self.ids = np.arange(501, 501 + n, dtype=np.int64)
        self.description = [f"{nm}. {catalog.ITEM_DESCRIPTIONS[c]}" for nm, c in zip(names, cats)]
