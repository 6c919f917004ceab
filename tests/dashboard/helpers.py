"""A dashboard page in the browser, with what the tests check on it: the numbers against the API's own
answers (same endpoint, same token), charts drawn, the console clean, screenshots saved."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from tests.api.fixtures import DEMO_LOGINS

from .formatting import fmt, pick

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}
TABS = ("overview", "pipeline", "orders", "customers", "products", "assistant")
DATA_TABS = TABS[:-1]

# Every [data-src] section of a panel with the [data-field] elements that belong to it.
_SECTIONS_JS = """panel => Array.from(panel.querySelectorAll('[data-src]')).map(section => ({
  src: section.dataset.src,
  fields: Array.from(section.querySelectorAll('[data-field]'))
    .filter(el => el.closest('[data-src]') === section)
    .map(el => ({path: el.dataset.field, kind: el.dataset.format, text: el.textContent, value: el.dataset.value ?? null}))
}))"""

# How many pixels of a canvas are painted (sampled): a drawn chart has thousands, an empty canvas none.
_PAINTED_JS = """canvas => {
  const {width, height} = canvas;
  if (!width || !height) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4 * 5) if (data[i] > 0) painted++;
  return painted;
}"""


class DashboardPage:
    def __init__(self, context, api, artifacts: Path, name: str):
        self.context = context
        self.api = api
        self.artifacts = artifacts
        self.name = name
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self._record("pageerror", str(error), error=True))
        # A request the page gives up on (a reload cutting a download short: net::ERR_ABORTED) is not an error.
        self.page.on("requestfailed", lambda request: self._record(
            "requestfailed", f"{request.method} {request.url}: {request.failure}",
            error="ERR_ABORTED" not in str(request.failure)))
        self.role: str | None = None
        self.page.goto(api.url + "/")

    # --- console ------------------------------------------------------------------------------------
    def _record(self, kind: str, text: str, error: bool = False) -> None:
        line = f"{time.strftime('%H:%M:%S')} [{kind}] {text}"
        self.console.append(line)
        if error:
            self.errors.append(line)

    def _on_console(self, message) -> None:
        location = message.location or {}
        where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})" if location.get("url") else ""
        self._record(message.type, message.text + where, error=message.type == "error")

    def assert_clean_console(self) -> None:
        assert not self.errors, "errors in the browser console:\n" + "\n".join(self.errors)

    def close(self) -> None:
        (self.artifacts / f"{self.name}.console.log").write_text("\n".join(self.console) + "\n")
        self.context.close()

    # --- navigation ---------------------------------------------------------------------------------
    def login(self, role: str) -> None:
        """Sign in through the login page, picking the role's demo login from the list it shows."""
        page = self.page
        page.wait_for_selector("body[data-login-ready]")
        page.click(f"[data-demo-user='{DEMO_LOGINS[role]}']")
        assert page.input_value("#login-user") == DEMO_LOGINS[role]
        page.click("#login-submit")
        page.wait_for_selector("#app-view:not([hidden])")
        self.role = role

    def token(self) -> str:
        return self.page.evaluate("sessionStorage.getItem('scc.token')")

    def client(self):
        """An API client with the page's own token (so its answers are the ones the page got)."""
        return self.api.client(self.token())

    def open_tab(self, tab: str, timeout: float = 30) -> None:
        self.page.click(f"#tab-{tab}")
        self.wait_ready(tab, timeout)

    def wait_ready(self, tab: str, timeout: float = 30) -> None:
        self.page.wait_for_selector(f"#panel-{tab}[data-state=ready], #panel-{tab}[data-state=error]",
                                    timeout=timeout * 1000)
        state = self.page.get_attribute(f"#panel-{tab}", "data-state")
        if state != "ready":
            raise AssertionError(f"the {tab} tab failed to load: {self.page.inner_text(f'#panel-{tab} .state-error')}")

    def wait_js(self, expression: str, timeout: float = 30, what: str | None = None):
        """Poll a JavaScript expression until it is truthy (page.evaluate runs outside the page's Content
        Security Policy, which forbids the eval that page.wait_for_function needs)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.page.evaluate(expression)
            except Exception as error:  # noqa: BLE001 - the page is navigating: look again
                last = error
            if last and not isinstance(last, Exception):
                return last
            self.page.wait_for_timeout(100)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or expression} (last: {last!r})")

    def set_viewport(self, viewport: dict) -> None:
        self.page.set_viewport_size(viewport)
        self.settle()

    def settle(self) -> None:
        """Let the page lay out and charts redraw (two animation frames)."""
        self.page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def screenshot(self, label: str, full_page: bool = True) -> Path:
        path = self.artifacts / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    # --- checks -------------------------------------------------------------------------------------
    def assert_fits(self, where: str) -> None:
        """No horizontal scroll of the page, and no text cut short: a cell, heading, card figure or label
        whose text is wider than its box (ellipsis or hidden overflow), nor a chart wider than its box."""
        problems = self.page.evaluate("""() => {
          const out = [];
          const doc = document.documentElement;
          if (doc.scrollWidth > doc.clientWidth + 1) {
            // the chain of widest boxes from the body down: where the extra width comes from
            const wide = [];
            for (let el = document.body; el && wide.length < 12; ) {
              wide.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}#${el.id}:${el.scrollWidth}/${el.clientWidth}`);
              el = [...el.children].sort((a, b) => b.scrollWidth - a.scrollWidth)[0];
            }
            const placed = [...document.querySelectorAll('*')].filter(el => ['absolute', 'fixed'].includes(getComputedStyle(el).position) && el.getBoundingClientRect().right > doc.clientWidth + 1)
              .map(el => `${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}#${el.id} right ${Math.round(el.getBoundingClientRect().right)}`);
            out.push(`the page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth} (${wide.join(' > ')}; placed: ${placed.join(', ')})`);
          }
          const panel = document.querySelector('[role=tabpanel]:not([hidden])') || document.body;
          for (const el of [...document.querySelectorAll('header *'), ...document.querySelectorAll('nav.tabs [role=tab]'), ...panel.querySelectorAll('td, th, h2, h3, .kpi .value, .kpi .sub, .kpi .what, .badge, button, label')]) {
            if (!el.offsetParent || !el.textContent.trim() || el.closest('.visually-hidden') || el.clientWidth <= 1) continue;  // 1 px: for screen readers
            const style = getComputedStyle(el);
            const clips = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis';
            if (clips && el.scrollWidth > el.clientWidth + 1 && !el.matches('.table-wrap, nav.tabs, [role=tablist]'))
              out.push(`cut: ${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 40)}" ${el.scrollWidth} > ${el.clientWidth}`);
          }
          for (const canvas of panel.querySelectorAll('canvas')) {
            const box = canvas.parentElement.getBoundingClientRect(), c = canvas.getBoundingClientRect();
            if (c.right > box.right + 1 || c.left < box.left - 1) out.push(`chart ${canvas.id} wider than its box`);
          }
          return out;
        }""")
        assert not problems, f"{where}: " + "; ".join(problems[:10])

    def check_numbers(self, tab: str, root: str | None = None) -> int:
        """Every value the tab shows (each [data-field] of each [data-src] section under ``root``, the tab's
        panel by default) is the API's value of that section's endpoint, fetched here with the page's token,
        formatted as the page formats it. Returns how many values were checked."""
        sections = self.page.eval_on_selector(root or f"#panel-{tab}", _SECTIONS_JS)
        answers: dict[str, dict] = {}
        checked = 0
        with self.client() as client:
            for section in sections:
                src = section["src"]
                if src not in answers:
                    response = client.get("/api/v1/" + src)
                    assert response.status_code == 200, (src, response.status_code, response.text[:300])
                    answers[src] = response.json()
                data = answers[src]
                for item in section["fields"]:
                    expected = pick(data, item["path"])
                    shown = fmt(expected, item["kind"])
                    assert item["text"] == shown, (
                        f"{tab}: {src} {item['path']} shows {item['text']!r}, the API's {expected!r} is {shown!r}")
                    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
                        assert item["value"] not in (None, "") and math.isclose(float(item["value"]), expected,
                                                                               rel_tol=0, abs_tol=1e-9), (tab, item)
                    checked += 1
        return checked

    def charts(self, root: str) -> dict[str, int]:
        """Painted pixels (sampled) of every canvas under a selector, by canvas id."""
        return self.page.eval_on_selector_all(
            f"{root} >> canvas", f"canvases => canvases.map((c, i) => [c.id || `canvas-${{i}}`, ({_PAINTED_JS})(c)])")

    def assert_charts_drawn(self, root: str, minimum: int = 1, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            painted = dict(self.charts(root))
            if len(painted) >= minimum and all(n > 200 for n in painted.values()):
                return painted
            if time.monotonic() > deadline:
                raise AssertionError(f"charts under {root} not drawn: {json.dumps(painted)}")
            self.page.wait_for_timeout(100)

    def kpi_value(self, kpi: str) -> float | None:
        value = self.page.get_attribute(f"[data-kpi='{kpi}']", "data-value")
        return float(value) if value not in (None, "") else None
