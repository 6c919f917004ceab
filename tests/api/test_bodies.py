"""Malformed input on every endpoint gets a 4xx with a plain message, never a 500 and never the value echoed
(issue 17.7): JSON nested too deep, NaN and Infinity, numbers too large, bodies too large, and FastAPI's own
validation errors (whose answer used to carry the offending value, and could not be written when it was NaN)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

ORDER = {"customer": "Disney", "lines": [{"product": "hats", "quantity": 5, "unit_price": 50}]}


def raw_order(quantity: str) -> bytes:
    return b'{"customer":"Disney","lines":[{"product":"hats","quantity":' + quantity.encode() + b',"unit_price":50}]}'


def plain(response, *, status: int, must_say: str, sent: bytes | str = b"") -> str:
    assert response.status_code == status, (response.status_code, response.text[:500])
    detail = response.json()["detail"]
    text = json.dumps(detail)
    assert must_say in text, text
    if sent:
        sent = sent.decode(errors="replace") if isinstance(sent, bytes) else sent
        assert sent not in text, text
    assert len(text) < 2000
    return text


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json", None])
def test_json_bodies_are_read_within_bounds_on_every_endpoint(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    with api.as_role("sales_rep") as client:
        endpoints = [("POST", "/api/v1/orders"), ("POST", "/api/v1/query/ask"),
                     ("POST", "/api/v1/transactions/create"), ("PATCH", "/api/v1/transactions/nope")]
        for method, path in endpoints:
            for number in ("NaN", "Infinity", "-Infinity"):
                body = raw_order(number)
                plain(client.request(method, path, content=body, headers=headers), status=400,
                      must_say="finite numbers")
            plain(client.request(method, path, content=raw_order("1e999"), headers=headers), status=400,
                  must_say="finite", sent="1e999")
            deep = b'{"question":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
            plain(client.request(method, path, content=deep, headers=headers), status=400, must_say="32 levels",
                  sent=b"[[[[")
            plain(client.request(method, path, content=b'{"question": "x",', headers=headers), status=400,
                  must_say="not valid JSON")
            plain(client.request(method, path, content=b'{"lines": ' + b"9" * 5000 + b"}", headers=headers),
                  status=400, must_say="too long", sent=b"9" * 50)
            large = b'{"question":"' + b"x" * (5 * 1024 * 1024) + b'"}'
            plain(client.request(method, path, content=large, headers=headers), status=413, must_say="bytes accepted")
        # ordinary JSON still works through the same door (FastAPI reads no body without a content type)
        ordinary = client.post("/api/v1/orders", content=json.dumps(ORDER), headers=headers)
        assert ordinary.status_code == (201 if content_type else 422), ordinary.text


def test_validation_errors_say_where_and_what_without_the_value(api):
    secret_like = "hunter2-" + "s" * 3000
    with api.as_role("sales_rep") as client:
        text = plain(client.post("/api/v1/query/ask", json={"question": secret_like}), status=422,
                     must_say="question", sent="hunter2")
        assert "at most 2000 characters" in text
        text = plain(client.post("/api/v1/orders", json={**ORDER, "lines": [{"product": "hats", "quantity": -1e300}]}),
                     status=422, must_say="quantity", sent="1e+300")
        plain(client.post("/api/v1/orders", json={"customer": "Disney", "lines": [{"quantity": [1, 2, 3]}]}),
              status=422, must_say="quantity", sent="[1, 2, 3]")
        for value in ("nan", "inf", "-inf", "1e999"):  # a query parameter: pydantic reads them as floats
            plain(client.get(f"/api/v1/orders?min_amount={value}"), status=422, must_say="min_amount", sent=value)
        plain(client.get("/api/v1/conversations?limit=100000000000000000000000"), status=422, must_say="limit",
              sent="100000000000000000000000")


def test_any_body_is_held_to_the_size_bound(api):
    """Not only JSON: a form login or a text/plain webhook larger than the bound is refused as it streams in."""
    large = b"x" * (5 * 1024 * 1024 + 1)

    def chunks():
        for start in range(0, len(large), 65536):
            yield large[start:start + 65536]

    with api.client() as client:
        for path, content_type in (("/api/v1/auth/token", "application/x-www-form-urlencoded"),
                                   ("/webhooks/netsuite", "text/plain")):
            plain(client.post(path, content=large, headers={"Content-Type": content_type}), status=413,
                  must_say="bytes accepted")
            plain(client.post(path, content=chunks(), headers={"Content-Type": content_type}), status=413,
                  must_say="bytes accepted")  # no Content-Length: counted as it arrives
