"""Digests: delivered to a real SMTP server (aiosmtpd on a free port), with the chart, the top insights and key
figures equal to the marts' (and, for bookings and the open pipeline, to the emulators' own stores); per scope;
``scc digest --preview``; the Dagster schedules and their job."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
from pydantic import SecretStr

from agents import Scope
from agents.digest import DigestError, build_digest, parse_recipients, periods, send_digests
from agents.insights import compute_insights
from scc.processes import free_port

CEO, REP = "ceo@acme.example", "jo@acme.example"


@pytest.fixture(scope="module")
def disney_rep(planted, marts_reader, planted_company):
    reference = next(s for s in planted_company.stories if s["kind"] == "reference")
    return marts_reader(planted, "SELECT rep_id FROM marts.dim_customers WHERE netsuite_customer_id = ?",
                        [reference["disney"]["netsuite_customer_id"]])[0]["rep_id"]


def smtp_settings(planted, smtp, **more):
    return planted.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none",
                                      "smtp_user": "digest", "smtp_password": SecretStr("secret"),
                                      "smtp_from": "SCC <digest@scc.example>", **more})


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    return text, html, images


def figures_from_marts(read, settings, where: str, params: list, period, today) -> dict:
    (start, end) = period
    orders = read(settings, "SELECT count(*) AS n, coalesce(sum(total_amount), 0) AS v FROM marts.fct_orders "
                  f"WHERE status <> 'cancelled' AND order_date BETWEEN ? AND ? AND {where}", [start, end, *params])[0]
    pipeline = read(settings, f"SELECT coalesce(sum(amount), 0) AS v FROM marts.fct_opportunities WHERE NOT is_closed "
                    f"AND {where}", params)[0]["v"]
    overdue = read(settings, "SELECT coalesce(sum(amount_remaining), 0) AS v FROM marts.fct_invoices "
                   f"WHERE status = 'open' AND days_overdue > 0 AND {where}", params)[0]["v"]
    billings = read(settings, "SELECT coalesce(sum(amount), 0) AS v FROM marts.fct_invoices WHERE invoice_date "
                    f"BETWEEN ? AND ? AND {where}", [start, end, *params])[0]["v"]
    return {"bookings": float(orders["v"]), "orders": orders["n"], "open_pipeline": float(pipeline),
            "overdue_receivables": float(overdue), "billings": float(billings)}


def test_the_digests_reach_a_real_smtp_server_with_the_marts_figures(planted, smtp, marts_reader, planted_company, disney_rep):
    settings = smtp_settings(planted, smtp, digest_recipients=f"{CEO}=sales_exec; {REP}=sales_rep:{disney_rep}")
    result = send_digests("weekly", settings=settings)
    assert sorted(result["sent"]) == sorted([CEO, REP]) and not result["refused"] and result["scopes"] == 2
    assert len(smtp.messages) == 2
    by_to = {m["to"][0]: m for m in smtp.messages}
    assert all(m["from"] == "digest@scc.example" for m in smtp.messages)
    today = planted.today
    period, _ = periods("weekly", today)
    for address, scope, where, params in ((CEO, Scope.all(), "1 = 1", []),
                                          (REP, Scope.rep(disney_rep), "rep_id = ?", [disney_rep])):
        message = by_to[address]["message"]
        assert message["To"] == address  # one message each: no one sees the other recipients
        assert message["Subject"].startswith("Weekly sales digest")
        text, html, images = parts(message)
        # the chart: a PNG, referenced by the HTML through its Content-ID
        assert len(images) == 1 and images[0].get_content().startswith(b"\x89PNG\r\n\x1a\n")
        cid = images[0]["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        # the key figures equal the marts'
        expected = figures_from_marts(marts_reader, planted, where, params, period, today)
        for name, value in expected.items():
            shown = f"{value:,.0f}" if name == "orders" else f"${value:,.0f}"
            assert re.search(rf'data-kpi="{name}">{re.escape(shown)}<', html), (address, name, shown)
        assert f"- Bookings: ${expected['bookings']:,.0f}" in text
        # the top insights of that scope, with their suggested actions
        report = compute_insights(scope, settings=planted)
        top = [i for i in report.insights if i.severity == "high"][:2] or report.insights[:2]
        for insight in top:
            assert insight.headline in text, (address, insight.headline)
            assert insight.id in html
        if scope.role == "sales_rep":
            assert "Disney" in text and all(i.rep_id == disney_rep for i in report.insights)


def test_the_digest_figures_match_the_emulators_own_stores(planted, planted_company):
    digest = build_digest("weekly", Scope.all(), settings=planted)
    (start, end) = digest.period
    with sqlite3.connect(f"file:{planted_company.netsuite_store}?mode=ro", uri=True) as ns:
        bookings, orders = ns.execute(
            "SELECT sum(CAST(round(foreigntotal * 100) AS INTEGER)), count(*) FROM \"transaction\" "
            "WHERE type = 'SalesOrd' AND status <> 'C' AND trandate BETWEEN ? AND ?",
            (start.isoformat(), end.isoformat())).fetchone()
    with sqlite3.connect(f"file:{planted_company.salesforce_store}?mode=ro", uri=True) as sf:
        pipeline = sf.execute('SELECT sum(CAST(round("Amount" * 100) AS INTEGER)) FROM "Opportunity" '
                              'WHERE "IsDeleted" = 0 AND "IsClosed" = 0').fetchone()[0]
    assert round(digest.kpi("bookings").value * 100) == bookings
    assert digest.kpi("orders").value == orders
    assert round(digest.kpi("open_pipeline").value * 100) == pipeline
    assert digest.kind == "weekly" and (end - start).days == 6 and end == planted.today - dt.timedelta(days=1)


def test_a_wrong_password_or_no_server_is_an_error(planted, smtp):
    import smtplib

    with pytest.raises(smtplib.SMTPAuthenticationError):
        send_digests("daily", settings=smtp_settings(planted, smtp, smtp_password=SecretStr("wrong")),
                     recipients=parse_recipients(CEO))
    with pytest.raises(DigestError, match="SCC_SMTP_HOST"):
        send_digests("daily", settings=planted.model_copy(update={"smtp_host": None}),
                     recipients=parse_recipients(CEO))
    assert not smtp.messages


def test_recipients_say_their_role_and_scope():
    found = parse_recipients("a@x.example, b@x.example=sales_manager:Pacific; c@x.example=sales_rep:005X, "
                             "d@x.example=finance_viewer")
    assert [r.scope.key for r in found] == ["sales_exec", "territory:Pacific", "rep:005X", "finance_viewer"]
    for bad in ("not-an-address", "a@x.example=sales_rep", "a@x.example=boss"):
        with pytest.raises(DigestError):
            parse_recipients(bad)


def test_scc_digest_preview_writes_html_with_the_chart_and_text(planted, tmp_path, disney_rep, monkeypatch):
    from typer.testing import CliRunner

    from scc.cli import app
    from scc.config import get_settings

    here = tmp_path / "current-directory"
    here.mkdir()
    monkeypatch.chdir(here)
    result = CliRunner().invoke(app, ["digest", "--preview", "--kind", "daily", "--role", "sales_rep",
                                      "--rep-id", disney_rep])
    assert result.exit_code == 0, result.output
    out = get_settings().data_dir / "digests" / "digest-daily-sales_rep.html"
    assert list(here.iterdir()) == [], "nothing written into the current directory unasked"
    assert str(out) in result.output.replace("\n", ""), "the preview says where it went"
    html = out.read_text()
    assert "data:image/png;base64," in html and "cid:" not in html
    text = out.with_suffix(".txt").read_text()
    assert text.startswith("Daily sales digest") and "KEY FIGURES" in text and f"rep {disney_rep}" in text


def test_the_dagster_schedules_and_their_job_send_the_digest(planted, smtp, monkeypatch):
    from scc.config import reset_settings_cache

    for key, value in {"SCC_SMTP_HOST": "127.0.0.1", "SCC_SMTP_PORT": str(smtp.port), "SCC_SMTP_TLS": "none",
                       "SCC_SMTP_USER": "digest", "SCC_SMTP_PASSWORD": "secret",
                       "SCC_DIGEST_RECIPIENTS": f"{CEO}=sales_exec"}.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    try:
        from dagster import DefaultScheduleStatus

        from dagster_project.digests import daily_digest_job, make_digest_schedules

        schedules = {s.name: s for s in make_digest_schedules()}
        assert schedules["daily_digest_schedule"].cron_schedule == "0 7 * * *"
        assert schedules["weekly_digest_schedule"].cron_schedule == "0 7 * * 1"
        assert all(s.default_status == DefaultScheduleStatus.RUNNING for s in schedules.values())
        assert daily_digest_job.execute_in_process().success
    finally:
        monkeypatch.undo()
        reset_settings_cache()
    assert [m["to"] for m in smtp.messages] == [[CEO]]
    assert smtp.messages[0]["message"]["Subject"].startswith("Daily sales digest")
    from dagster_project.digests import make_digest_schedules

    assert all(s.default_status.value == "STOPPED" for s in make_digest_schedules())  # no SMTP host: stopped


@pytest.fixture
def smtp_starttls(tmp_path):
    """aiosmtpd that insists on STARTTLS before anything else (as SendGrid and SES do), with a certificate of
    the project's own CA for 127.0.0.1."""
    import ssl

    from aiosmtpd.controller import Controller

    from emulators.tls import ensure_tls_files
    from tests.insights.conftest import Mailbox, _Authenticator

    files = ensure_tls_files(tmp_path / "tls")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.server_cert, files.server_key)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=_Authenticator("digest", "secret"),
                            auth_require_tls=True)
    controller.start()
    try:
        mailbox.port, mailbox.ca = controller.port, files.ca_cert
        yield mailbox
    finally:
        controller.stop()


def test_a_digest_goes_over_starttls_and_an_untrusted_certificate_is_refused(planted, smtp_starttls, monkeypatch):
    settings = smtp_settings(planted, smtp_starttls, smtp_tls="starttls", digest_recipients=f"{CEO}=sales_exec")
    with pytest.raises(DigestError, match="TLS"):  # the server's certificate is not one the system trusts
        send_digests("daily", settings=settings)
    assert smtp_starttls.messages == []
    monkeypatch.setenv("SSL_CERT_FILE", str(smtp_starttls.ca))  # now it is (as a company CA would be)
    result = send_digests("daily", settings=settings)
    assert result["sent"] == [CEO] and [m["to"] for m in smtp_starttls.messages] == [[CEO]]
    assert smtp_starttls.messages[0]["tls"], "the message travelled in the clear"


@pytest.mark.parametrize("today, day", [("2026-12-07", "2026-12-04"), ("2026-12-08", "2026-12-07"),
                                        ("2026-12-06", "2026-12-04"), ("2026-12-12", "2026-12-11")])
def test_the_daily_digest_reports_the_last_business_day(today, day):
    (start, end), (before, before_end) = periods("daily", dt.date.fromisoformat(today))
    assert start == end == dt.date.fromisoformat(day) and end.weekday() < 5
    assert before == before_end == end - dt.timedelta(days=7)
