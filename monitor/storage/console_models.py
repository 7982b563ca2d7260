"""Tables of the console (migration 0007, SPEC 8): accounts, server-side sessions, login attempts and the
audit trail of every write. The audit trail is append-only: nothing in the product updates or deletes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.storage.models import Base, BigId, UTCDateTime


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | staff | district | viewer
    district: Mapped[str] = mapped_column(String(32), default="")  # a district user's district
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, PHC string
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SessionRow(Base):
    """A console session. Only the SHA-256 of the cookie's token is stored, so a copy of the database opens
    no session; ending a session sets `ended_at` (kept, never deleted)."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    client: Mapped[str] = mapped_column(String(64), default="")


class LoginAttemptRow(Base):
    """Every failed login (name as typed, address, time): the lockout counts these."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_name_at", "name", "at"),
        Index("ix_login_attempts_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One write: who (a user name, `cli:<system user>`, `daemon:<host>`), when, from where (the client's
    address, or the host), the request or run it belonged to, and what it changed."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_actor", "actor"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    origin: Mapped[str] = mapped_column(String(120))
    request_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(Text)
    changes: Mapped[str] = mapped_column(Text)  # the tables written, e.g. "events +insert; kept_answers ~update"
