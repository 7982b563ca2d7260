"""`sme-monitor run`: APScheduler wakes the runner on the cron schedules; the run ledger decides what runs.

- Jobs run one at a time in one worker thread; a second thread renews this worker's ledger leases.
- APScheduler keeps its jobs in memory (its job stores must never be shared between processes): each wake-up
  only asks the runner to run the latest occurrence if nobody has finished it, so the scheduler's own misfire
  bookkeeping does not matter (misfire_grace_time None, coalesce on).
- On start, and every 20 s after, a catch-up runs whatever latest occurrence is unfinished or due for a retry: the ones missed
  while the daemon was down, and the ones a dead daemon left behind once their lease ran out.
- SIGTERM or SIGINT: no new job starts, the one in hand finishes its step, the process exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs import ledger, schedule, steps
from jobs.health import HealthServer
from jobs.ledger import JobName
from jobs.lock import ProcessLock, lock_path
from jobs.runner import Runner
from monitor.config import Settings, redact_url
from monitor.legal_time import LEGAL_TZ, WorkCalendar
from monitor.storage.db import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

CATCH_UP_SECONDS = 20
RENEW_SECONDS = ledger.LEASE.total_seconds() / 3


class _QuietCatchUpOverlap(logging.Filter):
    """A catch-up that finds the previous one still at work (a long sweep) is skipped, as it should be: that
    is not worth a warning every 20 s."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not ("_catch_up" in text and "maximum number of running instances" in text)


def worker_id() -> str:
    """host:pid:random, unique per process, readable in the ledger."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Daemon:
    def __init__(self, settings: Settings, db: Database, calendar: WorkCalendar, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.calendar = calendar
        self.clock = clock
        self.worker = worker_id()
        self.stopping = threading.Event()
        self._stop_reason = ""
        self._caught_up = False

    def crons(self) -> dict[JobName, str]:
        s = self.settings.schedule
        return {
            JobName.PORTAL_SYNC: s.portal_sync,
            JobName.SWEEP: s.sweep,
            JobName.DIGEST: s.digest,
            JobName.OUTBOX: s.outbox,
        }

    def run(self) -> int:
        """Run until SIGTERM/SIGINT. Raises lock.AlreadyRunning when another daemon has this SQLite file."""
        path = lock_path(self.settings.database_url)
        process_lock = ProcessLock(path) if path else None
        if process_lock:
            process_lock.acquire()
        try:
            return self._run(exclusive=process_lock is not None)
        finally:
            if process_lock:
                process_lock.release()

    def _run(self, *, exclusive: bool) -> int:
        ctx = steps.StepContext(self.settings, self.db, self.calendar, self.worker, self.clock, self.stopping)
        job_steps = steps.build(ctx)
        runner = Runner(
            self.db,
            self.crons(),
            job_steps,
            self.worker,
            self.clock,
            take_over_unfinished=exclusive,  # we hold the only lock on this SQLite file: what is unfinished is dead
            stopping=self.stopping,
            after_success={JobName.SWEEP: lambda now: steps.heartbeat(ctx, now)},
        )
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        health = self._start_health()
        scheduler = BackgroundScheduler(
            timezone=LEGAL_TZ,
            executors={"default": ThreadPoolExecutor(1), "leases": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        for job in runner.steps:
            scheduler.add_job(
                runner.run_due, schedule.trigger(runner.crons[job]), args=[job], id=job.value, name=f"cron {job}"
            )
        # The first catch-up runs at once: what was missed while the daemon was down.
        scheduler.add_job(
            self._catch_up,
            IntervalTrigger(seconds=CATCH_UP_SECONDS, timezone=LEGAL_TZ),
            args=[runner],
            id="catch_up",
            next_run_time=self.clock(),
        )
        scheduler.add_job(
            runner.renew_leases,
            IntervalTrigger(seconds=RENEW_SECONDS, timezone=LEGAL_TZ),
            id="renew_leases",
            executor="leases",
        )
        log.info(
            "daemon started: worker %s, database %s, jobs %s%s",
            self.worker,
            redact_url(self.settings.database_url),
            ", ".join(f"{job}={runner.crons[job]!r}" for job in runner.steps),
            "" if JobName.PORTAL_SYNC in runner.steps else " (portal sync off: portal.url is empty)",
        )
        quiet = _QuietCatchUpOverlap()
        logging.getLogger("apscheduler.scheduler").addFilter(quiet)
        scheduler.start()
        try:
            while not self.stopping.wait(1.0):
                pass
            log.info("stopping on %s: finishing the step in hand", self._stop_reason)
            scheduler.shutdown(wait=True)
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            logging.getLogger("apscheduler.scheduler").removeFilter(quiet)
            if health:
                health.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            ctx.http.close()
        log.info("daemon stopped: worker %s", self.worker)
        return 0

    def _catch_up(self, runner: Runner) -> None:
        results = runner.catch_up()
        if not self._caught_up and not self.stopping.is_set():
            self._caught_up = True
            done = Counter(r.outcome.value for r in results)
            log.info("catch-up on start done: %s", ", ".join(f"{k}={v}" for k, v in sorted(done.items())) or "-")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stopping.is_set():
            self._stop_reason = signal.Signals(signum).name
            self.stopping.set()

    def _start_health(self) -> HealthServer | None:
        d = self.settings.daemon
        if not d.http_port:
            return None
        server = HealthServer(
            self.db,
            self.settings.schedule.sweep,
            self.clock,
            d.http_host,
            d.http_port,
            outbox_age=timedelta(minutes=d.outbox_age_minutes),
        )
        port = server.start()
        log.info("health and metrics on http://%s:%d/healthz and /metrics", d.http_host, port)
        return server
