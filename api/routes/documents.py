"""``/api/v1/documents``, ``/api/v1/exports``, ``/api/v1/audit``: what the product keeps in document storage.

Every download goes through the caller's scope, decided by what the key is: an approved order's PDF
(``transactions/<id>/…``) by the transaction's visibility (404 for a transaction the caller may not see, as
everywhere), an export (``exports/<user>/…``) by who made it (404 for anyone else), a digest
(``digests/<day>/<scope>/…``) by the scope it was built for, the audit archive (``audit/…``) for executives and
finance only (403 for the others).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.responses import Response

from api import writepath
from api.audit_archive import AlreadyArchived, DayNotOver, archive_day, manifest_key
from api.deps import ReadScope
from api.models import Conversation, utcnow
from api.security import Scope
from scc.storage import BadKey, StorageError, check_key, content_type, get_storage, segment_visible, slug

log = logging.getLogger("scc.api.documents")
router = APIRouter(prefix="/api/v1", tags=["documents"])
AUDIT_ROLES = ("sales_exec", "finance_viewer")


def _storage(request: Request):
    return get_storage(request.app.state.settings)


def _unavailable(error: StorageError) -> HTTPException:
    log.error("%s", error)
    return HTTPException(503, "document storage is not reachable just now; try again shortly")


def _may_read(request: Request, scope: Scope, key: str) -> None:
    """Raise 404 (not the caller's to know of) or 403 (the caller's role may not) unless ``scope`` may read ``key``."""
    parts = key.split("/")
    missing = HTTPException(404, "no such document")
    if parts[0] == "transactions" and len(parts) == 3:
        if key != writepath.pdf_key_of(parts[1]):
            raise missing
        try:
            writepath.get(request.app.state.db, scope, parts[1], with_audit=False)
        except writepath.NotFound:
            raise missing from None
        return
    if parts[0] == "exports" and len(parts) == 3:
        if parts[1] != slug(scope.user):
            raise missing
        return
    if parts[0] == "digests" and len(parts) == 4:
        if not segment_visible(parts[2], scope.role, scope.rep_id, scope.territory):
            raise missing
        return
    if parts[0] == "audit":
        if scope.role not in AUDIT_ROLES:
            raise HTTPException(403, "the audit log archive is for executives and finance only")
        return
    raise missing


@router.get("/documents/{key:path}", summary="Download a document (an approved order's PDF, a digest, an export, "
            "an audit archive) within the caller's scope", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def download(request: Request, scope: ReadScope, key: Annotated[str, Path(max_length=512)]):
    try:
        check_key(key)
    except BadKey as error:
        raise HTTPException(400, str(error)) from None
    _may_read(request, scope, key)
    try:
        data = _storage(request).get(key)
    except FileNotFoundError:
        raise HTTPException(404, "no such document") from None
    except StorageError as error:
        raise _unavailable(error) from None
    name = key.rsplit("/", 1)[-1]
    disposition = "inline" if name.endswith(".pdf") else "attachment"
    return Response(data, media_type=content_type(key), headers={
        "Content-Disposition": f'{disposition}; filename="{name}"', "Cache-Control": "private, no-store"})


# --- exports ----------------------------------------------------------------------------------------


class TableExportIn(BaseModel):
    conversation_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="The assistant conversation of the answer.")
    turn: int | None = Field(None, ge=1, le=10_000, description="Which answer of it (default: the latest).")
    format: Literal["csv", "xlsx"] = "csv"


class DashboardExportIn(BaseModel):
    tab: Literal["overview", "pipeline", "orders", "customers", "products"]
    period: Literal["month", "quarter", "year"] = Field("quarter", description="The overview's period.")
    format: Literal["pdf"] = "pdf"


def _export_key(scope: Scope, name: str, extension: str) -> str:
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    return f"exports/{slug(scope.user)}/{stamp}-{slug(name, 40)}.{extension}"


def _stored(request: Request, scope: Scope, key: str, data: bytes) -> dict:
    try:
        stored = _storage(request).put(key, data, create_only=True)
    except StorageError as error:
        raise _unavailable(error) from None
    with request.app.state.db.session() as session:
        writepath.audit(session, scope, "export", None, {"key": key, "bytes": stored.size, "sha256": stored.sha256},
                        entity="document")
        session.commit()
    return {"key": key, "url": f"/api/v1/documents/{key}", "bytes": stored.size, "sha256": stored.sha256,
            "content_type": content_type(key)}


@router.post("/exports/table", status_code=201, summary="Export an assistant answer's table as CSV or XLSX")
def export_table(request: Request, scope: ReadScope, body: TableExportIn) -> dict:
    from api.exports import table_csv, table_xlsx

    with request.app.state.db.session() as session:
        query = select(Conversation).where(Conversation.user_id == scope.user,
                                           Conversation.conversation_id == body.conversation_id)
        if body.turn is not None:
            query = query.where(Conversation.turn == body.turn)
        row = session.scalars(query.order_by(Conversation.turn.desc()).limit(1)).first()
    if row is None:
        raise HTTPException(404, "no such conversation or answer")
    answer = row.answer or {}
    columns, rows = answer.get("columns") or [], answer.get("rows") or []
    if not columns:
        raise HTTPException(422, "that answer has no table to export")
    data = table_csv(columns, rows) if body.format == "csv" else table_xlsx(columns, rows, row.question)
    return _stored(request, scope, _export_key(scope, row.question, body.format), data)


@router.post("/exports/dashboard", status_code=201, summary="Export a dashboard tab's figures as a PDF")
async def export_dashboard(request: Request, scope: ReadScope, body: DashboardExportIn) -> dict:
    from api.exports import dashboard_pdf
    from api.routes.dashboard import cached_dashboard

    params = {"period": body.period} if body.tab == "overview" else {}
    dashboard, _found = await cached_dashboard(request.app, scope, body.tab, params)
    who = {"sales_rep": f"rep {scope.rep_id}", "sales_manager": f"territory {scope.territory}"}.get(scope.role,
                                                                                                  "all territories")
    generated = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    data = await anyio.to_thread.run_sync(dashboard_pdf, body.tab, dashboard.data(), f"{scope.user}, {who}", generated)
    return await anyio.to_thread.run_sync(_stored, request, scope, _export_key(scope, body.tab, "pdf"), data)


# --- the audit archive ------------------------------------------------------------------------------


class ArchiveIn(BaseModel):
    day: dt.date = Field(description="A finished UTC day (YYYY-MM-DD).")


@router.post("/audit/archive", status_code=201, summary="Archive one finished day of the audit log (once: never rewritten)")
def archive(request: Request, scope: ReadScope, body: ArchiveIn) -> dict:
    if scope.role != "sales_exec":
        raise HTTPException(403, "only an executive may archive the audit log")
    try:
        manifest = archive_day(request.app.state.db, _storage(request), body.day)
    except DayNotOver as error:
        raise HTTPException(422, str(error)) from None
    except AlreadyArchived as error:
        raise HTTPException(409, str(error)) from None
    except StorageError as error:
        raise _unavailable(error) from None
    with request.app.state.db.session() as session:
        writepath.audit(session, scope, "archive", body.day.isoformat(), manifest, entity="audit_archive")
        session.commit()
    return {**manifest, "url": f"/api/v1/documents/{manifest['object']}",
            "manifest_url": f"/api/v1/documents/{manifest_key(body.day)}"}


@router.get("/audit/archives", summary="The audit log's daily archives of a month, with their checksums")
def archives(request: Request, scope: ReadScope,
             month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM (default: this "
                                                "month)")] = None) -> dict:
    import json

    if scope.role not in AUDIT_ROLES:
        raise HTTPException(403, "the audit log archive is for executives and finance only")
    month = month or utcnow().strftime("%Y-%m")
    try:
        year, mon = (int(x) for x in month.split("-"))
        dt.date(year, mon, 1)
    except ValueError:
        raise HTTPException(400, "month is YYYY-MM") from None
    storage = _storage(request)
    try:
        keys = [k for k in storage.list(f"audit/{year:04d}/{mon:02d}") if k.endswith(".manifest.json")]
        items = [json.loads(storage.get(k)) for k in keys]
    except StorageError as error:
        raise _unavailable(error) from None
    return {"month": f"{year:04d}-{mon:02d}", "items": items}


async def archive_periodically(app) -> None:
    """Archive finished days of the audit log not yet in storage, now and every SCC_AUDIT_ARCHIVE_INTERVAL_SECONDS."""
    from api.audit_archive import archive_pending

    interval = app.state.settings.audit_archive_interval_seconds
    if interval <= 0:
        return
    while True:
        try:
            done = await anyio.to_thread.run_sync(archive_pending, app.state.db, get_storage(app.state.settings))
            for manifest in done:
                log.info("archived the audit log of %s (%d rows)", manifest["day"], manifest["rows"])
        except Exception as error:  # noqa: BLE001 - storage down: try again next time
            log.warning("could not archive the audit log: %s", error)
        await asyncio.sleep(interval)
