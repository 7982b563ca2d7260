"""The web application: `create_app(settings, db, clock=...)` builds the Starlette app `sme-monitor serve` runs.

One app serves the public registry (`web.routes.registry`, `web.routes.api`) and the console (added on top
through `ROUTE_MODULES`). What every request gets, in order (`web.middleware`): its clock reading (the only one,
`web.context.request_now`), a log line on stderr, the security headers (the Content-Security-Policy) and, for any
error, one answer from `web.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from monitor.config import Settings
from monitor.legal_time import WorkCalendar
from monitor.registry import Freshness
from monitor.storage.db import Database
from web import console, errors
from web.middleware import RequestClockAndLog, SecurityHeaders
from web.routes import (
    api,
    console_admin,
    console_controls,
    console_entities,
    console_home,
    console_imports,
    login,
    pages,
    registry,
)

STATIC = Path(__file__).resolve().parent / "static"

Clock = Callable[[], datetime]

# Each module has `routes() -> list[BaseRoute]`; the console adds its modules here.
ROUTE_MODULES = [
    pages,
    registry,
    api,
    login,
    console_home,
    console_entities,
    console_controls,
    console_imports,
    console_admin,
]


@dataclass(frozen=True)
class AppState:
    """What the routes read through `request.app.state.monitor` (see web.context)."""

    settings: Settings
    db: Database
    calendar: WorkCalendar
    clock: Clock
    freshness: Freshness  # the kept answer brought up to date at a request's start (monitor.registry)


def system_clock() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    db: Database,
    *,
    clock: Clock = system_clock,
    calendar: WorkCalendar | None = None,
) -> Starlette:
    """The ASGI app. `clock` returns an aware datetime and is read once, when a request starts; tests pass a
    fixed one. The database is shared with the daemon: SQLite is switched to WAL so readers never wait on it."""
    db.use_wal()
    calendar = calendar if calendar is not None else WorkCalendar.load(settings.holidays_file)
    state = AppState(
        settings=settings,
        db=db,
        calendar=calendar,
        clock=clock,
        freshness=Freshness(calendar, settings.rules),
    )
    routes: list[BaseRoute] = [Mount("/static", app=StaticFiles(directory=STATIC), name="static")]
    for module in ROUTE_MODULES:
        routes.extend(module.routes())
    app = Starlette(
        routes=routes,
        # Outermost first: the security headers wrap everything, the last-resort 500 included.
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(RequestClockAndLog, clock=clock),
        ],
        exception_handlers={**errors.handlers(), **console.handlers()},
    )
    app.state.monitor = state
    return app
