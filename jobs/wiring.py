"""The seams between the daemon and the parts it schedules: the sweep, sanctions and notifications.

Each function here is the one call the jobs make into another package, so that package's signature is
adapted in one place.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from jobs.ops import OpsReport
from monitor import sanctions, sweep
from monitor.config import Settings
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from monitor.sweep import SweepResult
from notifications import digest, outbox, service
from notifications.models import MessageStatus


def run_sweep(session: Session, settings: Settings, as_of: date, calendar: WorkCalendar) -> SweepResult:
    """Every entity, district and the Measures evaluated as of `as_of`; bad entities are in `.errors`."""
    return sweep.run_sweep(session, as_of, calendar, settings.rules, settings.districts)


def apply_sanctions(session: Session, result: SweepResult, now: datetime) -> int:
    """`sanctions.auto_apply`: record the revocations the sweep found due; how many.

    The findings enqueued afterwards are the sweep's own (made before the revocation), so staff, the
    administrators and the district are told of the revocation due that was applied.
    """
    return len(sanctions.apply(session, result.findings, now))


def enqueue(db: Database, settings: Settings, result: SweepResult, as_of: date, now: datetime) -> int:
    """The sweep's findings as outbox rows, in a transaction of their own; how many new messages."""
    return len(service.enqueue(db, result, settings, as_of, now).messages)


def deliver(
    db: Database,
    settings: Settings,
    now: datetime,
    clock: Callable[[], datetime],
    worker: str,
    stopping: threading.Event,
) -> Mapping[str, Any]:
    """Send what the outbox holds that is due, a batch at a time, each claimed under a lease.

    Between batches the daemon may be asked to stop: what is left stays pending for the next run (or
    another daemon), so a stop never waits for a long queue.
    """
    totals: Counter[str] = Counter()
    at = now  # the first batch at the step's instant, later ones at their own
    while not stopping.is_set():
        report = service.deliver(db, settings, at, worker, clock=clock, limit=settings.notifications.batch_size)
        at = clock()
        for name in ("claimed", "sent", "retrying", "failed", "lost_lease"):
            totals[name] += getattr(report, name)
        if report.claimed < settings.notifications.batch_size:
            break
    return dict(totals)


def send_digest(
    db: Database, settings: Settings, calendar: WorkCalendar, as_of: date, now: datetime, ops: OpsReport
) -> int:
    """Enqueue today's digest for every administrator who has not got it (keyed by date: once, whatever
    runs it); how many were enqueued. Delivery is the caller's next step."""
    failures = [digest.JobFailure(f.job, f.finished_at, f.describe()) for f in ops.job_failures]
    report = digest.send_digest(
        db, settings, calendar, as_of, now, digest.Ops(job_failures=failures, last_portal_sync=ops.last_portal_sync)
    )
    return len(report.enqueued)


def outbox_counts(session: Session) -> dict[str, int]:
    """Outbox messages by state (pending, sending, sent, failed) for /metrics."""
    counts = outbox.counts(session)
    return {status.value: int(counts.get(status.value, 0)) for status in MessageStatus}
