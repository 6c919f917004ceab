"""Full and incremental syncs: rows/s per source and peak memory, against the floor of bare HTTP.

The floor, measured in the same run: fetching exactly the same pages with the same HTTP client and
discarding them (no dlt, no warehouse). A ratio near 1 means the pipeline adds little on top of the API.
"""

from __future__ import annotations

import time

from benchmarks.common import bench_scales, run_child, start_emulators, table

TITLE = "Ingestion: full and incremental sync"

SYNC_CHILD = r"""
import json
from pipelines.run import sync
r = sync("{source}", full_refresh={full})
print(json.dumps({{"rows": r.progress.total_rows, "requests": r.progress.requests, "seconds": r.seconds}}))
"""


def _floor_salesforce(settings) -> tuple[int, float]:
    from pipelines.salesforce import EPOCH, OBJECTS, build_soql, selectable_fields
    from pipelines.salesforce.client import SalesforceClient

    client = SalesforceClient(settings)
    started, rows = time.perf_counter(), 0
    for sobject in OBJECTS:
        names = [f["name"] for f in selectable_fields(client.describe(sobject))]
        for page in client.query_pages(build_soql(sobject, names, EPOCH), include_deleted=True):
            rows += len(page)
    return rows, time.perf_counter() - started


def _floor_netsuite(settings) -> tuple[int, float]:
    from pipelines.netsuite import LINE_TABLES, TABLES, line_query
    from pipelines.netsuite.client import NetSuiteClient

    client = NetSuiteClient(settings)
    started, rows = time.perf_counter(), 0
    for t in TABLES:
        pages = client.keyset_pages(t.query(), f"r.{t.key}") if t.incremental else client.offset_pages(t.query())
        rows += sum(len(p) for p in pages)
    for tran_type, _ in LINE_TABLES.values():
        rows += sum(len(p) for p in client.keyset_pages(line_query(tran_type), "l.uniquekey"))
    return rows, time.perf_counter() - started


def _change_records(info, settings, count: int) -> None:
    """Change ``count`` records through the emulators' admin API: half opportunities, half orders."""
    import sqlite3
    import ssl
    from pathlib import Path

    import httpx

    company = Path(info.company_dir)
    opps = [r[0] for r in sqlite3.connect(company / "salesforce.sqlite").execute(
        'SELECT "Id" FROM "Opportunity" WHERE "IsDeleted" = 0 LIMIT ?', (count // 2,))]
    orders = [r[0] for r in sqlite3.connect(company / "netsuite.sqlite").execute(
        "SELECT id FROM \"transaction\" WHERE type = 'SalesOrd' LIMIT ?", (count - len(opps),))]
    ctx = ssl.create_default_context(cafile=str(settings.tls_dir / "ca.pem"))
    with httpx.Client(verify=ctx, trust_env=False) as sf, httpx.Client(trust_env=False) as ns:
        for i, opp in enumerate(opps):
            sf.patch(f"{info.salesforce_url}/__admin/records/Opportunity/{opp}",
                     json={"NextStep": f"bench {i}"}).raise_for_status()
        root = info.netsuite_url.removesuffix("/services/rest")
        for i, order in enumerate(orders):
            ns.patch(f"{root}/__admin/records/transaction/{order}", json={"memo": f"bench {i}"}).raise_for_status()


def run(quick: bool) -> dict:
    scales = bench_scales(quick, [1, 10])
    rows_out = []
    incremental = None
    for scale in scales:
        supervisor, info, settings = start_emulators(scale)
        try:
            for source, floor in (("salesforce", _floor_salesforce), ("netsuite", _floor_netsuite)):
                floor_rows, floor_s = floor(settings)
                result, seconds, peak = run_child(SYNC_CHILD.format(source=source, full=True))
                sync_s = result["seconds"]  # the sync call itself, its imports included; not the interpreter's start
                rows_out.append([
                    scale, source, f"{result['rows']:,}", f"{sync_s:.1f} ({seconds:.1f})", f"{result['rows'] / sync_s:,.0f}",
                    f"{peak:,.0f}", f"{floor_s:.1f}", f"{floor_rows / floor_s:,.0f}", f"{sync_s / floor_s:.2f}x",
                ])
            if incremental is None:
                from pipelines.run import sync

                for s in ("salesforce", "netsuite"):  # warm: imports, pipeline state, describe caches
                    sync(s)
                _change_records(info, settings, 1000)
                started = time.perf_counter()
                results = [sync(s) for s in ("salesforce", "netsuite")]
                incremental = (time.perf_counter() - started, sum(r.progress.total_rows for r in results), scale)
        finally:
            supervisor.stop_all()
    body = table(
        ["scale", "source", "rows", "sync (s): the call (the whole process)", "rows/s", "peak MiB",
         "floor: bare HTTP (s)", "floor rows/s", "sync / floor"],
        rows_out,
    )
    inc_s, inc_rows, inc_scale = incremental
    body += (
        f"\n\nIncremental sync after 1,000 changed records (scale {inc_scale}), both sources end to end, each in a "
        f"warm process (as the orchestrator runs it): **{inc_s:.1f} s**, {inc_rows:,} rows read (the small "
        "reference tables are re-read whole each time)."
        "\n\nEach full sync runs in a fresh process (`pipelines.run.sync`, as `scc sync` does): the ratio compares the "
        "sync call, which includes importing dlt and the vendor client, with the floor fetched in this (warm) "
        "process; the whole process adds the interpreter's start."
        "\n\nAims: full sync within 2x of the floor; incremental sync of 1,000 changes under 5 s."
    )
    worst = max(float(r[-1][:-1]) for r in rows_out)
    return {"title": TITLE, "body": body,
            "summary": f"worst sync/floor ratio {worst:.2f}x; incremental 1,000 changes in {inc_s:.1f} s"}
