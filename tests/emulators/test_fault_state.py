"""Each emulator keeps its own fault state: the same plan, its own draws and counters.

Against the emulators as `scc emulators start` runs them (one process serving both), through the admin
endpoint and the CLI a user switches faults with.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests


def _salesforce_calls(emulators, token: str, n: int) -> list[int | str]:
    out = []
    session = emulators.requests_session()
    for _ in range(n):
        try:
            r = session.get(f"{emulators.salesforce_url}/services/data/v59.0/limits",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
            out.append(r.status_code)
        except requests.RequestException:
            out.append("dropped")
            session = emulators.requests_session()
    return out


def _netsuite_calls(emulators, n: int) -> list[int | str]:
    out = []
    for _ in range(n):
        session = emulators.requests_session()
        try:
            r = session.post(f"{emulators.netsuite_url}/query/v1/suiteql", json={"q": "SELECT id FROM location"},
                             auth=emulators.netsuite_auth(), headers={"Prefer": "transient"}, timeout=10)
            out.append(r.status_code)
        except requests.RequestException:
            out.append("dropped")
    return out


def _faults(emulators, vendor: str) -> dict:
    return emulators.admin(vendor, "GET", "faults")


def _scc_faults(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "scc", "emulators", "faults", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_session_expiry_counts_only_salesforce_requests(clean_faults):
    emulators = clean_faults
    _scc_faults("expire_session_after=3")  # the same plan on both, as a user sets it
    token = emulators.salesforce_token()
    assert set(_netsuite_calls(emulators, 6)) == {200}  # NetSuite's requests never bring Salesforce's expiry nearer
    assert _salesforce_calls(emulators, token, 5) == [200, 200, 200, 401, 401]
    salesforce, netsuite = _faults(emulators, "salesforce"), _faults(emulators, "netsuite")
    assert salesforce["plan"] == netsuite["plan"]
    assert (salesforce["requests_seen"], netsuite["requests_seen"]) == (5, 6)
    assert salesforce["injected"]["session_expired"] == 1
    assert sum(netsuite["injected"].values()) == 0, "NetSuite has no session to expire"
    status = subprocess.run([sys.executable, "-m", "scc", "emulators", "status"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "COLUMNS": "250"})  # each emulator's own counts
    assert '"session_expired": 1' in status.stdout and '"session_expired": 0' in status.stdout, status.stdout


@pytest.mark.parametrize("fault, key, salesforce_code, netsuite_code", [
    ("server_error", "error_rate", {500, 503}, {500, 503}),
    ("rate_limited", "rate_limit_rate", {403}, {429}),
    ("drop_connection", "drop_rate", {"dropped"}, {"dropped"}),
])
def test_each_fault_fires_on_its_own_emulator_only(clean_faults, fault, key, salesforce_code, netsuite_code):
    emulators = clean_faults
    token = emulators.salesforce_token()
    for vendor, calls, code in (("salesforce", lambda: _salesforce_calls(emulators, token, 3), salesforce_code),
                                ("netsuite", lambda: _netsuite_calls(emulators, 3), netsuite_code)):
        other = "netsuite" if vendor == "salesforce" else "salesforce"
        emulators.reset_faults()
        emulators.admin(vendor, "POST", "faults", {key: 1.0, "retry_after_s": 0.01})
        assert set(calls()) <= code
        assert _faults(emulators, vendor)["injected"][fault] == 3
        # the other emulator's plan and counters are untouched, and it answers normally
        assert _faults(emulators, other)["plan"][key] == 0 and sum(_faults(emulators, other)["injected"].values()) == 0
        other_calls = _salesforce_calls(emulators, token, 2) if other == "salesforce" else _netsuite_calls(emulators, 2)
        assert set(other_calls) == {200}
