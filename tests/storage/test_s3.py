"""Document storage on an S3-compatible server (moto's server mode over real HTTP, ``conftest.py``): an
``scc serve`` whose SCC_STORAGE_URL is ``s3://…`` keeps an approved order's PDF in the bucket at approval and
hands it only to the scopes that see the transaction; the audit log's day is archived once (the second time is
refused, by the store's conditional write); the digests sent are kept under their scope.

What the bucket holds is read back with a plain boto3 client, never through the product.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json

import pytest

from tests.api.fixtures import start_api
from tests.api.helpers import mint, scope_for

pytestmark = pytest.mark.slow


def test_documents_on_s3_pdf_at_approval_audit_archive_once_and_digests(s3_server, warehouse, marts, data_dir):
    import httpx

    from api.db import get_database
    from api.models import AuditLog
    from scc.config import Settings
    from scc.storage import AlreadyExists, Storage

    prefix = "prod"
    s3 = s3_server.client()

    def objects() -> dict[str, bytes]:
        listed = s3.list_objects_v2(Bucket=s3_server.bucket, Prefix=prefix + "/").get("Contents", [])
        return {o["Key"][len(prefix) + 1:]: s3.get_object(Bucket=s3_server.bucket, Key=o["Key"])["Body"].read()
                for o in listed}

    reference = next(s for s in warehouse.stories if s.get("kind") == "reference")
    customer = marts("SELECT customer_id, rep_id, territory FROM marts.dim_customers WHERE netsuite_customer_id = ?",
                     [reference["disney"]["netsuite_customer_id"]])[0]
    database = f"sqlite:///{data_dir / 'api-s3' / 'app.sqlite'}"
    (data_dir / "api-s3").mkdir(exist_ok=True)
    env = {**s3_server.settings_env(prefix), "SCC_APP_DATABASE_URL": database, "SCC_REDIS_URL": "",
           "SCC_API_WORKERS": "1", "SCC_API_WARM_DASHBOARDS": "false", "SCC_LOG_LEVEL": "WARNING"}
    supervisor, _child, url = start_api(data_dir, "api-s3", env)
    try:
        def client(scope) -> httpx.Client:
            return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {mint(scope)}"}, timeout=60,
                                trust_env=False)

        rep_scope = scope_for("sales_rep", rep_id=customer["rep_id"], territory=customer["territory"])
        with client(rep_scope) as rep:
            made = rep.post("/api/v1/orders", json={"customer_id": customer["customer_id"], "lines": [
                {"product_id": reference["offer_hat"]["item_id"], "quantity": 2, "unit_price": 50.0}]})
            assert made.status_code == 201, made.text
            tx = made.json()
            approved = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
            assert approved.status_code == 200, approved.text
            key = approved.json()["pdf_key"]
            assert key == f"transactions/{tx['id']}/sales-order-{tx['id']}.pdf"
            in_bucket = objects()[key]  # the object is in the bucket, under the prefix
            assert in_bucket.startswith(b"%PDF")
            assert rep.get(f"/api/v1/documents/{key}").content == in_bucket
        for scope, status in ((scope_for("sales_manager", territory=customer["territory"]), 200),
                              (scope_for("finance_viewer"), 200),
                              (scope_for("sales_rep", rep_id="005000000000999ZZZ", territory="West"), 404),
                              (scope_for("sales_manager", territory="Nowhere"), 404)):
            with client(scope) as other:
                assert other.get(f"/api/v1/documents/{key}").status_code == status, scope

        # the audit log: three rows of a finished day, archived once
        day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
        db = get_database(database)
        with db.session() as session:
            session.add_all([AuditLog(at=dt.datetime.combine(day, dt.time(12, i)), actor="exec@test.example",
                                      role="sales_exec", action="login", entity="user", entity_id=str(i))
                             for i in range(3)])
            session.commit()
        with client(scope_for("sales_exec")) as exec_, client(scope_for("sales_rep", rep_id="005X")) as someone:
            first = exec_.post("/api/v1/audit/archive", json={"day": day.isoformat()})
            assert first.status_code == 201, first.text
            manifest = first.json()
            stored = objects()
            archive = stored[manifest["object"]]
            assert hashlib.sha256(archive).hexdigest() == manifest["sha256"] and manifest["rows"] == 3
            assert [json.loads(line)["entity_id"] for line in gzip.decompress(archive).splitlines()] == ["0", "1", "2"]
            assert json.loads(stored[manifest["object"].replace(".jsonl.gz", ".manifest.json")])["sha256"] == \
                manifest["sha256"]
            second = exec_.post("/api/v1/audit/archive", json={"day": day.isoformat()})
            assert second.status_code == 409 and "never rewritten" in second.json()["detail"]
            assert someone.get(manifest["url"]).status_code == 403
        assert objects()[manifest["object"]] == archive  # untouched

        # the store itself refuses to replace a create-only object (S3's conditional write, If-None-Match: *)
        settings = Settings(**{k.removeprefix("SCC_").lower(): v for k, v in s3_server.settings_env(prefix).items()
                               if k.startswith("SCC_")})
        storage = Storage.from_settings(settings)
        with pytest.raises(AlreadyExists):
            storage.put(manifest["object"], b"rewritten", create_only=True)
        assert objects()[manifest["object"]] == archive

        # the digests sent are kept under the scope they were built for
        sent = _send_digests(settings, customer["rep_id"])
        assert sorted(sent["sent"]) == ["ceo@acme.example", "jo@acme.example"], sent
        today = settings.today or dt.date.today()
        rep_key = f"digests/{today.isoformat()}/rep={customer['rep_id']}/daily-jo@acme.example.eml"
        exec_key = f"digests/{today.isoformat()}/all/daily-ceo@acme.example.eml"
        assert sorted(sent["stored"]) == sorted([rep_key, exec_key])
        stored = objects()
        assert b"Subject: Daily sales digest" in stored[rep_key] and b"To: jo@acme.example" in stored[rep_key]
        with client(rep_scope) as rep, client(scope_for("sales_exec")) as exec_:
            assert rep.get(f"/api/v1/documents/{rep_key}").content == stored[rep_key]
            assert rep.get(f"/api/v1/documents/{exec_key}").status_code == 404  # not the rep's scope
            assert exec_.get(f"/api/v1/documents/{rep_key}").status_code == 200
    finally:
        supervisor.stop_all()


def _send_digests(settings, rep_id: str) -> dict:
    """The daily digest to an executive and a rep, through a real SMTP server (aiosmtpd on a free port)."""
    from aiosmtpd.controller import Controller

    from agents.digest import send_digests
    from scc.processes import free_port

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            return "250 OK"

    controller = Controller(Mailbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        return send_digests("daily", settings=settings.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": controller.port, "smtp_tls": "none",
            "digest_recipients": f"ceo@acme.example=sales_exec, jo@acme.example=sales_rep:{rep_id}"}))
    finally:
        controller.stop()
