"""The web dashboard: plain HTML, CSS and JavaScript modules, no build step, served by the API.

``index.html`` is the page (login and the six tabs); ``static/`` holds its styles, its modules
(``static/js/``, one per tab under ``static/js/tabs/``) and the vendored libraries (``static/vendor/``,
Chart.js). :func:`mount_dashboard` adds it to the API: the page at ``/``, its files under ``/static/``.
Everything is served locally: the page loads nothing from the internet.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
INDEX = HERE / "index.html"

# Only this origin's scripts, styles, images and sockets; no inline scripts, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def mount_dashboard(app) -> None:
    """Serve the dashboard from ``app``: ``GET /`` is the page, ``/static/...`` its files."""
    from starlette.responses import FileResponse
    from starlette.staticfiles import StaticFiles

    class Static(StaticFiles):
        def file_response(self, full_path, stat_result, scope, status_code=200):
            response = super().file_response(full_path, stat_result, scope, status_code)
            # The vendored libraries change only with their version; the app's own files are revalidated.
            vendored = "/vendor/" in str(full_path).replace("\\", "/")
            response.headers["Cache-Control"] = "public, max-age=86400" if vendored else "no-cache"
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

    async def index(_request):
        return FileResponse(INDEX, media_type="text/html", headers={
            "Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})

    app.mount("/static", Static(directory=STATIC), name="dashboard-static")
    app.add_route("/", index, methods=["GET"], include_in_schema=False)
