"""The public JSON API under /api (SPEC 8): `/api/v1/registry[/{credit_code}]` and `/api/openapi.json`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route


def registry_search(request: Request) -> Response:
    return JSONResponse({"items": [], "total": 0, "page": 1, "per_page": 20})


def routes() -> list[BaseRoute]:
    return [Route("/api/v1/registry", registry_search, name="api_registry")]
