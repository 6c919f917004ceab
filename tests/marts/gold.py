"""Key figures computed straight from the emulators' SQLite stores with their own SQL, without dbt.

This is the independent gold the marts and the semantic layer are checked against (see
shared/reference/testing.md): money in integer cents, counts as integers, keyed the way the marts'
answers are normalised in the tests.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

SALES_ORDER, INVOICE = "SalesOrd", "CustInvc"
CANCELLED = "C"


def _rows(store: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def bookings_by_month(netsuite: Path) -> dict[str, int]:
    """Sales order totals by order month (YYYY-MM), cancelled orders excluded, in cents."""
    return dict(_rows(netsuite, """
        SELECT substr(trandate, 1, 7), sum(CAST(round(foreigntotal * 100) AS INTEGER))
        FROM "transaction" WHERE type = ? AND status <> ? GROUP BY 1
    """, (SALES_ORDER, CANCELLED)))


def win_rate_by_quarter(salesforce: Path) -> dict[str, tuple[int, int]]:
    """(won, closed) of opportunities closed in each quarter (YYYY-Qn, by close date), deleted excluded."""
    rows = _rows(salesforce, """
        SELECT substr("CloseDate", 1, 4) || '-Q' || ((CAST(substr("CloseDate", 6, 2) AS INTEGER) + 2) / 3),
               sum("IsWon"), count(*)
        FROM "Opportunity" WHERE "IsDeleted" = 0 AND "IsClosed" = 1 GROUP BY 1
    """)
    return {quarter: (won, closed) for quarter, won, closed in rows}


def pipeline_by_stage(salesforce: Path) -> dict[str, tuple[int, int]]:
    """(open pipeline, weighted pipeline) of open opportunities by stage, in cents."""
    rows = _rows(salesforce, """
        SELECT "StageName", sum(CAST(round("Amount" * 100) AS INTEGER)),
               sum(CAST(round("Amount" * "Probability") AS INTEGER))
        FROM "Opportunity" WHERE "IsDeleted" = 0 AND "IsClosed" = 0 GROUP BY 1
    """)
    return {stage: (amount, weighted) for stage, amount, weighted in rows}


def open_receivables(netsuite: Path) -> int:
    """Amount still unpaid on open invoices, in cents."""
    return _rows(netsuite, """
        SELECT coalesce(sum(CAST(round(foreignamountunpaid * 100) AS INTEGER)), 0)
        FROM "transaction" WHERE type = ? AND status = 'A'
    """, (INVOICE,))[0][0]


def units_sold_by_category(netsuite: Path) -> dict[str, float]:
    """Units on sales order item lines by item category, cancelled orders excluded."""
    return dict(_rows(netsuite, """
        SELECT i.custitem_scc_category, sum(l.quantity)
        FROM transactionline l
        JOIN "transaction" t ON t.id = l."transaction"
        JOIN item i ON i.id = l.item
        WHERE t.type = ? AND t.status <> ? AND l.mainline = 'F'
        GROUP BY 1
    """, (SALES_ORDER, CANCELLED)))


def days_in_current_stage(salesforce: Path, opportunity_ids: list[str], today: dt.date) -> dict[str, int]:
    """Days since each opportunity entered its current stage: walking its history back from the
    latest row while the stage stays the same."""
    out = {}
    for opportunity_id in opportunity_ids:
        history = _rows(salesforce, """
            SELECT "StageName", "CreatedDate" FROM "OpportunityHistory"
            WHERE "OpportunityId" = ? AND "IsDeleted" = 0 ORDER BY "CreatedDate", "Id"
        """, (opportunity_id,))
        current, entered = history[-1][0], history[-1][1]
        for stage, created in reversed(history):
            if stage != current:
                break
            entered = created
        out[opportunity_id] = (today - dt.date.fromisoformat(entered[:10])).days
    return out


def customer_revenue_windows(netsuite: Path, customer_id: int, today: dt.date) -> tuple[int, int]:
    """(last 90 days, prior 90 days) bookings of one NetSuite customer, in cents."""
    last_start = today - dt.timedelta(days=89)
    prior_start, prior_end = today - dt.timedelta(days=179), today - dt.timedelta(days=90)
    rows = _rows(netsuite, """
        SELECT
          coalesce(sum(CASE WHEN trandate BETWEEN ? AND ? THEN CAST(round(foreigntotal * 100) AS INTEGER) END), 0),
          coalesce(sum(CASE WHEN trandate BETWEEN ? AND ? THEN CAST(round(foreigntotal * 100) AS INTEGER) END), 0)
        FROM "transaction" WHERE type = ? AND status <> ? AND entity = ?
    """, (last_start.isoformat(), today.isoformat(), prior_start.isoformat(), prior_end.isoformat(),
          SALES_ORDER, CANCELLED, customer_id))
    return rows[0]


def cents(value) -> int:
    """A money value from a warehouse (Decimal, float or None) in integer cents."""
    from decimal import ROUND_HALF_UP, Decimal

    if value is None:
        return 0
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def month_key(value) -> str:
    """YYYY-MM of a date, datetime or text."""
    return str(value)[:7]


def quarter_key(value) -> str:
    """YYYY-Qn of a date, datetime or text."""
    text = str(value)
    return f"{text[:4]}-Q{(int(text[5:7]) + 2) // 3}"
