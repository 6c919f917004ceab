"""A draft an outside assistant made through the MCP server is approved by a person in the dashboard: the
review link the tool hands out opens the draft in the assistant tab, and approving it there makes exactly one
NetSuite order (the MCP server itself cannot submit)."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor

from tests.api.test_mcp import call, over_http


def test_an_mcp_draft_is_reviewed_and_approved_in_the_dashboard(open_dashboard, api, emulators):
    token = api.login("sales_rep")  # Disney's rep: the customer is in their book

    async def draft() -> dict:
        async with over_http(api, token) as client:
            return await call(client, "draft_order", sentence="Disney, 12 hats at $50 each")

    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
        made = thread.submit(lambda: asyncio.run(draft())).result()
    assert made["status"] == "draft" and made["valid"], made["checks"]
    link = made["review_url"]
    assert link.endswith(f"/#assistant?draft={made['transaction_id']}")

    page = open_dashboard("mcp-review")
    page.page.goto(api.url + link[link.index("/#"):])  # the link as the assistant showed it, then the sign-in
    page.login("sales_rep")
    card = page.page.locator(f".draft-card[data-transaction-id='{made['transaction_id']}'][data-status=draft]")
    card.wait_for(timeout=30_000)
    assert card.locator("[data-customer]").inner_text() == "Disney"
    assert card.locator("[data-quantity]").input_value() == "12"
    page.screenshot("draft-from-mcp")
    with sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True) as store:
        before = store.execute("SELECT count(*) FROM \"transaction\" WHERE externalid = ?",
                               (f"scc-{made['transaction_id']}",)).fetchone()[0]
    assert before == 0  # drafting sent nothing

    card.locator("[data-action=approve]").click()
    result = page.page.locator(f".draft-card[data-transaction-id='{made['transaction_id']}'] [data-netsuite-number]")
    result.wait_for(timeout=60_000)
    with sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True) as store:
        orders = store.execute("SELECT tranid, foreigntotal FROM \"transaction\" WHERE externalid = ? AND type = 'SalesOrd'",
                               (f"scc-{made['transaction_id']}",)).fetchall()
    assert orders == [(result.get_attribute("data-netsuite-number"), 600.0)]
    page.assert_clean_console()
