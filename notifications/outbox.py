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

from monitor.config import NotificationSettings
from monitor.storage.db import Database
from notifications.channels.base import DeliveryError, Outgoing
from notifications.models import MessageStatus, OutboxMessage

log = logging.getLogger(__name__)

# A retry waits backoff * 2**(attempt-1), never less than a second (so one delivery run cannot spin on a
# message whose backoff is configured as zero) and never more than the policy's ceiling.
MIN_BACKOFF = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """SPEC 5: transient failures are retried with exponential backoff from `backoff_seconds`, at most
    `ceiling` apart, for `retry_for` from the first failure; only then is the message `failed`. A permanent
    rejection fails at once. `max_attempts` (0: none) caps the tries as well."""

    backoff_seconds: int = 60
    ceiling: timedelta = timedelta(minutes=30)
    retry_for: timedelta = timedelta(days=3)
    max_attempts: int = 0

    @classmethod
    def of(cls, n: NotificationSettings) -> RetryPolicy:
        return cls(
            backoff_seconds=n.backoff_seconds,
            ceiling=timedelta(minutes=n.retry_ceiling_minutes),
            retry_for=timedelta(days=n.retry_days),
            max_attempts=n.max_attempts,
        )

    def delay(self, attempts: int) -> timedelta:
        return backoff(self.backoff_seconds, attempts, self.ceiling)

    def gives_up(self, err: DeliveryError, attempts: int, first_failed_at: datetime, now: datetime) -> bool:
        if err.permanent:
            return True
        if self.max_attempts and attempts >= self.max_attempts:
            return True
        return now - first_failed_at >= self.retry_for


@dataclass(frozen=True, slots=True)
class Claimed:
    message: Outgoing
    channel: str
    attempts: int
    token: str
    first_failed_at: datetime | None = None


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
            select(m.id, m.key, m.kind, m.recipient, m.as_of, m.content, m.channel, m.attempts, m.first_failed_at)
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
            first_failed_at=r.first_failed_at,
        )
        for r in rows
    ]


def renew(db: Database, token: str, now: datetime, lease_seconds: int) -> int:
    """Push forward the lease of the rows a claim still holds (its worker is alive and at work); how many."""
    m = OutboxMessage
    with db.session() as session:
        result = session.execute(
            update(m)
            .where(m.lease_owner == token, m.status == MessageStatus.SENDING.value)
            .values(lease_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost_lease: int = 0


def backoff(base_seconds: int, attempts: int, ceiling: timedelta = timedelta(minutes=30)) -> timedelta:
    # 2**n grows past any ceiling long before it could overflow: cap the exponent.
    delay = timedelta(seconds=base_seconds) * int(2 ** min(max(attempts - 1, 0), 30))
    return max(min(delay, ceiling), MIN_BACKOFF)


def record(
    db: Database,
    results: Sequence[tuple[Claimed, DeliveryError | None]],
    now: datetime,
    policy: RetryPolicy,
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
            first_failed = c.first_failed_at or now
            final = policy.gives_up(err, c.attempts, first_failed, now)
            values: dict[str, object] = {
                "last_error": str(err)[:2000],
                "updated_at": now,
                "lease_owner": "",
                "lease_until": None,
                "first_failed_at": first_failed,
            }
            if final:
                values["status"] = MessageStatus.FAILED.value
            else:
                values["status"] = MessageStatus.PENDING.value
                values["next_attempt_at"] = now + policy.delay(c.attempts)
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
    """Make undelivered messages (all of them when `ids` is empty) due now: failed ones go back in the queue
    with a fresh retry budget, pending ones stop waiting out their backoff. Returns the ids made due."""
    m = OutboxMessage
    query = select(m.id).where(m.status.in_([MessageStatus.FAILED.value, MessageStatus.PENDING.value]))
    if ids:
        query = query.where(m.id.in_(list(ids)))
    wanted = list(session.execute(query.order_by(m.id)).scalars())
    for n in range(0, len(wanted), 500):
        part = wanted[n : n + 500]
        session.execute(
            update(m)
            .where(m.id.in_(part), m.status == MessageStatus.FAILED.value)
            .values(
                status=MessageStatus.PENDING.value,
                attempts=0,
                first_failed_at=None,
                next_attempt_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(m)
            .where(m.id.in_(part), m.status == MessageStatus.PENDING.value, m.next_attempt_at > now)
            .values(next_attempt_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return wanted


def overdue(session: Session, now: datetime, age: timedelta) -> tuple[int, int, datetime | None]:
    """(failed messages, messages undelivered for longer than `age`, when the oldest undelivered one was
    enqueued): what turns /healthz to 503 and the heartbeat to a failure."""
    m = OutboxMessage
    failed = session.execute(select(func.count()).where(m.status == MessageStatus.FAILED.value)).scalar_one()
    waiting = [MessageStatus.PENDING.value, MessageStatus.SENDING.value]
    late = session.execute(select(func.count()).where(m.status.in_(waiting), m.created_at < now - age)).scalar_one()
    oldest = session.execute(select(func.min(m.created_at)).where(m.status.in_(waiting))).scalar_one_or_none()
    return int(failed), int(late), oldest


def counts(session: Session) -> dict[str, int]:
    m = OutboxMessage
    rows = session.execute(select(m.status, func.count()).group_by(m.status)).all()
    return {status: n for status, n in rows}


def undelivered(
    session: Session, *, limit: int = 200, now: datetime | None = None, age: timedelta | None = None
) -> list[OutboxMessage]:
    """Failed messages, then pending ones that have already failed at least once or (given `now` and `age`)
    have waited longer than `age` (newest first)."""
    m = OutboxMessage
    waiting: ColumnElement[bool] = m.attempts > 0
    if now is not None and age is not None:
        waiting = or_(waiting, m.created_at < now - age)
    query = (
        select(m)
        .where(
            or_(
                m.status == MessageStatus.FAILED.value,
                and_(m.status.in_([MessageStatus.PENDING.value, MessageStatus.SENDING.value]), waiting),
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
