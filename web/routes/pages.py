"""Site-wide routes: the front door and a no-database liveness answer (the benchmark's yardstick)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route


async def healthz(request: Request) -> Response:
    """The server answers; touches no database (compare with the daemon's /healthz, which checks jobs)."""
    return PlainTextResponse("ok\n")


def routes() -> list[BaseRoute]:
    # `/` is the console's dashboard (web/routes/console_home.py).
    return [Route("/healthz", healthz, name="healthz")]
