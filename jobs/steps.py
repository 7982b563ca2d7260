"""The daemon's jobs, one small step each: given the instant, do the work once and say what was done.

Tests call these directly with the time they choose; the runner calls them for the occurrence it claimed.
Nothing here reads the clock or decides whether a job is due.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests

from jobs import health, portal, wiring
from jobs.ledger import JobName
from jobs.ops import ops_report
from jobs.runner import Clock, Step
from monitor import httpclient
from monitor.config import Settings
from monitor.legal_time import WorkCalendar, legal_today
from monitor.rules.finding import Finding
from monitor.storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class StepContext:
    settings: Settings
    db: Database
    calendar: WorkCalendar
    worker: str
    clock: Clock
    stopping: threading.Event = field(default_factory=threading.Event)
    http: requests.Session = field(default_factory=lambda: httpclient.make_session(retries=2, backoff=0.5))


def sweep_and_notify(ctx: StepContext, now: datetime) -> dict[str, Any]:
    """Evaluate every rule as of today, apply due sanctions if configured, enqueue, then deliver.

    The sweep and its sanctions are one transaction, the enqueue the next: the outbox rows exist before
    anything is sent, and a stop between the two leaves nothing half-written.
    """
    as_of = legal_today(now)
    result = wiring.run_sweep(ctx.db, ctx.settings, as_of, ctx.calendar, now)
    sanctions = 0
    if ctx.settings.rules.auto_apply_sanctions:
        with ctx.db.session() as s:
            sanctions = wiring.apply_sanctions(s, result, now)
    enqueued = wiring.enqueue(ctx.db, ctx.settings, result, as_of, now)
    for warning in result.warnings:
        log.warning("sweep %s: %s", as_of, warning)
    summary: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "entities": len(result.entities),
        "evaluated": result.evaluated,
        "errors": len(result.errors),
        "findings": findings_by_rule(result.findings),
        "enqueued": enqueued,
        "sanctions": sanctions,
    }
    if ctx.stopping.is_set():
        log.info("stopping: delivery left to the next outbox run")
        return summary
    summary.update(_delivery_counts(wiring.deliver(ctx.db, ctx.settings, now, ctx.clock, ctx.worker, ctx.stopping)))
    return summary


def findings_by_rule(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """{rule: {severity: count}}: what /metrics reports from the last sweep."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in findings:
        counts[str(f.rule)][f.severity.label] += 1
    return {rule: dict(c) for rule, c in sorted(counts.items())}


def deliver_outbox(ctx: StepContext, now: datetime) -> dict[str, Any]:
    return _delivery_counts(wiring.deliver(ctx.db, ctx.settings, now, ctx.clock, ctx.worker, ctx.stopping))


def send_digest(ctx: StepContext, now: datetime) -> dict[str, Any]:
    """Today's digest, with the daemon's own news (failed runs, portal sync age), then delivered at once."""
    as_of = legal_today(now)
    with ctx.db.session() as s:
        ops = ops_report(s, now)
    enqueued = wiring.send_digest(ctx.db, ctx.settings, ctx.calendar, as_of, now, ops)
    summary: dict[str, Any] = {"as_of": as_of.isoformat(), "enqueued": enqueued, "job_failures": len(ops.job_failures)}
    if enqueued and not ctx.stopping.is_set():
        summary.update(_delivery_counts(wiring.deliver(ctx.db, ctx.settings, now, ctx.clock, ctx.worker, ctx.stopping)))
    return summary


def portal_sync(ctx: StepContext, now: datetime) -> dict[str, Any]:
    return portal.sync(ctx.db, ctx.settings.portal, now).summary()


def heartbeat(ctx: StepContext, now: datetime) -> bool:
    """Ping the configured heartbeat URL after a successful sweep; never raises. While the outbox holds a
    failed message or one older than `daemon.outbox_age_minutes`, the ping goes to the URL's `/fail`
    (Healthchecks' signal for a failure), so the monitor is seen to be alive but degraded."""
    url = ctx.settings.daemon.heartbeat_url
    if not url:
        return False
    try:
        with ctx.db.session() as s:
            problems = health.outbox_health(s, now, timedelta(minutes=ctx.settings.daemon.outbox_age_minutes))
    except Exception:
        log.exception("heartbeat: the outbox could not be read")
        problems = ["the outbox could not be read"]
    if problems:
        log.warning("heartbeat: degraded: %s", "; ".join(problems))
        url = fail_url(url)
    return httpclient.ping(ctx.http, url)


def fail_url(url: str) -> str:
    """The heartbeat URL with `/fail` appended to its path (before any query string)."""
    base, sep, query = url.partition("?")
    return f"{base.rstrip('/')}/fail{sep}{query}"


def _delivery_counts(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if isinstance(v, int | float | str)}


def build(ctx: StepContext) -> dict[JobName, Step]:
    """The steps the daemon schedules. Portal sync only when a portal is configured."""
    steps: dict[JobName, Step] = {
        JobName.SWEEP: lambda now: sweep_and_notify(ctx, now),
        JobName.DIGEST: lambda now: send_digest(ctx, now),
        JobName.OUTBOX: lambda now: deliver_outbox(ctx, now),
    }
    if ctx.settings.portal.url:
        steps[JobName.PORTAL_SYNC] = lambda now: portal_sync(ctx, now)
    return steps
