"""What the daily digest says about the daemon itself: failed job runs and the age of the portal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from jobs import ledger, sync_state
from jobs.ledger import JobName

# With no digest on record, report the failures of the last day.
DEFAULT_WINDOW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class JobFailure:
    job: str
    scheduled_at: datetime
    finished_at: datetime
    worker: str
    error: str
    failures: int = 1  # failed attempts of this occurrence
    recovered: bool = False  # a later attempt succeeded

    def describe(self) -> str:
        """The error, and how the occurrence ended when it was retried."""
        if self.recovered:
            return (
                f"{self.error}（失败 {self.failures} 次后重试成功 / succeeded after {self.failures} failed attempt(s)）"
            )
        if self.failures > 1:
            return f"{self.error}（已失败 {self.failures} 次 / failed {self.failures} times）"
        return self.error


@dataclass(frozen=True, slots=True)
class OpsReport:
    job_failures: tuple[JobFailure, ...]
    failures_since: datetime
    last_portal_sync: datetime | None  # the last good sync; None if there never was one
    portal_error: str  # why the last attempt failed, if it did


def recent_failures(session: Session, now: datetime) -> tuple[list[JobFailure], datetime]:
    """Failed runs since the last successful digest (or the last day): what the next digest reports."""
    last_digest = ledger.last_success(session, JobName.DIGEST)
    since = last_digest.finished_at if last_digest and last_digest.finished_at else now - DEFAULT_WINDOW
    runs = ledger.failures_since(session, since)
    failures = [
        JobFailure(
            r.job.value,
            r.scheduled_at,
            r.finished_at,
            r.worker,
            r.error,
            failures=r.failures,
            recovered=r.status is ledger.RunStatus.SUCCEEDED,
        )
        for r in runs
        if r.finished_at is not None
    ]
    return failures, since


def ops_report(session: Session, now: datetime) -> OpsReport:
    failures, since = recent_failures(session, now)
    state = sync_state.get(session)
    return OpsReport(
        job_failures=tuple(failures),
        failures_since=since,
        last_portal_sync=state.last_success_at if state else None,
        portal_error=state.last_error if state else "",
    )
