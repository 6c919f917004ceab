"""Who is calling and what they may see: access tokens, the demo logins and OIDC single sign-on.

- **Access tokens** are JWTs signed with HS256 (``SCC_JWT_SECRET``; a built-in key only in demo mode). Every
  token carries an expiry; tokens with another algorithm (``none`` included), a bad signature, no expiry or
  a past one are refused.
- **Demo logins** (demo mode only): one user per role, mapped to real people of the demo company read from
  the marts: the rep of the biggest customer (Disney in the demo company), that rep's manager and
  territory, the executive above them, and a finance viewer.
- **OIDC** (``SCC_OIDC_ISSUER`` and client id/secret): the authorization-code flow through authlib; the ID
  token is verified against the provider's keys, and the role, rep id and territory come from its claims.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

import jwt

from scc.config import Settings

ROLES = ("sales_exec", "sales_manager", "sales_rep", "finance_viewer")
WRITE_ROLES = ("sales_exec", "sales_manager", "sales_rep")
SCOPE_CLAIMS = {"sales_manager": "territory", "sales_rep": "rep_id"}  # what each cut-down role must name
ALGORITHM = "HS256"
ISSUER = "scc-api"
# Public on purpose: it only ever signs tokens of the demo (SCC_DEMO_MODE=true), never of a real deployment.
DEMO_JWT_SECRET = "scc-demo-jwt-secret-do-not-use-outside-demo-mode-4f1c9a7e-2b8d0c6a5e3f1d7b"

DEMO_USERS = {
    "exec@scc-demo.example": "sales_exec",
    "manager@scc-demo.example": "sales_manager",
    "rep@scc-demo.example": "sales_rep",
    "finance@scc-demo.example": "finance_viewer",
}


class AuthError(Exception):
    """The credentials or token are not acceptable (answered with 401)."""


class ScopeError(AuthError):
    """A role without the claim that names its rows: a manager with no territory, a rep with no rep id.

    Such a scope cannot exist: it is refused at login (403) and in a token (401), so no query, list or
    draft is ever cut by a missing value (``territory IS NULL`` would match rows of nobody's book).
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Scope:
    """The caller and the rows they may see: the one object every endpoint receives.

    ``sales_exec`` and ``finance_viewer`` see every row (finance may not write), ``sales_manager`` the rows
    of their territory, ``sales_rep`` the rows with their rep id.
    """

    user: str
    role: str
    rep_id: str | None = None
    territory: str | None = None
    name: str | None = None
    expires_at: int | None = field(default=None, compare=False)  # of the token it came from

    def __post_init__(self):
        for name in ("rep_id", "territory"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ScopeError(f"the {name.replace('_', ' ')} must be text", name)
            if isinstance(value, str) and not value.strip():
                object.__setattr__(self, name, None)  # an empty claim is no claim
        needed = SCOPE_CLAIMS.get(self.role)
        if needed and getattr(self, needed) is None:
            raise ScopeError(f"the role {self.role} needs {needed.replace('_', ' ')} (the rows it may see), "
                             f"and none was given", needed)

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def sees_everything(self) -> bool:
        return self.role in ("sales_exec", "finance_viewer")

    @property
    def key(self) -> str:
        """A short name of the rows this scope sees (the dashboard cache is shared by equal scopes)."""
        if self.sees_everything:
            return "all"
        if self.role == "sales_manager":
            return f"terr:{self.territory}"
        return f"rep:{self.territory}:{self.rep_id}"

    def covers(self, rep_id: str | None = None, territory: str | None = None) -> bool:
        """Whether a row (or an event) with this rep id and territory is visible to this scope."""
        if self.sees_everything:
            return True
        if self.role == "sales_manager":
            return self.territory is not None and territory == self.territory
        return self.rep_id is not None and rep_id == self.rep_id

    def where(self, alias: str = "") -> tuple[str, list]:
        """The SQL condition (``?`` placeholders) that keeps a mart's rows to this scope."""
        prefix = f"{alias}." if alias else ""
        if self.sees_everything:
            return "1 = 1", []
        if self.role == "sales_manager":
            if not self.territory:
                return "1 = 0", []
            return f"{prefix}territory = ?", [self.territory]
        if not self.rep_id:
            return "1 = 0", []
        return f"{prefix}rep_id = ?", [self.rep_id]

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("expires_at", None)
        return data


# --- access tokens -------------------------------------------------------------------------------


def signing_key(settings: Settings) -> str:
    if settings.jwt_secret is not None and settings.jwt_secret.get_secret_value():
        return settings.jwt_secret.get_secret_value()
    if settings.demo_mode:
        return DEMO_JWT_SECRET
    raise ConfigurationError("SCC_JWT_SECRET must be set outside demo mode (a long random string)")


def create_access_token(scope: Scope, settings: Settings, ttl_seconds: int | None = None) -> tuple[str, int]:
    """A signed token for ``scope``; returns (token, seconds until it expires)."""
    ttl = ttl_seconds if ttl_seconds is not None else settings.jwt_ttl_minutes * 60
    now = int(time.time())
    claims = {
        "sub": scope.user,
        "role": scope.role,
        "rep_id": scope.rep_id,
        "territory": scope.territory,
        "name": scope.name,
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), ttl


def decode_access_token(token: str, settings: Settings) -> Scope:
    """The scope of a valid token; raises :class:`AuthError` for anything else."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],  # never "none", never an algorithm the token picks for itself
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the access token has expired") from None
    except jwt.InvalidTokenError as error:
        raise AuthError(f"invalid access token: {error}") from None
    role = claims.get("role")
    if role not in ROLES:
        raise AuthError("the access token carries no known role")
    try:
        return Scope(
            user=str(claims["sub"]),
            role=role,
            rep_id=claims.get("rep_id"),
            territory=claims.get("territory"),
            name=claims.get("name"),
            expires_at=int(claims["exp"]),
        )
    except ScopeError as error:
        raise ScopeError(f"the access token is refused: {error}; log in again", error.field) from None


# --- the demo logins -----------------------------------------------------------------------------


def _same_password(given: str, expected: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())


_demo_cache: dict[str, tuple[float, dict]] = {}
_demo_lock = threading.Lock()


def demo_people(settings: Settings) -> dict[str, dict]:
    """The real people of the demo company behind the demo logins, from the marts (cached a minute)."""
    from api.services import warehouse

    with _demo_lock:
        cached = _demo_cache.get("people")
        if cached and cached[0] > time.monotonic():
            return cached[1]
    top = warehouse.fetch_dicts(
        "SELECT c.rep_id, c.territory, c.customer_name FROM marts.dim_customers c "
        "WHERE c.rep_id IS NOT NULL AND c.territory IS NOT NULL "
        "ORDER BY c.lifetime_revenue DESC NULLS LAST, c.customer_id LIMIT 1",
        settings=settings,
    )
    if not top:
        raise warehouse.WarehouseUnavailable("the marts hold no customers yet; run `scc sync` and `scc build`")
    rep_id, territory = top[0]["rep_id"], top[0]["territory"]
    reps = {
        row["rep_id"]: row
        for row in warehouse.fetch_dicts(
            "SELECT rep_id, rep_name, manager_id, territory FROM marts.dim_sales_reps", settings=settings
        )
    }
    rep = reps.get(rep_id, {})
    manager = reps.get(rep.get("manager_id"), {})
    executive = reps.get(manager.get("manager_id"), {})
    people = {
        "sales_exec": {"rep_id": executive.get("rep_id"), "territory": None,
                       "name": executive.get("rep_name") or "Sales Executive"},
        "sales_manager": {"rep_id": manager.get("rep_id"), "territory": territory,
                          "name": manager.get("rep_name") or f"Manager, {territory}"},
        "sales_rep": {"rep_id": rep_id, "territory": territory, "name": rep.get("rep_name") or rep_id},
        "finance_viewer": {"rep_id": None, "territory": None, "name": "Finance Viewer"},
    }
    with _demo_lock:
        _demo_cache["people"] = (time.monotonic() + 60, people)
    return people


def authenticate_demo_user(username: str, password: str, settings: Settings) -> Scope:
    """The scope of a demo login; raises :class:`AuthError` on wrong credentials or outside demo mode."""
    role = DEMO_USERS.get(username.strip().lower())
    expected = settings.api_demo_password.get_secret_value()
    if not settings.demo_mode or role is None or not _same_password(password, expected):
        raise AuthError("unknown user or wrong password")
    person = demo_people(settings)[role]
    return Scope(user=username.strip().lower(), role=role, rep_id=person["rep_id"],
                 territory=person["territory"], name=person["name"])


# --- OIDC single sign-on -------------------------------------------------------------------------


class OIDC:
    """The authorization-code flow against ``SCC_OIDC_ISSUER``; stateless (the state is a signed JWT)."""

    def __init__(self, settings: Settings):
        if not (settings.oidc_issuer and settings.oidc_client_id):
            raise ConfigurationError("OIDC is not configured (SCC_OIDC_ISSUER, SCC_OIDC_CLIENT_ID)")
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self._metadata: dict | None = None
        self._jwks: dict | None = None
        self._fetched = 0.0

    def _client(self, redirect_uri: str | None = None):
        from authlib.integrations.httpx_client import OAuth2Client

        secret = self.settings.oidc_client_secret.get_secret_value() if self.settings.oidc_client_secret else None
        return OAuth2Client(
            client_id=self.settings.oidc_client_id,
            client_secret=secret,
            scope=self.settings.oidc_scopes,
            redirect_uri=redirect_uri,
            token_endpoint_auth_method="client_secret_post" if secret else "none",
            timeout=10,
            trust_env=False,
        )

    def metadata(self) -> dict:
        if self._metadata is None or time.monotonic() - self._fetched > 3600:
            import httpx

            with httpx.Client(timeout=10, trust_env=False) as client:
                self._metadata = client.get(f"{self.issuer}/.well-known/openid-configuration").raise_for_status().json()
                self._jwks = client.get(self._metadata["jwks_uri"]).raise_for_status().json()
            self._fetched = time.monotonic()
        return self._metadata

    def login_url(self, redirect_uri: str) -> str:
        meta = self.metadata()
        nonce = secrets.token_urlsafe(16)
        state = jwt.encode(
            {"nonce": nonce, "redirect_uri": redirect_uri, "exp": int(time.time()) + 600, "iss": ISSUER},
            signing_key(self.settings), algorithm=ALGORITHM,
        )
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(meta["authorization_endpoint"], state=state, nonce=nonce)
        return url

    def complete(self, code: str, state: str) -> Scope:
        """Exchange the code, verify the ID token and map its claims to a scope."""
        try:
            saved = jwt.decode(state, signing_key(self.settings), algorithms=[ALGORITHM], issuer=ISSUER)
        except jwt.InvalidTokenError as error:
            raise AuthError(f"invalid or expired login state: {error}") from None
        meta = self.metadata()
        with self._client(saved["redirect_uri"]) as client:
            try:
                token = client.fetch_token(meta["token_endpoint"], code=code, grant_type="authorization_code")
            except Exception as error:  # authlib raises OAuthError and httpx errors
                raise AuthError(f"the identity provider refused the code: {error}") from None
        id_token = token.get("id_token")
        if not id_token:
            raise AuthError("the identity provider returned no ID token")
        claims = self._verify_id_token(id_token, saved["nonce"])
        s = self.settings
        role = claims.get(s.oidc_role_claim)
        if role not in ROLES:
            raise AuthError(f"the ID token's claim {s.oidc_role_claim!r} names no known role")
        try:
            return Scope(
                user=str(claims.get("email") or claims["sub"]),
                role=role,
                rep_id=claims.get(s.oidc_rep_id_claim),
                territory=claims.get(s.oidc_territory_claim),
                name=claims.get("name"),
            )
        except ScopeError as error:
            claim = {"rep_id": s.oidc_rep_id_claim, "territory": s.oidc_territory_claim}.get(error.field)
            raise ScopeError(f"{error}: the identity provider sent no usable {claim!r} claim for this user; "
                             f"ask an administrator to set it", error.field) from None

    def _verify_id_token(self, id_token: str, nonce: str) -> dict:
        header = jwt.get_unverified_header(id_token)
        keys = [k for k in (self._jwks or {}).get("keys", []) if k.get("kid") in (None, header.get("kid"))]
        if not keys:
            self._metadata = None  # the provider may have rotated its keys: fetch them again once
            self.metadata()
            keys = [k for k in (self._jwks or {}).get("keys", []) if k.get("kid") in (None, header.get("kid"))]
        if not keys:
            raise AuthError("the ID token is signed with an unknown key")
        algorithms = [a for a in self.metadata().get("id_token_signing_alg_values_supported", ["RS256"]) if a != "none"]
        try:
            claims = jwt.decode(
                id_token, jwt.PyJWK(keys[0]).key, algorithms=algorithms, audience=self.settings.oidc_client_id,
                issuer=self.metadata().get("issuer", self.issuer), options={"require": ["exp", "iat", "sub"]},
                leeway=30,
            )
        except jwt.InvalidTokenError as error:
            raise AuthError(f"invalid ID token: {error}") from None
        if claims.get("nonce") != nonce:
            raise AuthError("the ID token's nonce does not match the login")
        return claims


_oidc: OIDC | None = None


def get_oidc(settings: Settings) -> OIDC:
    global _oidc
    if _oidc is None or _oidc.settings is not settings:
        _oidc = OIDC(settings)
    return _oidc


def token_response(scope: Scope, settings: Settings) -> dict:
    token, ttl = create_access_token(scope, settings)
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl, "user": scope.as_dict(),
            "expires_at": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=ttl)).isoformat()}
