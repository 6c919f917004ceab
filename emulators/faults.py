"""Seeded, run-time switchable fault injection for the emulators.

A fault plan is a handful of rates and knobs. It can be set at start-up (``SCC_EMULATOR_FAULTS`` or
``scc emulators start --faults``) and changed while running through each emulator's admin endpoint
``POST /__admin/faults`` with a JSON body of the same keys. The same seed gives the same sequence of
faults for the same sequence of requests, so a failing test can be replayed.

Each emulator has its own :class:`FaultInjector` (the same plan, its own random draws and counters), asks
its :meth:`FaultInjector.draw` once per API request and renders the fault in its own vendor's shape
(Salesforce's JSON array of errors, NetSuite's problem+json).
"""

from __future__ import annotations

import enum
import random
import threading
from dataclasses import asdict, dataclass, fields


class Fault(enum.Enum):
    SERVER_ERROR = "server_error"  # 500 or 503, chosen at random
    RATE_LIMITED = "rate_limited"  # Salesforce: 403 REQUEST_LIMIT_EXCEEDED; NetSuite: 429
    SESSION_EXPIRED = "session_expired"  # Salesforce: 401 INVALID_SESSION_ID (token revoked)
    DROP_CONNECTION = "drop_connection"  # the response is cut off mid-body


@dataclass
class FaultPlan:
    """What to inject. Rates are shares of API requests, between 0 and 1."""

    error_rate: float = 0.0  # 500/503 answers
    rate_limit_rate: float = 0.0  # 429 / 403 REQUEST_LIMIT_EXCEEDED answers (with Retry-After)
    drop_rate: float = 0.0  # connections dropped mid-response
    latency_ms: float = 0.0  # added to every API request
    latency_jitter_ms: float = 0.0  # plus a uniform random share of this
    expire_session_after: int = 0  # Salesforce: revoke all tokens once, after this many requests (0: never)
    retry_after_s: float = 1.0  # Retry-After header on rate-limited answers
    seed: int = 0

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """Parse ``key=value,key=value`` (the form of ``SCC_EMULATOR_FAULTS``)."""
        plan = cls()
        if not text.strip():
            return plan
        known = {f.name: f.type for f in fields(cls)}
        for part in text.split(","):
            key, _, value = part.partition("=")
            key = key.strip()
            if key not in known:
                raise ValueError(f"unknown fault setting {key!r}; known: {', '.join(sorted(known))}")
            setattr(plan, key, int(value) if key in {"seed", "expire_session_after"} else float(value))
        plan.validate()
        return plan

    def validate(self) -> None:
        for name in ("error_rate", "rate_limit_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.error_rate + self.rate_limit_rate + self.drop_rate > 1.0:
            raise ValueError("error_rate + rate_limit_rate + drop_rate must not exceed 1")
        if self.latency_ms < 0 or self.latency_jitter_ms < 0 or self.expire_session_after < 0:
            raise ValueError("latency and expire_session_after must not be negative")


@dataclass
class FaultDecision:
    fault: Fault | None
    latency_s: float
    status: int = 0  # for SERVER_ERROR: 500 or 503


class FaultInjector:
    """Thread-safe: the emulators serve requests from a thread pool."""

    def __init__(self, plan: FaultPlan | None = None, *, expires_sessions: bool = True):
        """One per emulator: its own draws and counters. ``expires_sessions`` is False for an emulator
        without sessions to expire (NetSuite signs every request), so ``expire_session_after`` is not
        counted there as a fault that never happens."""
        self._lock = threading.Lock()
        self.expires_sessions = expires_sessions
        self.configure(plan or FaultPlan())

    def configure(self, plan: FaultPlan) -> None:
        plan.validate()
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed)
            self.requests_seen = 0
            self.injected: dict[str, int] = {f.value: 0 for f in Fault}
            self._session_expiry_done = False

    def update(self, **changes) -> FaultPlan:
        """Change some keys of the current plan (the admin endpoint's PATCH semantics)."""
        data = asdict(self.plan)
        unknown = set(changes) - set(data)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        data.update(changes)
        plan = FaultPlan(**data)
        self.configure(plan)
        return plan

    def draw(self) -> FaultDecision:
        """Decide the fate of one API request."""
        with self._lock:
            plan = self.plan
            self.requests_seen += 1
            latency = (plan.latency_ms + self._rng.random() * plan.latency_jitter_ms) / 1000.0
            if (
                plan.expire_session_after
                and self.expires_sessions
                and not self._session_expiry_done
                and self.requests_seen > plan.expire_session_after
            ):
                self._session_expiry_done = True
                return self._count(FaultDecision(Fault.SESSION_EXPIRED, latency))
            roll = self._rng.random()
            if roll < plan.error_rate:
                status = 503 if self._rng.random() < 0.5 else 500
                return self._count(FaultDecision(Fault.SERVER_ERROR, latency, status))
            roll -= plan.error_rate
            if roll < plan.rate_limit_rate:
                return self._count(FaultDecision(Fault.RATE_LIMITED, latency))
            roll -= plan.rate_limit_rate
            if roll < plan.drop_rate:
                return self._count(FaultDecision(Fault.DROP_CONNECTION, latency))
            return FaultDecision(None, latency)

    def _count(self, decision: FaultDecision) -> FaultDecision:
        self.injected[decision.fault.value] += 1
        return decision

    def snapshot(self) -> dict:
        with self._lock:
            return {"plan": asdict(self.plan), "requests_seen": self.requests_seen, "injected": dict(self.injected)}


async def send_dropped_response(send) -> None:
    """Start a response that promises a body and cut it off, as a dropped connection looks to a client."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
    raise ConnectionAbortedError("fault injection: connection dropped")
