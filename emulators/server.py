"""Run the Salesforce and NetSuite emulators together, with the demo company, live mode and webhooks.

One process serves both vendors (Salesforce over TLS, NetSuite over plain HTTP, each on its own port), so
live mode can move the company consistently across both systems: a deal won in Salesforce becomes an
order in NetSuite. ``scc emulators start`` and ``make demo`` call :func:`run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.routing import Route

from emulators.faults import FaultInjector, FaultPlan
from emulators.tls import ensure_tls_files
from scc.config import Settings, today

log = logging.getLogger("scc.emulators")


@dataclass
class RunInfo:
    """What a running emulator process publishes for ``scc emulators status|stop`` and other tools."""

    pid: int
    salesforce_url: str
    netsuite_url: str
    company_dir: str
    started_at: float
    live: bool = False
    live_speed: float = 1.0  # live mode's simulated clock against real time (SCC_EMULATOR_LIVE_SPEED)

    @staticmethod
    def path(settings: Settings) -> Path:
        return settings.emulator_dir / "run.json"

    @classmethod
    def read(cls, settings: Settings) -> RunInfo | None:
        try:
            return cls(**json.loads(cls.path(settings).read_text()))
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            return None


def company_dir(settings: Settings) -> Path:
    """Where the generated company for these settings lives (one folder per seed, scale and day)."""
    scale = f"{settings.demo_scale:g}"
    return settings.emulator_dir / f"company-seed{settings.demo_seed}-scale{scale}-{today().isoformat()}"


def prepare_company(settings: Settings, *, fresh: bool = False, progress=None):
    """Generate the demo company unless an identical one (same seed, scale, day) is already on disk.

    The stores keep what live mode and API writes did to them, like a real org that keeps its data
    between restarts. ``fresh=True`` throws that away and generates anew.
    """
    from emulators.demo_company import CompanyFiles, generate_company

    folder = company_dir(settings)
    marker = folder / "company.json"
    if not fresh and marker.exists():
        meta = json.loads(marker.read_text())
        files = CompanyFiles(
            salesforce=Path(meta["salesforce"]),
            netsuite=Path(meta["netsuite"]),
            stories=Path(meta["stories"]),
            fingerprint=meta["fingerprint"],
        )
        if files.salesforce.exists() and files.netsuite.exists():
            return files
    marker.unlink(missing_ok=True)
    files = generate_company(
        folder, seed=settings.demo_seed, scale=settings.demo_scale, today=today(), progress=progress
    )
    marker.write_text(json.dumps({k: str(v) for k, v in asdict(files).items()}, indent=2))
    return files


class WebhookRelay:
    """POSTs change events to the product's webhooks, signed with the shared secret.

    Events arrive from store listeners on any thread; a single asyncio task delivers them in order,
    retrying a few times with backoff so a restarting API does not lose them. Each attempt is signed anew
    (event id, timestamp and body) by :func:`api.webhook_signature.signed_headers`, the receiver's own rule.
    """

    def __init__(self, base_url: str, secret: str, loop: asyncio.AbstractEventLoop):
        self.base_url = base_url.rstrip("/")
        self.secret = secret.encode()
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue(maxsize=10_000)
        self.delivered = 0
        self.failed = 0

    def listener(self, vendor: str):
        def enqueue(event: dict) -> None:
            self.loop.call_soon_threadsafe(self._put, vendor, event)

        return enqueue

    def _put(self, vendor: str, event: dict) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait((vendor, event))

    async def run(self) -> None:
        from api.webhook_signature import event_id_of, signed_headers

        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
            while True:
                vendor, event = await self.queue.get()
                body = json.dumps(event, separators=(",", ":")).encode()
                event_id = event_id_of(vendor, event)
                if event_id is None:
                    log.warning("a %s event without its id was not delivered", vendor)
                    continue
                for attempt in range(4):
                    headers = {"Content-Type": "application/json", **signed_headers(self.secret, event_id, body)}
                    try:
                        response = await client.post(f"{self.base_url}/{vendor}", content=body, headers=headers)
                        if response.status_code < 500:
                            self.delivered += 1
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.2 * 2**attempt)
                else:
                    self.failed += 1
                    log.warning("webhook delivery to %s/%s failed; event dropped", self.base_url, vendor)


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to :func:`serve`, which runs two of them."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


async def _stop_when_parent_dies(stop: asyncio.Event) -> None:
    from scc.processes import parent_is_gone

    while not stop.is_set():
        if parent_is_gone():
            log.warning("the process that started the emulators is gone; stopping")
            stop.set()
            return
        await asyncio.sleep(1.0)


def _live_step_endpoint(live):
    """``POST /__admin/live/step?steps=N``: N rounds of business now, whatever the clock (tests and demos),
    even when live mode is off."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    async def step(request):
        try:
            steps = max(1, min(int(request.query_params.get("steps", "1")), 1000))
        except ValueError:
            return JSONResponse({"error": "steps must be a whole number"}, status_code=400)
        happened = []
        for _ in range(steps):
            happened += await run_in_threadpool(live.beat)
        return JSONResponse({"happened": happened, "actions": live.actions})

    return step


def build_apps(settings: Settings, company):
    """Both emulators' apps, each with its own fault state: the same plan (``SCC_EMULATOR_FAULTS``), its own
    random draws and counters, so one emulator's requests never count towards the other's faults (an
    ``expire_session_after`` would otherwise fire on whichever emulator's request came next, or never)."""
    from emulators.netsuite.app import create_app as create_netsuite_app
    from emulators.salesforce.app import create_app as create_salesforce_app

    plan = settings.emulator_faults
    return (
        create_salesforce_app(company.salesforce, settings, FaultInjector(FaultPlan.parse(plan))),
        create_netsuite_app(company.netsuite, settings, FaultInjector(FaultPlan.parse(plan), expires_sessions=False)),
    )


async def serve(settings: Settings, company, *, on_ready=None) -> None:
    """Serve both emulators until SIGINT or SIGTERM; ``on_ready(run_info)`` is called once listening."""
    salesforce_app, netsuite_app = build_apps(settings, company)
    tls = ensure_tls_files(settings.tls_dir)
    host = settings.emulator_host
    servers = [
        _Server(
            uvicorn.Config(
                salesforce_app, host=host, port=settings.salesforce_emulator_port, log_level="warning",
                ssl_certfile=str(tls.server_cert), ssl_keyfile=str(tls.server_key),
                timeout_keep_alive=30, lifespan="off",
            )
        ),
        _Server(
            uvicorn.Config(
                netsuite_app, host=host, port=settings.netsuite_emulator_port, log_level="warning",
                timeout_keep_alive=30, lifespan="off",
            )
        ),
    ]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    background: list[asyncio.Task] = []
    if settings.emulator_webhook_url:
        relay = WebhookRelay(settings.emulator_webhook_url, settings.webhook_secret.get_secret_value(), loop)
        salesforce_app.state.store.add_listener(relay.listener("salesforce"))
        netsuite_app.state.store.add_listener(relay.listener("netsuite"))
        background.append(asyncio.create_task(relay.run()))

    from emulators.live import LiveCompany

    live = LiveCompany(salesforce_app.state.store, netsuite_app.state.store, seed=settings.demo_seed,
                       speed=settings.emulator_live_speed, stories=getattr(company, "stories", None))
    for app in (salesforce_app, netsuite_app):  # first, ahead of any catch-all route of the app
        app.router.routes.insert(0, Route("/__admin/live/step", _live_step_endpoint(live), methods=["POST"]))
    live_stop = threading.Event()
    if settings.emulator_live:
        background.append(
            asyncio.create_task(asyncio.to_thread(live.run, settings.emulator_live_interval, live_stop))
        )

    background.append(asyncio.create_task(_stop_when_parent_dies(stop)))
    serving = [asyncio.create_task(server.serve()) for server in servers]
    try:  # from here on, whatever happens (a port in use at start-up too), everything is stopped
        while not all(server.started for server in servers):
            if any(task.done() for task in serving):
                failed = next((t.exception() for t in serving if t.done() and t.exception()), None)
                raise failed or RuntimeError(
                    "an emulator could not start (is its port in use? see the error above)"
                )
            await asyncio.sleep(0.05)

        info = RunInfo(
            pid=os.getpid(),
            salesforce_url=f"https://{host}:{settings.salesforce_emulator_port}",
            netsuite_url=f"http://{host}:{settings.netsuite_emulator_port}/services/rest",
            company_dir=str(Path(company.salesforce).parent),
            started_at=time.time(),
            live=settings.emulator_live,
            live_speed=settings.emulator_live_speed,
        )
        RunInfo.path(settings).parent.mkdir(parents=True, exist_ok=True)
        RunInfo.path(settings).write_text(json.dumps(asdict(info), indent=2))
        if on_ready:
            on_ready(info)
        await stop.wait()
    finally:
        live_stop.set()
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*serving, return_exceptions=True)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        current = RunInfo.read(settings)
        if current and current.pid == os.getpid():
            RunInfo.path(settings).unlink(missing_ok=True)


def run(settings: Settings, company, *, on_ready=None) -> None:
    asyncio.run(serve(settings, company, on_ready=on_ready))
