"""A tiny warehouse shaped like the marts contract, for the fast tests of the guard, the scope, the LLM
path and the plugins (the question set runs on the real marts built from the emulators).

Deterministic: two reps in Pacific (West), one in Midwest (Central), one in Northeast (East); Disney
belongs to rep A. A few non-mart tables (a raw schema, a table in ``main``) exist so that tests can
check the guard keeps queries away from them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

REPS = [
    # rep_id, rep_name, email, role, territory, region, manager_id, quarterly_quota
    ("005A", "Alice Adams", "alice@x.example", "Sales Rep", "Pacific", "West", "005M", 100000),
    ("005B", "Bob Brown", "bob@x.example", "Sales Rep", "Pacific", "West", "005M", 120000),
    ("005C", "Carol Clark", "carol@x.example", "Sales Rep", "Midwest", "Central", "005N", 90000),
    ("005D", "Dan Diaz", "dan@x.example", "Sales Rep", "Northeast", "East", "005O", 80000),
]
CUSTOMERS = [
    # customer_id, name, industry, rep
    ("C1", "Disney", "Media & Entertainment", "005A"),
    ("C2", "Harbor Dental Group", "Healthcare", "005A"),
    ("C3", "Pinecrest Foods Inc.", "Food & Beverage", "005B"),
    ("C4", "Lakeside Motors", "Retail", "005C"),
    ("C5", "Granite Bank Corp", "Financial Services", "005D"),
    ("C6", "Summit Schools", "Education", "005D"),
]
PRODUCTS = [
    # product_id, sku, name, category, list_price, min_price, on_hand, available
    ("501", "HAT-0001", "Classic Baseball Cap", "Hats", 12.0, 9.0, 5000, 4000),
    ("502", "HAT-0002", "Premium Leather-Patch Cap", "Hats", 58.0, 43.5, 3000, 2500),
    ("503", "HAT-0003", "Camo Bucket Hat", "Hats", 18.0, 13.0, 800, 100),
    ("504", "DRK-0001", "Matte 20 oz Insulated Tumbler", "Drinkware", 22.0, 16.0, 2000, 50),
    ("505", "APP-0001", "Classic Cotton T-Shirt", "Apparel", 9.0, 6.5, 10000, 9000),
    ("506", "BAG-0001", "Eco Cotton Tote", "Bags", 5.0, 3.5, 7000, 7000),
]
STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost"]
TODAY = dt.date(2026, 5, 20)


def _rep(rep_id):
    return next(r for r in REPS if r[0] == rep_id)


def build(path: Path) -> Path:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA raw_netsuite")
    con.execute("CREATE TABLE main.secrets AS SELECT 'top-secret' AS s")
    con.execute("CREATE TABLE raw_netsuite.customer AS SELECT 1 AS id, 'raw' AS name")
    con.execute("""CREATE TABLE marts.dim_sales_reps (rep_id VARCHAR, rep_name VARCHAR, email VARCHAR, role VARCHAR,
        territory VARCHAR, region VARCHAR, manager_id VARCHAR, quarterly_quota DECIMAL(18,2))""")
    con.executemany("INSERT INTO marts.dim_sales_reps VALUES (?,?,?,?,?,?,?,?)", REPS)
    con.execute("""CREATE TABLE marts.dim_customers (customer_id VARCHAR, customer_name VARCHAR, industry VARCHAR,
        region VARCHAR, territory VARCHAR, rep_id VARCHAR, rep_name VARCHAR, salesforce_account_id VARCHAR,
        netsuite_customer_id VARCHAR, credit_limit DECIMAL(18,2), open_balance DECIMAL(18,2),
        first_order_date DATE, last_order_date DATE, lifetime_revenue DECIMAL(18,2),
        revenue_last_90d DECIMAL(18,2), revenue_prior_90d DECIMAL(18,2), health VARCHAR)""")
    con.execute("""CREATE TABLE marts.dim_products (product_id VARCHAR, sku VARCHAR, product_name VARCHAR,
        category VARCHAR, list_price DECIMAL(18,2), min_price DECIMAL(18,2), quantity_on_hand INTEGER,
        quantity_available INTEGER, is_active BOOLEAN)""")
    con.executemany("INSERT INTO marts.dim_products VALUES (?,?,?,?,?,?,?,?,true)", PRODUCTS)
    con.execute("""CREATE TABLE marts.fct_orders (order_id VARCHAR, order_number VARCHAR, customer_id VARCHAR,
        rep_id VARCHAR, territory VARCHAR, region VARCHAR, order_date DATE, status VARCHAR, status_group VARCHAR,
        total_amount DECIMAL(18,2), fulfillment_pct DOUBLE, days_open INTEGER, source_system VARCHAR,
        external_id VARCHAR)""")
    con.execute("""CREATE TABLE marts.fct_order_lines (order_line_id VARCHAR, order_id VARCHAR, line_number INTEGER,
        product_id VARCHAR, customer_id VARCHAR, rep_id VARCHAR, territory VARCHAR, region VARCHAR, order_date DATE,
        quantity INTEGER, unit_price DECIMAL(18,2), amount DECIMAL(18,2), quantity_fulfilled INTEGER,
        quantity_billed INTEGER)""")
    con.execute("""CREATE TABLE marts.fct_opportunities (opportunity_id VARCHAR, opportunity_name VARCHAR,
        customer_id VARCHAR, rep_id VARCHAR, territory VARCHAR, region VARCHAR, stage VARCHAR,
        forecast_category VARCHAR, amount DECIMAL(18,2), probability DOUBLE, weighted_amount DECIMAL(18,2),
        created_date DATE, close_date DATE, is_closed BOOLEAN, is_won BOOLEAN, stage_entered_at TIMESTAMP,
        days_in_stage INTEGER, is_stalled BOOLEAN, close_date_pushes INTEGER)""")
    con.execute("""CREATE TABLE marts.fct_opportunity_history (opportunity_id VARCHAR, changed_at TIMESTAMP,
        from_stage VARCHAR, to_stage VARCHAR, amount DECIMAL(18,2), close_date DATE, rep_id VARCHAR,
        territory VARCHAR, region VARCHAR)""")
    con.execute("""CREATE TABLE marts.fct_invoices (invoice_id VARCHAR, invoice_number VARCHAR, customer_id VARCHAR,
        order_id VARCHAR, rep_id VARCHAR, territory VARCHAR, region VARCHAR, invoice_date DATE, due_date DATE,
        amount DECIMAL(18,2), amount_remaining DECIMAL(18,2), status VARCHAR, days_overdue INTEGER)""")
    con.execute("""CREATE TABLE marts.fct_activities (activity_id VARCHAR, activity_type VARCHAR, subject VARCHAR,
        customer_id VARCHAR, opportunity_id VARCHAR, rep_id VARCHAR, territory VARCHAR, region VARCHAR,
        activity_date DATE, status VARCHAR)""")

    statuses = [("pending_approval", "pending"), ("pending_fulfillment", "pending"), ("partially_fulfilled", "partial"),
                ("billed", "fulfilled"), ("closed", "fulfilled"), ("cancelled", "cancelled")]
    order_rows, line_rows, invoice_rows, opp_rows, act_rows = [], [], [], [], []
    n = 0
    for ci, (cid, name, industry, rep_id) in enumerate(CUSTOMERS):
        rep = _rep(rep_id)
        total_rev = 0.0
        for k in range(8):
            n += 1
            day = TODAY - dt.timedelta(days=(n * 13) % 200)
            status, group = statuses[(n + ci) % len(statuses)]
            amount = round(1000 + (n * 7919) % 150000, 2)
            if cid == "C1" and k == 0:
                day, status, group, amount = TODAY, "pending_approval", "pending", 125000.0
            oid = f"SO{n:03d}"
            order_rows.append((oid, f"SO-{1000 + n}", cid, rep_id, rep[4], rep[5], day, status, group, amount,
                               1.0 if group == "fulfilled" else 0.0, (TODAY - day).days, "netsuite", None))
            pid, _sku, _pn, _cat, price, *_ = PRODUCTS[n % len(PRODUCTS)]
            qty = max(1, int(amount // price))
            line_rows.append((f"{oid}-1", oid, 1, pid, cid, rep_id, rep[4], rep[5], day, qty, price, amount,
                              qty if group == "fulfilled" else 0, qty if status in ("billed", "closed") else 0))
            if status != "cancelled":
                total_rev += amount
            if status in ("billed", "closed"):
                due = day + dt.timedelta(days=30)
                paid = n % 3 == 0
                invoice_rows.append((f"INV{n:03d}", f"INV-{n}", cid, oid, rep_id, rep[4], rep[5], day, due, amount,
                                     0.0 if paid else amount, "paid" if paid else "open",
                                     max(0, (TODAY - due).days) if not paid else 0))
        for k in range(5):
            n += 1
            stage = STAGES[(n + k) % len(STAGES)]
            closed = stage.startswith("Closed")
            amount = round(5000 + (n * 3571) % 90000, 2)
            prob = {"Prospecting": 10, "Qualification": 10, "Proposal/Price Quote": 75, "Negotiation/Review": 90,
                    "Closed Won": 100, "Closed Lost": 0}[stage]
            close = TODAY + dt.timedelta(days=((n * 17) % 240) - 120)
            opp_rows.append((f"006{n:03d}", f"{name} deal {k}", cid, rep_id, rep[4], rep[5], stage,
                             "Commit" if prob >= 90 else "Pipeline", amount, prob, round(amount * prob / 100, 2),
                             close - dt.timedelta(days=60), close, closed, stage == "Closed Won",
                             dt.datetime.combine(close - dt.timedelta(days=30), dt.time()), 30,
                             stage == "Negotiation/Review" and k % 2 == 0, k % 3))
            act_rows.append((f"00T{n:03d}", "task", "Call: follow up", cid, f"006{n:03d}", rep_id, rep[4], rep[5],
                             TODAY - dt.timedelta(days=k * 9), "Completed"))
        health = ["healthy", "declining", "at_risk", "new", "healthy", "inactive"][ci]
        con.execute("INSERT INTO marts.dim_customers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            cid, name, industry, rep[5], rep[4], rep_id, rep[1], f"001{ci}", f"{ci + 100}", 500000, 20000 * ci,
            TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=ci), total_rev, total_rev / 3,
            total_rev / 2, health))
    con.executemany("INSERT INTO marts.fct_orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", order_rows)
    con.executemany("INSERT INTO marts.fct_order_lines VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", line_rows)
    con.executemany("INSERT INTO marts.fct_invoices VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", invoice_rows)
    con.executemany("INSERT INTO marts.fct_opportunities VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", opp_rows)
    con.executemany("INSERT INTO marts.fct_activities VALUES (?,?,?,?,?,?,?,?,?,?)", act_rows)
    con.execute("""INSERT INTO marts.fct_opportunity_history SELECT opportunity_id, stage_entered_at, 'Prospecting',
        stage, amount, close_date, rep_id, territory, region FROM marts.fct_opportunities""")
    con.close()
    return path


def settings_for(data_dir: Path, **extra):
    """Settings pointing at a synthetic warehouse in ``data_dir`` (the session's own stay untouched)."""
    from scc.config import Settings

    return Settings(**{"data_dir": data_dir, "today": TODAY, "warehouse_url": None, **extra})
