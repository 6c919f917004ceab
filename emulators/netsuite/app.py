"""The NetSuite emulator: SuiteTalk REST (SuiteQL and the record service) over a :class:`NetSuiteStore`.

``create_app(store_path, settings, faults)`` returns a Starlette app serving ``/services/rest/...`` with
NetSuite's token-based authentication (OAuth 1.0a, HMAC-SHA256), its concurrency limit (429), injected
faults rendered NetSuite's way, and NetSuite's error bodies; plus ``/__admin/...`` (no authentication)
for tests and tooling: faults, stats, and data changes (fulfil, bill, pay, delete, patch a row).

The API middleware is pure ASGI so that a dropped connection can be simulated mid-response and so the
in-flight window (which added latency sits inside) is exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.faults import Fault, FaultInjector, send_dropped_response
from emulators.netsuite.oauth import OAuthError, OAuthVerifier, normalized_url
from emulators.netsuite.store import (
    SUITEQL_MAX_ROWS,
    NetSuiteStore,
    NotFound,
    SuiteQLError,
    ValidationError,
)

API_PREFIX = "/services/rest"
ERROR_TYPE = "application/vnd.oracle.resource+json; type=error"
COLLECTION_TYPE = "application/vnd.oracle.resource+json; type=collection"
RECORD_TYPE = "application/vnd.oracle.resource+json; type=singular-resource"
MAX_PAGE = 1000

_STATUS = {
    400: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1", "Bad Request"),
    401: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2", "Unauthorized"),
    404: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.5", "Not Found"),
    405: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.6", "Method Not Allowed"),
    415: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.16", "Unsupported Media Type"),
    429: ("https://www.rfc-editor.org/rfc/rfc6585.html#section-4", "Too Many Requests"),
    500: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1", "Internal Server Error"),
    503: ("https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.4", "Service Unavailable"),
}
INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > "
    "Users/Roles > User Management > View Login Audit Trail."
)
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."

# REST record type names (lower case) the record service knows
_RECORD_NAMES = {
    "salesorder": "salesOrder",
    "invoice": "invoice",
    "customer": "customer",
    "item": "item",
    "inventoryitem": "inventoryItem",
}


def error_body(status: int, detail: str, code: str, **extra) -> dict:
    type_, title = _STATUS.get(status, ("https://www.rfc-editor.org/rfc/rfc9110.html", "Error"))
    item = {"detail": detail, "o:errorCode": code}
    item.update({k: v for k, v in extra.items() if v is not None})
    return {"type": type_, "title": title, "status": status, "o:errorDetails": [item]}


def error_response(status: int, detail: str, code: str, headers: dict | None = None, **extra) -> Response:
    return Response(
        orjson.dumps(error_body(status, detail, code, **extra)),
        status_code=status,
        media_type=ERROR_TYPE,
        headers=headers,
    )


def _json(data: Any, status: int = 200, media_type: str = "application/json", headers=None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=media_type, headers=headers)


class Stats:
    KEYS = (
        "requests",
        "suiteql_pages",
        "suiteql_rows",
        "record_reads",
        "record_writes",
        "async_jobs",
        "auth_failures",
        "concurrency_rejections",
        "faults_injected",
        "errors_4xx",
        "errors_5xx",
    )

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.counts = {k: 0 for k in self.KEYS}
            self.max_in_flight = 0
            self.started = time.time()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + n

    def snapshot(self, in_flight: int) -> dict:
        with self._lock:
            return {
                **self.counts,
                "in_flight": in_flight,
                "max_in_flight": self.max_in_flight,
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            }


class ApiMiddleware:
    """Authentication, concurrency limit and fault injection for ``/services/rest``."""

    def __init__(self, app, state):
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        st = self.state
        st.stats.add("requests")
        downstream_send = send

        async def send(message):
            if message["type"] == "http.response.start":
                status = message["status"]
                if status >= 500:
                    st.stats.add("errors_5xx")
                elif status >= 400:
                    st.stats.add("errors_4xx")
            await downstream_send(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        server_host, server_port = scope.get("server") or ("127.0.0.1", 80)
        host = headers.get("host") or f"{server_host}:{server_port}"
        # the path exactly as the client sent (and signed) it
        raw_path = (scope.get("raw_path") or b"").decode("latin-1").split("?")[0] or scope["path"]
        url = normalized_url(scope.get("scheme", "http"), host, raw_path)
        try:
            st.verifier.verify(
                scope["method"],
                url,
                scope.get("query_string", b"").decode("latin-1"),
                headers.get("authorization", ""),
            )
        except OAuthError:
            st.stats.add("auth_failures")
            await error_response(401, INVALID_LOGIN_DETAIL, "INVALID_LOGIN")(scope, receive, send)
            return
        if st.in_flight >= st.concurrency_limit:
            st.stats.add("concurrency_rejections")
            await error_response(
                429, CONCURRENCY_DETAIL, "CONCURRENCY_LIMIT_EXCEEDED", headers={"Retry-After": "1"}
            )(scope, receive, send)
            return
        st.in_flight += 1
        st.stats.max_in_flight = max(st.stats.max_in_flight, st.in_flight)
        try:
            decision = st.faults.draw()
            if decision.latency_s > 0:
                await asyncio.sleep(decision.latency_s)
            fault = decision.fault
            if fault is Fault.SERVER_ERROR:
                st.stats.add("faults_injected")
                if decision.status == 503:
                    response = error_response(
                        503, "The service is temporarily unavailable. Try again later.", "SERVICE_UNAVAILABLE"
                    )
                else:
                    response = error_response(
                        500,
                        f"An unexpected error occurred. Error ID: {uuid.uuid4().hex[:20]}",
                        "UNEXPECTED_ERROR",
                    )
                await response(scope, receive, send)
                return
            if fault is Fault.RATE_LIMITED:
                st.stats.add("faults_injected")
                retry = str(max(1, math.ceil(st.faults.plan.retry_after_s)))
                await error_response(
                    429, CONCURRENCY_DETAIL, "CONCURRENCY_LIMIT_EXCEEDED", headers={"Retry-After": retry}
                )(scope, receive, send)
                return
            if fault is Fault.DROP_CONNECTION:
                st.stats.add("faults_injected")
                try:
                    await send_dropped_response(send)
                except ConnectionAbortedError:
                    pass  # the server closes the connection with the body unfinished
                return
            await self.app(scope, receive, send)
        finally:
            st.in_flight -= 1


class _State:
    def __init__(self, store: NetSuiteStore, settings, faults: FaultInjector):
        self.store = store
        self.settings = settings
        self.faults = faults
        self.verifier = OAuthVerifier.from_settings(settings)
        self.concurrency_limit = int(getattr(settings, "netsuite_concurrency_limit", 15))
        self.in_flight = 0
        self.stats = Stats()
        self.idempotency_keys: dict[str, str] = {}
        self.jobs: dict[str, dict] = {}
        self.jobs_lock = threading.Lock()
        self.job_ids = itertools.count(1)


def _base(request: Request) -> str:
    """Absolute base of the REST API as the client addressed it (…/services/rest)."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}{API_PREFIX}"


async def _read_json(request: Request):
    body = await request.body()
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationError(
            "Invalid content in the request body: it is not valid JSON.", "INVALID_CONTENT"
        ) from None


def _validation_response(e: ValidationError) -> Response:
    return error_response(400, e.detail, e.code, **({"o:errorPath": e.path} if e.path else {}))


def _not_found(rtype: str, rid) -> Response:
    return error_response(
        404, "The record instance does not exist. Provide a valid record instance ID.", "NONEXISTENT_ID"
    )


def create_app(store_path: Path, settings, faults: FaultInjector) -> Starlette:
    store = NetSuiteStore(store_path)
    state = _State(store, settings, faults)

    # -- SuiteQL ---------------------------------------------------------------------------

    async def suiteql(request: Request) -> Response:
        prefer = request.headers.get("prefer", "")
        if "transient" not in prefer.lower():
            return error_response(
                400,
                "The header 'Prefer: transient' is required for SuiteQL queries.",
                "USER_ERROR",
                **{"o:errorHeader": "Prefer"},
            )
        params = request.query_params
        try:
            limit = int(params.get("limit", MAX_PAGE))
            if not 1 <= limit <= MAX_PAGE:
                raise ValueError
        except ValueError:
            return error_response(
                400,
                f"Invalid value for the 'limit' query parameter. It must be a whole number "
                f"from 1 to {MAX_PAGE}.",
                "INVALID_PARAMETER",
                **{"o:errorQueryParam": "limit"},
            )
        try:
            offset = int(params.get("offset", 0))
            if offset < 0:
                raise ValueError
        except ValueError:
            return error_response(
                400,
                "Invalid value for the 'offset' query parameter. It must be a whole number of 0 or more.",
                "INVALID_PARAMETER",
                **{"o:errorQueryParam": "offset"},
            )
        if offset + limit > SUITEQL_MAX_ROWS:
            return error_response(
                400,
                f"Invalid value for the 'offset' query parameter. SuiteQL returns at most {SUITEQL_MAX_ROWS:,} "
                f"results for one query; offset + limit must not exceed {SUITEQL_MAX_ROWS}. Narrow the query, for "
                "example page by key (WHERE id > :last ORDER BY id).",
                "INVALID_PARAMETER",
                **{"o:errorQueryParam": "offset"},
            )
        try:
            body = await _read_json(request)
        except ValidationError as e:
            return _validation_response(e)
        q = body.get("q") if isinstance(body, dict) else None
        if not isinstance(q, str) or not q.strip():
            return error_response(
                400, "The request body must be a JSON object with the query in 'q'.", "INVALID_CONTENT"
            )
        base = _base(request)

        def run() -> Response:
            try:
                items, total, has_more = store.suiteql(q, limit, offset)
            except SuiteQLError as e:
                return error_response(400, e.detail, "INVALID_PARAMETER", **{"o:errorQueryParam": "q"})
            state.stats.add("suiteql_pages")
            state.stats.add("suiteql_rows", len(items))
            href = f"{base}/query/v1/suiteql"
            links = []
            last = max(0, ((total - 1) // limit) * limit) if total else 0
            if offset > 0:
                links.append(
                    {"rel": "previous", "href": f"{href}?limit={limit}&offset={max(0, offset - limit)}"}
                )
            links.append({"rel": "first", "href": f"{href}?limit={limit}&offset=0"})
            if has_more:
                links.append({"rel": "next", "href": f"{href}?limit={limit}&offset={offset + limit}"})
            links.append({"rel": "last", "href": f"{href}?limit={limit}&offset={last}"})
            links.append({"rel": "self", "href": f"{href}?limit={limit}&offset={offset}"})
            data = {
                "links": links,
                "count": len(items),
                "hasMore": has_more,
                "offset": offset,
                "totalResults": total,
                "items": items,
            }
            return Response(orjson.dumps(data), media_type=COLLECTION_TYPE)

        return await run_in_threadpool(run)

    # -- record service --------------------------------------------------------------------

    def _record_type(request: Request) -> str | None:
        rtype = request.path_params["rtype"].lower()
        return rtype if rtype in _RECORD_NAMES else None

    def _unknown_type(request: Request) -> Response:
        return error_response(
            404, f"Record type '{request.path_params['rtype']}' does not exist.", "NONEXISTENT_ID"
        )

    async def _perform(request: Request, op) -> Response:
        """Run a write, synchronously or as an async job (``Prefer: respond-async``)."""
        prefer = request.headers.get("prefer", "").lower()
        if "respond-async" not in prefer:
            return await run_in_threadpool(op)
        key = request.headers.get("x-netsuite-idempotency-key")
        if key is not None:
            with state.jobs_lock:
                if key in state.idempotency_keys:
                    return error_response(
                        400,
                        f"The idempotency key '{key}' has already been used. Provide a unique key.",
                        "IDEMPOTENCY_ERROR",
                    )
                job_id = str(next(state.job_ids))
                state.idempotency_keys[key] = job_id
        else:
            with state.jobs_lock:
                job_id = str(next(state.job_ids))
        base = _base(request)
        with state.jobs_lock:
            state.jobs[job_id] = {"completed": False, "response": None}
        state.stats.add("async_jobs")

        async def background():
            try:
                response = await run_in_threadpool(op)
            except Exception as e:  # noqa: BLE001 - becomes the job's failed result
                response = error_response(500, f"An unexpected error occurred: {e}", "UNEXPECTED_ERROR")
            with state.jobs_lock:
                state.jobs[job_id] = {"completed": True, "response": response}

        asyncio.get_running_loop().create_task(background())
        return Response(status_code=202, headers={"Location": f"{base}/async/v1/job/{job_id}"})

    async def record_collection(request: Request) -> Response:
        rtype = _record_type(request)
        if rtype is None:
            return _unknown_type(request)
        if rtype != "salesorder":
            return error_response(
                405,
                f"Creating '{request.path_params['rtype']}' records is not supported by this emulator.",
                "INVALID_REQUEST",
            )
        try:
            payload = await _read_json(request)
        except ValidationError as e:
            return _validation_response(e)
        base = _base(request)

        def op() -> Response:
            try:
                rid = store.create_sales_order(payload)
            except ValidationError as e:
                return _validation_response(e)
            state.stats.add("record_writes")
            return Response(status_code=204, headers={"Location": f"{base}/record/v1/salesOrder/{rid}"})

        return await _perform(request, op)

    async def record_item(request: Request) -> Response:
        rtype = _record_type(request)
        if rtype is None:
            return _unknown_type(request)
        rid = request.path_params["rid"]
        base = _base(request)
        method = request.method
        rest_name = _RECORD_NAMES[rtype]
        if method == "GET":
            expand = request.query_params.get("expandSubResources", "").lower() == "true"

            def get() -> Response:
                try:
                    record = store.get_record(rtype, rid, expand=expand, base_url=base)
                except NotFound:
                    return _not_found(rtype, rid)
                state.stats.add("record_reads")
                return Response(orjson.dumps(record), media_type=RECORD_TYPE)

            return await run_in_threadpool(get)
        if rtype != "salesorder" and method != "DELETE":
            return error_response(
                405,
                f"{method} of '{rest_name}' records is not supported by this emulator.",
                "INVALID_REQUEST",
            )
        if method == "DELETE":

            def delete() -> Response:
                try:
                    store.delete_record(rtype, rid)
                except NotFound:
                    return _not_found(rtype, rid)
                except ValidationError as e:
                    return _validation_response(e)
                state.stats.add("record_writes")
                return Response(status_code=204)

            return await _perform(request, delete)
        try:
            payload = await _read_json(request)
        except ValidationError as e:
            return _validation_response(e)
        if method == "PUT":
            if not rid.startswith("eid:"):
                return error_response(
                    405,
                    "PUT is only supported for upserts by external ID (salesOrder/eid:{externalId}).",
                    "INVALID_REQUEST",
                )
            eid = rid[4:]

            def upsert() -> Response:
                try:
                    new_id, _ = store.upsert_sales_order_by_external_id(
                        eid, payload if payload is not None else {}
                    )
                except ValidationError as e:
                    return _validation_response(e)
                state.stats.add("record_writes")
                return Response(
                    status_code=204, headers={"Location": f"{base}/record/v1/salesOrder/{new_id}"}
                )

            return await _perform(request, upsert)
        # PATCH
        replace = [r.strip() for r in request.query_params.get("replace", "").split(",") if r.strip()]

        def patch() -> Response:
            try:
                store.patch_sales_order(rid, payload if payload is not None else {}, replace=replace)
            except NotFound:
                return _not_found(rtype, rid)
            except ValidationError as e:
                return _validation_response(e)
            state.stats.add("record_writes")
            return Response(status_code=204)

        return await _perform(request, patch)

    async def record_sublist(request: Request) -> Response:
        rtype = _record_type(request)
        if rtype not in ("salesorder", "invoice") or request.path_params["sub"] != "item":
            return error_response(404, "The requested sub-resource does not exist.", "NONEXISTENT_ID")
        rid = request.path_params["rid"]
        base = _base(request)

        def get() -> Response:
            try:
                sub = store.get_sublist(rtype, rid, base_url=base)
            except NotFound:
                return _not_found(rtype, rid)
            line = request.path_params.get("line")
            state.stats.add("record_reads")
            if line is not None:
                for entry in sub["items"]:
                    if str(entry.get("line")) == line:
                        return Response(orjson.dumps(entry), media_type=RECORD_TYPE)
                return _not_found(rtype, rid)
            return Response(orjson.dumps(sub), media_type=COLLECTION_TYPE)

        return await run_in_threadpool(get)

    # -- async jobs --------------------------------------------------------------------------

    def _job(request: Request):
        with state.jobs_lock:
            return state.jobs.get(request.path_params["job"])

    async def job_status(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _not_found("job", request.path_params["job"])
        base = _base(request)
        jid = request.path_params["job"]
        response = job["response"]
        failed = response is not None and response.status_code >= 400
        return _json(
            {
                "links": [{"rel": "self", "href": f"{base}/async/v1/job/{jid}"}],
                "id": jid,
                "completed": job["completed"],
                "progress": ("failed" if failed else "succeeded") if job["completed"] else "pending",
                "task": {"links": [{"rel": "self", "href": f"{base}/async/v1/job/{jid}/task"}]},
            },
            media_type=RECORD_TYPE,
        )

    async def job_tasks(request: Request) -> Response:
        job = _job(request)
        if job is None:
            return _not_found("job", request.path_params["job"])
        base = _base(request)
        jid = request.path_params["job"]
        items = [{"links": [{"rel": "self", "href": f"{base}/async/v1/job/{jid}/task/{jid}"}], "id": jid}]
        return _json(
            {
                "links": [{"rel": "self", "href": f"{base}/async/v1/job/{jid}/task"}],
                "count": 1,
                "hasMore": False,
                "offset": 0,
                "totalResults": 1,
                "items": items,
            },
            media_type=COLLECTION_TYPE,
        )

    async def job_task(request: Request) -> Response:
        job = _job(request)
        if job is None or request.path_params["task"] != request.path_params["job"]:
            return _not_found("task", request.path_params.get("task"))
        base = _base(request)
        jid = request.path_params["job"]
        return _json(
            {
                "links": [
                    {"rel": "self", "href": f"{base}/async/v1/job/{jid}/task/{jid}"},
                    {"rel": "related", "href": f"{base}/async/v1/job/{jid}/task/{jid}/result"},
                ],
                "id": jid,
                "completed": job["completed"],
                "progress": "succeeded"
                if job["completed"] and job["response"].status_code < 400
                else ("failed" if job["completed"] else "pending"),
            },
            media_type=RECORD_TYPE,
        )

    async def job_result(request: Request) -> Response:
        job = _job(request)
        if job is None or request.path_params["task"] != request.path_params["job"]:
            return _not_found("task", request.path_params.get("task"))
        if not job["completed"]:
            return error_response(400, "The job has not finished yet.", "USER_ERROR")
        original: Response = job["response"]
        headers = {k: v for k, v in original.headers.items() if k.lower() in ("location", "content-type")}
        return Response(original.body, status_code=original.status_code, headers=headers)

    async def api_not_found(request: Request) -> Response:
        return error_response(
            404, f"The requested resource '{request.url.path}' was not found.", "NONEXISTENT_ID"
        )

    # -- admin -------------------------------------------------------------------------------

    async def admin_faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await _read_json(request) or {}
                if not isinstance(body, dict):
                    raise TypeError("body must be a JSON object")
                faults.update(**body)
            except (ValueError, TypeError, ValidationError) as e:
                return _json({"error": str(getattr(e, "detail", e))}, 400)
        return _json(faults.snapshot())

    async def admin_stats(request: Request) -> Response:
        snap = state.stats.snapshot(state.in_flight)
        snap["total_requests"] = snap["requests"]
        snap["faults"] = faults.snapshot()
        snap["concurrency_limit"] = state.concurrency_limit
        return _json(snap)

    async def admin_reset_stats(request: Request) -> Response:
        state.stats.reset()
        return _json(state.stats.snapshot(state.in_flight))

    async def admin_concurrency(request: Request) -> Response:
        if request.method == "POST":
            body = await _read_json(request) or {}
            try:
                state.concurrency_limit = int(body["limit"])
            except (KeyError, TypeError, ValueError):
                return _json({"error": 'give {"limit": n}'}, 400)
        return _json({"limit": state.concurrency_limit, "in_flight": state.in_flight})

    async def admin_health(request: Request) -> Response:
        return _json({"ok": True, "store": str(store.path)})

    def _admin_call(fn, *args):
        async def run():
            try:
                return await run_in_threadpool(fn, *args)
            except NotFound as e:
                return {"__status": 404, "error": f"{e.record_type} {e.record_id} not found"}
            except ValidationError as e:
                return {"__status": 400, "error": e.detail, "code": e.code, "path": e.path}

        return run()

    def _admin_response(result) -> Response:
        if isinstance(result, dict) and "__status" in result:
            status = result.pop("__status")
            return _json(result, status)
        return _json(result)

    async def admin_fulfil(request: Request) -> Response:
        body = await _read_json(request) or {}
        fraction = float(body.get("fraction", 1.0)) if isinstance(body, dict) else 1.0
        oid = request.path_params["rid"]
        result = await _admin_call(lambda: (store.fulfil(oid, fraction), _order_summary(oid))[1])
        return _admin_response(result)

    def _order_summary(oid):
        rows = store.query(
            'SELECT id, tranid, status, lastmodifieddate FROM "transaction" WHERE id = ?', (int(oid),)
        )
        if not rows:
            return {}
        rid, tranid, status, stamp = rows[0]
        return {"id": str(rid), "tranid": tranid, "status": status, "lastmodifieddate": stamp}

    async def admin_bill(request: Request) -> Response:
        oid = request.path_params["rid"]

        def bill():
            inv = store.bill(oid)
            return {"invoiceId": str(inv), "salesOrder": _order_summary(oid), "invoice": _order_summary(inv)}

        return _admin_response(await _admin_call(bill))

    async def admin_pay(request: Request) -> Response:
        iid = request.path_params["rid"]
        return _admin_response(await _admin_call(lambda: (store.pay(iid), _order_summary(iid))[1]))

    async def admin_record(request: Request) -> Response:
        rtype, rid = request.path_params["rtype"], request.path_params["rid"]
        if request.method == "DELETE":
            result = await _admin_call(lambda: (store.delete_record(rtype, rid), {"deleted": True})[1])
            return _admin_response(result)
        try:
            body = await _read_json(request)
        except ValidationError as e:
            return _json({"error": e.detail}, 400)
        return _admin_response(await _admin_call(store.admin_update, rtype, rid, body))

    async def admin_suiteql(request: Request) -> Response:
        """Run SuiteQL without authentication (tooling); same output as the API."""
        body = await _read_json(request) or {}
        q = body.get("q", "") if isinstance(body, dict) else ""
        limit = int(request.query_params.get("limit", MAX_PAGE))
        offset = int(request.query_params.get("offset", 0))
        try:
            items, total, has_more = await run_in_threadpool(store.suiteql, q, limit, offset)
        except SuiteQLError as e:
            return error_response(400, e.detail, "INVALID_PARAMETER", **{"o:errorQueryParam": "q"})
        return _json(
            {
                "count": len(items),
                "hasMore": has_more,
                "offset": offset,
                "totalResults": total,
                "items": items,
            }
        )

    rp = API_PREFIX + "/record/v1"
    routes = [
        Route(API_PREFIX + "/query/v1/suiteql", suiteql, methods=["POST"]),
        Route(rp + "/{rtype}", record_collection, methods=["POST"]),
        Route(rp + "/{rtype}/{rid}", record_item, methods=["GET", "PATCH", "PUT", "DELETE"]),
        Route(rp + "/{rtype}/{rid}/{sub}", record_sublist, methods=["GET"]),
        Route(rp + "/{rtype}/{rid}/{sub}/{line}", record_sublist, methods=["GET"]),
        Route(API_PREFIX + "/async/v1/job/{job}", job_status, methods=["GET"]),
        Route(API_PREFIX + "/async/v1/job/{job}/task", job_tasks, methods=["GET"]),
        Route(API_PREFIX + "/async/v1/job/{job}/task/{task}", job_task, methods=["GET"]),
        Route(API_PREFIX + "/async/v1/job/{job}/task/{task}/result", job_result, methods=["GET"]),
        Route(API_PREFIX + "/{rest:path}", api_not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/__admin/health", admin_health, methods=["GET"]),
        Route("/__admin/faults", admin_faults, methods=["GET", "POST"]),
        Route("/__admin/stats", admin_stats, methods=["GET"]),
        Route("/__admin/reset-stats", admin_reset_stats, methods=["POST"]),
        Route("/__admin/concurrency", admin_concurrency, methods=["GET", "POST"]),
        Route("/__admin/suiteql", admin_suiteql, methods=["POST"]),
        Route("/__admin/salesorders/{rid}/fulfil", admin_fulfil, methods=["POST"]),
        Route("/__admin/salesorders/{rid}/bill", admin_bill, methods=["POST"]),
        Route("/__admin/invoices/{rid}/pay", admin_pay, methods=["POST"]),
        Route("/__admin/records/{rtype}/{rid}", admin_record, methods=["DELETE", "PATCH"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        store.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(ApiMiddleware, state=state)
    app.state.store = store
    app.state.netsuite = state
    app.state.stats = state.stats
    app.state.faults = faults
    return app
