"""Site-wide routes: the front door and a no-database liveness answer (the benchmark's yardstick)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route


async def home(request: Request) -> Response:
    # The console replaces this with its dashboard; until then the registry is the front page.
    query = request.url.query
    return RedirectResponse(f"/registry?{query}" if query else "/registry", status_code=302)


async def healthz(request: Request) -> Response:
    """The server answers; touches no database (compare with the daemon's /healthz, which checks jobs)."""
    return PlainTextResponse("ok\n")


def routes() -> list[BaseRoute]:
    return [Route("/", home, name="home"), Route("/healthz", healthz, name="healthz")]
