"""HTTP for the pipelines: one retrying session used by both vendors' clients.

Why not urllib3's ``Retry`` alone: it never sees a response cut off mid-body (requests raises that after
the adapter returned), nor the body of a 403 that says ``REQUEST_LIMIT_EXCEEDED``. So the whole
request, body included, is retried here, with exponential backoff and full jitter, honouring
``Retry-After``. Only idempotent reads go through it (SuiteQL POSTs are reads).

For the syncs' sessions (``fail_fast``) retries are for a source that answered: when no connection to it could be made on the very first call
(refused, a name that does not resolve, no answer within the connect timeout), the call fails at once
with :class:`NeverConnected`, whose message is one line, instead of backing off for half a minute against
a wrong URL or an emulator that is not running.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import requests
from urllib3.exceptions import ConnectTimeoutError

log = logging.getLogger("scc.pipelines.http")

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class BudgetExhausted(RuntimeError):
    """The vendor's API budget (or our share of it) is used up; a later run will resume."""


class NeverConnected(requests.ConnectionError):
    """No connection could be made to a source that has not answered yet; the message is the short reason
    ("connection refused", "name does not resolve", "no answer within 5 s")."""


class ResilientSession(requests.Session):
    def __init__(
        self,
        *,
        max_retries: int = 8,
        base_delay: float = 0.2,
        max_delay: float = 20.0,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        fail_fast: bool = False,
        on_response: Callable[[requests.Response], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__()
        self.trust_env = False  # the machine's proxy and CA variables must not override our settings
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        # The syncs' sessions (fail_fast): a source that never answered fails at once (NeverConnected),
        # and a connection must be made within connect_timeout. Others retry every connection error.
        self.connect_timeout = min(connect_timeout, timeout)
        self.fail_fast = fail_fast
        self.answered = False  # has the source ever answered (any response, even an error)?
        self.on_response = on_response
        self.sleep = sleep
        self.retries = 0  # total, for the sync summary
        self.requests_sent = 0
        self._rng = random.Random()

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (self.connect_timeout, self.timeout) if self.fail_fast else self.timeout
        for attempt in range(self.max_retries + 1):
            self.requests_sent += 1
            try:
                response = super().request(method, url, *args, **kwargs)
                self.answered = True
                response.content  # read the whole body now, so a cut-off body is retried here
            except TRANSIENT_ERRORS as error:
                if self.fail_fast and not self.answered and (reason := _never_connected(error, self.connect_timeout)):
                    raise NeverConnected(reason) from error
                if attempt == self.max_retries:
                    raise
                self._wait(attempt, None, f"{type(error).__name__} on {method} {_short(url)}")
                continue
            if self.on_response:
                self.on_response(response)
            if not self._retryable(response) or attempt == self.max_retries:
                return response
            self._wait(attempt, response.headers.get("Retry-After"), f"{response.status_code} on {method} {_short(url)}")
        raise AssertionError("unreachable")

    @staticmethod
    def _retryable(response: requests.Response) -> bool:
        if response.status_code in RETRYABLE_STATUS:
            return True
        if response.status_code == 403 and b"REQUEST_LIMIT_EXCEEDED" in response.content:
            # Salesforce says this both for too many concurrent calls (retry helps) and for the daily
            # budget (it does not): only the first comes with a Retry-After.
            return "Retry-After" in response.headers
        return False

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> None:
        self.retries += 1
        delay = self._rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # full jitter
        if retry_after:
            try:
                delay = max(delay, float(retry_after))
            except ValueError:
                pass
        log.info("retrying after %.2f s: %s", delay, why)
        self.sleep(delay)


def _short(url: str) -> str:
    return url if len(url) < 120 else url[:117] + "..."


def _never_connected(error: BaseException, connect_timeout: float) -> str | None:
    """The short reason when ``error`` means no connection was made at all, else None (a connection cut
    mid-answer, a read timed out: the source is there)."""
    reason = error
    while reason is not None and not isinstance(reason, ConnectTimeoutError):
        reason = getattr(reason, "reason", None) or (reason.args[0] if reason.args and
                                                     isinstance(reason.args[0], BaseException) else None)
    if reason is None:
        return None
    text = str(reason)
    if "Errno" not in text and "timed out" in text.lower():
        return f"no answer within {connect_timeout:g} s"
    if "resolution" in type(reason).__name__.lower() or "Name or service not known" in text:
        return "the host name does not resolve"
    if "refused" in text.lower():
        return "connection refused"
    cause = text.rsplit("] ", 1)[-1].strip(" \"')") if "] " in text else type(reason).__name__
    return cause[:1].lower() + cause[1:]


def connection_problem(error: BaseException) -> str:
    """One short line for a failed connection, whatever the library's wording."""
    if isinstance(error, NeverConnected):
        return str(error)
    if reason := _never_connected(error, 0):
        return reason
    if isinstance(error, requests.Timeout):
        return "timed out"
    text = str(error)
    return text if len(text) < 100 else type(error).__name__
