"""A database that drops the daemon's connections, or stops answering, in the middle of the sweep (issue 11,
fault 1), on the real PostgreSQL: the run is recorded as failed (on a fresh connection), counted, shown by
/healthz, and retried with backoff until it succeeds; a lease is renewed only for the run in hand.

The outage is the test's own: its schema belongs to a role of its own whose connections are ended with
`pg_terminate_backend` (the client sees AdminShutdown, as in a restart) and whose logins are refused while
the database is "away" (tests/pg_outage.py). The clock is freezegun's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry
from sqlalchemy import event

from jobs import health, ledger, steps
from jobs.ledger import JobName, RunStatus
from jobs.runner import Outcome, Runner
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from tests.conftest import postgres_url
from tests.notify_support import load, make_settings
from tests.pg_outage import PgOutage, pg_outage

pytestmark = pytest.mark.postgres

SH = ZoneInfo("Asia/Shanghai")
CRONS = {JobName.SWEEP: "0 7 * * *"}
SWEEP_AT = datetime(2026, 11, 25, 7, 0, tzinfo=SH)


@pytest.fixture
def pg() -> Iterator[PgOutage]:
    base = postgres_url()
    if not base:
        pytest.skip("SME_MONITOR_TEST_DATABASE_URL is not set")
    with pg_outage(base) as outage:
        yield outage


class FaultAt:
    """Calls `fault` just before the n-th SQL statement on `db`'s engine (once), so the statement meets it."""

    def __init__(self, db: Database, n: int, fault: Any) -> None:
        self.left = n
        self.fault = fault
        self.fired = False
        event.listen(db.engine, "before_cursor_execute", self._before)

    def _before(self, *_args: Any) -> None:
        self.left -= 1
        if self.left == 0:
            self.fired = True
            self.fault()


def clock() -> datetime:
    return datetime.now(UTC)


def sweep_runner(db: Database, tmp_path: Path, worker: str = "w1") -> Runner:
    settings = make_settings(tmp_path)
    ctx = steps.StepContext(settings, db, WorkCalendar(), worker, clock)
    return Runner(db, CRONS, {JobName.SWEEP: steps.build(ctx)[JobName.SWEEP]}, worker, clock)


def failures_metric(db: Database) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(health.LedgerCollector(db))
    text = generate_latest(registry).decode()
    return next(line for line in text.splitlines() if line.startswith('sme_monitor_job_failures_total{job="sweep"}'))


def test_connections_dropped_mid_sweep_fail_the_run_which_is_retried(pg: PgOutage, tmp_path: Path) -> None:
    db = Database(pg.url)
    db.upgrade()
    load(db)
    try:
        with freeze_time(SWEEP_AT + timedelta(minutes=1)) as frozen:
            runner = sweep_runner(db, tmp_path)
            # The run ledger's claim is the first statements; the fault strikes inside the sweep's reads.
            fault = FaultAt(db, 8, pg.terminate)
            first = runner.run_due(JobName.SWEEP)
            assert fault.fired
            assert first.outcome is Outcome.FAILED and "AdminShutdown" in first.error
            with db.session() as s:
                run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
                ok, lines = health.check(s, CRONS[JobName.SWEEP], clock())
            # Recorded as failed, on a fresh connection: the old ones were dead.
            assert run is not None and run.status is RunStatus.FAILED and run.failures == 1
            assert "AdminShutdown" in run.error and run.retry_at == clock() + ledger.RETRY_FIRST
            assert failures_metric(db) == 'sme_monitor_job_failures_total{job="sweep"} 1.0'
            assert not ok and any("sweep" in line and "AdminShutdown" in line for line in lines)
            assert runner.run_due(JobName.SWEEP).outcome is Outcome.RETRY_LATER
            frozen.tick(ledger.RETRY_FIRST)
            assert runner.run_due(JobName.SWEEP).outcome is Outcome.SUCCEEDED
            with db.session() as s:
                run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
                ok, lines = health.check(s, CRONS[JobName.SWEEP], clock())
            assert run is not None and run.status is RunStatus.SUCCEEDED and run.attempts == 2
            assert ok, lines
            assert failures_metric(db) == 'sme_monitor_job_failures_total{job="sweep"} 1.0'  # a counter
            assert run.summary["enqueued"] > 0  # the day's messages are in the outbox
    finally:
        db.dispose()


def test_a_database_away_when_the_sweep_ends_is_told_once_it_answers(pg: PgOutage, tmp_path: Path) -> None:
    db = Database(pg.url)
    db.upgrade()
    load(db)
    try:
        with freeze_time(SWEEP_AT + timedelta(minutes=1)) as frozen:
            runner = sweep_runner(db, tmp_path)
            FaultAt(db, 8, pg.outage)
            assert runner.run_due(JobName.SWEEP).outcome is Outcome.FAILED
            # The outcome could not be recorded: nothing is in hand, so no lease is renewed.
            pg.back()
            frozen.tick(timedelta(seconds=20))
            runner.renew_leases()
            with db.session() as s:
                run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
            assert run is not None and run.status is RunStatus.RUNNING
            assert run.lease_until == SWEEP_AT + timedelta(minutes=1) + ledger.LEASE
            # The next wake-up records the failure first, then waits out its backoff, then runs it again.
            assert runner.run_due(JobName.SWEEP).outcome is Outcome.RETRY_LATER
            with db.session() as s:
                run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
            assert run is not None and run.status is RunStatus.FAILED and run.failures == 1
            frozen.tick(ledger.RETRY_FIRST)
            assert runner.run_due(JobName.SWEEP).outcome is Outcome.SUCCEEDED
    finally:
        db.dispose()


def test_a_runner_whose_run_was_taken_over_stops_renewing_it(pg: PgOutage, tmp_path: Path) -> None:
    db = Database(pg.url)
    db.upgrade()
    try:
        with freeze_time(SWEEP_AT) as frozen:
            renewed: list[bool] = []

            def step(now: datetime) -> dict[str, Any]:
                frozen.tick(ledger.LEASE + timedelta(seconds=1))  # this step hangs past its lease...
                with db.session() as s:  # ...and another worker takes the occurrence over
                    assert ledger.claim(s, JobName.SWEEP, SWEEP_AT, "w2", clock())
                frozen.tick(timedelta(seconds=10))
                runner.renew_leases()
                with db.session() as s:
                    run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
                renewed.append(run is not None and run.worker == "w2" and run.lease_until == clock() + ledger.LEASE)
                return {}

            runner = Runner(db, CRONS, {JobName.SWEEP: step}, "w1", clock)
            assert runner.run_due(JobName.SWEEP).outcome is Outcome.LOST
        assert renewed == [False]  # w2's lease counts from its claim, 10 s ago: w1 did not touch it
    finally:
        db.dispose()
