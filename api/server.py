"""``scc serve``: migrate the app database, then run the API with uvicorn (several workers with Redis)."""

from __future__ import annotations

import os
import shutil

from scc.config import Settings


def worker_count(settings: Settings) -> int:
    """Workers share dashboards, rate limits and WebSocket pushes only through Redis: without it, one."""
    return max(1, settings.api_workers) if settings.redis_url else 1


def serve(settings: Settings, console=None) -> int:
    import uvicorn

    from api.db import database_url, migrate
    from api.security import ConfigurationError, signing_key

    say = console.print if console else print
    try:
        signing_key(settings)
    except ConfigurationError as error:
        say(f"[red]{error}[/]" if console else str(error))
        return 2
    url = database_url(settings)
    migrate(url)
    workers = worker_count(settings)
    if settings.api_workers > 1 and workers == 1:
        say("No SCC_REDIS_URL: running one API worker (workers share state only through Redis).")
    if workers > 1:
        # every worker writes its Prometheus samples here; /metrics adds them up
        folder = settings.data_dir / "prometheus" / str(settings.api_port)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    base = f"http://{settings.api_host}:{settings.api_port}"
    say(f"API on {base} (docs {base}/docs), {workers} worker(s), app database {url.split('@')[-1]}, "
        f"{'Redis ' + settings.redis_url.split('@')[-1] if settings.redis_url else 'no Redis (in-process cache)'}")
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_keep_alive=30,
        proxy_headers=False,
    )
    return 0
