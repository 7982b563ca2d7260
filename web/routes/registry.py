"""The public registry (SPEC 8, Art. 16): `/registry` (search) and `/registry/{credit_code}`. No login."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.render import render


def registry_list(request: Request) -> Response:
    return render(request, "registry/list.html", {"items": [], "total": 0})


def routes() -> list[BaseRoute]:
    return [Route("/registry", registry_list, name="registry")]
