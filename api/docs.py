"""The API's interactive docs without the internet: ReDoc at ``/redoc`` from the package fastapi-offline.

Swagger UI (``/docs``) comes as it is from fastapi-offline (``FastAPIOffline`` in :mod:`api.main`, its files
under ``/static-offline-docs/``). ReDoc's bundle shows its maker's logo from cdn.redoc.ly, the one address
either bundle would fetch from outside; here the bundle is served with that logo pointed at the package's
own favicon, so neither page asks the internet for anything.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi.openapi.docs import get_redoc_html
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
REDOC_JS = "/static-offline-docs/redoc.js"  # ahead of the package's mount of the same folder


@lru_cache(maxsize=1)
def _redoc_bundle() -> bytes:
    import fastapi_offline

    bundle = (Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js").read_text(encoding="utf-8")
    return bundle.replace(REDOC_LOGO, "/static-offline-docs/favicon.png").encode()


def mount_redoc(app, path: str = "/redoc") -> None:
    async def redoc_js(_request) -> Response:
        return Response(_redoc_bundle(), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    async def redoc(_request) -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=app.title + " - ReDoc", redoc_js_url=REDOC_JS,
                              redoc_favicon_url="/static-offline-docs/favicon.png", with_google_fonts=False)

    app.router.routes.insert(0, Route(REDOC_JS, redoc_js, methods=["GET"], include_in_schema=False))
    app.add_route(path, redoc, methods=["GET"], include_in_schema=False)

