"""The public JSON API under /api (SPEC 8): `/api/v1/registry[/{credit_code}]` and `/api/openapi.json`.

Errors are `{"error": "..."}` (web.errors). The OpenAPI document is written here by hand so that it states
exactly the limits the handlers enforce (web.params), and a test checks the two agree."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from monitor import __version__, registry
from monitor.domain import Kind
from web import params
from web.context import app_state
from web.errors import NotFound
from web.routes.registry import _districts, _fresh

DEFAULT_PER_PAGE, MAX_PER_PAGE = 20, 100


def registry_search(request: Request) -> Response:
    filters = params.registry_filters(request, _districts(request))
    page_no = params.integer(request, "page", 1, 1)
    per_page = params.integer(request, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    with app_state(request).db.engine.connect() as conn:  # a read: no session, no transaction to commit
        _fresh(request, conn)
        page = registry.search(conn, filters, page_no, per_page)
    return JSONResponse(page.as_json())


def registry_entity(request: Request) -> Response:
    with app_state(request).db.engine.connect() as conn:
        _fresh(request, conn)
        item = registry.get(conn, request.path_params["credit_code"])
    if item is None:
        raise NotFound("该主体不在认定名单中", "no such entity in the registry")
    return JSONResponse(item.as_json())


def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(_districts(request), app_state(request).settings.web.public_url))


def _error_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_document(districts: tuple[str, ...], server_url: str) -> dict[str, Any]:
    item_schema = {
        "type": "object",
        "additionalProperties": False,
        "required": list(registry.FIELDS),
        "properties": {
            "credit_code": {
                "type": "string",
                "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$",
                "description": "统一社会信用代码 (GB 32100-2015)",
            },
            "name": {"type": "string", "description": "名称"},
            "kind": {"type": "string", "enum": [k.value for k in Kind], "description": "平台 | 基地"},
            "district": {"type": "string", "enum": list(districts), "description": "所属区（市）县"},
            "cert_no": {"type": "string", "description": "证书编号"},
            "certified_on": {"type": ["string", "null"], "format": "date", "description": "认定日期"},
            "expires_on": {
                "type": ["string", "null"],
                "format": "date",
                "description": "the title's own last valid day, also for a revoked title",
            },
            "status": {
                "type": "string",
                "enum": [s.value for s in registry.PUBLIC_STATUSES],
                "description": "as of today in Asia/Shanghai: 有效 | 暂停 | 撤销 | 到期",
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "成都市中小企业公共服务平台和小企业创业基地认定名单 (public registry)",
            "version": __version__,
            "description": "Art. 16 of the Measures: every entity that holds or has held a title. No login.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/api/v1/registry": {
                "get": {
                    "operationId": "searchRegistry",
                    "summary": "Search the registry (in roster order)",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": False,
                            "description": "part of the name, or of the credit code (case ignored in codes)",
                            "schema": {"type": "string", "maxLength": registry.MAX_Q},
                        },
                        {
                            "name": "district",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": list(districts)},
                        },
                        {
                            "name": "kind",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": [k.value for k in Kind]},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": [s.value for s in registry.PUBLIC_STATUSES]},
                        },
                        {
                            "name": "page",
                            "in": "query",
                            "required": False,
                            "description": "from 1; a page past the last gives no items and the total",
                            "schema": {"type": "integer", "minimum": 1, "default": 1},
                        },
                        {
                            "name": "per_page",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_PER_PAGE,
                                "default": DEFAULT_PER_PAGE,
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "one page of matching entities and their number",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}},
                        },
                        "400": _error_answer("a parameter out of its limits or unknown; the message names it"),
                    },
                }
            },
            "/api/v1/registry/{credit_code}": {
                "get": {
                    "operationId": "getRegistryEntity",
                    "summary": "One entity of the registry",
                    "parameters": [
                        {
                            "name": "credit_code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "minLength": 18, "maxLength": 18},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the entity",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
                        },
                        "404": _error_answer("unknown, or never certified"),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Item": item_schema,
                "Page": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["items", "total", "page", "per_page"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                        "total": {"type": "integer", "minimum": 0},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
                    },
                },
                "Error": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
            }
        },
    }


def routes() -> list[BaseRoute]:
    return [
        Route("/api/v1/registry", registry_search, name="api_registry"),
        Route("/api/v1/registry/{credit_code}", registry_entity, name="api_registry_entity"),
        Route("/api/openapi.json", openapi, name="openapi"),
    ]
