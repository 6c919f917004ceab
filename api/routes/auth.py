"""``/api/v1/auth``: the local login of the demo users, OIDC single sign-on, and who am I."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from api.deps import ReadScope
from api.security import (DEMO_USERS, AuthError, ConfigurationError, ScopeError, authenticate_demo_user,
                          get_oidc, token_response)
from api.writepath import audit

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


async def _limit_by_address(request: Request) -> None:
    settings = request.app.state.settings
    if settings.api_rate_limit <= 0:
        return
    host = request.client.host if request.client else "unknown"
    allowed, _, retry_after = await request.app.state.store.rate_hit(f"ip:{host}", settings.api_rate_limit)
    if not allowed:
        raise HTTPException(429, "too many login attempts", headers={"Retry-After": str(max(1, math.ceil(retry_after)))})


def _audit_login(request: Request, scope, method: str) -> None:
    with request.app.state.db.session() as session:
        audit(session, scope, "login", scope.user, {"method": method}, entity="user")
        session.commit()


@router.post("/token", summary="Log in (demo users in demo mode) and get a bearer token")
async def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict:
    await _limit_by_address(request)
    settings = request.app.state.settings
    try:
        scope = await run_in_threadpool(authenticate_demo_user, form.username, form.password, settings)
    except ScopeError as error:  # the right person, but no rows to give them: never a token that sees nothing
        request.app.state.metrics.auth_failures.inc()
        raise HTTPException(403, str(error)) from None
    except AuthError as error:
        request.app.state.metrics.auth_failures.inc()
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    await run_in_threadpool(_audit_login, request, scope, "password")
    return token_response(scope, settings)


@router.get("/me", summary="The caller's identity and data scope")
async def me(scope: ReadScope, request: Request) -> dict:
    return {**scope.as_dict(), "can_write": scope.can_write, "scope_key": scope.key,
            "live_speed": _live_speed(request.app.state.settings)}


def _live_speed(settings) -> float | None:
    """How many times faster than real time the demo company's live mode runs, when it runs faster (the
    running emulators' own run info); None in real time, with live mode off, or outside demo mode."""
    if not settings.demo_mode:
        return None
    from emulators.server import RunInfo

    info = RunInfo.read(settings)
    if not info or not info.live or info.live_speed <= 1 or not _running(info.pid):
        return None
    return info.live_speed


def _running(pid: int) -> bool:
    """The emulators that published the run info still run (a stale run.json says nothing)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it runs
        return True
    return True


@router.get("/config", summary="How to log in here: local demo logins and/or OIDC single sign-on")
async def config(request: Request) -> dict:
    settings = request.app.state.settings
    return {
        "local_login": settings.demo_mode,
        "demo_users": sorted(DEMO_USERS) if settings.demo_mode else [],
        "demo_logins": [{"username": user, "role": role} for user, role in DEMO_USERS.items()]
        if settings.demo_mode else [],
        "oidc": bool(settings.oidc_issuer and settings.oidc_client_id),
        "oidc_login_url": "/api/v1/auth/oidc/login" if settings.oidc_issuer else None,
    }


@router.get("/oidc/login", summary="Start single sign-on: redirects to the identity provider")
async def oidc_login(request: Request) -> RedirectResponse:
    settings = request.app.state.settings
    try:
        oidc = get_oidc(settings)
        url = await run_in_threadpool(oidc.login_url, str(request.url_for("oidc_callback")))
    except ConfigurationError as error:
        raise HTTPException(404, str(error)) from None
    except Exception as error:  # noqa: BLE001 - the provider cannot be reached
        raise HTTPException(502, f"the identity provider cannot be reached: {error}") from None
    return RedirectResponse(url, status_code=302)


@router.get("/oidc/callback", name="oidc_callback", summary="Finish single sign-on and get a bearer token")
async def oidc_callback(request: Request, code: Annotated[str, Query(min_length=1, max_length=4096)],
                        state: Annotated[str, Query(min_length=1, max_length=4096)]):
    settings = request.app.state.settings
    try:
        oidc = get_oidc(settings)
        scope = await run_in_threadpool(oidc.complete, code, state)
    except ConfigurationError as error:
        raise HTTPException(404, str(error)) from None
    except ScopeError as error:
        request.app.state.metrics.auth_failures.inc()
        raise HTTPException(403, str(error)) from None
    except AuthError as error:
        raise HTTPException(401, str(error)) from None
    await run_in_threadpool(_audit_login, request, scope, "oidc")
    body = token_response(scope, settings)
    if settings.oidc_success_redirect:
        return RedirectResponse(f"{settings.oidc_success_redirect}#access_token={body['access_token']}", status_code=302)
    return body
