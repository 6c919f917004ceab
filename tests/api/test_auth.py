"""Authentication: demo logins, refused tokens (expired, forged, alg none, ...), OIDC single sign-on."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from .fixtures import DEMO_LOGINS, DEMO_PASSWORD
from .helpers import mint, scope_for

pytestmark = pytest.mark.slow


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def claims(role="sales_exec", **extra) -> dict:
    now = int(time.time())
    return {"sub": "intruder@example.com", "role": role, "rep_id": None, "territory": None, "iss": "scc-api",
            "iat": now, "exp": now + 600, **extra}


def demo_key() -> str:
    from api.security import signing_key
    from scc.config import get_settings

    return signing_key(get_settings())


def refused_tokens() -> dict[str, str]:
    good = mint(scope_for("sales_exec"))
    head, body, signature = good.split(".")
    tampered_body = b64({**json.loads(base64.urlsafe_b64decode(body + "==")), "role": "sales_exec",
                         "sub": "someone-else"})
    without_exp = claims()
    without_exp.pop("exp")
    return {
        "expired": mint(scope_for("sales_exec"), ttl=-120),
        "forged": jwt.encode(claims(), "not-the-server-key-but-long-enough-0123456789", algorithm="HS256"),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.",
        "alg none signed": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{body}.{signature}",
        "other algorithm": jwt.encode(claims(), demo_key(), algorithm="HS512"),
        "tampered payload": f"{head}.{tampered_body}.{signature}",
        "no expiry": jwt.encode(without_exp, demo_key(), algorithm="HS256"),
        "unknown role": jwt.encode(claims(role="admin"), demo_key(), algorithm="HS256"),
        "other issuer": jwt.encode(claims(iss="someone"), demo_key(), algorithm="HS256"),
        "garbage": "not.a.token",
    }


def test_bad_tokens_are_refused_everywhere(api):
    import websockets.sync.client as ws_client
    from websockets.exceptions import InvalidStatus

    for name, token in refused_tokens().items():
        with api.client(token) as client:
            for path in ("/api/v1/auth/me", "/api/v1/dashboard/overview"):
                response = client.get(path)
                assert response.status_code == 401, (name, path, response.text)
        with pytest.raises(InvalidStatus) as refused:
            ws_client.connect(api.url.replace("http", "ws") + f"/ws/dashboard?token={token}", open_timeout=10)
        assert refused.value.response.status_code == 401, name
    with api.client(mint(scope_for("sales_exec"))) as client:
        assert client.get("/api/v1/auth/me").status_code == 200


def test_demo_logins_and_wrong_passwords(api):
    with api.client() as client:
        for role, user in DEMO_LOGINS.items():
            response = client.post("/api/v1/auth/token", data={"username": user, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.text
            token = response.json()["access_token"]
            me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
            assert me["role"] == role and me["user"] == user
            assert me["can_write"] == (role != "finance_viewer")
            decoded = jwt.decode(token, options={"verify_signature": False})
            assert decoded["exp"] > time.time() and jwt.get_unverified_header(token)["alg"] == "HS256"
        assert client.post("/api/v1/auth/token", data={"username": DEMO_LOGINS["sales_rep"],
                                                       "password": "wrong"}).status_code == 401
        assert client.post("/api/v1/auth/token", data={"username": "nobody@example.com",
                                                       "password": DEMO_PASSWORD}).status_code == 401


def test_oidc_single_sign_on(api, oidc_provider):
    """The authorization-code flow against a real (test) identity provider over HTTP."""
    import httpx

    with api.client(follow_redirects=False) as client:
        start = client.get("/api/v1/auth/oidc/login")
        assert start.status_code == 302
        authorize = start.headers["location"]
        assert authorize.startswith(oidc_provider.url + "/authorize")
        # the browser at the provider: the person signs in; the provider redirects back with a code
        oidc_provider.next_claims = {"email": "maria@corp.example", "name": "Maria", "scc_role": "sales_manager",
                                     "scc_territory": "Pacific"}
        back = httpx.get(authorize, follow_redirects=False, trust_env=False)
        assert back.status_code == 302
        callback = back.headers["location"]
        assert callback.startswith(api.url + "/api/v1/auth/oidc/callback")
        done = client.get(callback.removeprefix(api.url))
        assert done.status_code == 200, done.text
        token = done.json()["access_token"]
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert (me["user"], me["role"], me["territory"]) == ("maria@corp.example", "sales_manager", "Pacific")
        # a replayed code, or a state that was not ours, is refused
        assert client.get(callback.removeprefix(api.url)).status_code == 401
        forged_state = callback.split("state=")[0] + "state=" + b64({"nonce": "x"})
        assert client.get(forged_state.removeprefix(api.url)).status_code == 401
