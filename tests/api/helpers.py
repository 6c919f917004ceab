"""Helpers the API tests share: waiting for a condition, and signed tokens for any scope."""

from __future__ import annotations

import time
import uuid


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return last
        except Exception as error:  # noqa: BLE001 - keep polling until the deadline
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def scope_for(role: str, *, user: str | None = None, rep_id: str | None = None, territory: str | None = None):
    from api.security import Scope

    return Scope(user=user or f"{role}-{uuid.uuid4().hex[:8]}@test.example", role=role, rep_id=rep_id,
                 territory=territory, name=role)


def mint(scope, ttl: int | None = None) -> str:
    """A token signed with the server's key (demo mode), as the login endpoint would issue it."""
    from api.security import create_access_token
    from scc.config import get_settings

    return create_access_token(scope, get_settings(), ttl_seconds=ttl)[0]


