"""Pure ASGI middleware: the request's clock reading, its log line, the last-resort 500, the security headers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import errors

access_log = logging.getLogger("web.access")
log = logging.getLogger("web")

# No inline script or style anywhere: everything the pages use comes from /static on this site.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """The Content-Security-Policy and its companions on every answer (HTML, JSON, static, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestClockAndLog:
    """Reads the clock once as the request starts (`web.context.request_now`), writes one log line when it
    ends (`METHOD PATH?QUERY STATUS BYTES MS client`), and turns an exception that escaped every handler into
    the plain 500 page, logged with its type but never shown to the client."""

    def __init__(self, app: ASGIApp, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["now"] = self.clock()
        started = time.perf_counter()
        status, size, response_started = 500, 0, False

        async def watch(message: Message) -> None:
            nonlocal status, size, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error("unhandled error in %s %s", scope["method"], scope["path"], exc_info=exc)
            if response_started:
                raise
            await errors.server_error_response(scope)(scope, receive, watch)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            client = scope.get("client") or ("-", 0)
            access_log.info(
                "%s %s%s %d %d %.1fms %s",
                scope["method"],
                scope["path"],
                f"?{query}" if query else "",
                status,
                size,
                (time.perf_counter() - started) * 1000,
                client[0],
            )
