"""The run ledger: which occurrence of which job ran, on which worker, how it ended.

An occurrence is claimed by inserting its row; the unique key (job, scheduled_at) and ON CONFLICT DO NOTHING
make exactly one worker win, which the row it returns (or not) tells. A worker that dies leaves an unfinished row whose
lease runs out; another worker may then take the occurrence over with a conditional UPDATE (again checked by
its row count). Every function takes the time; nothing here reads the clock.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session

from jobs.models import JobRunRow

# How long a claimed occurrence stays with its worker without news; the worker renews it every third of this.
LEASE = timedelta(seconds=30)
# A failed occurrence is tried again after RETRY_FIRST, then twice as long each time, at most RETRY_CEILING
# (with the daemon's catch-up every 20 s, a sweep that failed while the database was away runs again within
# about four minutes of its return).
RETRY_FIRST = timedelta(seconds=30)
RETRY_CEILING = timedelta(minutes=3)
ERROR_LIMIT = 4000  # characters of error text kept per run


class JobName(enum.StrEnum):
    PORTAL_SYNC = "portal_sync"
    SWEEP = "sweep"
    DIGEST = "digest"
    OUTBOX = "outbox"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Claim:
    job: JobName
    scheduled_at: datetime
    worker: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Run:
    job: JobName
    scheduled_at: datetime
    status: RunStatus
    worker: str
    attempts: int
    started_at: datetime
    finished_at: datetime | None
    lease_until: datetime
    error: str
    summary: Mapping[str, Any]
    failures: int = 0
    retry_at: datetime | None = None

    @property
    def duration(self) -> timedelta | None:
        return None if self.finished_at is None else self.finished_at - self.started_at


def _run(row: JobRunRow) -> Run:
    return Run(
        job=JobName(row.job),
        scheduled_at=row.scheduled_at,
        status=RunStatus(row.status),
        worker=row.worker,
        attempts=row.attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        lease_until=row.lease_until,
        error=row.error,
        summary=json.loads(row.summary) if row.summary else {},
        failures=row.failures,
        retry_at=row.retry_at,
    )


def _rowcount(result: Result[Any]) -> int:
    """Rows an INSERT or UPDATE changed (a DML result is a CursorResult, which the type of execute() hides)."""
    return int(cast(CursorResult[Any], result).rowcount)


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(JobRunRow)
    if dialect == "sqlite":
        return sqlite.insert(JobRunRow)
    raise RuntimeError(f"the run ledger supports SQLite and PostgreSQL, not {dialect}")


def retry_delay(failures: int) -> timedelta:
    """How long a failed occurrence waits before its next try: RETRY_FIRST, doubling, at most RETRY_CEILING."""
    return min(RETRY_FIRST * int(2 ** min(max(failures - 1, 0), 30)), RETRY_CEILING)


def claim(
    session: Session,
    job: JobName,
    scheduled_at: datetime,
    worker: str,
    now: datetime,
    *,
    lease: timedelta = LEASE,
    take_over_unfinished: bool = False,
) -> Claim | None:
    """Claim the occurrence for `worker`: a Claim if this worker now owns it, None if another one does or did.

    An unfinished occurrence is taken over when its lease has run out, or at once with
    `take_over_unfinished` (a daemon that holds the only lock on an SQLite file knows its predecessor is dead);
    the attempt that died counts as a failure. A failed occurrence is claimed again once its `retry_at` has come.
    """
    values = {
        "job": job.value,
        "scheduled_at": scheduled_at,
        "status": RunStatus.RUNNING.value,
        "worker": worker,
        "attempts": 1,
        "failures": 0,
        "started_at": now,
        "lease_until": now + lease,
        "finished_at": None,
        "retry_at": None,
        "error": "",
        "summary": "",
    }
    stmt = (
        _insert(session)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["job", "scheduled_at"])
        .returning(JobRunRow.id)
    )
    # The row comes back only if this insert made it (the DBAPI's rowcount is -1 for INSERT ... RETURNING).
    if session.execute(stmt).scalar_one_or_none() is not None:
        return Claim(job, scheduled_at, worker, 1)
    stale: ColumnElement[bool] = JobRunRow.finished_at.is_(None)
    if not take_over_unfinished:
        stale = and_(stale, JobRunRow.lease_until < now)
    retry_due = and_(
        JobRunRow.status == RunStatus.FAILED.value,
        or_(JobRunRow.retry_at.is_(None), JobRunRow.retry_at <= now),
    )
    taken = session.execute(
        update(JobRunRow)
        .where(JobRunRow.job == job.value, JobRunRow.scheduled_at == scheduled_at, or_(stale, retry_due))
        .values(
            worker=worker,
            status=RunStatus.RUNNING.value,
            attempts=JobRunRow.attempts + 1,
            # A run found unfinished was abandoned by a worker that died: that attempt failed too.
            failures=JobRunRow.failures + case((JobRunRow.finished_at.is_(None), 1), else_=0),
            started_at=now,
            lease_until=now + lease,
            finished_at=None,
            retry_at=None,
        )
        .returning(JobRunRow.attempts)
    ).scalar_one_or_none()
    if taken is None:
        return None
    return Claim(job, scheduled_at, worker, int(taken))


def finish(
    session: Session,
    claimed: Claim,
    now: datetime,
    *,
    error: str | None = None,
    summary: Mapping[str, Any] | None = None,
) -> bool:
    """Record how the claimed run ended; False when the claim was lost (another worker took it over).

    A failure counts in `failures` and sets `retry_at` (see `retry_delay`); a success keeps the error of the
    last failed attempt, if there was one, for the digest.
    """
    values: dict[str, Any] = {
        "finished_at": now,
        "summary": json.dumps(summary or {}, ensure_ascii=False, sort_keys=True, default=str),
    }
    if error is None:
        values.update(status=RunStatus.SUCCEEDED.value, retry_at=None)
    else:
        row = session.execute(
            select(JobRunRow.failures).where(
                JobRunRow.job == claimed.job.value, JobRunRow.scheduled_at == claimed.scheduled_at
            )
        ).scalar_one_or_none()
        failures = int(row or 0) + 1
        values.update(
            status=RunStatus.FAILED.value,
            error=error[:ERROR_LIMIT],
            failures=JobRunRow.failures + 1,
            retry_at=now + retry_delay(failures),
        )
    result = session.execute(
        update(JobRunRow)
        .where(
            JobRunRow.job == claimed.job.value,
            JobRunRow.scheduled_at == claimed.scheduled_at,
            JobRunRow.worker == claimed.worker,
            JobRunRow.attempts == claimed.attempt,
            JobRunRow.finished_at.is_(None),
        )
        .values(**values)
    )
    return _rowcount(result) == 1


def renew(session: Session, claimed: Claim, now: datetime, *, lease: timedelta = LEASE) -> bool:
    """Push forward the lease of a run in hand; False if it is no longer this claim's (taken over, finished)."""
    result = session.execute(
        update(JobRunRow)
        .where(
            JobRunRow.job == claimed.job.value,
            JobRunRow.scheduled_at == claimed.scheduled_at,
            JobRunRow.worker == claimed.worker,
            JobRunRow.attempts == claimed.attempt,
            JobRunRow.finished_at.is_(None),
        )
        .values(lease_until=now + lease)
    )
    return _rowcount(result) == 1


def get(session: Session, job: JobName, scheduled_at: datetime) -> Run | None:
    row = session.execute(
        select(JobRunRow).where(JobRunRow.job == job.value, JobRunRow.scheduled_at == scheduled_at)
    ).scalar_one_or_none()
    return None if row is None else _run(row)


def is_finished(session: Session, job: JobName, scheduled_at: datetime) -> bool:
    finished = session.execute(
        select(JobRunRow.finished_at).where(JobRunRow.job == job.value, JobRunRow.scheduled_at == scheduled_at)
    ).scalar_one_or_none()
    return finished is not None


def is_settled(session: Session, job: JobName, scheduled_at: datetime, now: datetime) -> bool:
    """Nothing to do for this occurrence at `now`: it succeeded, or it failed and its retry is not due yet."""
    row = session.execute(
        select(JobRunRow.status, JobRunRow.retry_at).where(
            JobRunRow.job == job.value, JobRunRow.scheduled_at == scheduled_at
        )
    ).one_or_none()
    if row is None:
        return False
    status, retry_at = row
    if status == RunStatus.SUCCEEDED.value:
        return True
    return status == RunStatus.FAILED.value and retry_at is not None and retry_at > now


def latest(session: Session, job: JobName) -> Run | None:
    """The run of the latest occurrence of `job` on record."""
    row = session.execute(
        select(JobRunRow).where(JobRunRow.job == job.value).order_by(JobRunRow.scheduled_at.desc()).limit(1)
    ).scalar_one_or_none()
    return None if row is None else _run(row)


def last_success(session: Session, job: JobName) -> Run | None:
    """The successful run of `job` that finished last."""
    row = session.execute(
        select(JobRunRow)
        .where(JobRunRow.job == job.value, JobRunRow.status == RunStatus.SUCCEEDED.value)
        .order_by(JobRunRow.finished_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else _run(row)


def failures_since(session: Session, since: datetime, *, limit: int = 50) -> list[Run]:
    """Runs with a failed attempt that ended at or after `since`, newest first: what the digest reports (a
    failed run, or one that succeeded on a later try: `status` and `failures` tell which)."""
    rows = session.execute(
        select(JobRunRow)
        .where(JobRunRow.failures > 0, JobRunRow.finished_at >= since)
        .order_by(JobRunRow.finished_at.desc())
        .limit(limit)
    ).scalars()
    return [_run(r) for r in rows]


def count_failures(session: Session, since: datetime | None = None) -> dict[JobName, int]:
    """Failed attempts per job (all time, or of runs that ended since a time): never goes down."""
    query = select(JobRunRow.job, func.coalesce(func.sum(JobRunRow.failures), 0)).where(JobRunRow.failures > 0)
    if since is not None:
        query = query.where(JobRunRow.finished_at >= since)
    counts = {job: n for job, n in session.execute(query.group_by(JobRunRow.job))}
    return {job: int(counts.get(job.value, 0)) for job in JobName}


def unfinished(session: Session) -> list[Run]:
    """Runs not finished yet: in hand somewhere, or left by a worker that died (see `lease_until`)."""
    rows = session.execute(
        select(JobRunRow).where(JobRunRow.finished_at.is_(None)).order_by(JobRunRow.started_at)
    ).scalars()
    return [_run(r) for r in rows]
