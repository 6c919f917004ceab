"""Freshness end to end: from a change in the Salesforce emulator to the change in the marts, and pushed to a
dashboard client over the API's WebSocket.

The whole product runs as real processes on a fresh data folder: the emulators (posting their change events to
the API's webhooks), redis-server, the API (``scc serve``, two workers), and the Dagster daemon (change sensor,
run queue). After a first load (``dagster asset materialize``), each change is an admin PATCH of one open
opportunity's amount, made when nothing else runs; the figures come from the clocks of the stages
themselves: the API's receipt of the webhook, the run's record and event log in the Dagster instance, the
WebSocket client's receipt of the ``refresh`` message. Nothing polls DuckDB while a run writes.

Baseline in the same run: the same work without orchestration, in-process and warm (``pipelines.run.sync`` of
Opportunity and OpportunityHistory, then ``dbt build`` of what is downstream of them): the floor.

This machine's environment sets ``PYTHONDONTWRITEBYTECODE=1``; a normal install caches bytecode, and every
Dagster run starts a fresh interpreter, so the benchmark's processes get a bytecode cache in a temporary folder
(``PYTHONPYCACHEPREFIX``) to measure what a user gets.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import table

TITLE = "Freshness: a change in Salesforce to the marts and the dashboard"
STAGES = [
    ("event", "PATCH -> webhook received by the API", "patched", "received"),
    ("sensor", "received -> run created by the change sensor", "received", "created"),
    ("run start", "created -> run worker started (queue, launch, code loaded)", "created", "started"),
    ("sync", "dlt sync of Opportunity + OpportunityHistory", "sync_start", "sync_end"),
    ("build", "dbt: start -> fct_opportunities rebuilt", "build_start", "last_mart"),
    ("tests", "the dbt tests still running after the last mart", "last_mart", "notified"),
    ("notify + push", "cache invalidated, Redis pub/sub, API computes the figures, WebSocket message received",
     "notified", "pushed"),
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


class DashboardClient:
    """A WebSocket client of /ws/dashboard, logged in as the demo executive, keeping every message with the
    time it arrived."""

    def __init__(self, api_url: str, password: str):
        import httpx

        response = httpx.post(f"{api_url}/api/v1/auth/token", data={"username": "exec@scc-demo.example",
                                                                    "password": password}, trust_env=False)
        response.raise_for_status()
        self.url = api_url.replace("http://", "ws://") + "/ws/dashboard?token=" + response.json()["access_token"]
        self.messages: list[tuple[float, dict]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the dashboard WebSocket did not connect")

    def _run(self) -> None:
        from websockets.sync.client import connect

        with connect(self.url, open_timeout=30) as socket:
            self._ready.set()
            while not self._stop.is_set():
                try:
                    text = socket.recv(timeout=0.5)
                except TimeoutError:
                    continue
                self.messages.append((time.time(), json.loads(text)))

    def first_refresh_after(self, since: float) -> float | None:
        return next((at for at, message in self.messages if at >= since and message.get("type") == "refresh"), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _start_redis(folder: Path):
    import subprocess

    from scc.processes import free_port

    binary = shutil.which("redis-server")
    if binary is None:
        return None, None
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--daemonize", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT, start_new_session=True)
    return process, f"redis://127.0.0.1:{port}/0"


def run(quick: bool) -> dict:
    from dagster_project import stack
    from emulators.server import RunInfo
    from scc.config import get_settings, reset_settings_cache
    from scc.processes import Supervisor, free_port, scc_command

    changes = 20 if quick else 30
    scale = 0.02 if quick else 0.1
    root = Path(tempfile.mkdtemp(prefix="scc-bench-freshness-"))
    redis, redis_url = _start_redis(root)
    api_port = free_port()
    env = {
        "SCC_DATA_DIR": str(root), "SCC_DEMO_SCALE": str(scale), "SCC_TODAY": "2026-05-20",
        "SCC_EMULATOR_LIVE": "false", "SCC_EMULATOR_FAULTS": "",
        "SCC_SALESFORCE_EMULATOR_PORT": str(free_port()), "SCC_NETSUITE_EMULATOR_PORT": str(free_port()),
        "SCC_EMULATOR_WEBHOOK_URL": f"http://127.0.0.1:{api_port}/webhooks", "SCC_API_PORT": str(api_port),
        "SCC_REDIS_URL": redis_url or "", "SCC_APP_DATABASE_URL": "", "SCC_ORCHESTRATION_SCHEDULES": "false",
        "SCC_API_RATE_LIMIT": "0", "SCC_LOG_LEVEL": "WARNING",
        # a bytecode cache, as a normal install has (see the module's docstring)
        "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(root / "pycache"),
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    reset_settings_cache()
    settings = get_settings()
    supervisor = Supervisor(root / "logs")
    client = None
    samples: list[dict] = []
    load_before = os.getloadavg()
    try:
        emulators = supervisor.start("emulators", scc_command("emulators", "start"))
        supervisor.wait_until(
            emulators, lambda: bool((i := RunInfo.read(settings)) and i.pid == emulators.process.pid), 1800)
        info = RunInfo.read(settings)
        api_url = f"http://127.0.0.1:{api_port}"
        api = supervisor.start("api", scc_command("serve", "--port", str(api_port)))
        supervisor.wait_until(api, lambda: _up(api_url), 180)
        print("   first load (dagster asset materialize)…", flush=True)
        started = time.perf_counter()
        first = stack.materialize_all(settings)
        if first.returncode != 0:
            raise RuntimeError(f"first load failed:\n{first.stderr[-3000:]}")
        first_load = time.perf_counter() - started
        started = time.perf_counter()
        stack.start_daemon(supervisor, settings)
        daemon_start = time.perf_counter() - started
        client = DashboardClient(api_url, settings.api_demo_password.get_secret_value())

        from scc.warehouse import fetch_all

        opportunities = [row[0] for row in fetch_all(
            "SELECT opportunity_id FROM marts.fct_opportunities WHERE NOT is_closed ORDER BY opportunity_id LIMIT ?",
            (changes,), settings=settings)]
        with stack.instance(settings) as instance:
            for index in range(changes):
                opportunity = opportunities[index % len(opportunities)]
                samples.append(_one_change(instance, info, settings, client, supervisor, opportunity, index))
                print(f"   change {index + 1}/{changes}: marts after {samples[-1]['to_marts']:.1f} s, dashboard "
                      f"after {samples[-1].get('to_dashboard', float('nan')):.1f} s", flush=True)
        daemon = next(child for child in supervisor.children if child.name == "dagster-daemon")
        daemon.stop()  # no other writer: the baseline has the warehouse to itself (the emulators stay up)
        supervisor.children.remove(daemon)
        baseline = _baseline(settings)
    finally:
        if client:
            client.close()
        supervisor.stop_all()
        if redis:
            redis.terminate()
            redis.wait(timeout=10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings_cache()
        shutil.rmtree(root, ignore_errors=True)
    return _section(samples, baseline, scale=scale, first_load=first_load, daemon_start=daemon_start,
                    pushed=bool(redis_url), load=(load_before, os.getloadavg()))


def _load(values: tuple) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def _up(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url + "/health", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _one_change(instance, info, settings, client, supervisor, opportunity: str, index: int) -> dict:
    import ssl

    import httpx

    from dagster_project import stack
    from scc.warehouse import fetch_all

    def alive() -> None:
        dead = supervisor.first_dead()
        if dead:
            raise RuntimeError(f"{dead.name} died:\n{dead.tail()}")

    known = {r.run_id for r in instance.get_runs(limit=1000)}
    amount = 100_000 + index * 1_000 + 0.25
    context = ssl.create_default_context(cafile=str(settings.tls_dir / "ca.pem"))
    patched = time.time()
    httpx.patch(f"{info.salesforce_url}/__admin/records/Opportunity/{opportunity}", json={"Amount": amount},
                verify=context, trust_env=False, timeout=30).raise_for_status()

    def finished_run():
        runs = [r for r in instance.get_runs(limit=20) if r.run_id not in known
                and r.tags.get("scc/trigger") == "change_events"]
        return runs[0] if runs and runs[0].is_finished else None

    run = stack.wait_for(finished_run, timeout=300, interval=0.2, alive=alive, what="the change run to finish")
    if not run.is_success:
        raise RuntimeError(f"change run {run.run_id} failed")
    timeline = stack.run_timeline(instance, run.run_id)
    timeline["patched"] = patched
    timeline["received"] = dt.datetime.fromisoformat(
        run.tags["scc/first_event_received_at"].replace("Z", "+00:00")).timestamp()
    value = fetch_all("SELECT amount FROM marts.fct_opportunities WHERE opportunity_id = ?", (opportunity,),
                      settings=settings)[0][0]
    if abs(float(value) - amount) > 0.005:
        raise RuntimeError(f"the mart shows {value} for {opportunity}, not {amount}")
    pushed = stack.wait_for(lambda: client.first_refresh_after(timeline.get("last_mart", patched)), timeout=60,
                            interval=0.1, alive=alive, what="the dashboard refresh message")
    timeline["pushed"] = pushed
    sample = {"to_marts": timeline["last_mart"] - patched, "to_dashboard": pushed - patched}
    for name, _, start, end in STAGES:
        if start in timeline and end in timeline:
            sample[name] = timeline[end] - timeline[start]
    # let the run's own follow-ups (the event marked processed) settle before the next change
    stack.wait_for(lambda: not [r for r in instance.get_runs(limit=5) if not r.is_finished], timeout=120,
                   alive=alive, what="no run in progress")
    return sample


def _baseline(settings, repeats: int = 3) -> dict:
    from pipelines.run import sync
    from scc.marts import build

    figures = {"sync": [], "build": []}
    for _ in range(repeats):
        started = time.perf_counter()
        sync("salesforce", only=("Opportunity", "OpportunityHistory"), settings=settings)
        figures["sync"].append(time.perf_counter() - started)
        started = time.perf_counter()
        summary = build(select="source:salesforce.opportunity+ source:salesforce.opportunity_history+",
                        settings=settings)
        if not summary.success:
            raise RuntimeError(f"baseline build failed: {summary.as_dict()}")
        figures["build"].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in figures.items()}


def _section(samples: list[dict], baseline: dict, *, scale: float, first_load: float, daemon_start: float,
             pushed: bool, load: tuple) -> dict:
    rows = []
    for name, what, _, _ in STAGES:
        values = [s[name] for s in samples if name in s]
        if values:
            rows.append([name, what, f"{statistics.median(values):.2f}", f"{_percentile(values, 0.95):.2f}"])
    marts = [s["to_marts"] for s in samples]
    dashboard = [s["to_dashboard"] for s in samples if "to_dashboard" in s]
    rows.append(["**total: marts**", "PATCH -> fct_opportunities rebuilt", f"**{statistics.median(marts):.1f}**",
                 f"**{_percentile(marts, 0.95):.1f}**"])
    if dashboard:
        rows.append(["**total: dashboard**", "PATCH -> refresh at the WebSocket client",
                     f"**{statistics.median(dashboard):.1f}**", f"**{_percentile(dashboard, 0.95):.1f}**"])
    floor = baseline["sync"] + baseline["build"]
    body = "\n".join([
        f"{len(samples)} changes, one at a time (an opportunity's amount, admin PATCH on the Salesforce emulator), "
        f"demo company at scale {scale}; the daemon's sensor loop, run queue and run workers as shipped "
        "(dagster.yaml). Seconds:",
        "",
        table(["stage", "what", "p50", "p95"], rows),
        "",
        f"Baseline, the same work without orchestration (in-process, warm): sync {baseline['sync']:.2f} s + dbt "
        f"build {baseline['build']:.2f} s = {floor:.1f} s; the orchestrated p50 to the marts is "
        f"{statistics.median(marts) / floor:.1f}x that. First load through Dagster {first_load:.0f} s; daemon "
        f"ready in {daemon_start:.0f} s." + ("" if pushed else " (No redis-server: nothing pushed.)")
        + f" Load average (1, 5, 15 min) at the start {_load(load[0])}, at the end {_load(load[1])}: the machine "
        "is shared, and every figure here is CPU-bound start-up or work.",
        "",
        "**Under 5 s** would take removing what is start-up rather than work: (1) no sensor loop: the webhook "
        "handler submits the run itself (the daemon's sensor loop runs at most every 5 s); (2) no process per "
        "run: a warm, long-lived worker that keeps dagster, dlt and dbt imported and the manifest parsed (each "
        "run now starts an interpreter and loads the code location); (3) dbt in-process with a warm adapter and "
        "a partial parse kept in memory, building only the changed rows (a micro-batch or a merge on the "
        "changed ids, not whole tables); (4) the data tests after the push, not before. The work itself (the "
        "baseline above) is the floor; at this scale it is already close to 5 s.",
    ])
    summary = (f"p50 {statistics.median(marts):.1f} s / p95 {_percentile(marts, 0.95):.1f} s to the marts"
               + (f", p50 {statistics.median(dashboard):.1f} s / p95 {_percentile(dashboard, 0.95):.1f} s to the "
                  "dashboard" if dashboard else "") + f" over {len(samples)} changes (aim: p95 under 30 s)")
    return {"title": TITLE, "body": body, "summary": summary}
