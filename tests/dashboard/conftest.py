"""The dashboard in a real browser: Debian's Chromium driven by Playwright (headless), against the same API
the API tests start (``scc serve`` with two workers and Redis, on a warehouse synced from the emulators and
built by dbt): the fixtures below are those of ``tests/api/conftest.py``, reused.

Every test's screenshots and browser console log go to ``tests/artifacts/dashboard/`` (printed at the end
of the run), so a failure can be looked at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from .helpers import CHROMIUM, CHROMIUM_ARGS, DESKTOP, DashboardPage

ARTIFACTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts" / "dashboard"


def pytest_terminal_summary(terminalreporter):
    if ARTIFACTS.exists() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"dashboard screenshots and browser console logs: {ARTIFACTS}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.iterdir():  # one run's pictures, not a pile-up of every run's
        if old.is_file():
            old.unlink()
    print(f"\ndashboard screenshots and browser console logs: {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium (apt package chromium), headless, started once."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Chromium is not installed; `make test` installs it (apt packages chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                              else shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def fresh_rate_limits(redis_server):
    """Each browser test starts with the demo people's full budget of 100 requests a minute: the API tests
    before them log in as the same people on the same API (the rate limit itself is tested there)."""
    from api.cache import RATE_PREFIX

    client = redis_server.client()
    for key in client.scan_iter(RATE_PREFIX + "*"):
        client.delete(key)


@pytest.fixture
def open_dashboard(browser, api, artifacts, request):
    """Open the dashboard in a fresh browser context (its own storage): ``open_dashboard()`` → DashboardPage.
    Each page's console log is written to the artifacts folder when the test ends."""
    pages: list[DashboardPage] = []
    test_name = re.sub(r"[^\w.-]+", "_", request.node.name)

    def opener(name: str | None = None, viewport=DESKTOP) -> DashboardPage:
        """name: the prefix of this page's screenshots and console log (default: the test's name)."""
        context = browser.new_context(viewport=viewport, locale="en-US", timezone_id="UTC")
        page = DashboardPage(context, api, artifacts, name or (f"{test_name}-{len(pages) + 1}" if pages else test_name))
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()


@pytest.fixture(scope="module", autouse=True)
def warehouse_as_the_stores_are(api, warehouse):
    """The API tests before these write orders (and webhooks move deals) in the emulators: sync and build once
    more, and drop the API's cached dashboards, so that every figure on a page can be checked against the
    emulators' stores as they are now."""
    from api.cache import invalidate_dashboards
    from pipelines.run import sync
    from scc import marts
    from scc.config import reset_settings_cache, temporary_environment
    from scc.warehouse import release_readers

    release_readers()
    for source in ("salesforce", "netsuite"):
        sync(source)
    summary = marts.build()
    assert summary.success, summary.as_dict()
    with temporary_environment({"SCC_REDIS_URL": api.redis_url, "SCC_APP_DATABASE_URL": api.database_url}):
        reset_settings_cache()
        try:
            invalidate_dashboards(reason="dashboard tests: the warehouse was loaded again")
        finally:
            reset_settings_cache()
