"""Executive summaries by e-mail: a daily and a weekly digest per role and scope.

A digest holds the key figures of the period against the period before (bookings, orders, average order
value, deals won, billings; the quarter's win rate, the open pipeline and the overdue receivables as they
stand), a bar chart of bookings (a PNG, embedded in the HTML), and the top insights with their suggested
actions. Every figure is a query over the marts through the agents' guard, with the recipient's scope: a rep's
digest is about their book only.

    from agents import Scope
    from agents.digest import build_digest, send_digest

    digest = build_digest("weekly", Scope.manager("Pacific"))
    digest.subject, digest.text, digest.html, digest.png
    send_digest(digest, ["pacific-lead@acme.com"])     # SMTP settings: SCC_SMTP_*

``send_digests("daily")`` sends one to every recipient of ``SCC_DIGEST_RECIPIENTS`` (what the Dagster
schedules run); ``scc digest --preview`` writes one to a file.
"""

from __future__ import annotations

import base64
import datetime as dt
import html as html_lib
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from agents.insights.model import Evidence, Insight, InsightContext
from agents.scope import Scope, ScopeError

log = logging.getLogger("scc.digest")

KINDS = ("daily", "weekly")
DAY = dt.timedelta(days=1)
SEVERITY_COLORS = {"high": "#dc2626", "medium": "#d97706", "low": "#6b7280"}


class DigestError(RuntimeError):
    """A digest that cannot be built or sent (no SMTP server configured, a bad recipient list...)."""


@dataclass
class Recipient:
    email: str
    scope: Scope

    def __str__(self) -> str:
        return f"{self.email} ({self.scope.key})"


def parse_recipients(text: str) -> list[Recipient]:
    """``email=role[:rep id or territory]``, comma- or semicolon-separated; the role defaults to sales_exec."""
    out = []
    for item in [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]:
        address, _, spec = item.partition("=")
        address = address.strip()
        if "@" not in parseaddr(address)[1]:
            raise DigestError(f"not an e-mail address in the digest recipients: {address!r}")
        role, _, arg = (spec.strip() or "sales_exec").partition(":")
        arg = arg.strip() or None
        try:
            scope = Scope(role.strip(), rep_id=arg if "rep" in role else None,
                          territory=arg if "manager" in role else None)
        except ScopeError as error:
            raise DigestError(f"digest recipient {address}: {error}") from error
        out.append(Recipient(address, scope))
    return out


@dataclass
class Kpi:
    name: str
    label: str
    value: float | None
    previous: float | None = None
    format: str = "money"        # money, count, percent
    note: str = ""

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous in (None, 0):
            return None
        return self.value / self.previous - 1

    def shown(self, value=None) -> str:
        v = self.value if value is None else value
        if v is None:
            return "n/a"
        if self.format == "money":
            return f"${v:,.0f}"
        if self.format == "percent":
            return f"{v * 100:.1f}%"
        return f"{v:,.0f}"

    def change_text(self) -> str:
        if self.format == "percent" and self.value is not None and self.previous is not None:
            return f"{(self.value - self.previous) * 100:+.1f} pts"
        c = self.change
        return "" if c is None else f"{c * 100:+.1f}%"

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "value": self.value, "previous": self.previous,
                "change": self.change, "format": self.format, "note": self.note, "shown": self.shown()}


@dataclass
class Digest:
    kind: str
    scope: Scope
    today: dt.date
    period: tuple[dt.date, dt.date]
    previous: tuple[dt.date, dt.date]
    kpis: list[Kpi]
    insights: list[Insight]
    chart: list[tuple[dt.date, float]]
    png: bytes
    subject: str = ""
    text: str = ""
    html: str = ""                      # refers to the chart as cid:<chart_cid>
    chart_cid: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def kpi(self, name: str) -> Kpi:
        return next(k for k in self.kpis if k.name == name)

    def standalone_html(self) -> str:
        """The HTML with the chart inlined as a data: URI (a file to open in a browser)."""
        data = "data:image/png;base64," + base64.b64encode(self.png).decode()
        return self.html.replace(f"cid:{self.chart_cid}", data)

    def message(self, sender: str, to: list[str]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = sender
        msg["To"] = ", ".join(to)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=(parseaddr(sender)[1].partition("@")[2] or "scc.local"))
        msg["X-SCC-Digest"] = f"{self.kind}; scope={self.scope.key}; today={self.today.isoformat()}"
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        msg.get_payload()[1].add_related(self.png, maintype="image", subtype="png", cid=f"<{self.chart_cid}>",
                                        filename="bookings.png")
        return msg


# --- building ---------------------------------------------------------------------------------------------------


def last_business_day(today: dt.date) -> dt.date:
    """The last working day before ``today``: Friday for a Monday (a weekend has next to no orders)."""
    day = today - DAY
    while day.weekday() >= 5:
        day -= DAY
    return day


def periods(kind: str, today: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """The digest's period (complete days) and the one it is compared with: the last business day against the
    same weekday a week before (daily: on a Monday, Friday against the Friday before, never a Sunday); the last
    7 days against the 7 before (weekly)."""
    if kind not in KINDS:
        raise DigestError(f"a digest is daily or weekly, not {kind!r}")
    if kind == "daily":
        end = last_business_day(today)
        return (end, end), (end - 7 * DAY, end - 7 * DAY)
    end = today - DAY
    return (end - 6 * DAY, end), (end - 13 * DAY, end - 7 * DAY)


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def compute_kpis(ctx: InsightContext, period, previous) -> tuple[list[Kpi], list[Evidence]]:
    d = ctx.date
    (p1s, p1e), (p0s, p0e) = period, previous
    quarter = _quarter_start(ctx.today)
    orders_ev = ctx.run(
        f"SELECT count(*) FILTER (WHERE order_date BETWEEN {d(p1s)} AND {d(p1e)}) AS orders, "
        f"coalesce(sum(total_amount) FILTER (WHERE order_date BETWEEN {d(p1s)} AND {d(p1e)}), 0) AS bookings, "
        f"count(*) FILTER (WHERE order_date BETWEEN {d(p0s)} AND {d(p0e)}) AS previous_orders, "
        f"coalesce(sum(total_amount) FILTER (WHERE order_date BETWEEN {d(p0s)} AND {d(p0e)}), 0) AS previous_bookings "
        f"FROM marts.fct_orders WHERE status <> 'cancelled' AND order_date BETWEEN {d(min(p0s, p1s))} AND {d(p1e)}",
        title="Bookings and orders (cancelled excluded)")
    deals_ev = ctx.run(
        f"SELECT count(*) FILTER (WHERE is_won AND close_date BETWEEN {d(p1s)} AND {d(p1e)}) AS won_deals, "
        f"coalesce(sum(amount) FILTER (WHERE is_won AND close_date BETWEEN {d(p1s)} AND {d(p1e)}), 0) AS won_amount, "
        f"coalesce(sum(amount) FILTER (WHERE is_won AND close_date BETWEEN {d(p0s)} AND {d(p0e)}), 0) "
        "AS previous_won_amount, "
        f"count(*) FILTER (WHERE is_closed AND close_date BETWEEN {d(quarter)} AND {d(ctx.today)}) AS closed_qtd, "
        f"count(*) FILTER (WHERE is_won AND close_date BETWEEN {d(quarter)} AND {d(ctx.today)}) AS won_qtd, "
        "coalesce(sum(amount) FILTER (WHERE is_open), 0) AS open_pipeline FROM marts.fct_opportunities",
        title="Deals won, the quarter's win rate, open pipeline")
    invoices_ev = ctx.run(
        f"SELECT coalesce(sum(amount) FILTER (WHERE invoice_date BETWEEN {d(p1s)} AND {d(p1e)}), 0) AS billings, "
        f"coalesce(sum(amount) FILTER (WHERE invoice_date BETWEEN {d(p0s)} AND {d(p0e)}), 0) AS previous_billings, "
        "coalesce(sum(amount_remaining) FILTER (WHERE status = 'open' AND days_overdue > 0), 0) AS overdue "
        "FROM marts.fct_invoices", title="Billings and overdue receivables")
    orders, deals, invoices = orders_ev.first(), deals_ev.first(), invoices_ev.first()
    f = lambda v: None if v is None else float(v)  # noqa: E731
    orders_n, prev_n = f(orders.get("orders")), f(orders.get("previous_orders"))
    bookings, prev_bookings = f(orders.get("bookings")), f(orders.get("previous_bookings"))
    closed_qtd, won_qtd = f(deals.get("closed_qtd")) or 0, f(deals.get("won_qtd")) or 0
    kpis = [
        Kpi("bookings", "Bookings", bookings, prev_bookings),
        Kpi("orders", "Orders", orders_n, prev_n, "count"),
        Kpi("average_order_value", "Average order value", bookings / orders_n if orders_n else None,
            prev_bookings / prev_n if prev_n else None),
        Kpi("won_amount", "Deals won", f(deals.get("won_amount")), f(deals.get("previous_won_amount")),
            note=f"{int(deals.get('won_deals') or 0)} deal{'' if int(deals.get('won_deals') or 0) == 1 else 's'}"),
        Kpi("billings", "Billings", f(invoices.get("billings")), f(invoices.get("previous_billings"))),
        Kpi("win_rate_qtd", "Win rate, quarter to date", won_qtd / closed_qtd if closed_qtd else None, None, "percent",
            note=f"{int(won_qtd)} of {int(closed_qtd)} closed deals"),
        Kpi("open_pipeline", "Open pipeline", f(deals.get("open_pipeline")), None, note="as it stands"),
        Kpi("overdue_receivables", "Overdue receivables", f(invoices.get("overdue")), None, note="as it stands"),
    ]
    return kpis, [orders_ev, deals_ev, invoices_ev]


def build_digest(kind: str = "daily", scope: Scope | None = None, *, settings=None, today: dt.date | None = None,
                 report=None) -> Digest:
    """The digest of ``kind`` for ``scope`` (figures and insights within it)."""
    from agents.catalog import get_catalog
    from agents.insights import compute_insights
    from agents.insights.png import bar_chart
    from scc.config import get_settings
    from scc.config import today as clock

    settings = settings or get_settings()
    scope = scope or Scope.all()
    today = today or settings.today or clock()
    period, previous = periods(kind, today)
    ctx = InsightContext(scope=scope, settings=settings, catalog=get_catalog(settings), today=today)
    kpis, evidence = compute_kpis(ctx, period, previous)
    report = report or compute_insights(scope, settings=settings, today=today)
    insights = pick_insights(report.insights, settings.digest_top_insights)
    # the chart: bookings per day over the last 30 days (daily) or per week over the last 12 weeks (weekly)
    end = period[1]
    start = end - (29 * DAY if kind == "daily" else 83 * DAY)
    series = ctx.run(
        f"SELECT order_date AS day, sum(total_amount) AS bookings FROM marts.fct_orders WHERE status <> 'cancelled' "
        f"AND order_date BETWEEN {ctx.date(start)} AND {ctx.date(end)} GROUP BY order_date ORDER BY order_date",
        title="Bookings per day", max_rows=200)
    by_day = {(r[0].date() if isinstance(r[0], dt.datetime) else r[0]): float(r[1] or 0) for r in series.rows}
    if kind == "daily":
        chart = [(start + i * DAY, by_day.get(start + i * DAY, 0.0)) for i in range(30)]
        labels = [day.strftime("%m-%d") for day, _ in chart]
        highlight = {len(chart) - 1}
        title = "Bookings per day, last 30 days"
    else:
        chart = [(start + 7 * w * DAY, sum(by_day.get(start + (7 * w + i) * DAY, 0.0) for i in range(7)))
                 for w in range(12)]
        labels = [day.strftime("%m-%d") for day, _ in chart]
        highlight = {len(chart) - 1}
        title = "Bookings per week, last 12 weeks"
    png = bar_chart([v for _, v in chart], labels, title=title, highlight=highlight)
    digest = Digest(kind=kind, scope=scope, today=today, period=period, previous=previous, kpis=kpis,
                    insights=insights, chart=chart, png=png, evidence=[series, *evidence], errors=dict(report.errors),
                    chart_cid=make_msgid(domain="scc.digest")[1:-1])
    digest.subject = _subject(digest, report)
    digest.text = render_text(digest, report)
    digest.html = render_html(digest, report)
    return digest


def pick_insights(insights: list[Insight], n: int, per_kind: int = 2) -> list[Insight]:
    """The ``n`` most severe insights, at most ``per_kind`` of one kind while others are left (three stalled
    deals should not push the anomaly and the stock-out out of the e-mail), in rank order."""
    chosen, seen = [], {}
    for insight in insights:
        if len(chosen) < n and seen.get(insight.kind, 0) < per_kind:
            chosen.append(insight)
            seen[insight.kind] = seen.get(insight.kind, 0) + 1
    for insight in insights:
        if len(chosen) >= n:
            break
        if insight not in chosen:
            chosen.append(insight)
    return sorted(chosen, key=lambda i: i.rank)


def _audience(scope: Scope) -> str:
    if scope.role == "sales_rep":
        return f"your book (rep {scope.rep_id})"
    if scope.role == "sales_manager":
        return f"the {scope.territory} territory"
    return "the whole company"


def _period_text(d: Digest) -> str:
    a, b = d.period
    if a == b:
        return a.strftime("%A %d %B %Y")
    return f"{a.strftime('%d %b')} to {b.strftime('%d %b %Y')}"


def _subject(d: Digest, report) -> str:
    b = d.kpi("bookings")
    high = sum(1 for i in report.insights if i.severity == "high")
    change = f" ({b.change_text()})" if b.change_text() else ""
    alerts = f", {high} high-severity insight{'s' if high != 1 else ''}" if high else ""
    return f"{d.kind.capitalize()} sales digest, {_period_text(d)}: bookings {b.shown()}{change}{alerts}"


def _comparison(d: Digest) -> str:
    return "the same day a week before" if d.kind == "daily" else "the 7 days before"


def render_text(d: Digest, report) -> str:
    lines = [d.subject, "", f"For {_audience(d.scope)}. Figures from the marts as of {d.today.isoformat()}; "
             f"changes against {_comparison(d)}.", "", "KEY FIGURES"]
    for k in d.kpis:
        extra = ", ".join(x for x in (k.change_text(), k.note) if x)
        lines.append(f"- {k.label}: {k.shown()}" + (f" ({extra})" if extra else ""))
    lines += ["", "WHAT NEEDS ATTENTION" if d.insights else "NOTHING STANDS OUT RIGHT NOW"]
    for n, i in enumerate(d.insights, 1):
        lines.append(f"{n}. [{i.severity.upper()}] {i.headline}")
        if i.narrative and i.narrative.rstrip(".") != i.headline:
            lines.append(f"   {i.narrative}")
        lines.append(f"   Suggested: {i.action}")
    counts = report.counts()
    lines += ["", f"{len(report.insights)} insights in all ({counts['high']} high, {counts['medium']} medium, "
              f"{counts['low']} low): GET /api/v1/insights or the dashboard's Overview."]
    lines += ["", "Bookings: " + ", ".join(f"{day.strftime('%m-%d')} ${v:,.0f}" for day, v in d.chart[-7:])]
    return "\n".join(lines) + "\n"


def render_html(d: Digest, report) -> str:
    e = html_lib.escape
    rows = []
    for k in d.kpis:
        change = k.change_text()
        color = "#6b7280"
        if change.startswith("+"):
            color = "#15803d" if k.name != "overdue_receivables" else "#dc2626"
        elif change.startswith("-"):
            color = "#dc2626" if k.name != "overdue_receivables" else "#15803d"
        rows.append(
            f'<tr><td style="padding:6px 12px;color:#374151">{e(k.label)}</td>'
            f'<td style="padding:6px 12px;text-align:right;font-weight:600" data-kpi="{e(k.name)}">{e(k.shown())}</td>'
            f'<td style="padding:6px 12px;text-align:right;color:{color}">{e(change)}</td>'
            f'<td style="padding:6px 12px;color:#6b7280">{e(k.note)}</td></tr>')
    items = []
    for i in d.insights:
        narrative = i.narrative if i.narrative and i.narrative.rstrip(".") != i.headline else ""
        items.append(
            f'<li style="margin:0 0 12px 0" data-insight="{e(i.id)}">'
            f'<span style="display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-size:11px;'
            f'background:{SEVERITY_COLORS[i.severity]}">{e(i.severity.upper())}</span> '
            f'<strong>{e(i.headline)}</strong>'
            + (f'<br><span style="color:#374151">{e(narrative)}</span>' if narrative else "")
            + f'<br><span style="color:#6b7280">Suggested: {e(i.action)}</span></li>')
    counts = report.counts()
    chart_title = "Bookings per day, last 30 days" if d.kind == "daily" else "Bookings per week, last 12 weeks"
    insights_html = (f'<ol style="padding-left:20px">{"".join(items)}</ol>' if items
                     else "<p>Nothing stands out right now.</p>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(d.subject)}</title></head>
<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#111827;max-width:680px;margin:0 auto;padding:16px">
<h1 style="font-size:20px;margin:0 0 4px 0">{e(d.kind.capitalize())} sales digest</h1>
<p style="color:#6b7280;margin:0 0 16px 0">{e(_period_text(d))}, for {e(_audience(d.scope))}.
Figures from the marts as of {e(d.today.isoformat())}; changes against {e(_comparison(d))}.</p>
<table style="border-collapse:collapse;width:100%;border:1px solid #e5e7eb">{"".join(rows)}</table>
<p><img src="cid:{d.chart_cid}" alt="{e(chart_title)}" width="600" height="220" style="max-width:100%"></p>
<h2 style="font-size:16px">What needs attention</h2>
{insights_html}
<p style="color:#6b7280;font-size:12px">{len(report.insights)} insights in all ({counts['high']} high,
{counts['medium']} medium, {counts['low']} low), each with its evidence (the query and its rows) in the
dashboard's Overview and at GET /api/v1/insights.</p>
</body></html>
"""


# --- sending ------------------------------------------------------------------------------------------------------


def _smtp(settings):
    if not settings.smtp_host:
        raise DigestError("no SMTP server: set SCC_SMTP_HOST (and SCC_SMTP_PORT, SCC_SMTP_USER, SCC_SMTP_PASSWORD)")
    mode = (settings.smtp_tls or "none").lower()
    if mode not in ("none", "starttls", "ssl"):
        raise DigestError(f"SCC_SMTP_TLS must be none, starttls or ssl, not {settings.smtp_tls!r}")
    context = ssl.create_default_context()
    if mode == "ssl":
        server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout,
                                  context=context)
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    try:
        server.ehlo()
        if mode == "starttls":
            try:
                server.starttls(context=context)
            except ssl.SSLError as error:
                raise DigestError(f"no TLS with the SMTP server {settings.smtp_host}:{settings.smtp_port}: {error}") from error
            server.ehlo()
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            server.login(settings.smtp_user, password)
    except BaseException:
        server.close()
        raise
    return server


def send_digest(digest: Digest, to: list[str], *, settings=None, server=None) -> dict:
    """Send ``digest`` to the addresses ``to`` (one message each, so no one sees the others)."""
    from scc.config import get_settings

    settings = settings or get_settings()
    own = server is None
    server = server or _smtp(settings)
    sent, refused, stored = [], {}, []
    try:
        for address in to:
            message = digest.message(settings.smtp_from, [address])
            try:
                rejected = server.send_message(message)
            except smtplib.SMTPException as error:
                refused[address] = f"{type(error).__name__}: {error}"
                continue
            if rejected:
                refused[address] = str(rejected)
            else:
                sent.append(address)
                key = store_sent(digest, message, address, settings)
                if key:
                    stored.append(key)
    finally:
        if own:
            try:
                server.quit()
            except smtplib.SMTPException:
                server.close()
    return {"sent": sent, "refused": refused, "stored": stored}


def store_sent(digest: Digest, message: EmailMessage, address: str, settings) -> str | None:
    """Keep a sent digest in document storage (``digests/<day>/<scope>/<kind>-<recipient>.eml``), readable
    through the API by its scope; a store that fails is logged, the digest stays sent."""
    from scc.storage import StorageError, get_storage, scope_segment, slug

    segment = scope_segment(digest.scope.role, digest.scope.rep_id, digest.scope.territory)
    key = f"digests/{digest.today.isoformat()}/{segment}/{digest.kind}-{slug(address)}.eml"
    try:
        get_storage(settings).put(key, message.as_bytes())
    except StorageError as error:
        log.error("the %s digest sent to %s was not stored: %s", digest.kind, address, error)
        return None
    return key


def send_digests(kind: str = "daily", *, settings=None, recipients: list[Recipient] | None = None) -> dict:
    """Build and send the ``kind`` digest to every recipient (``SCC_DIGEST_RECIPIENTS``), each with the digest
    of their own scope (one build per scope)."""
    from scc.config import get_settings

    started = time.perf_counter()
    settings = settings or get_settings()
    recipients = parse_recipients(settings.digest_recipients) if recipients is None else recipients
    if not recipients:
        return {"kind": kind, "sent": [], "refused": {}, "scopes": 0, "seconds": 0.0,
                "note": "no recipients (SCC_DIGEST_RECIPIENTS)"}
    by_scope: dict[str, list[Recipient]] = {}
    for r in recipients:
        by_scope.setdefault(r.scope.key, []).append(r)
    if not settings.smtp_host:
        raise DigestError("no SMTP server: set SCC_SMTP_HOST (and SCC_SMTP_PORT, SCC_SMTP_USER, SCC_SMTP_PASSWORD)")
    # build everything first, so the SMTP connection is not left idle while the marts are read
    built = [(build_digest(kind, group[0].scope, settings=settings), group) for group in by_scope.values()]
    sent, refused, stored = [], {}, []
    server = _smtp(settings)
    try:
        for digest, group in built:
            outcome = send_digest(digest, [r.email for r in group], settings=settings, server=server)
            sent += outcome["sent"]
            refused.update(outcome["refused"])
            stored += outcome["stored"]
    finally:
        try:
            server.quit()
        except smtplib.SMTPException:
            server.close()
    log.info("%s digest: sent to %d, refused %d", kind, len(sent), len(refused))
    return {"kind": kind, "sent": sent, "refused": refused, "stored": stored, "scopes": len(by_scope),
            "seconds": round(time.perf_counter() - started, 3)}


def preview(kind: str, scope: Scope, out: Path, *, settings=None) -> tuple[Path, Path, Digest]:
    """Write the digest to ``out`` (HTML with the chart inlined) and its plain text next to it (``.txt``)."""
    digest = build_digest(kind, scope, settings=settings)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(digest.standalone_html())
    text_path = out.with_suffix(".txt")
    text_path.write_text(digest.text)
    return out, text_path, digest


__all__ = ["Digest", "DigestError", "Kpi", "Recipient", "build_digest", "compute_kpis", "parse_recipients", "periods",
           "preview", "send_digest", "send_digests"]
