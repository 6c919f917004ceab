"""The Salesforce REST emulator as a Starlette app: what simple-salesforce (and a real org's clients) talk to.

API (``/services/data/v{version}/``, Bearer token from ``/services/oauth2/token``):
``query/?q=`` and ``queryAll/?q=`` with ``nextRecordsUrl`` pagination (``Sforce-Query-Options: batchSize=N``),
``sobjects/`` (describeGlobal), ``sobjects/{Obj}/`` (basic info; POST creates), ``sobjects/{Obj}/describe``,
``sobjects/{Obj}/{id}`` (GET, PATCH, DELETE), ``sobjects/{Obj}/deleted/`` and ``updated/``, ``limits/``; and
``GET /services/data/`` (the versions). Every API answer carries ``Sforce-Limit-Info: api-usage=N/LIMIT``;
errors are Salesforce's JSON arrays ``[{"message", "errorCode"}]``.

Faults (:mod:`emulators.faults`) are drawn once per API request by a pure-ASGI middleware, which also checks
the session and counts the daily budget. Admin endpoints (``/__admin/``, loopback only, no auth, no budget)
switch faults, expire sessions, report stats and change data without spending API calls.

``app.state.store`` is the :class:`~emulators.salesforce.store.SalesforceStore` (attach CDC listeners there);
``app.state.emulator`` holds sessions, usage, cursors and stats.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.faults import Fault, FaultInjector, send_dropped_response
from emulators.salesforce.errors import SalesforceError, not_found
from emulators.salesforce.soql import ObjectInfo, id18, parse_datetime, relationship_name
from emulators.salesforce.store import (
    _NOT_CREATEABLE,
    _NOT_DELETABLE,
    _READ_ONLY,
    _REQUIRED,
    _RESTRICTED_PICKLISTS,
    QueryResult,
    SalesforceStore,
)

log = logging.getLogger(__name__)

JSON = "application/json;charset=UTF-8"
DEFAULT_BATCH = 2000
MIN_BATCH, MAX_BATCH = 200, 2000
CURSOR_TTL_S = 15 * 60  # an idle query locator expires after this long
MAX_CURSORS = 10  # open query locators per org, as Salesforce allows per user: the oldest goes first
CURSOR_ROW_BUDGET = 400_000  # rows kept for finished locators (kept a while for a client's retry)
REPLICATION_DAYS = 30
ORG_ID = id18("00DDn00000EmuLA")
API_PREFIX = "/services/data/v"
_VERSION_RE = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")
_LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


def _versions(current: str) -> list[str]:
    versions = [f"{n}.0" for n in range(31, 63)]
    if current not in versions:
        versions.append(current)
    return versions


def _release_label(version: str) -> str:
    k = int(float(version)) - 59
    season = ("Winter", "Spring", "Summer")[k % 3]
    return f"{season} '{24 + k // 3:02d}"


def _json(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


def _error(err: SalesforceError) -> Response:
    return _json(err.body(), err.status)


# ---------------------------------------------------------------------------------------------------
# Emulator state: sessions, budget, cursors, stats


@dataclass
class _Cursor:
    result: QueryResult
    batch: int
    endpoint: str
    touched: float
    finished: bool = False  # the last page was served (kept a while for a client's retry)


@dataclass
class EmulatorState:
    settings: Any
    faults: FaultInjector
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (time.time())
    usage_day: dt.date | None = None
    usage: int = 0
    stats: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    cursors: OrderedDict = field(default_factory=OrderedDict)

    @property
    def limit(self) -> int:
        return int(self.settings.salesforce_daily_api_limit)

    # sessions
    def issue_token(self) -> tuple[str, int]:
        token = f"{ORG_ID[:15]}!" + secrets.token_urlsafe(72)[:96]
        issued = int(time.time() * 1000)
        with self.lock:
            self.tokens[token] = time.time() + float(self.settings.salesforce_session_ttl)
        return token, issued

    def token_valid(self, token: str) -> bool:
        with self.lock:
            expiry = self.tokens.get(token)
            if expiry is None:
                return False
            if expiry <= time.time():
                del self.tokens[token]
                return False
            return True

    def revoke(self, token: str | None = None) -> int:
        with self.lock:
            if token is not None:
                return 1 if self.tokens.pop(token, None) is not None else 0
            n = len(self.tokens)
            self.tokens.clear()
            return n

    # budget
    def _roll_day(self) -> None:
        today = dt.datetime.now(dt.UTC).date()
        if self.usage_day != today:
            self.usage_day = today
            self.usage = 0

    def spend(self) -> bool:
        """Count one API request; False when past the daily limit (the request is refused)."""
        with self.lock:
            self._roll_day()
            if self.usage >= self.limit:
                return False
            self.usage += 1
            return True

    def usage_header(self) -> bytes:
        with self.lock:
            self._roll_day()
            return f"api-usage={self.usage}/{self.limit}".encode()

    # cursors
    def add_cursor(self, result: QueryResult, batch: int, endpoint: str) -> str:
        locator = id18(
            "01g" + "".join(secrets.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(12))
        )
        now = time.monotonic()
        with self.lock:
            self._expire_cursors(now)
            self.cursors[locator] = _Cursor(result, batch, endpoint, now)
            self._evict(keep=locator)
        return locator

    def cursor(self, locator: str) -> _Cursor | None:
        now = time.monotonic()
        with self.lock:
            self._expire_cursors(now)
            cur = self.cursors.get(locator)
            if cur is not None:
                cur.touched = now
                self.cursors.move_to_end(locator)
            return cur

    def _expire_cursors(self, now: float) -> None:
        stale = [k for k, c in self.cursors.items() if now - c.touched > CURSOR_TTL_S]
        for k in stale:
            del self.cursors[k]

    def _evict(self, keep: str) -> None:
        """Finished locators go when their rows pass the budget; past MAX_CURSORS the oldest goes,
        finished or not, which is what Salesforce does with an 11th open cursor."""
        finished = [k for k, c in self.cursors.items() if c.finished and k != keep]
        while finished and sum(self.cursors[k].result.total_size for k in finished) > CURSOR_ROW_BUDGET:
            del self.cursors[finished.pop(0)]
        for key in list(self.cursors):
            if len(self.cursors) <= MAX_CURSORS:
                return
            if key != keep:
                del self.cursors[key]

    def snapshot(self) -> dict:
        with self.lock:
            self._roll_day()
            return {
                "total_requests": sum(self.stats.values()),
                "requests": dict(self.stats),
                "statuses": {str(k): v for k, v in self.statuses.items()},
                "api_usage": {"used": self.usage, "limit": self.limit, "day": str(self.usage_day)},
                "sessions": len(self.tokens),
                "query_cursors": len(self.cursors),
                "faults": self.faults.snapshot(),
            }

    def reset_stats(self) -> None:
        with self.lock:
            self.stats.clear()
            self.statuses.clear()


def _kind_of(method: str, rest: str) -> str:
    """The stats bucket of an API path (``rest`` is what follows ``/services/data/vXX.X``)."""
    parts = [p for p in rest.split("/") if p]
    if not parts:
        return "resources"
    head = parts[0]
    if head in ("query", "queryAll"):
        return "queryMore" if len(parts) > 1 else head
    if head == "sobjects":
        if len(parts) <= 1:
            return "describeGlobal"
        if len(parts) == 2:
            return "sobject" if method == "POST" else "describe"
        if parts[2] in ("describe", "deleted", "updated"):
            return parts[2]
        return "sobject"
    if head == "limits":
        return "limits"
    return "other"


# ---------------------------------------------------------------------------------------------------
# Middleware: faults, session, budget, usage header


class _ApiGate:
    """Pure ASGI: for API requests draw a fault, check the session, count the budget, stamp the usage header."""

    def __init__(self, app, state: EmulatorState):
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        state = self.state
        match = _VERSION_RE.match(scope["path"])
        kind = _kind_of(scope["method"], match.group(2) or "") if match else "other"
        with state.lock:
            state.stats[kind] += 1

        async def send_with_usage(message):
            if message["type"] == "http.response.start":
                with state.lock:
                    state.statuses[message["status"]] += 1
                headers = list(message.get("headers", []))
                headers.append((b"sforce-limit-info", state.usage_header()))
                message = {**message, "headers": headers}
            await send(message)

        decision = state.faults.draw()
        if decision.latency_s > 0:
            await asyncio.sleep(decision.latency_s)
        fault = decision.fault
        if fault is Fault.DROP_CONNECTION:
            try:
                await send_dropped_response(send)
            except ConnectionAbortedError:
                pass  # the server closes the half-sent response
            return
        if fault is Fault.SERVER_ERROR:
            if decision.status == 503:
                err = SalesforceError(
                    503, "SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later."
                )
            else:
                err = SalesforceError(
                    500,
                    "UNKNOWN_EXCEPTION",
                    "An unexpected error occurred. Please include this "
                    f"ErrorId if you contact support: {secrets.randbelow(10**9)}-{secrets.randbelow(10**5)} "
                    f"({-secrets.randbelow(10**9)})",
                )
            await _error(err)(scope, receive, send_with_usage)
            return
        if fault is Fault.RATE_LIMITED:
            retry = f"{state.faults.plan.retry_after_s:g}"
            response = _json(
                [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                403,
                {"Retry-After": retry},
            )
            await response(scope, receive, send_with_usage)
            return
        if fault is Fault.SESSION_EXPIRED:
            state.revoke()
            await self._invalid_session(scope, receive, send)
            return

        token = _bearer(scope)
        if token is None or not state.token_valid(token):
            await self._invalid_session(scope, receive, send)
            return
        if not state.spend():
            response = _json(
                [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}], 403
            )
            await response(scope, receive, send_with_usage)
            return
        await self.app(scope, receive, send_with_usage)

    async def _invalid_session(self, scope, receive, send):
        with self.state.lock:
            self.state.statuses[401] += 1
        response = _json(
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
            401,
            {"WWW-Authenticate": 'Token realm="Salesforce", error="invalid_token"'},
        )
        await response(scope, receive, send)


def _bearer(scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1").strip()
            scheme, _, token = text.partition(" ")
            if scheme.lower() in ("bearer", "oauth") and token.strip():
                return token.strip()
            return None
    return None


# ---------------------------------------------------------------------------------------------------
# The app


def create_app(store_path: Path, settings, faults: FaultInjector) -> Starlette:
    """The Salesforce emulator over the store at ``store_path``. ``settings``: :class:`scc.config.Settings`."""

    def today() -> dt.date:
        pinned = getattr(settings, "today", None)
        return pinned if pinned is not None else dt.datetime.now(dt.UTC).date()

    store = SalesforceStore(store_path, today=today)
    state = EmulatorState(settings, faults)
    api = _Api(store, state, settings)

    routes = [
        Route("/services/data", api.versions, methods=["GET"]),
        Route("/services/data/", api.versions, methods=["GET"]),
        Route(
            "/services/data/v{version}/{rest:path}",
            api.dispatch,
            methods=["GET", "POST", "PATCH", "DELETE", "PUT", "HEAD"],
        ),
        Route("/services/data/v{version}", api.dispatch, methods=["GET"]),
        Route("/services/oauth2/token", api.token, methods=["POST"]),
        Route("/services/oauth2/revoke", api.revoke, methods=["POST", "GET"]),
        Route("/__admin/faults", api.admin_faults, methods=["GET", "POST"]),
        Route("/__admin/expire-sessions", api.admin_expire, methods=["POST"]),
        Route("/__admin/stats", api.admin_stats, methods=["GET"]),
        Route("/__admin/reset-stats", api.admin_reset_stats, methods=["POST"]),
        Route("/__admin/api-usage", api.admin_usage, methods=["GET", "POST"]),
        Route("/__admin/records/{obj}", api.admin_create, methods=["POST"]),
        Route("/__admin/records/{obj}/{record_id}", api.admin_record, methods=["GET", "PATCH", "DELETE"]),
        Route("/__admin/records/{obj}/{record_id}/undelete", api.admin_undelete, methods=["POST"]),
        Route("/__admin/fields/{obj}", api.admin_field, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: api.not_found, 405: api.method_not_allowed})
    app.add_middleware(_ApiGate, state=state)
    app.state.store = store
    app.state.emulator = state
    return app


class _Api:
    def __init__(self, store: SalesforceStore, state: EmulatorState, settings):
        self.store = store
        self.state = state
        self.settings = settings
        self.versions_supported = _versions(str(settings.salesforce_api_version))

    # -- helpers ----------------------------------------------------------------------------------
    async def not_found(self, request: Request, exc) -> Response:
        return _error(not_found())

    async def method_not_allowed(self, request: Request, exc) -> Response:
        return _json(
            [{"message": f"HTTP Method '{request.method}' not allowed.", "errorCode": "METHOD_NOT_ALLOWED"}],
            405,
        )

    # -- versions and OAuth -----------------------------------------------------------------------
    async def versions(self, request: Request) -> Response:
        return _json(
            [
                {"label": _release_label(v), "url": f"/services/data/v{v}", "version": v}
                for v in self.versions_supported
            ]
        )

    async def token(self, request: Request) -> Response:
        with self.state.lock:
            self.state.stats["token"] += 1
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        for k, v in request.query_params.items():
            form.setdefault(k, v)
        s = self.settings
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                pass
        grant = form.get("grant_type")
        if grant not in ("password", "client_credentials"):
            return _json(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"}, 400
            )
        if client_id != s.salesforce_client_id:
            return _json(
                {"error": "invalid_client_id", "error_description": "client identifier invalid"}, 400
            )
        secret = s.salesforce_client_secret.get_secret_value()
        if not client_secret or not hmac.compare_digest(client_secret, secret):
            return _json({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
        if grant == "password":
            password = s.salesforce_password.get_secret_value()
            if form.get("username") != s.salesforce_username or not hmac.compare_digest(
                form.get("password") or "", password
            ):
                return _json({"error": "invalid_grant", "error_description": "authentication failure"}, 400)
        token, issued = self.state.issue_token()
        instance = str(request.base_url).rstrip("/")
        user_id = await run_in_threadpool(self.store.commit_user)
        identity = f"{instance}/id/{ORG_ID}/{user_id}"
        signature = base64.b64encode(
            hmac.new(secret.encode(), f"{identity}{issued}".encode(), hashlib.sha256).digest()
        ).decode()
        return _json(
            {
                "access_token": token,
                "instance_url": instance,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": str(issued),
                "signature": signature,
                "scope": "api",
            },
            headers={"Cache-Control": "no-cache,must-revalidate,max-age=0,no-store,private"},
        )

    async def revoke(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        token = parse_qs(body).get("token", [request.query_params.get("token")])[0]
        if not token or not self.state.revoke(token):
            return _json(
                {"error": "unsupported_token_type", "error_description": "this token type is not supported"},
                400,
            )
        return Response(status_code=200)

    # -- the API ----------------------------------------------------------------------------------
    async def dispatch(self, request: Request) -> Response:
        version = request.path_params["version"]
        if version not in self.versions_supported:
            return _error(not_found())
        body = await request.body() if request.method in ("POST", "PATCH", "PUT") else b""
        try:
            return await run_in_threadpool(self._dispatch, request, version, body)
        except SalesforceError as err:
            return _error(err)
        except Exception:  # answer like Salesforce, and keep the trace in the log
            log.exception("Salesforce emulator failed on %s %s", request.method, request.url.path)
            return _error(SalesforceError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))

    def _dispatch(self, request: Request, version: str, body: bytes) -> Response:
        parts = [p for p in request.path_params.get("rest", "").split("/") if p]
        method = request.method
        if not parts:
            return self._resources(version)
        head = parts[0]
        if head in ("query", "queryAll") and len(parts) <= 2:
            self._only(method, "GET")
            include_deleted = head == "queryAll"
            if len(parts) == 2:
                return self._query_more(parts[1], version)
            return self._query(request, version, head, include_deleted)
        if head == "limits" and len(parts) == 1:
            self._only(method, "GET")
            return self._limits()
        if head == "sobjects":
            if len(parts) == 1:
                self._only(method, "GET")
                return self._describe_global(version)
            info = self.store.object_info(parts[1])
            if len(parts) == 2:
                if method == "POST":
                    return self._create(info, body)
                self._only(method, "GET")
                return _json({"objectDescribe": self._global_entry(info, version), "recentItems": []})
            if len(parts) == 3 and parts[2] == "describe":
                self._only(method, "GET")
                return _json(self._describe(info, version))
            if len(parts) == 3 and parts[2] in ("deleted", "updated"):
                self._only(method, "GET")
                return self._replication(info, parts[2], request)
            if len(parts) == 3:
                record_id = parts[2]
                if method == "GET":
                    fields = request.query_params.get("fields")
                    names = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
                    return _json(self.store.get(info.name, record_id, names, version))
                if method == "PATCH":
                    self.store.update(info.name, record_id, _parse_body(body))
                    return Response(status_code=204)
                if method == "DELETE":
                    self.store.delete(info.name, record_id)
                    return Response(status_code=204)
                self._only(method, "GET", "PATCH", "DELETE")
        raise not_found()

    @staticmethod
    def _only(method: str, *allowed: str) -> None:
        if method not in allowed and not (method == "HEAD" and "GET" in allowed):
            raise SalesforceError(
                405,
                "METHOD_NOT_ALLOWED",
                f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}",
            )

    def _resources(self, version: str) -> Response:
        base = f"/services/data/v{version}"
        names = ("sobjects", "query", "queryAll", "limits", "search", "composite", "tooling", "recent")
        return _json({n: f"{base}/{n}" for n in names})

    # queries
    def _query(self, request: Request, version: str, endpoint: str, include_deleted: bool) -> Response:
        soql = request.query_params.get("q")
        if not soql:
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        batch = _batch_size(request.headers.get("sforce-query-options", ""))
        result = self.store.query(soql, include_deleted=include_deleted)
        if result.kind == "count":
            return _json({"totalSize": result.total_size, "done": True, "records": []})
        if result.total_size <= batch:
            return _page({"totalSize": result.total_size, "done": True}, result.records(0, None, version))
        locator = self.state.add_cursor(result, batch, endpoint)
        return _page(
            {
                "totalSize": result.total_size,
                "done": False,
                "nextRecordsUrl": f"/services/data/v{version}/{endpoint}/{locator}-{batch}",
            },
            result.records(0, batch, version),
        )

    def _query_more(self, token: str, version: str) -> Response:
        locator, _, offset_text = token.rpartition("-")
        cursor = self.state.cursor(locator) if locator and offset_text.isdigit() else None
        if cursor is None:
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        offset = int(offset_text)
        total = cursor.result.total_size
        if offset > total:
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        end = min(offset + cursor.batch, total)
        head: dict = {"totalSize": total, "done": end >= total}
        cursor.finished = cursor.finished or end >= total
        if end < total:
            head["nextRecordsUrl"] = f"/services/data/v{version}/{cursor.endpoint}/{locator}-{end}"
        return _page(head, cursor.result.records(offset, end, version))

    def _limits(self) -> Response:
        st = self.state
        with st.lock:
            st._roll_day()
            used, limit = st.usage, st.limit
        fixed = lambda n: {"Max": n, "Remaining": n}
        return _json(
            {
                "ConcurrentAsyncGetReportInstances": fixed(200),
                "DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)},
                "DailyAsyncApexExecutions": fixed(250000),
                "DailyBulkApiBatches": fixed(15000),
                "DailyBulkV2QueryJobs": fixed(10000),
                "DailyStreamingApiEvents": fixed(1000000),
                "DataStorageMB": fixed(1024),
                "FileStorageMB": fixed(1024),
                "HourlyODataCallout": fixed(20000),
            }
        )

    # describe
    def _global_entry(self, info: ObjectInfo, version: str) -> dict:
        base = f"/services/data/v{version}/sobjects/{info.name}"
        createable = info.name not in _NOT_CREATEABLE
        return {
            "activateable": False,
            "createable": createable,
            "custom": False,
            "customSetting": False,
            "deletable": info.name not in _NOT_DELETABLE and info.has_is_deleted,
            "deprecatedAndHidden": False,
            "feedEnabled": False,
            "hasSubtypes": False,
            "isSubtype": False,
            "keyPrefix": info.key_prefix,
            "label": _label(info.name),
            "labelPlural": _plural_label(info.name),
            "layoutable": createable,
            "mergeable": info.name in ("Account", "Contact"),
            "mruEnabled": createable,
            "name": info.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": createable,
            "triggerable": createable,
            "undeletable": info.has_is_deleted and info.name not in _NOT_DELETABLE,
            "updateable": createable,
            "urls": {
                "rowTemplate": f"{base}/{{ID}}",
                "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
                "describe": f"{base}/describe",
                "sobject": base,
            },
        }

    def _describe_global(self, version: str) -> Response:
        objects = sorted(self.store.schema().values(), key=lambda i: i.name)
        return _json(
            {
                "encoding": "UTF-8",
                "maxBatchSize": 200,
                "sobjects": [self._global_entry(i, version) for i in objects],
            }
        )

    def _describe(self, info: ObjectInfo, version: str) -> dict:
        out = self._global_entry(info, version)
        out["fields"] = [self._describe_field(info, col) for col in info.columns]
        out["childRelationships"] = self._children(info)
        out["recordTypeInfos"] = []
        out["actionOverrides"] = []
        out["compactLayoutable"] = out["layoutable"]
        out["listviewable"] = None
        out["lookupLayoutable"] = None
        out["namedLayoutInfos"] = []
        out["networkScopeFieldName"] = None
        out["searchLayoutable"] = out["searchable"]
        out["sobjectDescribeOption"] = "FULL"
        out["supportedScopes"] = [{"label": "All " + _plural_label(info.name).lower(), "name": "everything"}]
        out["urls"].update(
            {
                "compactLayouts": f"/services/data/v{version}/sobjects/{info.name}/describe/compactLayouts",
                "layouts": f"/services/data/v{version}/sobjects/{info.name}/describe/layouts",
            }
        )
        return out

    def _describe_field(self, info: ObjectInfo, col) -> dict:
        t = col.type
        system = col.name in (
            "Id",
            "IsDeleted",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
            "CreatedById",
        )
        read_only = system or col.name in _READ_ONLY.get(info.name, set()) or info.name in _NOT_CREATEABLE
        required = col.name in _REQUIRED.get(info.name, ())
        stringy = t in ("string", "picklist", "textarea", "email", "phone", "url")
        length = (
            {"textarea": 32000, "phone": 40, "email": 80, "url": 255}.get(t, 255)
            if stringy
            else (18 if t in ("id", "reference") else 0)
        )
        numeric = t in ("currency", "double", "percent")
        soap = {
            "id": "tns:ID",
            "reference": "tns:ID",
            "boolean": "xsd:boolean",
            "currency": "xsd:double",
            "double": "xsd:double",
            "percent": "xsd:double",
            "int": "xsd:int",
            "date": "xsd:date",
            "datetime": "xsd:dateTime",
        }.get(t, "xsd:string")
        picklist = []
        if t == "picklist":
            picklist = [
                {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                for v in self.store.picklist_values(info.name, col.name)
            ]
        rel = relationship_name(col)
        return {
            "aggregatable": t != "textarea",
            "aiPredictionField": False,
            "autoNumber": False,
            "byteLength": length * 3 if stringy else length,
            "calculated": False,
            "calculatedFormula": None,
            "cascadeDelete": False,
            "caseSensitive": False,
            "compoundFieldName": None,
            "controllerName": None,
            "createable": not read_only,
            "custom": col.name.endswith("__c"),
            "defaultValue": False if t == "boolean" and not system else None,
            "defaultValueFormula": None,
            "defaultedOnCreate": t == "boolean" or system or col.name == "OwnerId",
            "dependentPicklist": False,
            "deprecatedAndHidden": False,
            "digits": 9 if t == "int" else 0,
            "displayLocationInDecimal": False,
            "encrypted": False,
            "externalId": False,
            "extraTypeInfo": None,
            "filterable": t != "textarea",
            "filteredLookupInfo": None,
            "formulaTreatNullNumberAsZero": False,
            "groupable": not numeric and t != "textarea",
            "highScaleNumber": False,
            "htmlFormatted": False,
            "idLookup": col.name == "Id",
            "inlineHelpText": None,
            "label": col.label,
            "length": length,
            "mask": None,
            "maskType": None,
            "name": col.name,
            "nameField": col.name == "Name",
            "namePointing": False,
            "nillable": not (system or required or t == "boolean"),
            "permissionable": not (system or required or t == "boolean"),
            "picklistValues": picklist,
            "polymorphicForeignKey": False,
            "precision": 18 if numeric else 0,
            "queryByDistance": False,
            "referenceTargetField": None,
            "referenceTo": [col.reference_to] if col.reference_to else [],
            "relationshipName": rel,
            "relationshipOrder": None,
            "restrictedDelete": False,
            "restrictedPicklist": (info.name, col.name) in _RESTRICTED_PICKLISTS,
            "scale": 2 if numeric else 0,
            "searchPrefilterable": False,
            "soapType": soap,
            "sortable": t != "textarea",
            "type": t,
            "unique": False,
            "updateable": not read_only,
            "writeRequiresMasterRead": False,
        }

    def _children(self, info: ObjectInfo) -> list[dict]:
        out = []
        for other in sorted(self.store.schema().values(), key=lambda i: i.name):
            for col in other.columns:
                if col.type == "reference" and col.reference_to == info.name:
                    name = (
                        _plural(other.name)
                        if col.name in ("AccountId", "OpportunityId", "WhatId", "WhoId")
                        else None
                    )
                    out.append(
                        {
                            "cascadeDelete": other.name == "OpportunityHistory",
                            "childSObject": other.name,
                            "deprecatedAndHidden": False,
                            "field": col.name,
                            "junctionIdListNames": [],
                            "junctionReferenceTo": [],
                            "relationshipName": name,
                            "restrictedDelete": False,
                        }
                    )
        return out

    # records
    def _create(self, info: ObjectInfo, body: bytes) -> Response:
        rid = self.store.create(info.name, _parse_body(body))
        return _json({"id": rid, "success": True, "errors": []}, 201)

    def _replication(self, info: ObjectInfo, which: str, request: Request) -> Response:
        params = request.query_params
        for name in ("start", "end"):
            if not params.get(name):
                raise SalesforceError(400, "MISSING_ARGUMENT", f"Missing required parameter: {name}")
        try:
            start, end = parse_datetime(params["start"]), parse_datetime(params["end"])
        except ValueError:
            raise SalesforceError(400, "INVALID_REPLICATION_DATE", "Invalid start or end date") from None
        if end < start:
            raise SalesforceError(400, "INVALID_REPLICATION_DATE", "EndDate must be after StartDate")
        now = self._now()
        if start < now - dt.timedelta(days=REPLICATION_DAYS):
            raise SalesforceError(
                400, "INVALID_REPLICATION_DATE", f"startDate cannot be more than {REPLICATION_DAYS} days ago"
            )
        covered_text = _minute_text(min(end, max(now, self.store.now())))
        if which == "deleted":
            rows = self.store.deleted_between(info.name, start, end)
            earliest = self.store.earliest_deleted(info.name)
            earliest_text = (
                _minute_text(parse_datetime(earliest))
                if earliest
                else _minute_text(now - dt.timedelta(days=REPLICATION_DAYS))
            )
            return _json(
                {
                    "deletedRecords": [{"id": rid, "deletedDate": when} for rid, when in rows],
                    "earliestDateAvailable": earliest_text,
                    "latestDateCovered": covered_text,
                }
            )
        ids = self.store.updated_between(info.name, start, end)
        return _json({"ids": ids, "latestDateCovered": covered_text})

    def _now(self) -> dt.datetime:
        """The replication resources' clock: the real UTC time, as in Salesforce (not the pinned day)."""
        return dt.datetime.now(dt.UTC)

    # -- admin ------------------------------------------------------------------------------------
    @staticmethod
    def _loopback(request: Request) -> Response | None:
        host = request.client.host if request.client else None
        try:
            local = host in _LOOPBACK or ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = False
        if not local:
            return _json({"error": "admin endpoints answer loopback clients only"}, 403)
        return None

    async def _admin(self, request: Request, fn, *args) -> Response:
        refused = self._loopback(request)
        if refused is not None:
            return refused
        try:
            return await run_in_threadpool(fn, *args)
        except SalesforceError as err:
            return _error(err)

    async def admin_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = orjson.loads(await request.body() or b"{}")
            except orjson.JSONDecodeError:
                return _json({"error": "body must be a JSON object"}, 400)
            if not isinstance(changes, dict):
                return _json({"error": "body must be a JSON object"}, 400)

            def apply():
                try:
                    self.state.faults.update(**changes)
                except (ValueError, TypeError) as error:
                    return _json({"error": str(error)}, 400)
                return _json(self.state.faults.snapshot())

            return await self._admin(request, apply)
        return await self._admin(request, lambda: _json(self.state.faults.snapshot()))

    async def admin_expire(self, request: Request) -> Response:
        return await self._admin(request, lambda: _json({"revoked": self.state.revoke()}))

    async def admin_stats(self, request: Request) -> Response:
        return await self._admin(request, lambda: _json(self.state.snapshot()))

    async def admin_reset_stats(self, request: Request) -> Response:
        def reset():
            self.state.reset_stats()
            return _json(self.state.snapshot())

        return await self._admin(request, reset)

    async def admin_usage(self, request: Request) -> Response:
        body = await request.body() if request.method == "POST" else b""

        def apply():
            if request.method == "POST":
                data = orjson.loads(body or b"{}")
                with self.state.lock:
                    self.state._roll_day()
                    self.state.usage = max(0, int(data.get("used", self.state.usage)))
            return _json(self.state.snapshot()["api_usage"])

        return await self._admin(request, apply)

    async def admin_create(self, request: Request) -> Response:
        body = await request.body()
        obj = request.path_params["obj"]
        return await self._admin(
            request, lambda: _json({"id": self.store.create(obj, _parse_body(body))}, 201)
        )

    async def admin_record(self, request: Request) -> Response:
        body = await request.body() if request.method == "PATCH" else b""
        obj, rid = request.path_params["obj"], request.path_params["record_id"]

        def apply():
            if request.method == "GET":
                return _json(self.store.get(obj, rid))
            if request.method == "PATCH":
                latency = float(request.query_params.get("commit_latency", 0))  # seconds; see store.update
                return _json({"changed": self.store.update(obj, rid, _parse_body(body), commit_latency=latency)})
            self.store.delete(obj, rid)
            return _json({"deleted": rid})

        return await self._admin(request, apply)

    async def admin_undelete(self, request: Request) -> Response:
        obj, rid = request.path_params["obj"], request.path_params["record_id"]

        def apply():
            self.store.undelete(obj, rid)
            return _json({"undeleted": rid})

        return await self._admin(request, apply)

    async def admin_field(self, request: Request) -> Response:
        body = await request.body()
        obj = request.path_params["obj"]

        def apply():
            data = _parse_body(body)
            col = self.store.add_custom_field(
                obj, data.get("name", ""), data.get("type", "string"), data.get("label")
            )
            info = self.store.object_info(obj)
            return _json(self._describe_field(info, info.column(col.name)), 201)

        return await self._admin(request, apply)


# ---------------------------------------------------------------------------------------------------
# Small helpers

_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def _batch_size(header: str) -> int:
    m = _BATCH_RE.search(header or "")
    if not m:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, int(m.group(1))))


def _page(head: dict, records: list[dict]) -> Response:
    head["records"] = records
    return Response(orjson.dumps(head), media_type=JSON)


def _parse_body(body: bytes) -> dict:
    try:
        data = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as error:
        raise SalesforceError(400, "JSON_PARSER_ERROR", f"Unexpected character in JSON: {error}") from None
    if not isinstance(data, dict):
        raise SalesforceError(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject out of START_ARRAY token"
        )
    return data


def _minute_text(value: dt.datetime) -> str:
    value = value.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _label(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


def _plural(name: str) -> str:
    return name[:-1] + "ies" if name.endswith("y") else name + "s"


def _plural_label(name: str) -> str:
    if name == "OpportunityHistory":
        return "Opportunity History"
    return _label(_plural(name))
