"""Running an occurrence of a job once: look up the latest occurrence, claim it in the ledger, run, record.

This is the one place where a job's outcome is decided, for the scheduler's cron wake-ups and the start-up
catch-up alike: whatever woke the daemon, it runs the latest occurrence that has come and is not finished,
so a sweep missed for one day or for ten runs once. A step that raises is logged and recorded as failed (on a
fresh connection; if the database is away, as soon as it answers again), and the failed occurrence is tried
again with backoff (`ledger.retry_delay`) until it succeeds or the next occurrence supersedes it; the runner
never lets an error out, so the daemon goes on. Only the run whose step is running has its lease renewed.
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
    DONE_BEFORE = "done_before"  # the occurrence already succeeded
    RETRY_LATER = "retry_later"  # the occurrence failed; its next try is not due yet
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
        # The claim whose step is running now: the only run whose lease this worker renews.
        self._in_hand: ledger.Claim | None = None
        # Outcomes the ledger could not take when the step ended (the database was away): recorded before
        # anything else runs, once it answers again.
        self._unrecorded: list[tuple[ledger.Claim, str | None, Mapping[str, Any] | None, datetime]] = []

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
            self._record_unrecorded()
            try:
                with self.db.session() as s:
                    if ledger.is_settled(s, job, scheduled, now):
                        run = ledger.get(s, job, scheduled)
                        if run is not None and run.status is ledger.RunStatus.FAILED:
                            return Result(job, scheduled, Outcome.RETRY_LATER, run.error)
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
        self._in_hand = claim
        try:
            summary = self.steps[job](now)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("job %s for %s failed", job, scheduled.isoformat())
        finally:
            self._in_hand = None
        elapsed = time.monotonic() - started
        ended = self.clock()
        try:
            # A new session: the pool pings the connection it hands out and replaces one the server dropped.
            with self.db.session() as s:
                kept = ledger.finish(s, claim, ended, error=error, summary=summary)
        except Exception as exc:
            log.error(
                "job %s for %s: could not record the outcome in the run ledger (%s: %s); recording it once the "
                "database answers",
                job,
                scheduled.isoformat(),
                type(exc).__name__,
                exc,
            )
            self._unrecorded.append((claim, error or f"{type(exc).__name__}: {exc}", summary, ended))
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

    def _record_unrecorded(self) -> None:
        """Record the outcomes the ledger could not take when their steps ended. A run whose outcome could
        not be recorded is recorded as failed (even if its step succeeded: what it did is not known to be
        complete), so it is retried; one another worker has taken over meanwhile is left to that worker."""
        while self._unrecorded:
            claim, error, summary, ended = self._unrecorded[0]
            try:
                with self.db.session() as s:
                    kept = ledger.finish(
                        s, claim, ended, error=error or "the outcome could not be recorded", summary=summary
                    )
            except Exception:
                log.debug("the run ledger is still unavailable", exc_info=True)
                return
            self._unrecorded.pop(0)
            log.info(
                "job %s for %s: recorded as failed%s",
                claim.job,
                claim.scheduled_at.isoformat(),
                "" if kept else " (no: another worker had taken it over)",
            )

    def renew_leases(self) -> None:
        """Keep the run in hand from looking abandoned (called from a thread of its own). Only the run whose
        step is running now: a run whose outcome could not be recorded is not in hand, and its lease runs
        out so that any worker may take it over."""
        claim = self._in_hand
        if claim is None:
            return
        try:
            with self.db.session() as s:
                kept = ledger.renew(s, claim, self.clock())
        except Exception:
            log.exception("could not renew the lease of job %s for %s", claim.job, claim.scheduled_at.isoformat())
            return
        if not kept:
            log.warning(
                "job %s for %s: another worker has taken it over; its lease is not renewed",
                claim.job,
                claim.scheduled_at.isoformat(),
            )


def _brief(summary: Mapping[str, Any] | None) -> str:
    if not summary:
        return "-"
    return ", ".join(f"{k}={v}" for k, v in summary.items() if not isinstance(v, dict | list))
