"""The real web app under uvicorn on a free 127.0.0.1 port, in a thread, with a clock the test sets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import requests
import uvicorn

from monitor import config
from monitor.config import Settings
from monitor.storage.db import Database
from tests.notify_support import free_port
from web.app import create_app

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    """A clock the test moves: `clock.now = ...`; the app reads it once per request."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class LiveServer:
    url: str
    clock: Clock
    settings: Settings
    db: Database

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.url + path, timeout=10, allow_redirects=False, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return requests.post(self.url + path, timeout=10, allow_redirects=False, **kwargs)  # type: ignore[arg-type]


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant given as Beijing wall-clock time: shanghai(2026, 3, 1, 8, 30)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@contextmanager
def live_server(db: Database, now: datetime, settings: Settings | None = None) -> Iterator[LiveServer]:
    port = free_port()
    settings = settings or config.load(environ={})
    settings = replace(settings, web=replace(settings.web, host="127.0.0.1", port=port))
    clock = Clock(now)
    app = create_app(settings, db, clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", clock, settings, db)
    finally:
        server.should_exit = True
        thread.join(10)
