"""Document storage through the API on its default, a folder under the data directory (``<data_dir>/storage``):
an approved order's PDF kept at approval and downloadable within the caller's scope only, exports of an answer's
table (CSV, XLSX) and of a dashboard tab (PDF), and the audit log archived once per day with its checksum.

The same cases against an S3-compatible server are in ``tests/storage/test_s3.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json

import pytest

from .helpers import scope_for
from .test_writepath import disney, draft  # noqa: F401 - the module's fixture and helper

pytestmark = pytest.mark.slow


@pytest.fixture
def storage_dir(data_dir):
    return data_dir / "storage"


def test_an_approved_order_pdf_is_kept_and_only_its_scope_downloads_it(api, disney, storage_dir):  # noqa: F811
    customer = disney["customer"]
    rep_scope = scope_for("sales_rep", rep_id=customer["rep_id"], territory=customer["territory"])
    with api.as_scope(rep_scope) as rep:
        tx = draft(rep, disney, quantity=3)
        assert tx["pdf_key"] is None
        approved = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
        assert approved.status_code == 200, approved.text
        done = approved.json()
        key = f"transactions/{tx['id']}/sales-order-{tx['id']}.pdf"
        assert done["pdf_key"] == key and done["links"]["document"] == f"/api/v1/documents/{key}"
        kept = (storage_dir / key).read_bytes()
        assert kept.startswith(b"%PDF") and done["netsuite"]["number"].encode() in _pdf_text(kept)
        mine = rep.get(f"/api/v1/documents/{key}")
        assert mine.status_code == 200 and mine.content == kept
        assert mine.headers["content-type"] == "application/pdf"
        # the transaction's /pdf is now the PDF kept at approval
        assert rep.get(f"/api/v1/transactions/{tx['id']}/pdf").content == kept

    allowed = [scope_for("sales_manager", territory=customer["territory"]), scope_for("sales_exec"),
               scope_for("finance_viewer")]
    refused = [scope_for("sales_rep", rep_id="005000000000999ZZZ", territory=customer["territory"]),
               scope_for("sales_manager", territory="Nowhere")]
    for scope in allowed:
        with api.as_scope(scope) as client:
            assert client.get(f"/api/v1/documents/{key}").status_code == 200, scope.role
    for scope in refused:
        with api.as_scope(scope) as client:
            response = client.get(f"/api/v1/documents/{key}")
            assert response.status_code == 404 and response.json()["detail"] == "no such document", scope
    with api.client() as anonymous:
        assert anonymous.get(f"/api/v1/documents/{key}").status_code == 401
    with api.as_scope(scope_for("sales_exec")) as client:
        bad = client.get("/api/v1/documents/transactions/.hidden/x.pdf")
        assert bad.status_code == 400 and "relative path" in bad.json()["detail"]
        assert client.get("/api/v1/documents/elsewhere/x.pdf").status_code == 404


def _pdf_text(data: bytes) -> bytes:
    """The text drawn in a reportlab PDF: its content streams, ASCII85-decoded and inflated."""
    import base64
    import re
    import zlib

    out = b""
    for stream in re.findall(rb"/Filter \[ /ASCII85Decode /FlateDecode \].*?stream\r?\n(.*?)endstream", data, re.S):
        out += zlib.decompress(base64.a85decode(stream.strip(), adobe=True))
    return out


def test_exports_of_an_answer_and_a_tab_are_kept_for_whoever_made_them(api, storage_dir):
    me, other = scope_for("sales_exec"), scope_for("sales_exec")
    with api.as_scope(me) as client, api.as_scope(other) as stranger:
        answer = client.post("/api/v1/query/ask", json={"question": "top 5 customers by bookings"}).json()
        assert answer["rows"], answer
        names = [c["name"] if isinstance(c, dict) else c for c in answer["columns"]]
        made = client.post("/api/v1/exports/table", json={"conversation_id": answer["conversation_id"]})
        assert made.status_code == 201, made.text
        body = made.json()
        assert body["key"].startswith("exports/") and body["key"].endswith(".csv")
        got = client.get(body["url"])
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
        assert rows[0] == names and len(rows) == len(answer["rows"]) + 1
        assert hashlib.sha256(got.content).hexdigest() == body["sha256"]
        assert stranger.get(body["url"]).status_code == 404  # someone else's export

        xlsx = client.post("/api/v1/exports/table", json={"conversation_id": answer["conversation_id"],
                                                          "turn": 1, "format": "xlsx"})
        assert xlsx.status_code == 201, xlsx.text
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(client.get(xlsx.json()["url"]).content)).active
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert table[0] == names and len(table) == len(answer["rows"]) + 1
        first = answer["rows"][0]
        first = [first[n] for n in names] if isinstance(first, dict) else first
        assert [str(v) for v in table[1]] == [str(v) for v in first]

        tab = client.post("/api/v1/exports/dashboard", json={"tab": "pipeline"})
        assert tab.status_code == 201, tab.text
        pdf = client.get(tab.json()["url"])
        assert pdf.content.startswith(b"%PDF") and (storage_dir / tab.json()["key"]).is_file()

        # bad input: a useful 4xx
        assert stranger.post("/api/v1/exports/table", json={"conversation_id": answer["conversation_id"]}
                             ).status_code == 404  # not the stranger's conversation
        wrong = client.post("/api/v1/exports/table", json={"conversation_id": answer["conversation_id"], "format": "doc"})
        assert wrong.status_code == 422 and "format" in wrong.text
        assert client.post("/api/v1/exports/dashboard", json={"tab": "secrets"}).status_code == 422


def test_the_audit_log_is_archived_once_a_day_with_its_checksum(api, storage_dir):
    from api.db import get_database
    from api.models import AuditLog
    from scc.storage import AlreadyExists, Storage

    day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=3)
    db = get_database(api.database_url)
    with db.session() as session:
        rows = [AuditLog(at=dt.datetime.combine(day, dt.time(9, minute)), actor="rep@test.example", role="sales_rep",
                         action=action, entity="transaction", entity_id=f"tx{minute}", detail={"n": minute})
                for minute, action in ((1, "create"), (2, "approve"), (3, "submitted"))]
        session.add_all(rows)
        session.commit()
        ids = [r.id for r in rows]

    with api.as_scope(scope_for("sales_exec")) as exec_, api.as_scope(scope_for("finance_viewer")) as finance, \
            api.as_scope(scope_for("sales_manager", territory="West")) as manager:
        assert manager.post("/api/v1/audit/archive", json={"day": day.isoformat()}).status_code == 403
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        not_over = exec_.post("/api/v1/audit/archive", json={"day": today})
        assert not_over.status_code == 422 and "not over" in not_over.json()["detail"]
        assert exec_.post("/api/v1/audit/archive", json={"day": "2026-13-01"}).status_code == 422

        made = exec_.post("/api/v1/audit/archive", json={"day": day.isoformat()})
        assert made.status_code == 201, made.text
        manifest = made.json()
        assert (manifest["rows"], manifest["first_id"], manifest["last_id"]) == (3, ids[0], ids[-1])
        data = finance.get(manifest["url"]).content
        assert hashlib.sha256(data).hexdigest() == manifest["sha256"] and len(data) == manifest["bytes"]
        lines = [json.loads(line) for line in gzip.decompress(data).splitlines()]
        assert [(r["id"], r["action"], r["detail"]) for r in lines] == [
            (ids[0], "create", {"n": 1}), (ids[1], "approve", {"n": 2}), (ids[2], "submitted", {"n": 3})]
        assert json.loads(finance.get(manifest["manifest_url"]).content)["sha256"] == manifest["sha256"]
        assert manager.get(manifest["url"]).status_code == 403

        again = exec_.post("/api/v1/audit/archive", json={"day": day.isoformat()})
        assert again.status_code == 409 and "never rewritten" in again.json()["detail"]
        listed = finance.get("/api/v1/audit/archives", params={"month": f"{day:%Y-%m}"}).json()["items"]
        assert manifest["sha256"] in [m["sha256"] for m in listed]

    kept = storage_dir / manifest["object"]
    assert kept.read_bytes() == data and not (kept.stat().st_mode & 0o222)  # read-only on disk
    with pytest.raises(AlreadyExists):
        Storage(str(storage_dir)).put(manifest["object"], b"rewritten", create_only=True)
    assert kept.read_bytes() == data
