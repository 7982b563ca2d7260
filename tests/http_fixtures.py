"""Real HTTP servers on 127.0.0.1 (ephemeral ports) for the portal sync and heartbeat tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "portal-s3cret-token"


@dataclass
class Request:
    path: str
    query: dict[str, str]
    authorization: str
    user_agent: str = ""


@dataclass
class FakePortal:
    """The filing portal's API: pages of filings, with faults served first, one per request, in order.

    A fault is "timeout" (answer after `slow_seconds`), an HTTP status such as 500, or "badjson"; with
    `fault_page` set, only requests for that page meet the faults.
    """

    pages: dict[int, dict[str, Any]] = field(default_factory=lambda: {1: {"items": [], "next_page": None}})
    faults: list[str | int] = field(default_factory=list)
    slow_seconds: float = 2.0
    fault_page: int | None = None
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.requests.append(
            Request(parts.path, query, handler.headers.get("Authorization", ""), handler.headers.get("User-Agent", ""))
        )
        if parts.path.startswith("/ping"):
            return _send(handler, 200, b"OK")
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _send(handler, 401, b'{"error": "unauthorized"}')
        if parts.path != "/api/filings":
            return _send(handler, 404, b"{}")
        page_no = int(query.get("page", "1"))
        fault = self.faults.pop(0) if self.faults and self.fault_page in (None, page_no) else None
        if fault == "timeout":
            time.sleep(self.slow_seconds)
        elif fault == "badjson":
            return _send(handler, 200, b'{"items": [')
        elif isinstance(fault, int):
            return _send(handler, fault, b"server error")
        page = self.pages.get(page_no, {"items": [], "next_page": None})
        _send(handler, 200, json.dumps(page).encode())


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up waiting (a timeout test)


@contextmanager
def serve(portal: FakePortal) -> Iterator[FakePortal]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            portal.answer(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    portal.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()
