"""The seams between the daemon and the parts it schedules: the sweep, sanctions and notifications.

Each function here is the one call the jobs make into another package, so that package's signature is
adapted in one place.
"""

from __future__ import annotations

import threading
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
    """notifications.service.enqueue: the sweep's findings as outbox rows, in a transaction of their own."""
    raise NotImplementedError("notifications.service.enqueue is not on main yet")


def deliver(
    db: Database,
    settings: Settings,
    now: datetime,
    clock: Callable[[], datetime],
    worker: str,
    stopping: threading.Event,
) -> Mapping[str, Any]:
    """notifications.service.deliver, a batch at a time, each claimed under a lease, until `stopping`."""
    raise NotImplementedError("notifications.service.deliver is not on main yet")


def send_digest(db: Database, settings: Settings, now: datetime, calendar: WorkCalendar, ops: OpsReport) -> Any:
    """notifications.digest.send_digest: build and send the administrators' daily digest."""
    raise NotImplementedError("notifications.digest.send_digest is not on main yet")


def outbox_counts(session: Session) -> dict[str, int]:
    """Outbox messages by state (pending, failed) for /metrics."""
    raise NotImplementedError("the notifications outbox is not on main yet")
