"""Who is acting, for the audit trail (monitor/audit.py): the command line sets `cli:<system user>`, the
daemon `daemon:<host>`, the console the logged-in user with the client's address and the request's ID.

Kept apart from the audit's SQLAlchemy listeners so that the command line can say who it is without
importing the database layer at start-up.
"""

from __future__ import annotations

import contextlib
import getpass
import socket
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime

MAX_ACTION = 2000


@dataclass(frozen=True, slots=True)
class Actor:
    who: str  # a user name, cli:<system user>, daemon:<host>
    origin: str  # the client's address, or the host
    request_id: str
    action: str = ""  # what was asked: the command line, the request's method and path
    at: datetime | None = None  # the command's or request's one clock reading; else the commit's time


_ACTOR: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)
# The process's actor (the command line, the daemon), for threads that do not carry the context (the
# scheduler's workers); a web request's actor is the context variable.
_PROCESS: Actor | None = None


def _system_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (some containers)
        return "unknown"


def cli_actor(action: str, at: datetime) -> Actor:
    return Actor(f"cli:{_system_user()}", socket.gethostname(), uuid.uuid4().hex, action[:MAX_ACTION], at)


def daemon_actor(action: str = "daemon") -> Actor:
    host = socket.gethostname()
    return Actor(f"daemon:{host}", host, uuid.uuid4().hex, action)


def current() -> Actor:
    """Who is acting now; a process that never said so is `process:<system user>` on this host."""
    actor = _ACTOR.get() or _PROCESS
    if actor is None:
        return Actor(f"process:{_system_user()}", socket.gethostname(), "")
    return actor


def set_process_actor(actor: Actor | None) -> None:
    global _PROCESS
    _PROCESS = actor


@contextlib.contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    token = _ACTOR.set(actor)
    try:
        yield actor
    finally:
        _ACTOR.reset(token)


@contextlib.contextmanager
def doing(action: str) -> Iterator[None]:
    """Name what the writes inside the block are for (e.g. `ack FILING_MISSED/... note=...`)."""
    token = _ACTOR.set(replace(current(), action=action[:MAX_ACTION]))
    try:
        yield
    finally:
        _ACTOR.reset(token)
