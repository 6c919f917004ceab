"""Request bodies: JSON read within bounds, and refusals that never echo what was sent.

- :func:`parse_json` is the one JSON reader of request bodies: at most ``SCC_API_MAX_BODY_BYTES`` (413),
  nesting at most ``SCC_API_JSON_MAX_DEPTH`` deep, measured before parsing without recursion (400, where
  ``json.loads`` would raise RecursionError), and only finite numbers (``NaN``, ``Infinity`` and ``1e999``
  are not JSON numbers: 400; they would also make the error response itself unserialisable).
- :class:`BoundedJsonMiddleware` holds every request body to that size (whatever its type, read as it
  streams in) and applies :func:`parse_json` to every JSON body (any endpoint, before FastAPI parses it).
- :func:`validation_error_handler` replaces FastAPI's 422 answer: where and what is wrong, in words, without
  the offending value (which may be huge, not serialisable, or someone's secret).
"""

from __future__ import annotations

import json
import math
import re
from email.message import Message

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_STEPS = bytes.maketrans(b"[{]}", bytes([1, 1, 255, 255]))  # +1 opens, -1 (as int8) closes
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # may be one (or an escaped backslash, or a pair)


class BadJson(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def too_large(max_bytes: int) -> BadJson:
    return BadJson(f"the body is larger than the {max_bytes:,} bytes accepted", 413)


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= 1:
        return body.count(b"[") + body.count(b"{")
    import numpy as np

    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS).translate(_STEPS)
    if not brackets:
        return 0
    return int(np.cumsum(np.frombuffer(brackets, dtype=np.int8), dtype=np.int64).max())


def _not_a_number(name: str):
    raise BadJson(f"{name} is not a JSON number; send finite numbers only")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson("a number is too large to be a finite number; send finite numbers only")
    return value


def parse_json(body: bytes, *, max_bytes: int, max_depth: int):
    """The JSON value of a request body, or :class:`BadJson` with a plain message (never the body's text)."""
    if len(body) > max_bytes:
        raise too_large(max_bytes)
    if nesting_depth(body) > max_depth:
        raise BadJson(f"the JSON nests deeper than the {max_depth} levels accepted")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadJson("the body is not UTF-8 text") from None
    try:
        value = json.loads(text, parse_constant=_not_a_number, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise BadJson(f"the body is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") \
            from None
    except RecursionError:  # unbalanced brackets can fool the count above; the parser still stops
        raise BadJson(f"the JSON nests deeper than the {max_depth} levels accepted") from None
    except ValueError:  # an integer of thousands of digits
        raise BadJson("a number in the body is too long") from None
    if _SURROGATE_ESCAPE.search(body) and (where := lone_surrogate(value)) is not None:
        where = where if len(where) <= 120 else where[:117] + "..."  # the keys are the sender's: kept short
        raise BadJson(f"{where} holds a lone UTF-16 surrogate (an escape \\ud800-\\udfff without its pair), "
                      "which is no character; send valid Unicode text")
    return value


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def lone_surrogate(value) -> str | None:
    """Where in a parsed JSON value a string or key holds a lone surrogate (``the field lines[0].product``,
    ``a key of lines[0]``, ``the body``), or None. Iterative, so any depth the parser took is walked."""
    stack = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if not _is_text(node):
                return f"the field {path}" if path else "the body"
        elif isinstance(node, dict):
            for key, item in node.items():
                if not _is_text(key):
                    return f"a key of {path}" if path else "a key of the body"
                stack.append((item, f"{path}.{key}" if path else key))
        elif isinstance(node, list):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node))
    return None


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI would read a body of this content type as JSON (no type at all included)."""
    if not content_type:
        return True
    message = Message()
    message["content-type"] = content_type
    return message.get_content_maintype() == "application" and (
        message.get_content_subtype() == "json" or message.get_content_subtype().endswith("+json"))


class BoundedJsonMiddleware:
    """Every request body within the size bound, every JSON body through :func:`parse_json`, before any
    endpoint sees it (pure ASGI)."""

    def __init__(self, app, settings):
        self.app = app
        self.max_bytes, self.max_depth = settings.api_max_body_bytes, settings.api_json_max_depth

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(scope, receive, send, too_large(self.max_bytes))
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(scope, receive, send, too_large(self.max_bytes))
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body.strip() and is_json(headers.get("content-type")):
            try:
                parse_json(body, max_bytes=self.max_bytes, max_depth=self.max_depth)
            except BadJson as error:
                return await self._refuse(scope, receive, send, error)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope, receive, send, error: BadJson):
        await JSONResponse({"detail": error.message}, status_code=error.status)(scope, receive, send)


async def validation_error_handler(_request: Request, error: RequestValidationError) -> JSONResponse:
    """422 with each problem's place and message, never the value sent (FastAPI's own answer echoes it)."""
    problems = []
    for item in error.errors():
        problems.append({"loc": [part if isinstance(part, (str, int)) else str(part) for part in item.get("loc", ())],
                         "msg": str(item.get("msg", "invalid value")), "type": str(item.get("type", "value_error"))})
    return JSONResponse({"detail": problems}, status_code=422)
