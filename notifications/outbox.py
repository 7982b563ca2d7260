"""The outbox's own operations: claim a batch under a lease, record what happened, retry, list.

Claiming is safe with several workers on one database. On PostgreSQL the candidate rows are locked with
`FOR UPDATE SKIP LOCKED`, so two workers never wait for or take the same rows; on SQLite the single
UPDATE ... WHERE id IN (SELECT ...) runs under the database's one writer lock. Either way the UPDATE repeats the
claimable condition and stamps the rows with a token unique to this claim, and only the rows that carry the
token afterwards (the count is checked) are this worker's. A worker that dies leaves its rows in `sending`;
once `lease_until` passes, any worker claims them again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from monitor.storage.db import Database
from notifications.channels.base import DeliveryError, Outgoing
from notifications.models import MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

# A retry waits backoff * 2**(attempt-1), never less than a second (so one delivery run cannot spin on a
# message whose backoff is configured as zero) and never more than a day.
MIN_BACKOFF = timedelta(seconds=1)
MAX_BACKOFF = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Claimed:
    message: Outgoing
    channel: str
    attempts: int
    token: str


def _claimable(now: datetime) -> ColumnElement[bool]:
    m = OutboxMessage
    return or_(
        and_(m.status == MessageStatus.PENDING.value, m.next_attempt_at <= now),
        and_(m.status == MessageStatus.SENDING.value, m.lease_until <= now),
    )


def claim(db: Database, worker_id: str, now: datetime, lease_seconds: int, limit: int) -> list[Claimed]:
    """Take up to `limit` due messages for `worker_id` until now + lease; one committed transaction."""
    m = OutboxMessage
    token = f"{worker_id[:60]}#{uuid.uuid4().hex[:16]}"
    candidates = select(m.id).where(_claimable(now)).order_by(m.id).limit(limit)
    if db.dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    with db.session() as session:
        result = session.execute(
            update(m)
            .where(m.id.in_(candidates.scalar_subquery()), _claimable(now))
            .values(
                status=MessageStatus.SENDING.value,
                lease_owner=token,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=m.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        claimed = result.rowcount  # type: ignore[attr-defined]
        if not claimed:
            return []
        rows = session.execute(
            select(m.id, m.key, m.kind, m.recipient, m.as_of, m.content, m.channel, m.attempts)
            .where(m.lease_owner == token)
            .order_by(m.id)
        ).all()
    if len(rows) != claimed:  # another writer changed our rows between the two statements: take what we hold
        log.warning("claimed %d outbox messages but hold %d (token %s)", claimed, len(rows), token)
    return [
        Claimed(
            message=Outgoing(id=r.id, key=r.key, kind=r.kind, recipient=r.recipient, as_of=r.as_of, content=r.content),
            channel=r.channel,
            attempts=r.attempts,
            token=token,
        )
        for r in rows
    ]


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost_lease: int = 0


def backoff(base_seconds: int, attempts: int) -> timedelta:
    delay = timedelta(seconds=base_seconds) * int(2 ** max(attempts - 1, 0))
    return min(max(delay, MIN_BACKOFF), MAX_BACKOFF)


def record(
    db: Database,
    results: Sequence[tuple[Claimed, DeliveryError | None]],
    now: datetime,
    *,
    max_attempts: int,
    backoff_seconds: int,
) -> Outcome:
    """Write the outcome of a batch in one transaction. Only rows still leased to the claim's token change:
    if the lease ran out and another worker took a row, its result is that worker's to record."""
    m = OutboxMessage
    out = Outcome()
    sent = [c for c, err in results if err is None]
    with db.session() as session:
        by_token: dict[str, list[int]] = {}
        for c in sent:
            by_token.setdefault(c.token, []).append(c.message.id)
        for token, ids in by_token.items():
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                n = session.execute(
                    update(m)
                    .where(m.id.in_(part), m.lease_owner == token, m.status == MessageStatus.SENDING.value)
                    .values(
                        status=MessageStatus.SENT.value,
                        sent_at=now,
                        updated_at=now,
                        lease_owner="",
                        lease_until=None,
                        last_error="",
                    )
                    .execution_options(synchronize_session=False)
                ).rowcount  # type: ignore[attr-defined]
                out.sent += n
                out.lost_lease += len(part) - n
        for c, err in results:
            if err is None:
                continue
            final = err.permanent or c.attempts >= max_attempts
            values: dict[str, object] = {
                "last_error": str(err)[:2000],
                "updated_at": now,
                "lease_owner": "",
                "lease_until": None,
            }
            if final:
                values["status"] = MessageStatus.FAILED.value
            else:
                values["status"] = MessageStatus.PENDING.value
                values["next_attempt_at"] = now + backoff(backoff_seconds, c.attempts)
            n = session.execute(
                update(m)
                .where(m.id == c.message.id, m.lease_owner == c.token, m.status == MessageStatus.SENDING.value)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if n != 1:
                out.lost_lease += 1
                continue
            if final:
                out.failed += 1
                log.warning("outbox message %d failed for good: %s", c.message.id, err)
            else:
                out.retrying += 1
                log.info("outbox message %d will be retried (attempt %d): %s", c.message.id, c.attempts, err)
    if out.lost_lease:
        log.warning("%d outbox results not recorded: their lease had passed to another worker", out.lost_lease)
    return out


def retry(session: Session, ids: Sequence[int], now: datetime) -> list[int]:
    """Put failed messages (all of them when `ids` is empty) back in the queue; returns the ids requeued."""
    m = OutboxMessage
    query = select(m.id).where(m.status == MessageStatus.FAILED.value)
    if ids:
        query = query.where(m.id.in_(list(ids)))
    wanted = list(session.execute(query.order_by(m.id)).scalars())
    if wanted:
        session.execute(
            update(m)
            .where(m.id.in_(wanted), m.status == MessageStatus.FAILED.value)
            .values(status=MessageStatus.PENDING.value, attempts=0, next_attempt_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return wanted


def counts(session: Session) -> dict[str, int]:
    m = OutboxMessage
    rows = session.execute(select(m.status, func.count()).group_by(m.status)).all()
    return {status: n for status, n in rows}


def undelivered(session: Session, *, limit: int = 200) -> list[OutboxMessage]:
    """Failed messages, then pending ones that have already failed at least once (newest first)."""
    m = OutboxMessage
    query = (
        select(m)
        .where(
            or_(
                m.status == MessageStatus.FAILED.value,
                and_(m.status.in_([MessageStatus.PENDING.value, MessageStatus.SENDING.value]), m.attempts > 0),
            )
        )
        .order_by(m.status, m.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def listing(session: Session, *, status: MessageStatus | None = None, limit: int = 200) -> list[OutboxMessage]:
    m = OutboxMessage
    query = select(m).order_by(m.id.desc()).limit(limit)
    if status is not None:
        query = query.where(m.status == status.value)
    return list(session.execute(query).scalars())


def last_digest_date(session: Session, before: date) -> date | None:
    """The as-of date of the latest digest enqueued before `before`."""
    from notifications.models import MessageKind

    m = OutboxMessage
    return session.execute(
        select(func.max(m.as_of)).where(m.kind == MessageKind.DIGEST.value, m.as_of < before)
    ).scalar_one_or_none()
