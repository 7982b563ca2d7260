"""Running an occurrence of a job once: look up the latest occurrence, claim it in the ledger, run, record.

This is the one place where a job's outcome is decided, for the scheduler's cron wake-ups and the start-up
catch-up alike: whatever woke the daemon, it runs the latest occurrence that has come and is not finished,
so a sweep missed for one day or for ten runs once. A step that raises is logged and recorded as failed; the
runner never lets it out, so the daemon goes on.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jobs import ledger, schedule
from jobs.ledger import JobName
from monitor.storage.db import Database

log = logging.getLogger(__name__)

# A step does one job's work at the instant it is given and returns a summary of what it did (counts).
Step = Callable[[datetime], Mapping[str, Any] | None]
Hook = Callable[[datetime], object]
Clock = Callable[[], datetime]

# Catch-up order: fresh filings before the sweep, the sweep before the digest that reports it.
ORDER = (JobName.PORTAL_SYNC, JobName.SWEEP, JobName.DIGEST, JobName.OUTBOX)


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DONE_BEFORE = "done_before"  # the occurrence already has a finished row
    CLAIMED_ELSEWHERE = "claimed_elsewhere"  # another worker holds it
    NOT_SCHEDULED = "not_scheduled"  # no step or no occurrence yet
    LOST = "lost"  # ran, but another worker took the occurrence over meanwhile (the lease ran out)
    STOPPING = "stopping"  # the daemon is stopping: nothing new starts


@dataclass(frozen=True, slots=True)
class Result:
    job: JobName
    scheduled_at: datetime | None
    outcome: Outcome
    error: str = ""


class Runner:
    def __init__(
        self,
        db: Database,
        crons: Mapping[JobName, str],
        steps: Mapping[JobName, Step],
        worker: str,
        clock: Clock,
        *,
        take_over_unfinished: bool = False,
        stopping: threading.Event | None = None,
        after_success: Mapping[JobName, Hook] | None = None,
    ) -> None:
        self.db = db
        self.crons = dict(crons)
        self.steps = dict(steps)
        self.worker = worker
        self.clock = clock
        self.take_over_unfinished = take_over_unfinished
        self.stopping = stopping or threading.Event()
        self.after_success = dict(after_success or {})
        self._lock = threading.Lock()

    def occurrence(self, job: JobName, now: datetime) -> datetime | None:
        return schedule.latest_occurrence(self.crons[job], now)

    def run_due(self, job: JobName, now: datetime | None = None) -> Result:
        """Run the latest occurrence of `job` at or before `now` if no worker has finished it."""
        if job not in self.steps or job not in self.crons:
            return Result(job, None, Outcome.NOT_SCHEDULED)
        # One job at a time in this process; across processes the ledger decides.
        with self._lock:
            if self.stopping.is_set():
                return Result(job, None, Outcome.STOPPING)
            # Read the clock once the lock is ours: a reading taken while another job ran would start the
            # claim's lease in the past, and another daemon could take the occurrence at once.
            now = now or self.clock()
            scheduled = self.occurrence(job, now)
            if scheduled is None:
                return Result(job, None, Outcome.NOT_SCHEDULED)
            try:
                with self.db.session() as s:
                    if ledger.is_finished(s, job, scheduled):
                        return Result(job, scheduled, Outcome.DONE_BEFORE)
                    claim = ledger.claim(
                        s, job, scheduled, self.worker, now, take_over_unfinished=self.take_over_unfinished
                    )
            except Exception as exc:
                # The database is away (restarting, say): the next wake-up or catch-up tries again.
                log.exception("job %s for %s: the run ledger is unavailable", job, scheduled.isoformat())
                return Result(job, scheduled, Outcome.FAILED, f"{type(exc).__name__}: {exc}")
            if claim is None:
                log.debug("%s %s: claimed by another worker", job, scheduled.isoformat())
                return Result(job, scheduled, Outcome.CLAIMED_ELSEWHERE)
            return self._run(claim, now)

    def _run(self, claim: ledger.Claim, now: datetime) -> Result:
        job, scheduled = claim.job, claim.scheduled_at
        retry = f" (attempt {claim.attempt})" if claim.attempt > 1 else ""
        log.info("job %s for %s started on %s%s", job, scheduled.isoformat(), self.worker, retry)
        started = time.monotonic()
        error: str | None = None
        summary: Mapping[str, Any] | None = None
        try:
            summary = self.steps[job](now)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s for %s failed", job, scheduled.isoformat())
        elapsed = time.monotonic() - started
        try:
            with self.db.session() as s:
                kept = ledger.finish(s, claim, self.clock(), error=error, summary=summary)
        except Exception:
            log.exception("job %s for %s: could not record the outcome in the run ledger", job, scheduled.isoformat())
            return Result(job, scheduled, Outcome.FAILED, error or "ledger unavailable")
        if not kept:
            log.warning("job %s for %s: the lease ran out and another worker took it over", job, scheduled.isoformat())
            return Result(job, scheduled, Outcome.LOST, error or "")
        if error is not None:
            return Result(job, scheduled, Outcome.FAILED, error)
        log.info("job %s for %s succeeded in %.1f s: %s", job, scheduled.isoformat(), elapsed, _brief(summary))
        hook = self.after_success.get(job)
        if hook is not None:
            try:
                hook(self.clock())
            except Exception:
                log.exception("job %s: the after-success hook failed", job)
        return Result(job, scheduled, Outcome.SUCCEEDED)

    def catch_up(self, now: datetime | None = None) -> list[Result]:
        """Every job whose latest occurrence is not finished, in ORDER; stops early when asked to stop."""
        results = []
        for job in ORDER:
            if self.stopping.is_set():
                break
            if job in self.steps:
                results.append(self.run_due(job, now))
        return results

    def renew_leases(self) -> None:
        """Keep this worker's runs in hand from looking abandoned (called from a thread of its own)."""
        try:
            with self.db.session() as s:
                ledger.renew(s, self.worker, self.clock())
        except Exception:
            log.exception("could not renew the run ledger leases of %s", self.worker)


def _brief(summary: Mapping[str, Any] | None) -> str:
    if not summary:
        return "-"
    return ", ".join(f"{k}={v}" for k, v in summary.items() if not isinstance(v, dict | list))
