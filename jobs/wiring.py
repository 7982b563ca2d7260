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
from monitor import kept, sanctions
from monitor.config import Settings
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from monitor.sweep import SweepResult
from notifications import digest, outbox, service
from notifications.models import MessageStatus


def run_sweep(db: Database, settings: Settings, as_of: date, calendar: WorkCalendar, now: datetime) -> SweepResult:
    """The kept answer refreshed for `as_of` (only entities whose data changed or whose held-until date has
    come are evaluated, in short transactions), then read whole with the districts and the Measures
    evaluated afresh; bad entities are in `.errors`."""
    report = kept.refresh(db, as_of, calendar, settings.rules, now=now)
    result = kept.current(db, as_of, calendar, settings.rules, settings.districts, today=as_of)
    result.evaluated = report.evaluated
    return result


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


def digest_ops(ops: OpsReport) -> digest.Ops:
    """What the digest says about the daemon: failed runs, the last good portal sync and the last sync's error."""
    failures = [digest.JobFailure(f.job, f.finished_at, f.describe()) for f in ops.job_failures]
    return digest.Ops(job_failures=failures, last_portal_sync=ops.last_portal_sync, portal_error=ops.portal_error)


def send_digest(
    db: Database, settings: Settings, calendar: WorkCalendar, as_of: date, now: datetime, ops: OpsReport
) -> int:
    """Enqueue today's digest for every administrator who has not got it (keyed by date: once, whatever
    runs it); how many were enqueued. Delivery is the caller's next step."""
    report = digest.send_digest(db, settings, calendar, as_of, now, digest_ops(ops))
    return len(report.enqueued)


def outbox_counts(session: Session) -> dict[str, int]:
    """Outbox messages by state (pending, sending, sent, failed) for /metrics."""
    counts = outbox.counts(session)
    return {status.value: int(counts.get(status.value, 0)) for status in MessageStatus}
