"""Monitoring: every metric the alerts and the Grafana dashboard use is on the API's /metrics after a scripted
run of requests (through ``scc serve``), and the alert rules pass ``promtool check rules`` and their unit tests
(``promtool test rules``: each alert fires on synthetic series of its trouble and stays silent on healthy ones),
with Debian's promtool (apt package ``prometheus``; ``make test`` installs it)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import websockets.sync.client as ws_client

from scc.config import PROJECT_ROOT
from tests.api.helpers import scope_for, wait_for

PROMETHEUS = PROJECT_ROOT / "deploy" / "prometheus"
DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "scc-dashboard.json"
# what the architecture asks for: latency histograms, error counters, WebSocket clients, the cache hit ratio,
# warehouse and app-database query time, sync and build durations, and the marts' age for the stale alert
REQUIRED = {
    "scc_api_request_seconds_bucket": "histogram", "scc_api_requests_total": "counter",
    "scc_api_errors_total": "counter", "scc_api_websocket_clients": "gauge",
    "scc_api_dashboard_cache_total": "counter", "scc_api_dashboard_cache_hit_ratio": "gauge",
    "scc_warehouse_query_seconds_bucket": "histogram", "scc_app_database_query_seconds_bucket": "histogram",
    "scc_sync_duration_seconds": "gauge", "scc_sync_failed": "gauge", "scc_build_duration_seconds": "gauge",
    "scc_build_failed_nodes": "gauge", "scc_marts_age_seconds": "gauge",
    "scc_orchestration_failed_runs_total": "counter",
}


def promtool() -> str:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not installed; `make test` installs it (apt package prometheus)")
    return binary


def test_the_alert_rules_pass_promtool_and_their_unit_tests():
    checked = subprocess.run([promtool(), "check", "rules", "alerts.yml"], cwd=PROMETHEUS, capture_output=True, text=True)
    assert checked.returncode == 0 and "SUCCESS: 5 rules found" in checked.stdout, checked.stdout + checked.stderr
    tested = subprocess.run([promtool(), "test", "rules", "alerts_test.yml"], cwd=PROMETHEUS, capture_output=True,
                            text=True)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    # every alert of the rules has a test that fires it
    alerts = set(re.findall(r"- alert: (\w+)", (PROMETHEUS / "alerts.yml").read_text()))
    tests = (PROMETHEUS / "alerts_test.yml").read_text()
    assert alerts == {"SccApiSlowResponses", "SccApiErrorRate", "SccDashboardCacheHitRateLow", "SccMartsStale",
                      "SccSyncFailed"}
    for alert in alerts:
        assert re.search(rf"alertname: {alert}\n\s+exp_alerts:\n\s+- exp_labels", tests), f"no firing test for {alert}"


def _exposed(text: str) -> dict[str, str]:
    """Metric sample names on a /metrics page, with the TYPE of their family."""
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    out = {}
    for name in re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M):
        family = next((f for f in (name, re.sub(r"_(bucket|count|sum|total|created)$", "", name)) if f in types), None)
        out[name] = types.get(family, "untyped")
    return out


def test_every_metric_is_on_metrics_after_a_scripted_run(api):
    exec_ = api.as_scope(scope_for("sales_exec"))
    token = exec_.headers["Authorization"].split()[1]
    with exec_, ws_client.connect(api.url.replace("http", "ws") + f"/ws/dashboard?token={token}", open_timeout=15):
        for _ in range(2):  # a miss, then a hit
            assert exec_.get("/api/v1/dashboard/pipeline").status_code == 200
        assert exec_.get("/api/v1/orders", params={"limit": 5}).status_code == 200
        assert exec_.get("/api/v1/transactions").status_code == 200  # the app database
        assert exec_.get("/api/v1/transactions/nope").status_code == 404

        def scraped():
            text = exec_.get("/metrics").text
            clients = re.search(r"^scc_api_websocket_clients (\S+)$", text, re.M)
            return text if clients and float(clients.group(1)) >= 1 else None

        text = wait_for(scraped, timeout=20, what="the WebSocket client on /metrics")
    exposed = _exposed(text)
    wrong = {name: (kind, exposed.get(name)) for name, kind in REQUIRED.items() if exposed.get(name) != kind}
    assert not wrong, wrong
    assert re.search(r'^scc_api_request_seconds_bucket\{le="\+Inf",method="GET",route="/api/v1/dashboard/pipeline"\}',
                     text, re.M)
    ratio = float(re.search(r"^scc_api_dashboard_cache_hit_ratio (\S+)$", text, re.M).group(1))
    assert 0 < ratio <= 1
    synced = re.search(r'^scc_sync_duration_seconds\{source="salesforce"\} (\S+)$', text, re.M)  # the fixture's sync
    assert synced and float(synced.group(1)) > 0
    assert float(re.search(r"^scc_marts_age_seconds (\S+)$", text, re.M).group(1)) >= 0

    # everything the alerts and the dashboard ask for is there
    used = set(re.findall(r"\b(scc_[a-z_]+)", (PROMETHEUS / "alerts.yml").read_text()))
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(scc_[a-z_]+)", target["expr"]))
    # counters of events this run did not cause (orders sent, webhooks) have no sample yet: the API declares them
    from prometheus_client import generate_latest

    from api.observability import get_metrics

    get_metrics()
    declared = set(re.findall(r"^# TYPE (\S+) ", generate_latest().decode(), re.M))
    missing = sorted(name for name in used if name not in exposed and name not in declared
                     and re.sub(r"_(total|bucket)$", "", name) not in declared)
    assert not missing, f"used by alerts.yml or the Grafana dashboard but not on /metrics: {missing}"
