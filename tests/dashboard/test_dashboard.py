"""The web dashboard in headless Chromium, against the real API, Redis, warehouse and emulators.

Gold: the numbers on the page are checked against the API's own answers for the same token (the API's
figures are checked against the marts by the API tests); orders sent to NetSuite are looked up in the
NetSuite emulator's own store.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import time
import uuid

import pytest
import requests

from emulators.server import RunInfo
from scc.config import get_settings
from tests.api.helpers import wait_for
from tests.conftest import TEST_TODAY

from .helpers import DATA_TABS, DESKTOP, PHONE, TABLET, TABS

pytestmark = pytest.mark.slow

ROLES = ("sales_exec", "sales_manager", "sales_rep", "finance_viewer")
CHARTS = {"overview": 1, "pipeline": 3, "orders": 3, "customers": 3, "products": 3}
SEED_SENTENCE = "Create a sales order for Disney, 500 hats, $50 each"


def ask(page, question: str) -> None:
    """Ask the assistant and wait for the answer."""
    before = page.page.locator(".msg.bot[data-intent]").count()
    page.page.fill("#chat-input", question)
    page.page.press("#chat-input", "Enter")
    page.wait_js(
        f"document.querySelectorAll('.msg.bot[data-intent]').length > {before} && "
        "!document.querySelector('.msg.bot[aria-busy]')", timeout=60)


def answer_rows(page, index: int) -> list[dict]:
    """The table of the index-th answer, as {column: text}."""
    return page.page.eval_on_selector_all(
        f".msg.bot[data-intent] >> nth={index} >> .answer-table tbody tr",
        "rows => rows.map(r => Object.fromEntries(Array.from(r.cells).map(c => [c.dataset.column, c.textContent])))")


# --- every role, every tab ----------------------------------------------------------------------------------


def _slipping_deals_in_salesforce(emulators) -> int:
    """Open deals whose close date was ever pushed out while open, read from the Salesforce emulator's store."""
    store = sqlite3.connect(f"file:{emulators.salesforce_store}?mode=ro", uri=True)
    rows = store.execute(
        'SELECT h."OpportunityId", h."StageName", h."CloseDate" FROM "OpportunityHistory" h '
        'JOIN "Opportunity" o ON o."Id" = h."OpportunityId" WHERE o."IsClosed" = 0 AND o."IsDeleted" = 0 '
        'AND h."IsDeleted" = 0 ORDER BY h."OpportunityId", h."CreatedDate", h."Id"').fetchall()
    store.close()
    pushed, previous = set(), {}
    for opportunity, stage, close in rows:
        if opportunity in previous and stage not in ("Closed Won", "Closed Lost") and close > previous[opportunity]:
            pushed.add(opportunity)
        previous[opportunity] = close
    return len(pushed)


def _check_the_cards_say_what_they_measure(page, emulators, role) -> None:
    """Every card says in a line what it measures; comparisons name their window; one card per stretch of
    days; this month is drawn as partial ("to date", against the same days a year before)."""
    from tests.dashboard.formatting import fmt

    with page.client() as client:
        data = client.get("/api/v1/dashboard/overview?period=quarter").json()
    cards = page.page.eval_on_selector_all(
        "#panel-overview .kpi", "cards => cards.map(c => [c.dataset.card, c.querySelector('.what')?.textContent.trim() || ''])")
    assert cards and all(what for _, what in cards), f"cards without a line on what they measure: {cards}"
    ids = [card for card, _ in cards]
    assert "bookings-qtd" in ids and "bookings-period" not in ids, "bookings this quarter and quarter to date: one card"
    window = f"{fmt(data['previous_period']['start'], 'date')} – {fmt(data['previous_period']['end'], 'date')}"
    win_rate = page.page.inner_text('[data-card="win-rate"]')
    assert window in win_rate and "same days of the quarter before" in win_rate, win_rate
    assert window in page.page.inner_text('[data-card="bookings-qtd"]')
    chart = page.page.evaluate("""() => { const c = window.Chart.getChart(document.querySelector('#chart-bookings-trend'));
        return {labels: c.data.labels, last_year: c.data.datasets[1].data}; }""")
    assert chart["labels"][-1].endswith("(to date)") and not chart["labels"][-2].endswith("(to date)"), chart["labels"]
    assert chart["last_year"][-1] == data["metrics"]["bookings_mtd_last_year"]
    if role == "sales_exec":  # the month so far, counted in NetSuite's own store
        start, end = data["windows"]["month_to_date"]["start"], data["windows"]["month_to_date"]["end"]
        store = sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True)
        booked = store.execute("SELECT coalesce(sum(foreigntotal), 0) FROM \"transaction\" WHERE type = 'SalesOrd' "
                               "AND status <> 'C' AND trandate BETWEEN ? AND ?", (start, end)).fetchone()[0]
        store.close()
        assert page.page.inner_text('[data-kpi="bookings-mtd"]') == fmt(round(booked, 2), "money")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_apis_figures_for_its_scope_on_every_tab(open_dashboard, emulators, role):
    page = open_dashboard(f"role-{role}")
    page.login(role)
    with page.client() as client:
        me = client.get("/api/v1/auth/me").json()
    assert me["role"] == role
    badge = page.page.inner_text("#scope-badge")
    assert badge == {"sales_rep": "My book", "sales_manager": f"Territory: {me['territory']}"}.get(role, "All territories")

    checked = {}
    for tab in DATA_TABS:
        page.open_tab(tab)
        checked[tab] = page.check_numbers(tab)
        assert checked[tab] >= 10, (tab, checked[tab])
        page.assert_charts_drawn(f"#panel-{tab}", minimum=CHARTS[tab])
        page.screenshot(f"{tab}-desktop")
        page.assert_fits(f"{tab} at {DESKTOP['width']} px")
        # one money style per table column ($28.3K beside $5.5K, never beside $5,515)
        styles = page.page.eval_on_selector_all(f"#panel-{tab} table", """tables => tables.map(t => {
            const columns = {};
            for (const row of t.tBodies[0]?.rows || []) [...row.cells].forEach((cell, i) => {
              const text = cell.textContent.trim();
              if (/^-?\\$[\\d,.]+[KMB]?$/.test(text)) (columns[i] ||= new Set()).add(/[KMB]$/.test(text) ? text.slice(-1) : text.includes('.') ? 'cents' : 'units');
            });
            return Object.values(columns).map(s => [...s]); })""")
        assert any(table for table in styles) or tab == "overview", f"{tab}: no money column found to check"
        assert all(len(column) == 1 for table in styles for column in table), f"{tab}: money styles {styles}"
        if tab == "pipeline" and role == "sales_exec":
            # the card counts every slipping deal (its own query), not the 10 rows of the list below it
            slipping = _slipping_deals_in_salesforce(emulators)
            assert page.page.inner_text('[data-kpi="slipping"]') == f"{slipping:,}"
            rows = page.page.locator('[data-section="slipping"] tbody tr').count()
            assert rows == min(slipping, 10)
        if tab == "overview":
            _check_the_cards_say_what_they_measure(page, emulators, role)
        if tab == "customers":
            # one health rule that cannot contradict the trend: nobody growing is at risk, Disney (the top
            # customer, up 25%, ordering every few days) least of all
            cells = 'rows => rows.map(r => Array.from(r.cells).map(c => c.textContent.trim()))'
            for row in page.page.eval_on_selector_all('[data-section="attention"] tbody tr', cells):
                name, _, _, change, health, _ = row
                assert not (health == "At risk" and change.startswith("+")), f"{name} is at risk and growing: {row}"
            top = {row[0]: row for row in page.page.eval_on_selector_all('[data-section="top"] tbody tr', cells)}
            if role in ("sales_exec", "sales_rep"):
                assert top["Disney"][5] == "Healthy" and top["Disney"][4].startswith("+"), top["Disney"]
        if tab == "products" and role == "sales_exec":
            # a list cut at 10 says so: "10 of <every item with open orders>", counted in NetSuite's store
            store = sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True)
            items = store.execute(
                "SELECT count(DISTINCT l.item) FROM transactionline l JOIN \"transaction\" t ON t.id = l.\"transaction\" "
                "WHERE t.type = 'SalesOrd' AND t.status IN ('A', 'B', 'D', 'E') AND l.mainline = 'F' "
                "AND l.quantity - coalesce(l.quantityshiprecv, 0) > 0").fetchone()[0]
            store.close()
            assert items > 10, "the test company has more items on open orders than the list shows"
            assert page.page.inner_text('[data-section="stock"] .list-count') == f"10 of {items:,}"
    page.open_tab("assistant")
    voice = page.page.get_attribute("#panel-assistant", "data-voice")
    supported = page.page.evaluate("'SpeechRecognition' in window || 'webkitSpeechRecognition' in window")
    assert voice == ("supported" if supported else "unsupported")
    if supported:
        assert page.page.is_visible("#chat-voice") and page.page.get_attribute("#chat-voice", "aria-label")
    else:
        assert not page.page.is_visible("#chat-voice") and "speech recognition" in page.page.inner_text("#voice-note")
    chips = page.page.locator("#chat-suggestions .chip").all_inner_texts()
    assert any(c.startswith("Create a sales order") for c in chips) == (role != "finance_viewer")
    page.screenshot("assistant-desktop")

    for size, viewport in (("tablet", TABLET), ("phone", PHONE)):
        page.set_viewport(viewport)
        for tab in TABS:
            page.open_tab(tab)
            if tab in CHARTS:
                page.assert_charts_drawn(f"#panel-{tab}", minimum=CHARTS[tab])
            page.screenshot(f"{tab}-{size}")
            page.assert_fits(f"{tab} at {viewport['width']} px")
            if tab == "pipeline":  # the funnel's stage names fit beside it at every size
                fit = page.page.evaluate("""() => { const c = window.Chart.getChart(document.querySelector('#chart-funnel'));
                    const y = c.scales.y, ctx = c.ctx; ctx.save(); ctx.font = `${y.options.ticks.font?.size || 12}px sans-serif`;
                    const widest = Math.max(...y.ticks.map(t => Math.max(...[].concat(t.label).map(l => ctx.measureText(l).width))));
                    ctx.restore(); return {widest, room: y.width, shown: y.ticks.length, stages: c.data.labels.length}; }""")
                assert fit["widest"] <= fit["room"] and fit["shown"] == fit["stages"], f"funnel labels at {viewport['width']} px: {fit}"
        if size == "phone":  # one row of header; the tab bar scrolls sideways to the last tab
            middles = page.page.evaluate("""() => [...document.querySelectorAll('header.topbar > *')]
                .filter(el => el.offsetParent && !el.hidden).map(el => { const r = el.getBoundingClientRect(); return (r.top + r.bottom) / 2; })""")
            assert max(middles) - min(middles) < 12, f"the phone's header takes more than one row: {middles}"
            bar = page.page.evaluate("""() => { const t = document.querySelector('[role=tablist]');
                return {scrolls: t.scrollWidth > t.clientWidth, overflow: getComputedStyle(t).overflowX}; }""")
            assert bar["overflow"] == "auto"
    page.assert_clean_console()


# --- orders: filter, sort, page, detail; keyboard; preferences ------------------------------------------------


def test_the_orders_table_filters_sorts_pages_and_opens_an_order(open_dashboard):
    page = open_dashboard("orders-table")
    page.login("sales_exec")
    page.open_tab("orders")
    table = '[data-section="orders-table"]'

    def list_src() -> str:
        return page.page.get_attribute(table, "data-src") or ""

    page.page.click("button[data-sort=total_amount]")
    page.wait_js(f"document.querySelector('{table}').dataset.src.includes('sort=-total_amount')")
    assert page.page.get_attribute("th:has(button[data-sort=total_amount])", "aria-sort") == "descending"
    page.check_numbers("orders")
    totals = [float(v) for v in page.page.eval_on_selector_all(
        f"{table} [data-field$='.total_amount']", "els => els.map(e => e.dataset.value)")]
    assert len(totals) == 25 and totals == sorted(totals, reverse=True)

    page.page.select_option("#orders-status", "pending")
    page.wait_js(f"document.querySelector('{table}').dataset.src.includes('status_group=pending')")
    page.check_numbers("orders")
    statuses = page.page.locator(f"{table} tbody .badge").all_inner_texts()
    assert statuses and all(s in ("Pending approval", "Pending fulfillment") for s in statuses)

    page.page.select_option("#orders-status", "")
    page.wait_js(f"!document.querySelector('{table}').dataset.src.includes('status_group')")
    first_page = list_src()
    page.page.click("#orders-next")
    page.wait_js(f"document.querySelector('{table}').dataset.src.includes('cursor=')")
    assert page.page.inner_text("#orders-page").startswith("Page 2")
    page.check_numbers("orders")
    page.page.click("#orders-prev")
    page.wait_js(f"document.querySelector('{table}').dataset.src === {json.dumps(first_page)}")

    opener = page.page.locator(f"{table} button[data-order-id]").first
    number = opener.inner_text()
    opener.click()
    page.page.wait_for_selector("#order-dialog[open] #order-dialog-body[data-src^='orders/']")
    assert page.page.inner_text("#order-dialog-title") == f"Order {number}"
    assert page.check_numbers("orders", root="#order-dialog") >= 8
    assert page.page.locator("#order-dialog tbody tr").count() >= 1
    page.screenshot("order-detail", full_page=False)
    page.page.keyboard.press("Escape")
    page.page.wait_for_selector("#order-dialog:not([open])", state="attached")
    assert page.page.evaluate("document.activeElement.dataset.orderId") is not None  # focus back on the order

    # keyboard: arrow keys move between the tabs
    page.page.focus("#tab-orders")
    page.page.keyboard.press("ArrowRight")
    page.wait_ready("customers")
    assert page.page.get_attribute("#tab-customers", "aria-selected") == "true"
    assert page.page.evaluate("document.activeElement.id") == "tab-customers"

    # preferences: the period and the last tab survive a reload
    page.open_tab("overview")
    page.page.select_option("#overview-period", "month")
    page.wait_js(
        "document.querySelector('[data-section=kpis]').dataset.src.endsWith('period=month') && "
        "document.querySelector('#panel-overview').dataset.state === 'ready'")
    page.check_numbers("overview")
    page.open_tab("products")
    page.page.evaluate("location.hash = ''")
    page.page.reload()
    page.wait_ready("products")
    assert page.page.get_attribute("#tab-products", "aria-selected") == "true"
    page.open_tab("overview")
    assert page.page.input_value("#overview-period") == "month"
    page.page.select_option("#overview-period", "quarter")
    page.wait_js("document.querySelector('[data-section=kpis]').dataset.src.endsWith('period=quarter')")
    page.assert_clean_console()


# --- live: a change in NetSuite reaches an open page ------------------------------------------------------------


def _netsuite_auth(emulators):
    return emulators.netsuite_auth()


def _create_netsuite_order(emulators, customer: dict, product: dict, quantity: int) -> dict:
    """A sales order created in the NetSuite emulator through its REST API (as a NetSuite user would)."""
    url = emulators.netsuite_url + "/record/v1/salesOrder"
    payload = {"entity": {"id": str(customer["netsuite_customer_id"])}, "tranDate": TEST_TODAY,
               "memo": "dashboard test: a big order placed in NetSuite",
               "item": {"items": [{"item": {"id": str(product["product_id"])}, "quantity": quantity,
                                   "rate": float(product["list_price"])}]}}
    auth = _netsuite_auth(emulators)
    created = requests.post(url, json=payload, auth=auth, timeout=30)
    assert created.status_code == 204, created.text
    record = requests.get(created.headers["Location"], auth=auth, timeout=30).json()
    return {"id": record["id"], "number": record["tranId"], "total": record["total"],
            "customer_name": customer["customer_name"], "customer_id": customer["customer_id"]}


def _deliver_webhook(api, record_id: str) -> None:
    """The record notification the NetSuite emulator's relay sends, signed the same way."""
    from api.webhook_signature import event_id_of, signed_headers
    from scc.config import get_settings

    event = {"eventId": str(uuid.uuid4()), "recordType": "salesOrder", "recordId": record_id, "action": "create",
             "changedFields": ["status"], "timestamp": f"{TEST_TODAY}T10:00:00Z"}
    raw = json.dumps(event, separators=(",", ":")).encode()
    secret = get_settings().webhook_secret.get_secret_value().encode()
    with api.client() as client:
        response = client.post("/webhooks/netsuite", content=raw, headers={
            "Content-Type": "application/json", **signed_headers(secret, event_id_of("netsuite", event), raw)})
    assert response.status_code == 200 and response.json()["accepted"] == 1, response.text


def _retrying(action, what: str, timeout: float = 120):
    """Run a warehouse writer, again while the API's readers briefly hold the DuckDB file."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except Exception as error:  # a lock held by a reader: try again until the deadline
            if time.monotonic() > deadline or "lock" not in str(error).lower():
                raise AssertionError(f"{what} failed: {error}") from error
            time.sleep(0.5)


def _refresh_like_orchestration(record_ids: list[str]) -> None:
    """What orchestration does with NetSuite's change events: take them, sync NetSuite, rebuild the order
    marts, mark the events done and tell the dashboards (dagster_project.notify.marts_refreshed)."""
    from api.events import claim_change_events, mark_change_events_processed
    from dagster_project.notify import marts_refreshed
    from pipelines.run import sync
    from scc import marts

    events = claim_change_events(limit=1000)
    claimed = {str(r) for e in events for r in e["record_ids"]}
    assert set(record_ids) <= claimed, (record_ids, claimed)
    _retrying(lambda: sync("netsuite"), "scc sync netsuite")
    summary = _retrying(lambda: marts.build(select="+fct_orders +fct_order_lines"), "dbt build of the order marts")
    assert summary.success, summary.as_dict()
    mark_change_events_processed([e["id"] for e in events])
    assert marts_refreshed(["fct_orders", "fct_order_lines"], reason="netsuite sales orders changed")["notified"]


@pytest.fixture(scope="module")
def big_orders(api, marts, emulators):
    """Two pending orders over $100K placed in NetSuite today, once, then synced and built like
    orchestration does. Call it (``big_orders()``) at the moment the change should happen."""
    placed: list[dict] = []

    def place() -> list[dict]:
        if placed:
            return placed
        story_text = json.dumps(emulators.stories).lower()
        customers = [c for c in marts(
            "SELECT customer_id, customer_name, netsuite_customer_id FROM marts.dim_customers "
            "WHERE netsuite_customer_id IS NOT NULL AND health = 'healthy' ORDER BY lifetime_revenue DESC, customer_id")
            if c["customer_name"].lower() not in story_text][:2]
        # not a hat: the draft-order test sells hats, and approval checks NetSuite's stock as it is then
        product = marts("SELECT product_id, list_price FROM marts.dim_products WHERE is_active AND list_price >= 50 "
                        "AND category <> 'Hats' ORDER BY quantity_available DESC, product_id LIMIT 1")[0]
        for customer, target in zip(customers, (150_000, 120_000)):
            placed.append(_create_netsuite_order(emulators, customer, product,
                                                 math.ceil(target / float(product["list_price"]))))
        for order in placed:
            _deliver_webhook(api, order["id"])
        _refresh_like_orchestration([o["id"] for o in placed])
        return placed

    return place


def test_a_change_in_netsuite_reaches_an_open_page_without_a_reload(open_dashboard, big_orders):
    _refresh_like_orchestration([])  # the orders earlier tests placed in NetSuite: in the marts before we count
    page = open_dashboard("live")
    page.login("sales_exec")
    page.open_tab("overview")
    page.wait_js("Number(document.body.dataset.liveMessages || 0) >= 1")  # the snapshot
    assert page.page.get_attribute("#live-status", "data-state") == "live"
    before = {k: page.kpi_value(k) for k in ("orders-today", "pending-orders")}
    page.page.evaluate("window.__sameDocument = true")

    orders = big_orders()

    page.wait_js(
        f"Number(document.querySelector(\"[data-kpi='orders-today']\").dataset.value) === {before['orders-today'] + 2}"
        f" && Number(document.querySelector(\"[data-kpi='pending-orders']\").dataset.value) === {before['pending-orders'] + 2}",
        timeout=60, what="the new figures on the open page")
    assert page.page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    assert "updated" in page.page.inner_text("#live-status")
    page.wait_ready("overview")
    page.screenshot("overview-after-live-change")
    wait_for(lambda: page.check_numbers("overview") > 0, timeout=30, what="the overview to settle on the new figures")

    page.open_tab("orders")  # it was not on screen: it reloads when shown
    page.page.fill("#orders-q", orders[0]["number"])
    page.wait_js(
        f"document.querySelector('[data-section=orders-table]').dataset.src.includes('q={orders[0]['number']}')")
    assert page.page.inner_text('[data-section="orders-table"] tbody').count(orders[0]["number"]) == 1
    page.check_numbers("orders")
    page.assert_clean_console()


def test_the_live_connection_comes_back_by_itself(open_dashboard):
    page = open_dashboard("reconnect")
    sockets = []

    def through(socket):  # the page's WebSocket, passed through to the API, so the test can cut it
        socket.connect_to_server()
        sockets.append(socket)

    page.page.route_web_socket(re.compile(r"/ws/dashboard"), through)
    assert not page.page.is_visible("#demo-speed")
    # the emulators say their live mode runs 40 times faster than real time (what `scc emulators start`
    # publishes with SCC_EMULATOR_LIVE_SPEED=40): the header says so
    run_info = RunInfo.path(get_settings())
    published = run_info.read_text()
    run_info.write_text(json.dumps({**json.loads(published), "live": True, "live_speed": 40.0}))
    try:
        page.login("sales_exec")
        page.wait_js("!document.querySelector('#demo-speed').hidden", what="the demo clock's speed")
    finally:
        run_info.write_text(published)
    assert page.page.inner_text("#demo-speed") == "Demo clock ×40"
    assert "40 times faster than real time" in page.page.get_attribute("#demo-speed", "title")
    page.wait_js("document.querySelector('#live-status').dataset.state === 'live'", what="the live connection")
    page.wait_js("Number(document.body.dataset.liveMessages || 0) >= 1", what="the first snapshot")
    assert len(sockets) == 1
    sockets[0].close(code=1011, reason="the test cut the connection")
    page.wait_js("document.querySelector('#live-status').dataset.state === 'offline'", what="the page noticing")
    assert "retrying" in page.page.inner_text("#live-status").lower()
    page.wait_js("document.querySelector('#live-status').dataset.state === 'live'", timeout=20,
                 what="the page reconnecting by itself")
    assert len(sockets) == 2
    page.wait_js("Number(document.body.dataset.liveMessages || 0) >= 2", what="a snapshot on the new connection")
    page.assert_clean_console()


def test_a_failed_refresh_says_when_the_figures_are_from(open_dashboard):
    """A build that fails publishes nothing: the open page keeps its figures and says since when, and the
    next good publish takes the banner away, both pushed over the live connection."""
    import datetime as dt

    from scc.publish import marts_published, refresh_failed, refresh_status

    page = open_dashboard("refresh-failed")
    page.login("sales_exec")
    page.open_tab("overview")
    page.wait_js("Number(document.body.dataset.liveMessages || 0) >= 1", what="the first snapshot")
    assert not page.page.is_visible("#refresh-banner")
    as_of = dt.datetime.fromisoformat(refresh_status()["figures_as_of"]).astimezone(dt.timezone.utc)
    assert refresh_failed("dbt build failed: test assert_facts_scoped_to_a_rep", by="scc build")
    page.wait_js("!document.querySelector('#refresh-banner').hidden", timeout=20, what="the failed refresh banner")
    text = page.page.inner_text("#refresh-banner")
    clock = as_of.strftime("%I:%M %p")  # the browser's locale (en-US) and time zone (UTC)
    assert text == f"Figures as of {clock}; the latest refresh failed.", text
    assert page.kpi_value("pending-orders") is not None  # the figures stay on screen
    marts_published(["fct_orders"], by="scc build")
    page.wait_js("document.querySelector('#refresh-banner').hidden", timeout=20, what="the banner to go")
    page.assert_clean_console()


def test_the_api_docs_render_with_the_network_cut(open_dashboard, api):
    """/docs (Swagger UI) and /redoc (ReDoc) draw the API's endpoints with nothing but this server: every
    request elsewhere is cut (and recorded), as on a laptop without internet."""
    page = open_dashboard("api-docs")
    origin = api.url.rstrip("/")
    cut: list[str] = []

    def only_this_server(route):
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            cut.append(route.request.url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_this_server)
    page.page.goto(origin + "/docs")
    page.wait_js("document.querySelectorAll('.swagger-ui .opblock').length > 20", what="Swagger UI's endpoints")
    assert "Sales Command Center API" in page.page.inner_text(".swagger-ui .info .title")
    assert page.page.locator(".swagger-ui .opblock-summary-path[data-path='/api/v1/dashboard/overview']").count() == 1
    page.screenshot("docs-swagger")
    page.page.goto(origin + "/redoc")
    page.wait_js("document.querySelectorAll('[data-section-id^=\"tag/\"], [data-section-id^=\"operation/\"]').length > 20",
                 what="ReDoc's operations")
    assert "/api/v1/dashboard/overview" in page.page.inner_text("body")
    page.screenshot("docs-redoc")
    assert cut == [], f"the docs asked the internet for {cut}"
    page.assert_clean_console()


# --- the assistant --------------------------------------------------------------------------------------------------


def test_the_assistant_answers_with_a_table_a_chart_and_its_sql_and_refines_it(open_dashboard, big_orders):
    orders = big_orders()
    page = open_dashboard("assistant")
    page.login("sales_exec")
    page.open_tab("assistant")

    ask(page, "show me pending orders over $100K")
    first = page.page.locator(".msg.bot[data-intent]").nth(0)
    assert first.get_attribute("data-intent").startswith("orders")
    rows = answer_rows(page, 0)
    numbers = {r.get("order_number") for r in rows}
    assert {o["number"] for o in orders} <= numbers, rows
    assert all(r["status"].startswith("Pending") for r in rows)
    page.assert_charts_drawn(".msg.bot[data-intent] >> nth=0", minimum=1)
    with page.client() as client:  # the table is the stored answer's, row for row
        conversation = page.page.evaluate("sessionStorage.getItem('scc.conversation')")
        response = client.get(f"/api/v1/conversations?conversation_id={conversation}")
        assert response.status_code == 200, response.text
        stored = response.json()["items"][0]["answer"]
    assert [r["order_number"] for r in rows] == [row[stored["columns"].index("order_number")] for row in stored["rows"]]

    toggle = first.locator("[data-sql-toggle]")
    assert toggle.get_attribute("aria-expanded") == "false" and not first.locator("pre.sql").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert "fct_orders" in first.locator("pre.sql").inner_text()

    customer = orders[0]["customer_name"]
    ask(page, f"only {customer}")
    second = page.page.locator(".msg.bot[data-intent]").nth(1)
    assert second.get_attribute("data-turn") == "2"
    refined = answer_rows(page, 1)
    assert refined and len(refined) < len(rows), (refined, rows)
    assert all(r["customer_name"] == customer for r in refined)
    assert orders[0]["number"] in {r["order_number"] for r in refined}
    page.assert_charts_drawn(".msg.bot[data-intent] >> nth=1", minimum=1)
    page.screenshot("assistant-answers-desktop")
    page.set_viewport(TABLET)
    page.screenshot("assistant-answers-tablet")
    page.set_viewport(DESKTOP)
    page.assert_clean_console()


def _netsuite_orders(emulators, external_id: str) -> list[dict]:
    with sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True) as store:
        store.row_factory = sqlite3.Row
        orders = [dict(r) for r in store.execute(
            "SELECT id, tranid, entity, foreigntotal FROM \"transaction\" WHERE externalid = ? AND type = 'SalesOrd'",
            (external_id,))]
        for order in orders:
            order["lines"] = [dict(r) for r in store.execute(
                "SELECT item, quantity, rate FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F'",
                (order["id"],))]
    return orders


def test_a_sales_order_from_the_chat_is_edited_approved_and_lands_in_netsuite(open_dashboard, emulators):
    page = open_dashboard("draft-order")
    page.login("sales_rep")
    page.open_tab("assistant")
    ask(page, SEED_SENTENCE)
    card = page.page.locator(".draft-card[data-status=draft]").last
    card.wait_for()
    assert card.locator("[data-customer]").inner_text() == "Disney"
    quantity = card.locator("[data-quantity]")
    assert quantity.input_value() == "500" and card.locator("[data-price]").input_value() == "50"
    assert card.locator("[data-total]").inner_text() == "$25,000.00"
    page.screenshot("draft-card")

    def picker_agrees(card):
        """The product picker offers the choices its check counts: "N other match(es)" and N more options."""
        options = card.locator("[data-product] option").count()
        said = re.search(r"\((\d+) other match", card.locator('[data-check="product"]').inner_text())
        assert options > 1 and said and int(said.group(1)) == options - 1, (options, card.inner_text())

    picker_agrees(card)
    # the other hats offered: the ones Disney has bought most first (its units in NetSuite's own store)
    assert "the ones Disney has bought most first" in card.locator('[data-check="product"]').inner_text()
    offered = [int(v) for v in card.locator("[data-product] option").evaluate_all("os => os.map(o => o.value)")[1:]]
    disney = next(s["netsuite_customer_id"] for s in emulators.stories if s["kind"] == "customer_growth")
    store = sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True)
    units = [store.execute("SELECT coalesce(sum(l.quantity), 0) FROM transactionline l JOIN \"transaction\" t "
                           "ON t.id = l.\"transaction\" WHERE t.type = 'SalesOrd' AND t.status <> 'C' AND t.entity = ? "
                           "AND l.item = ? AND l.mainline = 'F'", (disney, item)).fetchone()[0] for item in offered]
    store.close()
    assert units[0] > 0 and units == sorted(units, reverse=True), list(zip(offered, units))
    assert card.locator('[data-check="customer"]').inner_text() == "customer: Disney"
    assert card.locator('[data-check="credit"]').get_attribute("class") == "ok"
    quantity.fill("600")
    card.locator("[data-action=save]").click()
    page.wait_js(
        "document.querySelector('.draft-card[data-status=draft] [data-total]')?.textContent === '$30,000.00'")
    card = page.page.locator(".draft-card").last
    assert card.locator("[data-quantity]").input_value() == "600"
    picker_agrees(card)  # the picker stays after a save
    transaction_id = card.get_attribute("data-transaction-id")
    card.locator("[data-action=approve]").click()
    result = page.page.locator(".draft-card[data-status=submitted] [data-netsuite-number]")
    result.wait_for(timeout=60_000)
    number = result.get_attribute("data-netsuite-number")
    assert number and number in result.inner_text()

    (order,) = _netsuite_orders(emulators, f"scc-{transaction_id}")
    assert order["tranid"] == number and str(order["id"]) == result.get_attribute("data-netsuite-id")
    assert [(line["quantity"], line["rate"]) for line in order["lines"]] == [(600.0, 50.0)]
    assert math.isclose(order["foreigntotal"], 30000.0)
    # the approved big order is pushed to the rep's open page as a notable event
    page.page.wait_for_selector(f".notice:has-text('Big order'):has-text('{number}')", timeout=30_000)
    page.screenshot("draft-approved")
    # Orders shows it at once, before any sync has brought it into the marts: "submitted, syncing"
    page.open_tab("orders")
    row = page.page.locator(f'#panel-orders tr[data-syncing="{transaction_id}"]')
    row.wait_for(timeout=10_000)
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == number and cells[1] == "Disney" and cells[3] == "Submitted, syncing" and cells[4] == "$30,000.00"
    page.check_numbers("orders")
    page.open_tab("assistant")

    # a customer nobody knows: a search box to find one, and credit "not checked" is never a tick
    ask(page, "Create a sales order for Qwertyuiop Zxcv Industries, 10 hats, $50 each")
    unknown = page.page.locator(".draft-card[data-status=draft]").last
    unknown.locator("[data-customer-query]").wait_for()
    assert unknown.locator('[data-check="credit"]').get_attribute("class") != "ok"
    unknown.locator("[data-customer-query]").fill("Disney")
    unknown.locator("[data-action=save]").click()
    page.wait_js("[...document.querySelectorAll('.draft-card[data-status=draft] [data-customer]')].at(-1)?.textContent === 'Disney'",
                 what="the customer found through the search box")
    assert page.page.locator(".draft-card[data-status=draft]").last.locator('[data-check="credit"]').get_attribute("class") == "ok"

    ask(page, "Create a sales order for Disney, 10 hats, $50 each")
    draft = page.page.locator(".draft-card[data-status=draft]").last
    draft.locator("[data-action=reject]").click()
    page.page.locator(".draft-card[data-status=rejected]").last.wait_for()
    assert "nothing was sent" in page.page.locator(".draft-card[data-status=rejected]").last.inner_text()
    page.assert_clean_console()
