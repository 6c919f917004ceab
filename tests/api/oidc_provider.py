"""A small OpenID Connect provider for the tests: discovery, keys, authorize (code flow) and token endpoints.

It signs ID tokens with its own RSA key (RS256), hands out single-use codes, and puts the claims the test
chose (``next_claims``) into the next ID token, as a real provider would after a person signs in.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

CLIENT_ID, CLIENT_SECRET = "scc-api", "test-oidc-client-secret"


class Provider:
    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.codes: dict[str, dict] = {}
        self.next_claims: dict = {}
        self.server: uvicorn.Server | None = None

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def app(self) -> Starlette:
        async def discovery(_request: Request):
            return JSONResponse({
                "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })

        async def keys(_request: Request):
            return JSONResponse(self.jwks())

        async def authorize(request: Request):
            q = request.query_params
            if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": q.get("nonce"), "redirect_uri": q["redirect_uri"], "claims": dict(self.next_claims)}
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", status_code=302)

        async def token(request: Request):
            form = await request.form()
            grant = self.codes.pop(form.get("code", ""), None)  # single use
            if (grant is None or form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET
                    or form.get("redirect_uri") != grant["redirect_uri"]):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.url, "aud": CLIENT_ID, "sub": secrets.token_hex(8), "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"], **grant["claims"]}
            id_token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})
            return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                                 "id_token": id_token})

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery), Route("/jwks", keys),
            Route("/authorize", authorize), Route("/token", token, methods=["POST"]),
        ])

    def start(self) -> None:
        self.server = uvicorn.Server(uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning"))
        thread = threading.Thread(target=self.server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test OIDC provider did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server:
            self.server.should_exit = True
