"""Live mode: the demo company keeps doing business while the emulators run.

Every few seconds a step moves deals through their stages (a won deal becomes a NetSuite order), places
new orders, ships and bills open ones and records payments, through the stores' own write methods, so
each change is stamped, recorded in history and announced to the stores' listeners (Change Data Capture
events and record notifications, which the runner relays to the product's webhooks).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading

from emulators.netsuite.store import NotFound, ValidationError
from emulators.salesforce.errors import SalesforceError
from emulators.schema import OPPORTUNITY_STAGES
from scc.config import today

log = logging.getLogger("scc.emulators.live")

_OPEN_STAGES = OPPORTUNITY_STAGES[:-2]
# What a store says when an action does not apply to the record picked; the step goes on without it.
BUSINESS_ERRORS = (ValidationError, NotFound, SalesforceError)


class LiveCompany:
    def __init__(self, salesforce_store, netsuite_store, *, seed: int = 0):
        self.sf = salesforce_store
        self.ns = netsuite_store
        self.rng = random.Random(seed * 7919 + 1)
        self.steps = 0
        self.actions: dict[str, int] = {}

    def run(self, interval: float, stop: threading.Event) -> None:
        while not stop.wait(interval):
            try:
                self.step()
            except Exception:  # noqa: BLE001 - one bad step must not stop the company
                log.exception("live-mode step failed")

    def step(self) -> list[str]:
        """One beat of business; returns what happened (for logs and the admin endpoint)."""
        self.steps += 1
        done = []
        for chance, action in (
            (0.7, self.advance_deal),
            (0.6, self.place_order),
            (0.5, self.ship_order),
            (0.4, self.bill_order),
            (0.3, self.record_payment),
            (0.2, self.open_deal),
        ):
            if self.rng.random() < chance:
                try:
                    what = action()
                except BUSINESS_ERRORS as error:  # e.g. the picked order had nothing left to ship
                    log.debug("live-mode %s skipped: %s", action.__name__, error)
                    continue
                if what:
                    done.append(what)
                    self.actions[action.__name__] = self.actions.get(action.__name__, 0) + 1
        return done

    # --- Salesforce -------------------------------------------------------------------------------
    def advance_deal(self) -> str | None:
        rows = self.sf.sql(
            'SELECT "Id", "StageName", "AccountId", "Amount" FROM "Opportunity" '
            'WHERE "IsClosed" = 0 AND "IsDeleted" = 0 ORDER BY random() LIMIT 1'
        )
        if not rows:
            return None
        opp_id, stage, account_id, amount = rows[0]
        position = _OPEN_STAGES.index(stage) if stage in _OPEN_STAGES else 0
        if position == len(_OPEN_STAGES) - 1 or self.rng.random() < 0.08:
            won = self.rng.random() < (0.6 if position == len(_OPEN_STAGES) - 1 else 0.1)
            new_stage = "Closed Won" if won else "Closed Lost"
            self.sf.update("Opportunity", opp_id, {"StageName": new_stage, "CloseDate": today().isoformat()})
            if won:
                self._order_for_won_deal(account_id, amount or 0)
            return f"deal {opp_id} {new_stage}"
        new_stage = _OPEN_STAGES[position + 1]
        self.sf.update("Opportunity", opp_id, {"StageName": new_stage})
        return f"deal {opp_id} moved to {new_stage}"

    def open_deal(self) -> str | None:
        rows = self.sf.sql(
            'SELECT "Id", "OwnerId", "Name" FROM "Account" WHERE "IsDeleted" = 0 AND "Type" = \'Customer\' '
            "ORDER BY random() LIMIT 1"
        )
        if not rows:
            return None
        account_id, owner_id, name = rows[0]
        close = today() + dt.timedelta(days=self.rng.randint(20, 120))
        amount = round(self.rng.lognormvariate(10.3, 0.8), -2)
        new_id = self.sf.create("Opportunity", {
            "Name": f"{name} - {self.rng.choice(['Q', 'Event', 'Uniforms', 'Promo', 'Reorder'])} {close:%b %Y}",
            "AccountId": account_id, "OwnerId": owner_id, "StageName": "Prospecting",
            "Amount": amount, "CloseDate": close.isoformat(), "Type": "Existing Business", "LeadSource": "Web",
        })
        return f"new deal {new_id}"

    # --- NetSuite ---------------------------------------------------------------------------------
    def _random_items(self, count: int) -> list[tuple[int, float]]:
        return [
            (row[0], row[1])
            for row in self.ns.query(
                "SELECT id, baseprice FROM item WHERE isinactive = 'F' ORDER BY random() LIMIT ?", (count,)
            )
        ]

    def _order(self, customer_id: int, lines: list[dict], memo: str) -> int:
        return self.ns.create_sales_order({
            "entity": {"id": str(customer_id)},
            "tranDate": today().isoformat(),
            "memo": memo,
            "item": {"items": lines},
        })

    def place_order(self) -> str | None:
        customers = self.ns.query("SELECT id FROM customer WHERE isinactive = 'F' ORDER BY random() LIMIT 1")
        if not customers:
            return None
        lines = [
            {"item": {"id": str(item_id)}, "quantity": self.rng.choice([24, 48, 100, 144, 250, 500]),
             "rate": round(price * self.rng.uniform(0.85, 1.0), 2)}
            for item_id, price in self._random_items(self.rng.randint(1, 4))
        ]
        order_id = self._order(customers[0][0], lines, "live order")
        return f"order {order_id} placed"

    def _order_for_won_deal(self, account_id: str, amount: float) -> None:
        rows = self.sf.sql('SELECT "NetSuite_Customer_Id__c" FROM "Account" WHERE "Id" = ?', (account_id,))
        if not rows or not rows[0][0]:
            return
        items = self._random_items(2)
        share = max(amount, 1000.0) / max(len(items), 1)
        lines = [
            {"item": {"id": str(item_id)}, "quantity": max(1, int(share / max(price, 0.01))), "rate": price}
            for item_id, price in items
        ]
        self._order(int(rows[0][0]), lines, f"from won opportunity for account {account_id}")

    def ship_order(self) -> str | None:
        rows = self.ns.query(
            "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd' AND status IN ('B', 'D', 'E') "
            "ORDER BY random() LIMIT 1"
        )
        if not rows:
            return None
        fraction = 1.0 if self.rng.random() < 0.7 else 0.5
        self.ns.fulfil(rows[0][0], fraction)
        return f"order {rows[0][0]} shipped ({fraction:.0%})"

    def bill_order(self) -> str | None:
        rows = self.ns.query(
            "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd' AND status IN ('E', 'F') ORDER BY random() LIMIT 1"
        )
        if not rows:
            return None
        invoice_id = self.ns.bill(rows[0][0])
        return f"order {rows[0][0]} billed (invoice {invoice_id})"

    def record_payment(self) -> str | None:
        rows = self.ns.query(
            "SELECT id FROM \"transaction\" WHERE type = 'CustInvc' AND status = 'A' ORDER BY random() LIMIT 1"
        )
        if not rows:
            return None
        self.ns.pay(rows[0][0])
        return f"invoice {rows[0][0]} paid"
