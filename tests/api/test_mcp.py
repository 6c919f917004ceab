"""The MCP server, with the SDK's own client, over both transports against the real stack: streamable HTTP at
``/mcp`` on the running API (``scc serve``), and stdio (``scc mcp`` as a child process, as a desktop assistant
starts it). Every answer is checked against an independent query of the marts or the emulators' stores."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys

import httpx
import jsonschema
import pytest

from .helpers import mint, scope_for

TOOLS = {"ask", "query_metrics", "list_metrics", "list_dimensions", "run_sql", "get_insights", "get_dashboard",
         "draft_order"}


@contextlib.asynccontextmanager
async def over_http(api, token: str | None):
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=120) as http:
        async with Client(streamable_http_client(api.url + "/mcp", http_client=http)) as client:
            yield client


@contextlib.asynccontextmanager
async def over_stdio(token: str):
    from mcp import Client, StdioServerParameters

    env = {**os.environ, "SCC_MCP_TOKEN": token, "SCC_LOG_LEVEL": "WARNING"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "scc", "mcp"], env=env)
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


async def call(client, tool: str, **arguments) -> dict:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool} failed: {result.content[0].text if result.content else result}"
    return result.structured_content


async def refused(client, tool: str, **arguments) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} should have been refused: {result.structured_content}"
    text = result.content[0].text
    assert "Traceback" not in text and 'File "' not in text, text
    return text


def people(api) -> dict:
    for role in ("sales_exec", "sales_manager", "sales_rep", "finance_viewer"):
        api.login(role)
    return {role: scope_for(role, rep_id=api.people[role]["rep_id"], territory=api.people[role]["territory"])
            for role in ("sales_exec", "sales_manager", "sales_rep", "finance_viewer")}


def netsuite_orders(emulators, external_id: str) -> list:
    with sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True) as store:
        return store.execute("SELECT id FROM \"transaction\" WHERE externalid = ? AND type = 'SalesOrd'",
                             (external_id,)).fetchall()


@pytest.mark.parametrize("transport", ["http", "stdio"])
def test_every_tool_for_every_role(api, marts, emulators, transport):
    scopes = people(api)

    async def session(role: str) -> None:
        scope = scopes[role]
        token = mint(scope)
        where, params = {"sales_exec": ("1 = 1", []), "finance_viewer": ("1 = 1", []),
                         "sales_manager": ("territory = ?", [scope.territory]),
                         "sales_rep": ("rep_id = ?", [scope.rep_id])}[role]
        async with (over_http(api, token) if transport == "http" else over_stdio(token)) as client:
            listed = (await client.list_tools()).tools
            assert {t.name for t in listed} == TOOLS
            for tool in listed:  # a valid JSON schema, a description written for a model, the annotations
                jsonschema.Draft202012Validator.check_schema(tool.input_schema)
                assert len(tool.description or "") > 80, tool.name
                assert tool.annotations.read_only_hint is (tool.name != "draft_order"), tool.name
            assert next(t for t in listed if t.name == "draft_order").annotations.destructive_hint is False

            # run_sql: the caller's rows only, the same count as the marts give for that scope
            got = await call(client, "run_sql",
                             sql="SELECT rep_id, territory, count(*) AS n FROM marts.fct_orders GROUP BY 1, 2")
            expected = marts(f"SELECT rep_id, territory, count(*) AS n FROM marts.fct_orders WHERE {where} "
                             f"GROUP BY 1, 2", params)
            assert sorted(map(tuple, got["rows"])) == sorted((r["rep_id"], r["territory"], r["n"]) for r in expected)
            assert got["total_rows"] == len(expected) and got["next_offset"] is None

            # query_metrics: bookings by territory, equal to the orders that are not cancelled in scope
            got = await call(client, "query_metrics", metrics=["bookings"], group_by=["rep__territory"],
                             order_by=["rep__territory"])
            expected = marts(f"SELECT territory, sum(total_amount) AS bookings FROM marts.fct_orders "
                             f"WHERE {where} AND status_group <> 'cancelled' GROUP BY 1 ORDER BY 1", params)
            assert [row[0] for row in got["rows"]] == [r["territory"] for r in expected]
            for row, want in zip(got["rows"], expected):
                assert row[1] == pytest.approx(float(want["bookings"]), abs=0.01)

            # ask: an answer with its reading and SQL, only the caller's customers in it
            answer = await call(client, "ask", question="Who are my top 10 customers by revenue?")
            assert answer["sql"] and answer["rows"] and answer["conversation_id"]
            assert answer["reading"] is not None
            visible = {r["customer_name"] for r in marts(f"SELECT customer_name FROM marts.dim_customers "
                                                         f"WHERE {where}", params)}
            name_at = next(i for i, c in enumerate(answer["columns"]) if "customer" in c and "id" not in c)
            assert {row[name_at] for row in answer["rows"]} <= visible
            follow = await call(client, "ask", question="and last year?", conversation_id=answer["conversation_id"])
            assert follow["conversation_id"] == answer["conversation_id"]

            # the dashboard's figures are the dashboard's: the same as GET /api/v1/dashboard/overview
            tab = await call(client, "get_dashboard", tab="overview", period="quarter")
            with api.client(token) as rest:
                overview = rest.get("/api/v1/dashboard/overview", params={"period": "quarter"}).json()
            assert tab["metrics"] == overview["metrics"]

            insights = await call(client, "get_insights")
            for item in insights["insights"]:
                assert scope.covers(item.get("rep_id"), item.get("territory")) or not (item.get("rep_id") or
                                                                                        item.get("territory")), item

            # drafting: a checked draft and a link to review it; never an order in NetSuite
            if role == "finance_viewer":
                assert "read-only" in await refused(client, "draft_order", sentence="Disney, 10 hats at $50 each")
            else:
                draft = await call(client, "draft_order", sentence="Disney, 10 hats at $50 each")
                assert draft["status"] == "draft" and draft["review_url"].endswith(f"draft={draft['transaction_id']}")
                with api.client(token) as rest:
                    stored = rest.get(f"/api/v1/transactions/{draft['transaction_id']}")
                if draft["draft"]["customer"].get("customer_id"):  # Disney is in this caller's book
                    assert stored.status_code == 200 and stored.json()["status"] == "draft"
                assert netsuite_orders(emulators, f"scc-{draft['transaction_id']}") == []
                lines = await call(client, "draft_order", customer="Disney",
                                   lines=[{"product": "hat", "quantity": 5, "unit_price": 50}])
                assert lines["status"] == "draft" and lines["draft"]["lines"][0]["quantity"] == 5
                assert netsuite_orders(emulators, f"scc-{lines['transaction_id']}") == []

    for role in ("sales_exec", "sales_manager", "sales_rep", "finance_viewer"):
        asyncio.run(session(role))


def test_metrics_pages_errors_and_the_audit_log_over_http(api, marts):
    scope = scope_for("sales_exec")

    async def session() -> None:
        async with over_http(api, mint(scope)) as client:
            metrics = await call(client, "list_metrics")
            bookings = next(m for m in metrics["metrics"] if m["name"] == "bookings")
            assert bookings["description"]
            dimensions = await call(client, "list_dimensions", metrics=["bookings"])
            territory = next(d for d in dimensions["dimensions"] if d["name"] == "rep__territory")
            assert territory["type"] == "categorical"
            assert any(d["name"] == "metric_time__quarter" for d in dimensions["dimensions"])

            # a large result comes a page at a time, the total stated, the pages adding up to the whole
            expected = [r["order_id"] for r in marts("SELECT order_id FROM marts.fct_orders ORDER BY order_id "
                                                      "LIMIT 120")]
            sql = "SELECT order_id FROM marts.fct_orders ORDER BY order_id LIMIT 120"
            seen, offset = [], 0
            while offset is not None:
                page = await call(client, "run_sql", sql=sql, offset=offset)
                assert page["total_rows"] == 120 and page["returned"] <= 50
                seen += [row[0] for row in page["rows"]]
                offset = page["next_offset"]
            assert seen == expected

            # an answer's long table too: the next page of the same answer, from the conversation
            first = await call(client, "ask", question="show me the orders")
            assert first["returned"] == 50 and first["next_offset"] == 50, first["total_rows"]
            second = await call(client, "ask", question="show me the orders", conversation_id=first["conversation_id"],
                                offset=50)
            assert second["offset"] == 50 and second["rows"] and second["rows"][0] != first["rows"][0]
            assert second["total_rows"] == first["total_rows"] and second["conversation_id"] == first["conversation_id"]

            # refusals and mistakes come back as MCP errors with a plain message
            assert "unknown metric" in await refused(client, "query_metrics", metrics=["no_such_metric"])
            message = await refused(client, "run_sql", sql="DROP TABLE marts.fct_orders")
            assert "read" in message.lower() or "select" in message.lower(), message
            await refused(client, "run_sql", sql="SELECT * FROM read_csv('/etc/passwd')")
            bad = await client.call_tool("get_dashboard", {"tab": "no-such-tab"})
            assert bad.is_error

            resources = {str(r.uri) for r in (await client.list_resources()).resources}
            assert {"scc://marts", "scc://metrics"} <= resources
            document = (await client.read_resource("scc://metrics")).contents[0].text
            assert "`bookings`" in document
            prompts = {p.name for p in (await client.list_prompts()).prompts}
            assert {"weekly_pipeline_review", "account_brief"} <= prompts
            brief = await client.get_prompt("account_brief", {"customer": "Disney"})
            assert "Disney" in brief.messages[0].content.text

    asyncio.run(session())
    from sqlalchemy import create_engine, text

    engine = create_engine(api.database_url)
    with engine.connect() as connection:
        actions = {row[0]: row[1] for row in connection.execute(
            text("SELECT action, detail FROM audit_log WHERE actor = :user AND entity = 'mcp'"), {"user": scope.user})}
    engine.dispose()
    assert {"mcp.list_metrics", "mcp.run_sql", "mcp.query_metrics"} <= set(actions)
    detail = actions["mcp.query_metrics"]
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert detail["transport"] == "http" and detail["outcome"].startswith("failed")


def test_an_unauthenticated_or_forged_request_is_refused(api):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    forged = mint(scope_for("sales_exec"))[:-4] + "AAAA"
    import jwt

    other_key = jwt.encode({"sub": "x@example.com", "role": "sales_exec", "iss": "scc", "iat": 0, "exp": 2**31},
                           "not-the-servers-key-but-just-as-long-as-one", algorithm="HS256")
    with httpx.Client(base_url=api.url, timeout=30, trust_env=False) as client:
        for token in (None, forged, other_key, mint(scope_for("sales_exec"), ttl=-60)):
            sent = {**headers, **({"Authorization": f"Bearer {token}"} if token else {})}
            response = client.post("/mcp", json=body, headers=sent)
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "detail" in response.json()
        valid = {**headers, "Authorization": f"Bearer {mint(scope_for('sales_exec'))}"}
        ok = client.post("/mcp", json=body, headers=valid)
        assert ok.status_code == 200 and "draft_order" in ok.text
        # the same per-user rate limit as every endpoint (SCC_API_RATE_LIMIT, 100 a minute here)
        statuses = [client.post("/mcp", json=body, headers=valid).status_code for _ in range(100)]
        assert statuses.count(429) >= 1 and set(statuses) == {200, 429}, statuses
        limited = client.post("/mcp", json=body, headers=valid)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1

    async def sdk_with_a_forged_token() -> None:
        async with over_http(api, forged) as client:
            await client.list_tools()

    with pytest.raises(BaseException):  # the SDK's client cannot even start a session
        asyncio.run(sdk_with_a_forged_token())


def test_stdio_without_an_identity_says_so_in_one_line(tmp_path):
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "SCC_MCP_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "scc", "mcp"], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "SCC_MCP_TOKEN" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # stdout is the protocol's
