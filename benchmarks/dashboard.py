"""The web dashboard in a real browser: time to first render and to fully loaded, per tab; JS and CSS sent.

For each scale the emulators' company is synced and built into marts, ``scc serve`` runs with two workers and
Redis (as in the API benchmark), and headless Chromium (Debian's, driven by Playwright) opens each tab in a
fresh page, signed in as the executive (who sees everything, so the largest figures):

- first render: the first of the tab's answers drawn (the page's ``scc:<tab>:first-render`` mark);
- fully loaded: every answer of the tab drawn, charts included (``scc:<tab>:ready``);
- both from the start of navigation: cold (the API started with its warm-up off, nothing cached for that
  tab), after start-up as shipped (the API warms the executives' dashboards when it starts: measured once
  that is done), and warm (median of 3 later visits);
- baseline in the same run: the login page (the same page and files, no figures) until it is ready.

JavaScript and CSS sent: every .js and .css the page loads, as sent (gzip) and decoded.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.common import prepare_warehouse, table

TITLE = "Web dashboard in the browser"
TABS = ["overview", "pipeline", "orders", "customers", "products", "assistant"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WARM_RUNS = 3

_MARKS_JS = """tab => {
  const mark = name => performance.getEntriesByName(name)[0]?.startTime ?? null;
  return {first: mark(`scc:${tab}:first-render`), ready: mark(`scc:${tab}:ready`)};
}"""

_BYTES_JS = """() => {
  const entries = performance.getEntriesByType('resource').filter(e => /\\.(js|css)(\\?|$)/.test(e.name));
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    files: entries.length,
    decoded: entries.reduce((n, e) => n + e.decodedBodySize, 0),
    transferred: entries.reduce((n, e) => n + e.encodedBodySize, 0),
    html: nav ? nav.decodedBodySize : 0,
  };
}"""


def _open(browser, url: str, token: str | None, tab: str | None):
    """A fresh page (no cache, its own storage), signed in with ``token``, opened on ``tab``."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    if token:
        context.add_init_script(f"sessionStorage.setItem('scc.token', {token!r})")
    page = context.new_page()
    page.goto(url + "/" + (f"#{tab}" if tab else ""))
    return context, page


def _measure_tab(browser, url: str, token: str, tab: str) -> dict:
    context, page = _open(browser, url, token, tab)
    try:
        page.wait_for_selector(f"#panel-{tab}[data-state=ready]", timeout=120_000)
        marks = page.evaluate(_MARKS_JS, tab)
        return {"first_ms": marks["first"], "ready_ms": marks["ready"]}
    finally:
        context.close()


def _measure_login(browser, url: str) -> float:
    context, page = _open(browser, url, None, None)
    try:
        page.wait_for_selector("body[data-login-ready]", timeout=60_000)
        return page.evaluate("performance.now()")
    finally:
        context.close()


def _measure_bytes(browser, url: str, token: str) -> dict:
    context, page = _open(browser, url, token, "overview")
    try:
        page.wait_for_selector("#panel-overview[data-state=ready]", timeout=120_000)
        for tab in TABS[1:]:  # every module is already loaded up front; visit the tabs all the same
            page.click(f"#tab-{tab}")
            page.wait_for_selector(f"#panel-{tab}[data-state=ready]", timeout=120_000)
        return page.evaluate(_BYTES_JS)
    finally:
        context.close()


def _measure_ask(browser, url: str, token: str, question: str) -> float:
    context, page = _open(browser, url, token, "assistant")
    try:
        page.wait_for_selector("#panel-assistant[data-state=ready]", timeout=60_000)
        page.fill("#chat-input", question)
        started = time.perf_counter()
        page.press("#chat-input", "Enter")
        page.wait_for_selector(".msg.bot[data-intent]:not([aria-busy])", timeout=120_000)
        return (time.perf_counter() - started) * 1000
    finally:
        context.close()


def run_scale(scale: float) -> tuple[list[list], dict, dict]:
    from playwright.sync_api import sync_playwright

    from benchmarks.api import Servers

    settings = prepare_warehouse(scale)
    servers = None
    try:
        servers = Servers(settings.data_dir)
        url = servers.start_api(SCC_API_WARM_DASHBOARDS="false")
        token = servers.token()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                login_ms = statistics.median(_measure_login(browser, url) for _ in range(WARM_RUNS))
                cold = {tab: _measure_tab(browser, url, token, tab) for tab in TABS}
                warm = {tab: [_measure_tab(browser, url, token, tab) for _ in range(WARM_RUNS)] for tab in TABS}
                sent = _measure_bytes(browser, url, token)
                ask_ms = _measure_ask(browser, url, token, "show me pending orders over $100K")
                servers.flush_cache()
                url = servers.start_api()  # as shipped: warms the executives' dashboards at start-up
                warm_up_s = servers.wait_for_warm_up()
                token = servers.token()
                shipped = {tab: _measure_tab(browser, url, token, tab) for tab in TABS}
            finally:
                browser.close()
    finally:
        if servers:
            servers.stop()

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    rows = [[scale, "baseline: login page ready", "", "", f"{login_ms:.0f}", ""]]
    for tab in TABS:
        rows.append([scale, tab, f"{cold[tab]['first_ms']:.0f} / {cold[tab]['ready_ms']:.0f}",
                     f"{shipped[tab]['first_ms']:.0f} / {shipped[tab]['ready_ms']:.0f}",
                     f"{median(warm[tab], 'first_ms'):.0f}", f"{median(warm[tab], 'ready_ms'):.0f}"])
    rows.append([scale, "assistant: ask → answer drawn", "", "", "", f"{ask_ms:.0f}"])
    worst = max(max(shipped[t]["ready_ms"] for t in TABS), max(median(warm[t], "ready_ms") for t in TABS))
    worst_cold = max(cold[t]["ready_ms"] for t in TABS)
    return rows, sent, {"worst_ready_ms": worst, "worst_cold_ms": worst_cold, "cold": cold, "shipped": shipped,
                        "warm": warm, "login_ms": login_ms, "ask_ms": ask_ms, "warm_up_s": warm_up_s}


def run(quick: bool) -> dict:
    scales = [0.1] if quick else [1, 10]
    rows, raw = [], {}
    sent = {}
    for scale in scales:
        scale_rows, sent, info = run_scale(scale)
        rows += scale_rows
        raw[str(scale)] = info
    warm_ups = ", ".join(f"{info['warm_up_s']:.1f} s at scale {key}" for key, info in raw.items())
    body = table(["scale", "tab", "cold, nothing cached: first render / fully loaded (ms)",
                  "first visit after start-up, as shipped (ms)", "warm: first render (ms)", "warm: fully loaded (ms)"],
                 rows)
    total_kib = sent["transferred"] / 1024
    body += (f"\n\nJavaScript and CSS: {sent['files']} files, {sent['decoded'] / 1024:,.0f} KiB decoded, "
             f"{total_kib:,.0f} KiB sent (gzip); the page itself {sent['html'] / 1024:.1f} KiB.\n\n"
             "Headless Chromium on the same machine as the API (2 workers, Redis), one fresh page per measurement, "
             "signed in as the executive; times from the start of navigation. Cold: the first visit of each tab "
             "after the API started with its warm-up off (nothing cached: every figure computed from the marts "
             "while the page waits); as shipped: the first visit after a start-up with the warm-up on, once it "
             f"finished ({warm_ups}); warm: "
             f"median of {WARM_RUNS} later visits (the API's cache warm; the browser's cache empty). Aim: every tab "
             "fully loaded in under 1 s at scale 10, under 400 KB of JavaScript and CSS.")
    last = str(scales[-1])
    summary = (f"scale {last}: slowest tab fully loaded in {raw[last]['worst_ready_ms']:.0f} ms as shipped "
               f"({raw[last]['worst_cold_ms']:.0f} ms with nothing cached) "
               f"(login page {raw[last]['login_ms']:.0f} ms); JS+CSS {sent['decoded'] / 1024:,.0f} KiB "
               f"({total_kib:,.0f} KiB gzip)")
    return {"title": TITLE, "body": body, "summary": summary, "raw": raw}
