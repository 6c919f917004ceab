"""The pipelines' retrying session: retries are for a source that answered, never for one that never did."""

from __future__ import annotations

import http.server
import threading

import pytest
import requests

from pipelines.http import NeverConnected, ResilientSession
from scc.processes import free_port


def test_a_source_that_answered_is_retried_when_it_stops_answering():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    waits = []
    session = ResilientSession(max_retries=3, fail_fast=True, sleep=waits.append)
    try:
        assert session.get(url).status_code in (200, 404)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(requests.ConnectionError) as raised:  # refused now: a restart, a blip; retried
        session.get(url)
    assert not isinstance(raised.value, NeverConnected) and len(waits) == 3


def test_a_source_that_never_answered_fails_at_once():
    waits = []
    session = ResilientSession(max_retries=8, fail_fast=True, sleep=waits.append)
    with pytest.raises(NeverConnected, match="^connection refused$"):
        session.get(f"http://127.0.0.1:{free_port()}/")
    assert waits == [] and session.requests_sent == 1
