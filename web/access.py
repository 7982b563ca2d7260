"""THE one place for access in the console (SPEC 8): the role table as data, and `scope(request, action)`,
which every console route, list, count, export, bulk action and the home page call first.

`scope` finds the request's session (else: a GET is sent to /login?next=..., anything else is a 403), checks
the CSRF token of a POST, checks that the role may do `action` (else 403, before anything is changed) and
returns a `Scope`, whose methods are the only way the routes filter what they read: `where_district(col)`
for SQL, `sees(district)` for rows in memory, `entity(session, code)` for one entity (404 outside the scope,
as if unknown), `may_record(kind)` for the kinds of event a role may record.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from monitor import accounts
from monitor.accounts import OpenSession, Role, User
from monitor.config import Settings
from monitor.domain import EventKind
from monitor.storage.models import EntityRow
from notifications.models import MessageKind, OutboxItem, OutboxMessage
from web.context import app_state, request_now
from web.errors import NotFound

SESSION_COOKIE = "sme_session"


class Action(enum.StrEnum):
    READ = "read"  # entities, findings, outbox, digests (the scope decides which)
    RECORD = "record"  # events (the kinds: RECORD_KINDS)
    IMPORT = "import"
    ACK = "ack"
    SILENCE = "silence"
    RETRY = "retry"  # outbox retry
    USERS = "users"
    AUDIT = "audit"


# SPEC 8's "may" table.
MAY: Mapping[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.STAFF: frozenset({Action.READ, Action.RECORD, Action.IMPORT, Action.ACK, Action.SILENCE, Action.RETRY}),
    Role.DISTRICT: frozenset({Action.READ, Action.RECORD}),
    Role.VIEWER: frozenset({Action.READ}),
}
# Which kinds of event each role may record (`district_reviewed` once the applications' procedure has it).
DISTRICT_KINDS = frozenset(
    k
    for k in (
        "district_report",
        "district_reviewed",
        "evaluated",
        "restructuring_reported",
        "restructuring_reviewed",
        "rectification_accepted",
        "rectification_rejected",
    )
    if k in EventKind._value2member_map_
)
RECORDABLE = frozenset(k.value for k in EventKind if k not in (EventKind.FILING, EventKind.ROSTER_CHANGED))
RECORD_KINDS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: RECORDABLE,
    Role.STAFF: RECORDABLE - {EventKind.REVOKED.value},
    Role.DISTRICT: DISTRICT_KINDS & (RECORDABLE | {"district_report"}),
    Role.VIEWER: frozenset(),
}
# A district user reads only its own district; everyone else reads all.
OWN_DISTRICT_ONLY = frozenset({Role.DISTRICT})


class Forbidden(HTTPException):
    def __init__(self) -> None:
        super().__init__(403)


@dataclass(frozen=True)
class Scope:
    user: User
    csrf_token: str
    session_id: int

    @property
    def district(self) -> str | None:
        """The one district this user may read, or None for all."""
        return self.user.district if self.user.role in OWN_DISTRICT_ONLY else None

    def may(self, action: Action) -> bool:
        return action in MAY[self.user.role]

    def require(self, action: Action) -> None:
        if not self.may(action):
            raise Forbidden()

    def record_kinds(self) -> list[str]:
        return sorted(RECORD_KINDS[self.user.role]) if self.may(Action.RECORD) else []

    def may_record(self, kind: str) -> bool:
        return kind in self.record_kinds()

    def sees(self, district: str | None) -> bool:
        return self.district is None or district == self.district

    def where_district(self, column: Any) -> sa.ColumnElement[bool]:
        """The SQL condition of this scope on a district column."""
        return sa.true() if self.district is None else column == self.district

    def outbox_where(self, settings: Settings) -> sa.ColumnElement[bool]:
        """The outbox messages this user may read: all, or (a district user) the messages sent to its
        district's addresses and those about its district's entities only; never the city's digest."""
        if self.district is None:
            return sa.true()
        d = self.district
        mine = sa.or_(
            OutboxItem.entity.in_(sa.select(EntityRow.credit_code).where(EntityRow.district == d)),
            OutboxItem.entity == f"district:{d}",
        )
        about_mine = sa.select(OutboxItem.message_id).where(mine)
        about_others = sa.select(OutboxItem.message_id).where(sa.not_(mine))
        to_district = OutboxMessage.recipient.in_(settings.recipients.districts.get(d, ()))
        return sa.and_(
            OutboxMessage.kind != MessageKind.DIGEST.value,
            sa.or_(
                sa.and_(OutboxMessage.audience == "district", to_district),
                sa.and_(OutboxMessage.id.in_(about_mine), OutboxMessage.id.not_in(about_others)),
            ),
        )

    def entity(self, session: Session, code: str) -> EntityRow:
        """The entity of this credit code, if this user may read it; 404 otherwise (as if unknown)."""
        row = session.execute(
            sa.select(EntityRow).where(EntityRow.credit_code == code.strip().upper())
        ).scalar_one_or_none()
        if row is None or not self.sees(row.district):
            raise NotFound("未找到该主体", "no such entity")
        return row


class LoginRequired(Exception):
    """No open session: a GET goes to /login?next=<this page>."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path
        super().__init__(next_path)


def _open_session(request: Request) -> OpenSession | None:
    cached = request.scope.get("console_session", False)
    if cached is not False:
        known: OpenSession | None = cached
        return known
    token = request.cookies.get(SESSION_COOKIE, "")
    found = None
    if token:
        with app_state(request).db.session() as session:
            found = accounts.find_session(session, token, request_now(request))
    request.scope["console_session"] = found
    return found


def current_scope(request: Request) -> Scope | None:
    """The logged-in user's scope, or None (for the menu, the login page)."""
    found = _open_session(request)
    return Scope(found.user, found.csrf_token, found.session_id) if found is not None else None


def scope(request: Request, action: Action, form: Mapping[str, Any] | None = None) -> Scope:
    """Every console route starts here. `form` is the parsed body of a POST (its `csrf_token` is checked)."""
    found = current_scope(request)
    if found is None:
        if request.method in ("GET", "HEAD"):
            query = f"?{request.url.query}" if request.url.query else ""
            raise LoginRequired(request.url.path + query)
        raise Forbidden()
    if request.method not in ("GET", "HEAD"):
        token = form.get("csrf_token") if form is not None else None
        if not isinstance(token, str) or not accounts.same_token(token, found.csrf_token):
            raise Forbidden()
    found.require(action)
    return found


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="")


def safe_next(value: str | None) -> str:
    """`next` only when it is a path of this site: one leading '/', no scheme, host or backslash."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(c) < 32 or c.isspace() for c in value):
        return "/"
    return value
