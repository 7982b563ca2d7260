"""Tables of the notifications package (migration 0002): the outbox, acknowledgements and silences.

The outbox has two levels. An `OutboxItem` is one keyed notification, SPEC section 5's
(rule, entity, subject, stage, audience, recipient) plus `repeat` (0 for the first notice of a stage, n for the
n-th seven-day repeat of an unresolved critical finding); its unique constraint is what makes a second run
enqueue nothing. An `OutboxMessage` is one thing to send to one recipient: an entity reminder carries one item,
a staff alert or a district notice carries every item of its run, the digest carries none (its own key is the
date). Both are written, in one transaction, before anything is sent; nothing here is ever deleted.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.storage.models import Base, BigId, UTCDateTime


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first attempt or for its next retry (next_attempt_at)
    SENDING = "sending"  # claimed by a worker until lease_until; after that any worker may take it
    SENT = "sent"
    FAILED = "failed"  # permanent rejection or attempts used up; `outbox retry` puts it back


class Channel(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class MessageKind(enum.StrEnum):
    REMINDER = "reminder"  # to an entity, one finding
    ALERT = "alert"  # to staff, the run's new findings and repeats
    NOTICE = "notice"  # to a district authority, the run's findings about its district
    DIGEST = "digest"  # to administrators, daily


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    message_id: Mapped[str] = mapped_column(String(200))
    # The complete RFC 5322 message (e-mail) or JSON document (webhook), rendered once at enqueue time, so a
    # retry sends exactly what was first attempted.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=MessageStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str] = mapped_column(String(100), default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When the first attempt failed: transient failures are retried for `notifications.retry_days` from here.
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def pending(
    *,
    key: str,
    kind: MessageKind,
    channel: Channel,
    audience: str,
    recipient: str,
    subject: str,
    as_of: date,
    message_id: str,
    content: bytes,
    now: datetime,
) -> dict[str, Any]:
    """The column values of a new message waiting for its first attempt (for OutboxMessage(**...) or a bulk
    insert)."""
    return {
        "key": key,
        "kind": kind.value,
        "channel": channel.value,
        "audience": audience,
        "recipient": recipient,
        "subject": subject,
        "as_of": as_of,
        "message_id": message_id,
        "content": content,
        "status": MessageStatus.PENDING.value,
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": now,
        "lease_owner": "",
        "created_at": now,
        "updated_at": now,
    }


class OutboxItem(Base):
    __tablename__ = "outbox_items"
    __table_args__ = (
        # Explicit name: the convention's would pass PostgreSQL's 63-character limit.
        UniqueConstraint(
            "rule", "entity", "subject", "stage", "audience", "recipient", "repeat", name="uq_outbox_items_key"
        ),
        Index("ix_outbox_items_entity", "entity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(64))  # credit code, or "district:<name>" for a district's own
    subject: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    finding_id: Mapped[str] = mapped_column(String(200), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Acknowledgement(Base):
    """Staff took a finding in hand at `stage`: its repeats stop until the finding reaches another stage."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    finding_id: Mapped[str] = mapped_column(String(200), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    acked_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    acked_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Silence(Base):
    """An entity's reminders are held from `starts_on` through `ends_on`; lifting it early is recorded, not
    deleted."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    lifted_by: Mapped[str] = mapped_column(String(100), default="")
