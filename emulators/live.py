"""Live mode: the demo company keeps doing business while the emulators run, at its own pace.

The pace is the company's own (:class:`CompanyRates`): read from the stores when live mode starts, how many
orders it takes, how many deals it opens, moves a stage, wins and loses, how many orders it ships and bills
and invoices it collects, per hour of the day, by weekday (the 8 weeks before today). A simulated clock runs
at ``speed`` times real time (``SCC_EMULATOR_LIVE_SPEED``, 1 = real time); each step adds the business due
since the previous one (rate x simulated time, the fractions carried over), so a normal Monday afternoon
gets a normal Monday afternoon's orders.

Orders are made the way the generator makes them: the number of lines of a recent order, and each line an
item, quantity and price of a recent line (popular items come up as often as they sell). A won deal does
not become one order for its whole amount: its customer gets the next orders of the company's flow.

Every change goes through the stores' own write methods, so it is stamped, recorded in history and
announced to the stores' listeners (Change Data Capture events and record notifications, which the runner
relays to the product's webhooks). ``beat()`` is one round of every kind of business regardless of the clock
(``POST /__admin/live/step``, for tests and demos).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from emulators.netsuite.store import NotFound, ValidationError
from emulators.salesforce.errors import SalesforceError
from emulators.schema import OPPORTUNITY_STAGES
from scc.config import today

log = logging.getLogger("scc.emulators.live")

_OPEN_STAGES = OPPORTUNITY_STAGES[:-2]
_LATE_STAGES = ("Proposal/Price Quote", "Negotiation/Review")
# What a store says when an action does not apply to the record picked; the step goes on without it.
BUSINESS_ERRORS = (ValidationError, NotFound, SalesforceError)
WINDOW_WEEKS = 8
# The kinds of business live mode does, in the order a step does them.
KINDS = ("new_deals", "stage_changes", "wins", "losses", "orders", "shipments", "invoices", "payments")
MAX_PER_STEP = 200  # after a long pause (a suspended laptop) the backlog is not replayed all at once


def _hour_of(stamp: str) -> tuple[str, int]:
    """('YYYY-MM-DD', hour) of a store timestamp (NetSuite 'YYYY-MM-DD HH:MM:SS', Salesforce ISO)."""
    return stamp[:10], int(stamp[11:13])


@dataclass
class CompanyRates:
    """Events per hour of each kind of business, by weekday (Monday 0) and hour of the day (UTC).

    ``daily[kind][weekday]`` is the mean over the window's same weekdays with the busiest and the quietest
    left out (a one-off day, such as a bulk upload, does not set the pace); ``shape[kind][hour]`` is the
    share of the kind's events in each hour of the day over the days kept.
    """

    daily: dict[str, list[float]]
    shape: dict[str, list[float]]
    window: tuple[dt.date, dt.date] | None = None

    def per_hour(self, kind: str, weekday: int, hour: int) -> float:
        return self.daily[kind][weekday] * self.shape[kind][hour]

    @classmethod
    def from_events(cls, events: dict[str, list[str]], first: dt.date, last: dt.date, **extra) -> CompanyRates:
        """Rates from each kind's event timestamps between ``first`` and ``last`` (whole days)."""
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        daily, shape = {}, {}
        for kind, stamps in events.items():
            per_day = collections.Counter()
            per_day_hour = collections.Counter()
            for stamp in stamps:
                day, hour = _hour_of(stamp)
                per_day[day] += 1
                per_day_hour[day, hour] += 1
            rates, kept = [], []
            for weekday in range(7):
                same = sorted((d.isoformat() for d in days if d.weekday() == weekday), key=lambda d: per_day[d])
                trimmed = same[1:-1] if len(same) > 2 else same
                rates.append(sum(per_day[d] for d in trimmed) / len(trimmed) if trimmed else 0.0)
                kept += trimmed
            per_hour = [sum(per_day_hour[d, h] for d in kept) for h in range(24)]
            total = sum(per_hour)
            daily[kind] = rates
            shape[kind] = [h / total for h in per_hour] if total else [1 / 24] * 24
        return cls(daily=daily, shape=shape, window=(first, last), **extra)

    @classmethod
    def of_company(cls, sf, ns, *, until: dt.date | None = None, weeks: int = WINDOW_WEEKS) -> CompanyRates:
        """The company's own rates over the ``weeks`` whole weeks before ``until`` (default: today)."""
        until = until or today()
        first, last = until - dt.timedelta(days=7 * weeks), until - dt.timedelta(days=1)
        lo, hi = first.isoformat(), until.isoformat()
        orders = [r[0] for r in ns.query(
            "SELECT createddate FROM \"transaction\" WHERE type = 'SalesOrd' AND createddate >= ? AND createddate < ?",
            (lo, hi))]
        lines = [r[0] for r in ns.query(
            "SELECT t.createddate FROM transactionline l JOIN \"transaction\" t ON t.id = l.\"transaction\" "
            "WHERE t.type = 'SalesOrd' AND l.mainline = 'F' AND t.createddate >= ? AND t.createddate < ?", (lo, hi))]
        invoices = [r[0] for r in ns.query(
            "SELECT createddate FROM \"transaction\" WHERE type = 'CustInvc' AND createddate >= ? AND createddate < ?",
            (lo, hi))]
        changes = sf.sql(
            'SELECT "CreatedDate", "StageName" FROM (SELECT "CreatedDate", "StageName", '
            'LAG("StageName") OVER (PARTITION BY "OpportunityId" ORDER BY "CreatedDate", "Id") AS previous '
            'FROM "OpportunityHistory" WHERE "IsDeleted" = 0) '
            'WHERE previous IS NOT NULL AND previous <> "StageName" AND "CreatedDate" >= ? AND "CreatedDate" < ?',
            (lo, hi))
        created = [r[0] for r in sf.sql(
            'SELECT "CreatedDate" FROM "Opportunity" WHERE "CreatedDate" >= ? AND "CreatedDate" < ?', (lo, hi))]
        events = {
            "new_deals": created,
            "stage_changes": [s for s, stage in changes if stage not in ("Closed Won", "Closed Lost")],
            "wins": [s for s, stage in changes if stage == "Closed Won"],
            "losses": [s for s, stage in changes if stage == "Closed Lost"],
            "orders": orders,
            "lines": lines,
            # every order is shipped and billed once and every invoice paid, so in a steady business they
            # come at the pace of the orders and of the invoices
            "shipments": orders,
            "invoices": invoices,
            "payments": invoices,
        }
        return cls.from_events(events, first, last)


class SimulatedClock:
    """Wall time run ``speed`` times faster from the moment it starts, on the product's today."""

    def __init__(self, speed: float = 1.0, wall: Callable[[], float] = time.time, start: dt.datetime | None = None):
        self.speed = max(float(speed), 0.0)
        self.wall = wall
        self._wall0 = wall()
        if start is None:
            now = dt.datetime.fromtimestamp(self._wall0, dt.timezone.utc)
            start = dt.datetime.combine(today(), now.time(), tzinfo=dt.timezone.utc)
        self._start = start

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=(self.wall() - self._wall0) * self.speed)


def _due(rates: CompanyRates, kind: str, start: dt.datetime, end: dt.datetime) -> float:
    """Expected events of ``kind`` between two instants: the hourly rates integrated over the interval."""
    total, t = 0.0, start
    while t < end:
        hour_end = t.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
        upto = min(hour_end, end)
        total += rates.per_hour(kind, t.weekday(), t.hour) * (upto - t).total_seconds() / 3600
        t = upto
    return total


@dataclass
class _Recent:
    """What new orders are drawn from: the recent orders' customers and line counts, and their lines."""

    customers: list[int] = field(default_factory=list)
    line_counts: list[int] = field(default_factory=list)
    lines: list[tuple[int, float, float]] = field(default_factory=list)  # item, quantity, rate


class LiveCompany:
    def __init__(self, salesforce_store, netsuite_store, *, seed: int = 0, speed: float = 1.0,
                 clock: SimulatedClock | None = None, rates: CompanyRates | None = None,
                 stories: Path | str | None = None):
        self.sf = salesforce_store
        self.ns = netsuite_store
        self.rng = random.Random(seed * 7919 + 1)
        self.clock = clock or SimulatedClock(speed)
        self._rates = rates
        self._recent: _Recent | None = None
        self._last: dt.datetime | None = None
        self._owed = {kind: self.rng.random() for kind in (*KINDS, "lines")}  # random phase: not all at once
        self._line_count: int | None = None  # lines of the next order (None: as a recent order's)
        self._placed_lines = 0
        self.won_customers: collections.deque[tuple[int, str]] = collections.deque()
        self.steps = 0
        self.actions: dict[str, int] = {}
        self.protected_deals, self.protected_orders = self._planted(stories)

    @staticmethod
    def _planted(stories) -> tuple[set[str], set[int]]:
        """The planted stories' deals and orders, left as they are (the insights must keep finding them)."""
        try:
            told = json.loads(Path(stories).read_text()) if stories else []
        except (OSError, ValueError):
            return set(), set()
        deals = {o["opportunity_id"] for s in told if s.get("kind") == "stalled_deals" for o in s.get("opportunities", [])}
        orders = {int(o) for s in told if s.get("kind") == "stockout_risk" for o in s.get("open_orders", [])}
        return deals, orders

    @property
    def rates(self) -> CompanyRates:
        if self._rates is None:
            self._rates = CompanyRates.of_company(self.sf, self.ns)
        return self._rates

    @property
    def speed(self) -> float:
        return self.clock.speed

    def run(self, interval: float, stop: threading.Event) -> None:
        try:
            self.advance()  # starts the clock (and reads the rates) now
        except Exception:  # noqa: BLE001 - the next step tries again
            log.exception("live mode could not read the company's rates")
        while not stop.wait(interval):
            try:
                self.advance()
            except Exception:  # noqa: BLE001 - one bad step must not stop the company
                log.exception("live-mode step failed")

    def advance(self) -> list[str]:
        """Do the business due since the previous call on the simulated clock; returns what happened."""
        now = self.clock.now()
        if self._last is None:
            self._last = now
            return []
        start, self._last = self._last, now
        done: list[str] = []
        self.steps += 1
        self._owed["lines"] += _due(self.rates, "lines", start, now)
        for kind in KINDS:
            self._owed[kind] += _due(self.rates, kind, start, now)
            count = int(self._owed[kind])
            self._owed[kind] -= count
            for i in range(min(count, MAX_PER_STEP)):
                if kind == "orders":
                    # the lines due by the middle of the gap to the next order, so the lines placed stay
                    # within half an order of the company's own, whatever the hour
                    orders, lines = (self.rates.per_hour(k, now.weekday(), now.hour) for k in ("orders", "lines"))
                    per_order = lines / orders if orders else 3.0
                    share = self._owed["lines"] + per_order / 2 - (count - i - 1) * per_order
                    self._line_count = max(1, min(8, round(share + self.rng.uniform(-0.5, 0.5))))
                happened = self._do(kind)
                done += happened
                if kind == "orders" and happened:
                    self._owed["lines"] -= self._placed_lines
        return done

    # the action of each kind of business
    def _action(self, kind: str):
        return {
            "new_deals": self.open_deal, "stage_changes": self.advance_deal, "wins": self.win_deal,
            "losses": self.lose_deal, "orders": self.place_order, "shipments": self.ship_order,
            "invoices": self.bill_order, "payments": self.record_payment,
        }[kind]

    def _do(self, kind: str) -> list[str]:
        action = self._action(kind)
        try:
            what = action()
        except BUSINESS_ERRORS as error:  # e.g. the picked order had nothing left to ship
            log.debug("live-mode %s skipped: %s", action.__name__, error)
            return []
        if not what:
            return []
        self.actions[action.__name__] = self.actions.get(action.__name__, 0) + 1
        return [what]

    def beat(self) -> list[str]:
        """One round of business now, whatever the clock says (each kind with a fixed chance)."""
        self.steps += 1
        done = []
        for chance, kind in ((0.7, "stage_changes"), (0.15, "wins"), (0.1, "losses"), (0.6, "orders"),
                             (0.5, "shipments"), (0.4, "invoices"), (0.3, "payments"), (0.2, "new_deals")):
            if self.rng.random() < chance:
                done += self._do(kind)
        return done

    step = beat  # the admin endpoint's name for it

    # --- Salesforce -------------------------------------------------------------------------------
    def _open_deal_in(self, stages: tuple[str, ...] | None = None):
        where = 'WHERE "IsClosed" = 0 AND "IsDeleted" = 0'
        params: tuple = ()
        if stages:
            where += f' AND "StageName" IN ({", ".join("?" * len(stages))})'
            params = stages
        for _ in range(5):
            rows = self.sf.sql(
                f'SELECT "Id", "StageName", "AccountId" FROM "Opportunity" {where} ORDER BY random() LIMIT 1', params)
            if not rows:
                return None
            if rows[0][0] not in self.protected_deals:
                return rows[0]
        return None

    def advance_deal(self) -> str | None:
        row = self._open_deal_in(_OPEN_STAGES[:-1])
        if not row:
            return None
        opp_id, stage, _ = row
        new_stage = _OPEN_STAGES[_OPEN_STAGES.index(stage) + 1]
        self.sf.update("Opportunity", opp_id, {"StageName": new_stage})
        return f"deal {opp_id} moved to {new_stage}"

    def win_deal(self) -> str | None:
        row = self._open_deal_in(_LATE_STAGES) or self._open_deal_in()
        if not row:
            return None
        opp_id, _, account_id = row
        self.sf.update("Opportunity", opp_id, {"StageName": "Closed Won", "CloseDate": today().isoformat()})
        customer = self.sf.sql('SELECT "NetSuite_Customer_Id__c" FROM "Account" WHERE "Id" = ?', (account_id,))
        if customer and customer[0][0]:
            # the customer's next orders come from this deal (sized like every other order)
            self.won_customers.extend([(int(customer[0][0]), opp_id)] * self.rng.choice([1, 1, 2, 3]))
        return f"deal {opp_id} Closed Won"

    def lose_deal(self) -> str | None:
        row = self._open_deal_in()
        if not row:
            return None
        self.sf.update("Opportunity", row[0], {"StageName": "Closed Lost", "CloseDate": today().isoformat()})
        return f"deal {row[0]} Closed Lost"

    def open_deal(self) -> str | None:
        rows = self.sf.sql(
            'SELECT "Id", "OwnerId", "Name" FROM "Account" WHERE "IsDeleted" = 0 AND "Type" = \'Customer\' '
            "ORDER BY random() LIMIT 1"
        )
        if not rows:
            return None
        account_id, owner_id, name = rows[0]
        close = today() + dt.timedelta(days=self.rng.randint(20, 120))
        amount = round(self.rng.lognormvariate(10.0, 0.9), -2)
        new_id = self.sf.create("Opportunity", {
            "Name": f"{name} - {self.rng.choice(['Q', 'Event', 'Uniforms', 'Promo', 'Reorder'])} {close:%b %Y}",
            "AccountId": account_id, "OwnerId": owner_id, "StageName": "Prospecting",
            "Amount": amount, "CloseDate": close.isoformat(), "Type": "Existing Business", "LeadSource": "Web",
        })
        return f"new deal {new_id}"

    # --- NetSuite ---------------------------------------------------------------------------------
    def recent(self) -> _Recent:
        """The last 90 days' orders and lines, read once: what new orders are drawn from."""
        if self._recent is None:
            since = (today() - dt.timedelta(days=90)).isoformat()
            orders = self.ns.query(
                "SELECT t.id, t.entity, count(l.uniquekey) FROM \"transaction\" t JOIN customer c ON c.id = t.entity "
                "JOIN transactionline l ON l.\"transaction\" = t.id AND l.mainline = 'F' "
                "WHERE t.type = 'SalesOrd' AND t.trandate >= ? AND c.isinactive = 'F' "
                "AND coalesce(t.source, '') <> 'CSV' GROUP BY t.id, t.entity", (since,))
            lines = self.ns.query(
                "SELECT l.item, l.quantity, l.rate FROM transactionline l JOIN \"transaction\" t ON t.id = l.\"transaction\" "
                "JOIN item i ON i.id = l.item WHERE t.type = 'SalesOrd' AND t.trandate >= ? AND l.mainline = 'F' "
                "AND i.isinactive = 'F' AND l.quantity > 0", (since,))
            self._recent = _Recent([r[1] for r in orders], [r[2] for r in orders], [tuple(r) for r in lines])
        return self._recent

    def _order(self, customer_id: int, lines: list[dict], memo: str) -> int:
        return self.ns.create_sales_order({
            "entity": {"id": str(customer_id)},
            "tranDate": today().isoformat(),
            "memo": memo,
            "item": {"items": lines},
        })

    def _lines_like_the_company(self) -> list[dict]:
        recent = self.recent()
        count, self._line_count = self._line_count, None
        if count is None:
            count = self.rng.choice(recent.line_counts) if recent.line_counts else self.rng.randint(1, 4)
        chosen: dict[int, dict] = {}
        for _ in range(count * 3):  # distinct items, as an order has
            item, quantity, rate = self.rng.choice(recent.lines)
            chosen.setdefault(item, {"item": {"id": str(item)}, "quantity": quantity, "rate": rate})
            if len(chosen) == count:
                break
        return list(chosen.values())

    def place_order(self) -> str | None:
        recent = self.recent()
        if self.won_customers:
            customer, opp_id = self.won_customers.popleft()
            memo = f"from won opportunity {opp_id}"
        elif recent.customers:
            customer, memo = self.rng.choice(recent.customers), "live order"
        else:
            return None
        lines = self._lines_like_the_company()
        if not lines:
            return None
        order_id = self._order(customer, lines, memo)
        self._placed_lines = len(lines)
        return f"order {order_id} placed"

    def ship_order(self) -> str | None:
        rows = self.ns.query(
            "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd' AND status IN ('B', 'D', 'E') "
            "ORDER BY random() LIMIT 3"
        )
        rows = [r for r in rows if r[0] not in self.protected_orders]
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
