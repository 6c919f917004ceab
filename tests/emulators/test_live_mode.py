"""Live mode: the company moves by itself and every change reaches the webhook, signed."""

from __future__ import annotations

import json
import ssl
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
        "SCC_EMULATOR_LIVE_INTERVAL": "0.3", "SCC_EMULATOR_WEBHOOK_URL": receiver.url,
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
