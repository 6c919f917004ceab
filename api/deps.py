"""What endpoints depend on: the caller's scope (the one dependency every endpoint uses), the app database.

:func:`get_scope` authenticates the bearer token (header, or ``?token=`` on the WebSocket), applies the
per-user rate limit, and returns the :class:`~api.security.Scope` that every query is then cut to.
:func:`get_write_scope` is the same scope, refused (403) for read-only roles.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection, Request

from api.security import AuthError, Scope, decode_access_token
from scc.config import Settings

TOKEN_URL = "/api/v1/auth/token"


class BearerToken(OAuth2PasswordBearer):
    """OAuth2 bearer token from ``Authorization``; on WebSockets also ``?token=`` (browsers cannot set headers)."""

    async def __call__(self, conn: HTTPConnection) -> str | None:  # type: ignore[override]
        header = conn.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        if conn.scope["type"] == "websocket":
            return conn.query_params.get("token") or None
        return None


bearer = BearerToken(tokenUrl=TOKEN_URL, auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(app, token: str | None) -> tuple[Scope, tuple[int, int] | None]:
    """The scope of a bearer token, counted against the caller's rate limit: (scope, (limit, remaining)).

    Raises HTTPException: 401 for a missing or invalid token, 429 past the limit. The one check of every
    endpoint, the WebSocket and the MCP server's /mcp."""
    settings: Settings = app.state.settings
    if not token:
        raise _unauthorized("not authenticated: send a bearer token (POST /api/v1/auth/token)")
    try:
        scope = decode_access_token(token, settings)
    except AuthError as error:
        app.state.metrics.auth_failures.inc()
        raise _unauthorized(str(error)) from None
    limit = settings.api_rate_limit
    if limit <= 0:
        return scope, None
    allowed, remaining, retry_after = await app.state.store.rate_hit(scope.user, limit)
    if not allowed:
        app.state.metrics.rate_limited.inc()
        raise HTTPException(
            429,
            f"rate limit of {limit} requests per minute exceeded",
            headers={"Retry-After": str(max(1, math.ceil(retry_after))), "X-RateLimit-Limit": str(limit),
                     "X-RateLimit-Remaining": "0"},
        )
    return scope, (limit, remaining)


async def get_scope(conn: HTTPConnection, token: Annotated[str | None, Depends(bearer)]) -> Scope:
    """The caller's scope: a valid token, within the rate limit. Every endpoint depends on this."""
    scope, rate_limit = await authenticate(conn.app, token)
    if rate_limit is not None:
        conn.state.rate_limit = rate_limit
    conn.state.scope = scope
    return scope


async def get_write_scope(scope: Annotated[Scope, Depends(get_scope)]) -> Scope:
    if not scope.can_write:
        raise HTTPException(403, f"the role {scope.role} is read-only")
    return scope


ReadScope = Annotated[Scope, Depends(get_scope)]
WriteScope = Annotated[Scope, Depends(get_write_scope)]


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    session = request.app.state.db.session()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DB = Annotated[Session, Depends(get_db)]
