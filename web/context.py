"""What a route reads from its request: the app's settings and database, and the one clock reading."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from starlette.requests import Request

from monitor.legal_time import legal_today

if TYPE_CHECKING:
    from web.app import AppState


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.monitor
    return state


def request_now(request: Request) -> datetime:
    """The instant the request started (read once by the middleware from the app's clock)."""
    now: datetime = request.scope["state"]["now"]
    return now


def request_today(request: Request) -> date:
    """Today in Asia/Shanghai, as of the request's start."""
    return legal_today(request_now(request))
