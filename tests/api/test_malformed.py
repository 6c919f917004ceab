"""Malformed input never crashes (issue 25.6): a generated corpus of malformed bodies, sent to every operation of
the running API's own OpenAPI schema that takes one (and to both signed webhooks), gets a 4xx with a plain
message, never a 500: a lone UTF-16 surrogate (``"\\ud800"``) in each string and each key, every field given
each wrong JSON type, the whole body replaced. And ``scc ask`` with bytes that are not UTF-8 prints one line.

The corpus is built from the schema (a valid body first, then every mutation of every node of it), so an
endpoint added later is covered by the same test.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from api.webhook_signature import signed_headers
from scc.processes import scc_command

from .helpers import mint, scope_for
from .test_webhooks import drain, netsuite_event, salesforce_event, secret

pytestmark = pytest.mark.slow

SURROGATES = ("\ud800", "a\udc00b", "\udfff\ud800")
WRONG = (5, 1.5, True, None, "x", [], {}, ["x"], {"x": 1})


def _kind(value) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object",
            type(None): "null"}[type(value)]


def example(schema: dict, spec: dict, depth: int = 0):
    """A valid instance of a JSON schema of the API's OpenAPI document (every property filled in)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example(spec["components"]["schemas"][name], spec, depth)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example(options[0], spec, depth)
    if "examples" in schema and schema["examples"]:
        return schema["examples"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: example(prop, spec, depth + 1) for name, prop in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [example(schema.get("items") or {"type": "string"}, spec, depth + 1)
                for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "string":
        if schema.get("pattern") == "^[0-9a-f]{32}$":
            return uuid.uuid4().hex
        return "hats" + "x" * max(0, schema.get("minLength", 0) - 4)
    if kind in ("number", "integer"):
        return max(1, schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "boolean":
        return True
    return None


def _nodes(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _replaced(value, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return copy


def corpus(valid) -> list[tuple[str, object, object, bool]]:
    """(the node changed, its new value, the malformed body, whether it holds a lone surrogate) for every node of
    a valid body: each wrong JSON type in its place, lone surrogates in each string, a key with one in each
    object."""
    out = []
    for path, node in _nodes(valid):
        where = ".".join(map(str, path)) or "the body"
        for wrong in WRONG:
            if _kind(wrong) != _kind(node):
                out.append((where, wrong, _replaced(valid, path, wrong), False))
        if isinstance(node, str):
            out += [(where, s, _replaced(valid, path, s), True) for s in SURROGATES]
        if isinstance(node, dict):
            out.append((f"a key of {where}", "\ud800", _replaced(valid, path, {**node, "\ud800": 1}), True))
    return out


def _check(response, what: str, surrogate: bool, problems: list) -> None:
    status = response.status_code
    try:
        detail = response.json().get("detail") if status >= 400 else "ok"
    except ValueError:
        detail = None
    if status >= 500 or (status >= 400 and not detail) or (surrogate and status != 400):
        problems.append((what, status, response.text[:200]))
    elif surrogate and "surrogate" not in json.dumps(detail):
        problems.append((what, status, f"no plain message: {response.text[:200]}"))


def test_a_generated_corpus_of_malformed_bodies_never_gets_a_server_error(api):
    spec = api.client().get("/openapi.json").json()
    exec_scope = lambda: scope_for("sales_exec")  # noqa: E731 - a fresh identity (rate limit) per request
    with api.client(mint(exec_scope())) as client:
        created = client.post("/api/v1/transactions/create",
                              json={"sentence": "Create a sales order for Disney, 5 hats, $50 each"})
        assert created.status_code == 201, created.text
        tx_id = created.json()["id"]
    problems, sent, operations = [], 0, []
    with api.client() as client:
        for path, methods in spec["paths"].items():
            for method, operation in methods.items():
                content = (operation.get("requestBody") or {}).get("content") or {}
                if "application/json" not in content:
                    continue
                url = path.replace("{transaction_id}", tx_id)
                url = url.replace("{", "").replace("}", "")  # any other path parameter: its name as the value
                operations.append(f"{method.upper()} {path}")
                valid = example(content["application/json"]["schema"], spec)
                cases = corpus(valid) + [("the body", s, s, True) for s in SURROGATES]
                for where, value, body, surrogate in cases:
                    raw = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as the escape \ud800
                    response = client.request(method, url, content=raw, headers={
                        "Content-Type": "application/json", "Authorization": f"Bearer {mint(exec_scope())}"})
                    sent += 1
                    _check(response, f"{method.upper()} {path}: {where} = {value!r}", surrogate, problems)
        # the form login: what a form can carry that is not text
        for form in (b"username=%ED%A0%80&password=x", b"username=%FF%FE&password=%ED%B0%80",
                     b"username=a&password=" + b"%ED%A0%80" * 10):
            response = client.post("/api/v1/auth/token", content=form,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
            sent += 1
            _check(response, f"POST /api/v1/auth/token: {form!r}", False, problems)
    assert {"POST /api/v1/orders", "POST /api/v1/transactions/create", "PATCH /api/v1/transactions/{transaction_id}",
            "POST /api/v1/transactions/{transaction_id}/reject", "POST /api/v1/query/ask"} <= set(operations)
    assert not problems, f"{len(problems)} of {sent} malformed bodies: {problems[:8]}"


# the fields a webhook reads, with the JSON types each may have (absent or null too); any other is refused (400)
READ = {"netsuite": {"eventId": {"string", "number"}, "action": {"string"}, "recordId": {"string", "number"},
                     "recordType": {"string"}},
        "salesforce": {"ChangeEventHeader": {"object"}, "ChangeEventHeader.entityName": {"string"},
                       "ChangeEventHeader.changeType": {"string"}, "ChangeEventHeader.recordIds": {"array"},
                       "ChangeEventHeader.transactionKey": {"string", "number"},
                       "ChangeEventHeader.sequenceNumber": {"string", "number"}}}


def test_signed_webhooks_with_malformed_events_get_a_4xx(api):
    drain()
    problems, sent = [], 0
    with api.client() as client:
        for vendor, valid in (("netsuite", netsuite_event()), ("salesforce", salesforce_event("006000000000001AAA"))):
            for where, value, event, surrogate in corpus(valid):
                for body in (event, [event, valid]):  # alone (under its signed id) and in a list
                    raw = json.dumps(body).encode()
                    headers = {"Content-Type": "application/json",
                               **signed_headers(secret(), uuid.uuid4().hex, raw)}
                    response = client.post(f"/webhooks/{vendor}", content=raw, headers=headers)
                    sent += 1
                    label = f"{vendor} {'list' if isinstance(body, list) else 'event'}: {where} = {value!r}"
                    _check(response, label, surrogate, problems)
                    allowed = READ[vendor].get(where)
                    if surrogate or allowed is None or _kind(value) in allowed | {"null"}:
                        continue
                    if response.status_code != 400 or where.rsplit(".", 1)[-1] not in response.json()["detail"]:
                        problems.append((label, response.status_code, f"not refused by name: {response.text[:200]}"))
    drain()
    assert not problems, f"{len(problems)} of {sent} malformed deliveries: {problems[:8]}"
    with api.client() as client:  # the issue's own examples, word for word
        for vendor, event, says in (("netsuite", {**netsuite_event(), "action": 5}, "action must be text"),
                                    ("salesforce", {"ChangeEventHeader": "x"}, "ChangeEventHeader must be an object")):
            raw = json.dumps(event).encode()
            response = client.post(f"/webhooks/{vendor}", content=raw, headers={
                "Content-Type": "application/json", **signed_headers(secret(), uuid.uuid4().hex, raw)})
            assert response.status_code == 400 and says in response.json()["detail"], response.text
    drain()


def test_scc_ask_with_bytes_that_are_not_utf8_prints_one_line(tmp_path):
    env = {**os.environ, "SCC_DATA_DIR": str(tmp_path), "COLUMNS": "40"}
    for args in ([b"revenue \xff\xfe last month"], [b"revenue", b"--territory", b"\xed\xa0\x80"]):
        command = [os.fsencode(part) for part in scc_command("ask")] + args
        process = subprocess.run(command, env=env, capture_output=True, timeout=120)
        output = (process.stdout + process.stderr).decode("utf-8", "replace").strip()
        assert process.returncode == 2, output
        assert "Traceback" not in output and len(output.splitlines()) == 1, output
        assert "is not valid UTF-8 text" in output, output
