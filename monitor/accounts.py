"""Console accounts (SPEC 8): users with a role, passwords hashed with argon2id, server-side sessions that can
end (logout, disabling, `web.session_hours`), and the lockout after failed logins.

argon2id through `argon2-cffi` (the reference implementation's binding, the hash OWASP recommends first):
memory-hard, salted, its parameters kept in the stored PHC string so they can be raised later (`check`
says when a stored hash should be redone). A session is a random token in an HttpOnly cookie; the database
keeps only its SHA-256, so neither a copy of the database nor a log line can open a session.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.storage.console_models import LoginAttemptRow, SessionRow, UserRow

LOCK_FAILURES = 5  # failed logins for one name ...
LOCK_WINDOW = timedelta(minutes=15)  # ... within this long ...
LOCK_FOR = timedelta(minutes=15)  # ... lock it for this long
ADDRESS_FAILURES = 50  # failures from one address within LOCK_WINDOW before it is refused (SPEC: >= 30)
NAME_MAX = 64
PASSWORD_MIN = 8

_hasher = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters (64 MiB, t=3)
# Verified against when a name is unknown, so that the answer takes as long as for a known name.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    DISTRICT = "district"
    VIEWER = "viewer"


class AccountError(Exception):
    """Bad input for an account, worded for the operator (exit 2 on the command line)."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    district: str  # "" unless a district user

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.name, Role(row.role), row.district)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(c.isspace() or not c.isprintable() for c in name):
        raise AccountError(
            f"用户名应为 1 到 {NAME_MAX} 个非空白字符 (a name of 1-{NAME_MAX} non-space characters): {name!r}"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"密码至少 {PASSWORD_MIN} 个字符 (the password needs at least {PASSWORD_MIN} characters)")
    if len(password) > 1000:
        raise AccountError("密码过长 (the password is too long)")
    return password


def get(session: Session, name: str) -> UserRow | None:
    return session.execute(select(UserRow).where(UserRow.name == name)).scalar_one_or_none()


def add_user(
    session: Session, name: str, role: Role, district: str, password: str, now: datetime, districts: frozenset[str]
) -> UserRow:
    name = check_name(name)
    if role is Role.DISTRICT:
        if district not in districts:
            raise AccountError(
                f"--district: 区县用户须指定成都市的区（市）县 (a district user needs a district): {district!r}"
            )
    elif district:
        raise AccountError("--district 只用于区县用户 (only district users have a district)")
    if get(session, name) is not None:
        raise AccountError(f"用户 {name} 已存在 (the user exists)")
    row = UserRow(
        name=name,
        role=role.value,
        district=district,
        password_hash=hash_password(check_password(password)),
        disabled=False,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _existing(session: Session, name: str) -> UserRow:
    row = get(session, name)
    if row is None:
        raise AccountError(f"没有用户 {name} (no such user)")
    return row


def end_sessions(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(
        update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.ended_at.is_(None)).values(ended_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def set_password(session: Session, name: str, password: str, now: datetime) -> UserRow:
    """A new password ends the user's open sessions."""
    row = _existing(session, name)
    row.password_hash = hash_password(check_password(password))
    row.updated_at = now
    end_sessions(session, row.id, now)
    return row


def disable(session: Session, name: str, now: datetime) -> UserRow:
    """The user can no longer log in, and every open session ends now."""
    row = _existing(session, name)
    row.disabled = True
    row.updated_at = now
    end_sessions(session, row.id, now)
    return row


def list_users(session: Session) -> list[UserRow]:
    return list(session.execute(select(UserRow).order_by(UserRow.name)).scalars())


# --- login -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Login:
    user: User | None  # set when the login succeeded
    locked_until: datetime | None = None  # the name is locked (the page says until when)
    address_blocked: bool = False


def locked_until(session: Session, name: str, now: datetime) -> datetime | None:
    """When five failures for `name` fell within 15 minutes, the name is locked 15 minutes from the fifth."""
    times = list(
        session.execute(
            select(LoginAttemptRow.at)
            .where(LoginAttemptRow.name == name, LoginAttemptRow.at > now - LOCK_WINDOW - LOCK_FOR)
            .order_by(LoginAttemptRow.at)
        ).scalars()
    )
    until: datetime | None = None
    for i in range(LOCK_FAILURES - 1, len(times)):
        if times[i] - times[i - LOCK_FAILURES + 1] <= LOCK_WINDOW:
            end = times[i] + LOCK_FOR
            until = end if until is None or end > until else until
    return until if until is not None and until > now else None


def _address_failures(session: Session, client: str, now: datetime) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(LoginAttemptRow)
            .where(LoginAttemptRow.client == client, LoginAttemptRow.at > now - LOCK_WINDOW)
        ).scalar_one()
    )


def authenticate(session: Session, name: str, password: str, client: str, now: datetime) -> Login:
    """Check a login. A failure is recorded (name as typed, address, time); while a name is locked its
    password is not even checked, and the attempt does not extend the lock."""
    name = name.strip()[:NAME_MAX]
    until = locked_until(session, name, now)
    if until is not None:
        return Login(None, locked_until=until)
    if _address_failures(session, client, now) >= ADDRESS_FAILURES:
        return Login(None, address_blocked=True)
    row = get(session, name)
    ok = _verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    if row is not None and ok and not row.disabled:
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        return Login(User.of(row))
    session.add(LoginAttemptRow(name=name, client=client[:64], at=now))
    session.flush()
    return Login(None, locked_until=locked_until(session, name, now))


# --- sessions ----------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OpenSession:
    user: User
    csrf_token: str
    session_id: int


def open_session(session: Session, user: User, client: str, now: datetime, hours: int) -> tuple[str, OpenSession]:
    """A new session; returns the cookie's token (shown to nobody else, stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    row = SessionRow(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        client=client[:64],
    )
    session.add(row)
    session.flush()
    return token, OpenSession(user, row.csrf_token, row.id)


def find_session(session: Session, token: str, now: datetime) -> OpenSession | None:
    """The open session of this cookie: not ended, not expired, its user not disabled."""
    if not token or len(token) > 200:
        return None
    found = session.execute(
        select(SessionRow, UserRow)
        .join(UserRow, UserRow.id == SessionRow.user_id)
        .where(SessionRow.token_hash == _digest(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or row.expires_at <= now or user.disabled:
        return None
    return OpenSession(User.of(user), row.csrf_token, row.id)


def end_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(
        update(SessionRow).where(SessionRow.id == session_id, SessionRow.ended_at.is_(None)).values(ended_at=now)
    )


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
