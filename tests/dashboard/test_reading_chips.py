"""The assistant tab shows how it read a question as chips; removing or changing one asks again without
retyping, and the new answer's figure is the marts' own for the question as changed."""

from __future__ import annotations

from agents.answer import money
from scc.config import today

from .test_dashboard import ask


def test_removing_or_changing_a_chip_asks_again(open_dashboard, marts):
    page = open_dashboard("reading-chips")
    page.login("sales_exec")
    page.open_tab("assistant")

    ask(page, "show me pending orders over $100K")
    reply = page.page.locator(".msg.bot[data-intent]").last
    chips = reply.locator(".reading-chip").all_inner_texts()
    assert any("status pending" in c for c in chips) and any("amount ≥ $100,000" in c for c in chips), chips
    page.screenshot("chips")
    reply.locator(".reading-chip:has-text('amount') [data-remove-chip]").click()
    page.wait_js("document.querySelectorAll('.msg.user').length === 2 && !document.querySelector('.msg.bot[aria-busy]')")
    assert page.page.locator(".msg.user").last.inner_text() == "show me pending orders"
    again = page.page.locator(".msg.bot[data-intent]").last
    assert not again.locator(".reading-chip:has-text('amount')").count()
    (pending,), = [tuple(r.values()) for r in marts("SELECT count(*) AS n FROM marts.fct_orders WHERE status_group = 'pending'")]
    shown = again.get_attribute("data-rows")
    assert int(shown) == min(pending, 1000) or f"{pending:,}" in again.inner_text(), (pending, shown)

    ask(page, "bookings this year")
    reply = page.page.locator(".msg.bot[data-intent]").last
    reply.locator(".reading-chip[data-kind=period] [data-change-chip]").click()
    field = reply.locator(".reading-chip[data-kind=period] input")
    field.fill("last year")
    field.press("Enter")
    page.wait_js("document.querySelectorAll('.msg.user').length === 4 && !document.querySelector('.msg.bot[aria-busy]')")
    assert page.page.locator(".msg.user").last.inner_text() == "bookings last year"
    year = today().year - 1
    (total,), = [tuple(r.values()) for r in marts(
        "SELECT sum(total_amount) AS t FROM marts.fct_orders WHERE status <> 'cancelled' AND order_date BETWEEN ? AND ?",
        [f"{year}-01-01", f"{year}-12-31"])]
    answer = page.page.locator(".msg.bot[data-intent]").last
    assert money(total) in answer.locator(".answer-text").inner_text()
    assert "last year" in answer.locator(".reading-chip[data-kind=period]").inner_text()
    page.assert_clean_console()
