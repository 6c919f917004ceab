"""Live mode: the company moves by itself and every change reaches the webhook, signed."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import statistics
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections import Counter
from pathlib import Path

import httpx
import pytest

from emulators.server import RunInfo
from scc.config import Settings
from scc.processes import Supervisor, free_port, scc_command

pytestmark = pytest.mark.slow
SECRET = "test-webhook-secret"


class Receiver:
    """A real HTTP server on loopback that records what is POSTed to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers), body))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.received):
                return
            time.sleep(0.05)
        raise AssertionError(f"webhook never saw the expected events; got {len(self.received)}")


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory):
    receiver = Receiver()
    data_dir = tmp_path_factory.mktemp("live")
    env = {
        "SCC_DATA_DIR": str(data_dir), "SCC_DEMO_SCALE": "0.02", "SCC_EMULATOR_LIVE": "true",
        "SCC_EMULATOR_LIVE_INTERVAL": "0.3", "SCC_EMULATOR_LIVE_SPEED": "7200",  # a day in 12 s
        "SCC_EMULATOR_WEBHOOK_URL": receiver.url,
        "SCC_WEBHOOK_SECRET": SECRET,
        "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()), "SCC_NETSUITE_EMULATOR_PORT": str(free_port()),
    }
    settings = Settings(data_dir=data_dir)  # where the child publishes its run info and CA
    supervisor = Supervisor(data_dir / "logs")
    child = supervisor.start("emulators", scc_command("emulators", "start"), env=env)
    try:
        supervisor.wait_until(child, lambda: bool((i := RunInfo.read(settings)) and i.pid == child.process.pid), 300)
        yield receiver, RunInfo.read(settings), settings
    finally:
        supervisor.stop_all()
        receiver.server.shutdown()


def _signed_correctly(headers: dict, body: bytes) -> bool:
    from api.webhook_signature import SignatureError, event_id_of, verify

    try:
        signed_id = verify(SECRET, body, headers, tolerance_seconds=300)
    except SignatureError:
        return False
    vendor = "salesforce" if "ChangeEventHeader" in json.loads(body) else "netsuite"
    return signed_id == event_id_of(vendor, json.loads(body))


def test_the_company_moves_by_itself_and_changes_reach_the_webhook(live_stack):
    receiver, info, _ = live_stack
    receiver.wait_for(lambda got: {path for path, _, _ in got} >= {"/webhooks/salesforce", "/webhooks/netsuite"})
    for path, headers, body in receiver.received:
        assert _signed_correctly(headers, body), f"bad signature on {path}"
        assert headers.get("X-SCC-Event-Id")
        event = json.loads(body)
        if path.endswith("salesforce"):
            header = event["ChangeEventHeader"]
            assert header["changeType"] in {"CREATE", "UPDATE", "DELETE", "UNDELETE"}
            assert header["entityName"] and header["recordIds"] and isinstance(header["commitTimestamp"], int)
        else:
            assert event["recordType"] and event["recordId"] and event["action"] in {"create", "update", "delete"}


def test_a_stage_change_event_matches_the_store(live_stack):
    receiver, info, settings = live_stack
    before = len(receiver.received)
    with httpx.Client(verify=ssl.create_default_context(cafile=str(settings.tls_dir / "ca.pem")), trust_env=False) as client:
        response = client.post(f"{info.salesforce_url}/__admin/live/step", params={"steps": 20})
    assert response.status_code == 200 and response.json()["happened"]

    def stage_event(got):
        return any(
            path.endswith("salesforce") and "StageName" in json.loads(body)["ChangeEventHeader"]["changedFields"]
            for path, _, body in got[before:]
        )

    receiver.wait_for(stage_event)
    path, _, body = next(
        (p, h, b) for p, h, b in reversed(receiver.received)
        if p.endswith("salesforce") and "StageName" in json.loads(b)["ChangeEventHeader"]["changedFields"]
    )
    event = json.loads(body)
    opp_id = event["ChangeEventHeader"]["recordIds"][0]
    store = sqlite3.connect(f"file:{Path(info.company_dir) / 'salesforce.sqlite'}?mode=ro", uri=True)
    history = [r[0] for r in store.execute(
        'SELECT "StageName" FROM "OpportunityHistory" WHERE "OpportunityId" = ? ORDER BY "CreatedDate"', (opp_id,))]
    assert event["StageName"] in history, "the event's stage must be recorded in the opportunity's history"


def test_many_steps_in_a_row_never_fail(live_stack):
    _, info, settings = live_stack
    context = ssl.create_default_context(cafile=str(settings.tls_dir / "ca.pem"))
    with httpx.Client(verify=context, trust_env=False, timeout=120) as client:
        for _ in range(3):
            response = client.post(f"{info.netsuite_url.removesuffix('/services/rest')}/__admin/live/step",
                                   params={"steps": 100})
            assert response.status_code == 200, response.text
    assert set(response.json()["actions"]) >= {"advance_deal", "place_order", "ship_order", "bill_order"}


# --- the company's own pace -------------------------------------------------------------------------------


def _stamps_by_day_and_hour(stamps: list[str]) -> Counter:
    return Counter((s[:10], int(s[11:13])) for s in stamps)


def _own_hourly_rates(stamps: list[str], day: dt.date) -> list[float]:
    """The company's own events per hour on ``day``'s weekday, read straight from its history: the median
    day of the 8 same weekdays before it, spread over the hours as the 8 weeks' events are (the busiest day
    of the weeks left out, so a one-off bulk upload does not shape the day)."""
    window = [day - dt.timedelta(days=d) for d in range(1, 57)]
    counts = _stamps_by_day_and_hour(stamps)
    totals = {d: sum(counts[d.isoformat(), h] for h in range(24)) for d in window}
    busiest = max(window, key=lambda d: totals[d])
    per_hour = [sum(counts[d.isoformat(), h] for d in window if d != busiest) for h in range(24)]
    same = [totals[d] for d in window if d.weekday() == day.weekday()]
    return [statistics.median(same) * n / sum(per_hour) for n in per_hour]


def test_live_mode_keeps_the_company_s_own_hourly_pace_over_a_simulated_day(tmp_path):
    """A simulated working day (five-minute steps on a clock the test moves, nothing waits): the orders and
    lines live mode places each hour, and the day's deals and orders of every kind, are within 20% of what
    the company's own history does on that weekday; won deals become orders of the usual size."""
    from emulators.demo_company import generate_company
    from emulators.live import LiveCompany, SimulatedClock
    from emulators.netsuite.store import NetSuiteStore
    from emulators.salesforce.store import SalesforceStore
    from scc.config import today

    day = today()
    files = generate_company(tmp_path / "company", seed=7, scale=1.0, today=day)
    sf, ns = SalesforceStore(files.salesforce), NetSuiteStore(files.netsuite)
    first = (day - dt.timedelta(days=56)).isoformat()
    order_stamps = [r[0] for r in ns.query(
        "SELECT createddate FROM \"transaction\" WHERE type = 'SalesOrd' AND createddate >= ? AND createddate < ?",
        (first, day.isoformat()))]
    line_stamps = [r[0] for r in ns.query(
        "SELECT t.createddate FROM transactionline l JOIN \"transaction\" t ON t.id = l.\"transaction\" "
        "WHERE t.type = 'SalesOrd' AND l.mainline = 'F' AND t.createddate >= ? AND t.createddate < ?",
        (first, day.isoformat()))]
    history = sf.sql('SELECT "OpportunityId", "StageName", "CreatedDate" FROM "OpportunityHistory" '
                     'WHERE "IsDeleted" = 0 ORDER BY "OpportunityId", "CreatedDate", "Id"')
    won_stamps, moved_stamps = [], []
    for (opp, stage, stamp), (prev_opp, prev_stage, _) in zip(history[1:], history[:-1]):
        if opp == prev_opp and stage != prev_stage and first <= stamp[:10] < day.isoformat():
            (won_stamps if stage == "Closed Won" else moved_stamps if stage != "Closed Lost" else []).append(stamp)
    own = {"orders": _own_hourly_rates(order_stamps, day), "lines": _own_hourly_rates(line_stamps, day),
           "stage changes": _own_hourly_rates(moved_stamps, day), "wins": _own_hourly_rates(won_stamps, day)}
    typical_order = statistics.median(r[0] for r in ns.query(
        "SELECT foreigntotal FROM \"transaction\" WHERE type = 'SalesOrd' AND trandate >= ?", (first,)))
    newest_order = ns.query("SELECT max(id) FROM \"transaction\"")[0][0]

    seconds = [0.0]
    clock = SimulatedClock(1.0, wall=lambda: seconds[0],
                           start=dt.datetime.combine(day, dt.time(0), tzinfo=dt.timezone.utc))
    live = LiveCompany(sf, ns, seed=3, clock=clock, stories=files.stories)
    live.advance()
    seen = {kind: [0] * 24 for kind in own}
    placed: dict[int, int] = {}  # order id -> simulated hour
    for step in range(24 * 12):
        seconds[0] += 300
        hour = step // 12
        for what in live.advance():
            if what.startswith("order ") and what.endswith(" placed"):
                placed[int(what.split()[1])] = hour
            elif what.endswith("Closed Won"):
                seen["wins"][hour] += 1
            elif " moved to " in what:
                seen["stage changes"][hour] += 1
    lines = ns.query("SELECT l.\"transaction\", count(*) FROM transactionline l JOIN \"transaction\" t "
                     "ON t.id = l.\"transaction\" WHERE t.id > ? AND t.type = 'SalesOrd' AND l.mainline = 'F' "
                     "GROUP BY l.\"transaction\"", (newest_order,))
    assert {order for order, _ in lines} == set(placed), "every order live mode reported is in the store"
    for order, hour in placed.items():
        seen["orders"][hour] += 1
    for order, count in lines:
        seen["lines"][placed[order]] += count

    for kind in ("orders", "lines"):
        for hour in range(24):
            expected, got = own[kind][hour], seen[kind][hour]
            # An hour's count is a random draw (Poisson): within 20%, or within three standard deviations of
            # it; the day's total below is held to 20%.
            assert abs(got - expected) <= max(0.2 * expected, 3 * expected ** 0.5, 1.0), (
                f"{kind} at {hour:02d}:00: live mode {got}, the company's own {expected:.1f} an hour")
    for kind in own:
        expected, got = sum(own[kind]), sum(seen[kind])
        assert abs(got - expected) <= max(0.2 * expected, 1.0), f"{kind} in the day: {got} against {expected:.1f}"

    totals = ns.query("SELECT foreigntotal, memo FROM \"transaction\" WHERE id > ? AND type = 'SalesOrd'",
                      (newest_order,))
    assert max(t for t, _ in totals) < 40 * typical_order, "no order for a whole deal's amount"
    from_deals = [t for t, memo in totals if memo and memo.startswith("from won opportunity")]
    assert from_deals, "a won deal's customer gets the next orders"
    assert statistics.median(from_deals) < 5 * typical_order
