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


def unscoped_tokens() -> dict[str, str]:
    """Signed with the server's own key, as a leaked key or a careless issuer would: a manager or a rep whose
    token does not say whose rows they see (what an OIDC user without the claim used to get)."""
    key = demo_key()
    return {
        "manager, territory null": jwt.encode(claims("sales_manager"), key, algorithm="HS256"),
        "manager, no territory claim": jwt.encode(
            {k: v for k, v in claims("sales_manager", rep_id="005000000000001AAA").items() if k != "territory"},
            key, algorithm="HS256"),
        "manager, empty territory": jwt.encode(claims("sales_manager", territory=" "), key, algorithm="HS256"),
        "manager, territory not text": jwt.encode(claims("sales_manager", territory=["West", "East"]), key,
                                                  algorithm="HS256"),
        "rep, rep id null": jwt.encode(claims("sales_rep", territory="West"), key, algorithm="HS256"),
        "rep, no rep id claim": jwt.encode(
            {k: v for k, v in claims("sales_rep").items() if k != "rep_id"}, key, algorithm="HS256"),
        "rep, empty rep id": jwt.encode(claims("sales_rep", rep_id=""), key, algorithm="HS256"),
    }


def test_tokens_without_their_scope_are_refused(api, people_scopes):
    """Issue 17.5: such a token listed other users' drafts (``territory IS NULL`` matched them) and got a 500
    on /query/ask. Now it gets nothing at all: 401 everywhere, saying what is missing."""
    import websockets.sync.client as ws_client
    from websockets.exceptions import InvalidStatus

    _, manager, _ = people_scopes
    with api.as_scope(manager) as client:  # a draft with no customer: rep id and territory are NULL
        orphan = client.post("/api/v1/transactions/create",
                             json={"sentence": "Create a sales order for Nobody Such Company Ltd, 5 hats, $20 each"})
        assert orphan.status_code == 201, orphan.text
        assert orphan.json()["territory"] is None and orphan.json()["rep_id"] is None
    requests = [("GET", "/api/v1/auth/me", None), ("GET", "/api/v1/transactions", None),
                ("GET", f"/api/v1/transactions/{orphan.json()['id']}", None),
                ("GET", "/api/v1/conversations", None), ("GET", "/api/v1/dashboard/overview", None),
                ("POST", "/api/v1/query/ask", {"question": "show me pending orders"}),
                ("POST", "/api/v1/transactions/create", {"sentence": "Create a sales order for Disney, 5 hats"})]
    for name, token in unscoped_tokens().items():
        needed = "territory" if name.startswith("manager") else "rep id"
        with api.client(token) as client:
            for method, path, body in requests:
                response = client.request(method, path, json=body)
                assert response.status_code == 401, (name, path, response.status_code, response.text)
                assert needed in response.json()["detail"], (name, path, response.text)
                assert orphan.json()["id"] not in response.text
        with pytest.raises(InvalidStatus) as refused:
            ws_client.connect(api.url.replace("http", "ws") + f"/ws/dashboard?token={token}", open_timeout=10)
        assert refused.value.response.status_code == 401, name
    with api.as_scope(manager) as client:  # the person who made it still sees it, by owning it
        assert orphan.json()["id"] in {t["id"] for t in client.get("/api/v1/transactions").json()["items"]}


def test_drafts_are_seen_by_owner_or_by_the_book_they_are_in(api, people_scopes):
    """A manager of another territory and a rep of another book see neither a draft without a customer
    nor one in a book not theirs; its maker does."""
    from .helpers import scope_for

    _, manager, rep = people_scopes
    other_manager = scope_for("sales_manager", territory="No Such Territory")
    other_rep = scope_for("sales_rep", rep_id="005000000000999ZZZ", territory=rep.territory)
    with api.as_scope(rep) as client:
        orphan = client.post("/api/v1/transactions/create",
                             json={"sentence": "Create a sales order for Nobody Such Company Ltd, 5 hats, $20 each"})
        booked = client.post("/api/v1/transactions/create",
                             json={"sentence": "Create a sales order for Disney, 5 hats, $50 each"})
        assert orphan.status_code == booked.status_code == 201
        assert booked.json()["rep_id"] == rep.rep_id
        mine = {t["id"] for t in client.get("/api/v1/transactions").json()["items"]}
        assert {orphan.json()["id"], booked.json()["id"]} <= mine
    with api.as_scope(manager) as client:
        seen = {t["id"] for t in client.get("/api/v1/transactions").json()["items"]}
        assert booked.json()["id"] in seen and orphan.json()["id"] not in seen
    for stranger in (other_manager, other_rep):
        with api.as_scope(stranger) as client:
            seen = {t["id"] for t in client.get("/api/v1/transactions").json()["items"]}
            assert not seen & {orphan.json()["id"], booked.json()["id"]}, stranger.role
            assert client.get(f"/api/v1/transactions/{orphan.json()['id']}").status_code == 404


def oidc_sign_in(api, oidc_provider, claims_given: dict):
    """The browser's round trip through the identity provider; the API's answer to the callback."""
    import httpx

    with api.client(follow_redirects=False) as client:
        authorize = client.get("/api/v1/auth/oidc/login").headers["location"]
        oidc_provider.next_claims = claims_given
        callback = httpx.get(authorize, follow_redirects=False, trust_env=False).headers["location"]
        return client.get(callback.removeprefix(api.url))


@pytest.mark.parametrize("given, claim", [
    ({"scc_role": "sales_manager"}, "scc_territory"),
    ({"scc_role": "sales_manager", "scc_territory": ""}, "scc_territory"),
    ({"scc_role": "sales_rep", "scc_territory": "Pacific"}, "scc_rep_id"),
    ({"scc_role": "sales_rep", "scc_rep_id": 7}, "scc_rep_id"),
])
def test_an_oidc_user_without_the_scope_claim_gets_no_token(api, oidc_provider, given, claim):
    done = oidc_sign_in(api, oidc_provider, {"email": "kim@corp.example", "name": "Kim", **given})
    assert done.status_code == 403, done.text
    assert claim in done.json()["detail"] and "access_token" not in done.json()
    # with the claim, the same person signs in and sees their book
    fixed = {**given, claim: "Pacific" if claim == "scc_territory" else "005000000000007AAA"}
    done = oidc_sign_in(api, oidc_provider, {"email": "kim@corp.example", "name": "Kim", **fixed})
    assert done.status_code == 200, done.text
    assert done.json()["user"]["role"] == given["scc_role"]
