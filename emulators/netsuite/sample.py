"""A small, seeded NetSuite store for the emulator's own tests and benchmarks.

Not the demo company (that is ``emulators.demo_company``); just enough consistent rows of every table:
locations, employees, customers, items with stock per location, sales orders with lines, and invoices
for the billed ones.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from emulators.schema import create_netsuite_store

_STATUSES = ("A", "B", "B", "B", "D", "E", "F", "G", "G", "G", "H")


def fill_sample_store(
    path: Path,
    *,
    orders: int = 3000,
    customers: int = 300,
    items: int = 120,
    locations: int = 4,
    seed: int = 7,
    today: dt.date | None = None,
) -> Path:
    """Create ``path`` with ``orders`` sales orders (about 4.5 lines each) and their invoices."""
    rng = random.Random(seed)
    today = today or dt.date(2024, 6, 30)
    start = today - dt.timedelta(days=540)
    conn = create_netsuite_store(path)
    conn.execute("BEGIN")

    def stamp(day: dt.date, seconds: int) -> str:
        return (dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)).strftime(
            "%Y-%m-%d %H:%M:%S"
        )

    base = stamp(start, 0)
    conn.executemany(
        "INSERT INTO location VALUES (?, ?, 'F', ?)",
        [(i, f"Warehouse {i}", base) for i in range(1, locations + 1)],
    )
    reps = []
    for i in range(1, 21):
        reps.append(
            (
                i,
                f"Rep {i:02d}",
                f"First{i}",
                f"Last{i}",
                f"rep{i}@example.com",
                "T" if i > 2 else "F",
                "F",
                f"005000000000{i:03d}AAA",
                base,
                base,
            )
        )
    conn.executemany("INSERT INTO employee VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", reps)
    cust_rows = []
    for i in range(1, customers + 1):
        cid = 1000 + i
        cust_rows.append(
            (
                cid,
                f"CUST{cid}",
                f"Customer {i} Inc",
                f"ap{i}@customer.example",
                "555-0100",
                rng.randint(3, 20),
                50000.0,
                0.0,
                rng.choice(["Net 30", "Net 45", "Net 15"]),
                rng.choice(["Enterprise", "Mid-Market", "SMB"]),
                "F" if i % 50 else "T",
                f"001000000000{i:03d}AAA",
                base,
                stamp(start, i),
            )
        )
    conn.executemany("INSERT INTO customer VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", cust_rows)
    item_rows, prices = [], {}
    for i in range(1, items + 1):
        iid = 5000 + i
        price = round(rng.uniform(5, 900), 2)
        prices[iid] = price
        item_rows.append(
            (
                iid,
                f"SKU-{i:04d}",
                f"Product {i}",
                f"Product {i} description",
                "InvtPart" if i % 10 else "NonInvtPart",
                rng.choice(["Hardware", "Software", "Services"]),
                price,
                round(price * 0.8, 2),
                round(price * 0.5, 2),
                "F",
                f"ITEM-{i}",
                base,
                stamp(start, i),
            )
        )
    conn.executemany("INSERT INTO item VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", item_rows)
    stock = {}
    for iid in prices:
        if (iid - 5000) % 10 == 0:
            continue
        for loc in range(1, locations + 1):
            stock[(iid, loc)] = [float(rng.randint(0, 500)), 0.0, 0.0]  # onhand, committed, backordered
    tx_rows, line_rows = [], []
    next_tx, next_key, next_inv = 1, 1, 1
    for n in range(orders):
        day = start + dt.timedelta(days=int(540 * n / max(1, orders)))
        created = stamp(day, rng.randint(0, 86399))
        status = rng.choice(_STATUSES)
        entity = 1000 + rng.randint(1, customers)
        oid = next_tx
        next_tx += 1
        lines, total = [], 0.0
        loc = rng.randint(1, locations)
        for ln in range(1, rng.randint(1, 8) + 1):
            iid = rng.choice(list(prices))
            qty = float(rng.randint(1, 20))
            rate = prices[iid]
            amount = round(qty * rate, 2)
            total += amount
            shipped = {"A": 0, "B": 0, "C": 0, "D": qty // 2, "E": qty // 2, "F": qty, "G": qty, "H": qty}[
                status
            ]
            billed = {"E": shipped // 2 if shipped > 1 else 0, "G": qty}.get(status, 0.0)
            if status == "E" and billed >= shipped:
                billed = 0.0
            lines.append([iid, loc, qty, rate, amount, float(shipped), float(billed)])
            if status in ("B", "D", "E", "F") and (iid, loc) in stock:
                entry = stock[(iid, loc)]
                commit = min(qty - shipped, max(0.0, entry[0] - entry[1]))
                entry[1] += commit
                entry[2] += qty - shipped - commit
        total = round(total, 2)
        modified = stamp(day, rng.randint(86400, 86400 * 20))
        tx_rows.append(
            (
                oid,
                f"SO{1000 + n + 1}",
                "SalesOrd",
                entity,
                rng.randint(3, 20),
                day.isoformat(),
                None,
                status,
                total,
                None,
                None,
                f"Order {n + 1}",
                f"006000000{n + 1:06d}AAA" if n % 3 else None,
                "Web Services",
                created,
                modified,
            )
        )
        line_rows.append((next_key, oid, 0, 0, "T", None, loc, None, None, total, None, None, "F", modified))
        next_key += 1
        for ln, (iid, lloc, qty, rate, amount, shipped, billed) in enumerate(lines, start=1):
            line_rows.append(
                (
                    next_key,
                    oid,
                    ln,
                    ln,
                    "F",
                    iid,
                    lloc,
                    qty,
                    rate,
                    amount,
                    shipped,
                    billed,
                    "T" if status == "H" else "F",
                    modified,
                )
            )
            next_key += 1
        billed_lines = [
            (iid, lloc, billed, rate) for iid, lloc, qty, rate, amount, shipped, billed in lines if billed
        ]
        if billed_lines:
            iid_tx = next_tx
            next_tx += 1
            inv_total = round(sum(b * r for _, _, b, r in billed_lines), 2)
            paid = rng.random() < 0.6
            tx_rows.append(
                (
                    iid_tx,
                    f"INV{1000 + next_inv}",
                    "CustInvc",
                    entity,
                    tx_rows[-1][4],
                    day.isoformat(),
                    (day + dt.timedelta(days=30)).isoformat(),
                    "B" if paid else "A",
                    inv_total,
                    0.0 if paid else inv_total,
                    oid,
                    None,
                    None,
                    "Web Services",
                    modified,
                    modified,
                )
            )
            next_inv += 1
            line_rows.append(
                (next_key, iid_tx, 0, 0, "T", None, loc, None, None, inv_total, None, None, "F", modified)
            )
            next_key += 1
            for ln, (iid, lloc, billed, rate) in enumerate(billed_lines, start=1):
                line_rows.append(
                    (
                        next_key,
                        iid_tx,
                        ln,
                        ln,
                        "F",
                        iid,
                        lloc,
                        billed,
                        rate,
                        round(billed * rate, 2),
                        None,
                        None,
                        "F",
                        modified,
                    )
                )
                next_key += 1
    conn.executemany(
        'INSERT INTO "transaction" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', tx_rows
    )
    conn.executemany(
        "INSERT INTO transactionline VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", line_rows
    )
    conn.executemany(
        "INSERT INTO inventoryitemlocations VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (iid, loc, onhand, onhand - committed, committed, backordered, base)
            for (iid, loc), (onhand, committed, backordered) in stock.items()
        ],
    )
    conn.execute("COMMIT")
    conn.close()
    return path
