"""OAuth 1.0a (RFC 5849) verification as NetSuite's token-based authentication does it.

NetSuite accepts only HMAC-SHA256 signatures. The signature base string is built from the request
method, the URL the client used (scheme, host and port as received, path) and the sorted, percent-encoded
parameters of the query string and the ``Authorization`` header (``realm`` and ``oauth_signature``
excluded; form bodies are not used by the REST API). A nonce may be used once; timestamps must be within
five minutes of the server clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from urllib.parse import parse_qsl, quote, unquote

WINDOW_SECONDS = 300


class OAuthError(Exception):
    """Any authentication failure (the client only ever sees 401 INVALID_LOGIN)."""


def percent_encode(value: str) -> str:
    """RFC 5849 section 3.6: everything but ALPHA, DIGIT, '-', '.', '_', '~'."""
    return quote(value, safe="~")


def parse_authorization(header: str) -> dict[str, str]:
    """``OAuth realm="X", oauth_consumer_key="..."`` -> {name: decoded value}."""
    if not header:
        raise OAuthError("missing Authorization header")
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        raise OAuthError("not an OAuth Authorization header")
    params: dict[str, str] = {}
    for part in _split_params(rest):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise OAuthError(f"malformed parameter {part!r}")
        name = name.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name in params:
            raise OAuthError(f"duplicate parameter {name}")
        params[unquote(name)] = unquote(value)
    return params


def _split_params(text: str) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return parts


def normalized_url(scheme: str, host: str, path: str) -> str:
    """RFC 5849 section 3.4.1.2: lower-case scheme and host, default port dropped, no query."""
    scheme = scheme.lower()
    host = host.lower()
    if ":" in host and not host.endswith("]"):
        name, _, port = host.rpartition(":")
        if (scheme == "http" and port == "80") or (scheme == "https" and port == "443"):
            host = name
    return f"{scheme}://{host}{path}"


def base_string(method: str, url: str, query_string: str, oauth_params: dict[str, str]) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True)]
    pairs += [(k, v) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature")]
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join(percent_encode(x) for x in (method.upper(), url, normalized))


def sign(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha256).digest()).decode()


class OAuthVerifier:
    """Checks NetSuite TBA headers against the configured integration and access token."""

    def __init__(
        self,
        account_id: str,
        consumers: dict[str, str],
        tokens: dict[str, tuple[str, str]],
        window: int = WINDOW_SECONDS,
        clock=time.time,
    ):
        """``consumers``: consumer key -> secret; ``tokens``: token id -> (secret, consumer key)."""
        self.account_id = account_id
        self.consumers = dict(consumers)
        self.tokens = dict(tokens)
        self.window = window
        self.clock = clock
        self._nonces: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()
        self._last_prune = 0.0

    @classmethod
    def from_settings(cls, settings) -> OAuthVerifier:
        def secret(v):
            return v.get_secret_value() if hasattr(v, "get_secret_value") else str(v)

        return cls(
            settings.netsuite_account_id,
            {settings.netsuite_consumer_key: secret(settings.netsuite_consumer_secret)},
            {
                settings.netsuite_token_id: (
                    secret(settings.netsuite_token_secret),
                    settings.netsuite_consumer_key,
                )
            },
        )

    def verify(self, method: str, url: str, query_string: str, authorization: str) -> dict[str, str]:
        """Raise :class:`OAuthError` unless the request is properly signed; returns the OAuth params."""
        params = parse_authorization(authorization)
        for required in (
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
        ):
            if not params.get(required):
                raise OAuthError(f"missing {required}")
        realm = params.get("realm")
        if realm is None or realm.upper().replace("-", "_") != self.account_id.upper().replace("-", "_"):
            raise OAuthError("wrong or missing realm")
        if params.get("oauth_version", "1.0") != "1.0":
            raise OAuthError("unsupported oauth_version")
        if params["oauth_signature_method"] != "HMAC-SHA256":
            raise OAuthError(f"signature method {params['oauth_signature_method']} is not accepted")
        consumer_secret = self.consumers.get(params["oauth_consumer_key"])
        token = self.tokens.get(params["oauth_token"])
        if consumer_secret is None or token is None or token[1] != params["oauth_consumer_key"]:
            raise OAuthError("unknown consumer key or token")
        try:
            timestamp = int(params["oauth_timestamp"])
        except ValueError:
            raise OAuthError("bad timestamp") from None
        now = self.clock()
        if abs(now - timestamp) > self.window:
            raise OAuthError("timestamp outside the allowed window")
        expected = sign(base_string(method, url, query_string, params), consumer_secret, token[0])
        if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
            raise OAuthError("signature mismatch")
        key = (params["oauth_consumer_key"], params["oauth_token"], params["oauth_nonce"])
        with self._lock:
            if now - self._last_prune > 10:
                cutoff = now - 2 * self.window
                self._nonces = {k: t for k, t in self._nonces.items() if t >= cutoff}
                self._last_prune = now
            if key in self._nonces:
                raise OAuthError("nonce already used")
            self._nonces[key] = float(timestamp)
        return params
