"""One place for errors: 400 naming the parameter, 404, 405, 500; JSON `{"error": ...}` under /api, the
page layout elsewhere. No stack trace ever reaches a client; a 500 is logged (one line) and answered plainly."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope

log = logging.getLogger("web")

API_PREFIX = "/api/"


class BadParameter(Exception):
    """A query or form parameter that cannot be used as given: answered 400, naming the parameter."""

    def __init__(self, param: str, zh: str, en: str, value: str | None = None) -> None:
        self.param, self.zh, self.en, self.value = param, zh, en, value
        super().__init__(self.message())

    def message(self, lang: str = "zh_CN") -> str:
        shown = "" if self.value is None else f", 实际为 {self.value!r}" if lang != "en" else f", got {self.value!r}"
        if lang == "en":
            return f"{self.param}: {self.en}{shown}"
        return f"{self.param}: {self.zh} ({self.en}){shown}"


class NotFound(Exception):
    """Nothing public at this address (an unknown or never-certified credit code, a missing page)."""

    def __init__(self, zh: str = "未找到", en: str = "not found") -> None:
        self.zh, self.en = zh, en
        super().__init__(en)


def is_api(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def api_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _page_lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh_CN"


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    from web.i18n import TEXTS  # i18n imports this module
    from web.render import render

    heading_key = f"error.{status}" if f"error.{status}" in TEXTS else "error.title"
    try:
        return render(
            request,
            "error.html",
            {"status": status, "detail": detail, "heading_key": heading_key},
            status_code=status,
            lang=_page_lang(request),
        )
    except Exception as exc:  # the layout itself failed: still no trace for the client
        log.error("error page failed to render", exc_info=exc)
        return HTMLResponse(f"<!doctype html><title>{status}</title><h1>{status}</h1>", status_code=status)


async def bad_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadParameter)
    if is_api(request.scope):
        return api_error(400, exc.message())
    return error_page(request, 400, exc.message(_page_lang(request)))


async def not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    if is_api(request.scope):
        return api_error(404, f"{exc.zh} ({exc.en})")
    return error_page(request, 404, exc.en if _page_lang(request) == "en" else exc.zh)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if is_api(request.scope):
        return api_error(exc.status_code, _api_reason(exc.status_code), headers)
    response = error_page(request, exc.status_code)
    response.headers.update(headers)
    return response


def _api_reason(status: int) -> str:
    return {
        400: "请求有误 (bad request)",
        403: "禁止访问 (forbidden)",
        404: "未找到 (not found)",
        405: "不支持该请求方法 (method not allowed)",
    }.get(status, f"HTTP {status}")


def server_error_response(scope: Scope) -> Response:
    """The answer to an exception nothing else handled (logged by the middleware)."""
    if is_api(scope):
        return api_error(500, "服务器内部错误 (internal error)")
    try:
        return error_page(Request(scope), 500)
    except Exception:
        return HTMLResponse("<!doctype html><title>500</title><h1>500</h1>", status_code=500)


def handlers() -> Mapping[Any, Callable[..., Any]]:
    return {
        BadParameter: bad_parameter,
        NotFound: not_found,
        HTTPException: http_exception,
    }


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
