"""The runner decides what runs: catch-up after a stop, once per occurrence, failures recorded. No sleeping:
the clock is freezegun's, moved by the test."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun import freeze_time

from jobs import ledger
from jobs.ledger import JobName, RunStatus
from jobs.ops import ops_report
from jobs.runner import ORDER, Outcome, Result, Runner
from monitor.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
CRONS = {
    JobName.PORTAL_SYNC: "0 6 * * *",
    JobName.SWEEP: "0 7 * * *",
    JobName.DIGEST: "30 8 * * *",
    JobName.OUTBOX: "*/5 * * * *",
}


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def clock() -> datetime:
    return datetime.now(UTC)


class Recorder:
    """Steps that remember the instants they were run at (and can be told to fail)."""

    def __init__(self) -> None:
        self.calls: list[tuple[JobName, datetime]] = []
        self.failing: set[JobName] = set()

    def step(self, job: JobName) -> Any:
        def run(now: datetime) -> Mapping[str, Any]:
            self.calls.append((job, now))
            if job in self.failing:
                raise RuntimeError(f"{job} broke")
            return {"job": str(job)}

        return run

    def steps(self) -> dict[JobName, Any]:
        return {job: self.step(job) for job in CRONS}

    def jobs(self) -> list[JobName]:
        return [job for job, _ in self.calls]


def runner(db: Database, rec: Recorder, worker: str = "w1", **kw: Any) -> Runner:
    return Runner(db, CRONS, rec.steps(), worker, clock, **kw)


def test_first_start_runs_each_job_s_latest_occurrence_once(db: Database) -> None:
    rec = Recorder()
    with freeze_time(sh("2026-11-25 10:02:00")):
        results = runner(db, rec).catch_up()
        again = runner(db, rec, worker="w2").catch_up()
    assert rec.jobs() == list(ORDER)
    assert [r.outcome for r in results] == [Outcome.SUCCEEDED] * 4
    assert {r.job: r.scheduled_at for r in results} == {
        JobName.PORTAL_SYNC: sh("2026-11-25 06:00:00"),
        JobName.SWEEP: sh("2026-11-25 07:00:00"),
        JobName.DIGEST: sh("2026-11-25 08:30:00"),
        JobName.OUTBOX: sh("2026-11-25 10:00:00"),
    }
    assert all(now == sh("2026-11-25 10:02:00") for _, now in rec.calls)  # steps get the instant, not the slot
    assert [r.outcome for r in again] == [Outcome.DONE_BEFORE] * 4
    assert len(rec.calls) == 4


def test_one_missed_day_or_ten_give_one_run(db: Database) -> None:
    rec = Recorder()
    with freeze_time(sh("2026-11-01 09:00:00")) as frozen:
        r = runner(db, rec)
        r.catch_up()
        # Down for one day, then for ten.
        for days in (1, 10):
            rec.calls.clear()
            frozen.tick(timedelta(days=days))
            results = r.catch_up()
            assert rec.jobs() == list(ORDER), days
            assert all(res.outcome is Outcome.SUCCEEDED for res in results)
    with db.session() as s:
        sweeps = [ledger.get(s, JobName.SWEEP, sh(f"2026-11-{d:02d} 07:00:00")) for d in range(1, 13)]
    assert [d + 1 for d, run in enumerate(sweeps) if run is not None] == [1, 2, 12]


def test_before_today_s_time_the_previous_occurrence_is_the_one_due(db: Database) -> None:
    rec = Recorder()
    with freeze_time(sh("2026-11-25 06:30:00")):
        results = {r.job: r.scheduled_at for r in runner(db, rec).catch_up()}
    assert results[JobName.SWEEP] == sh("2026-11-24 07:00:00")
    assert results[JobName.DIGEST] == sh("2026-11-24 08:30:00")
    assert results[JobName.PORTAL_SYNC] == sh("2026-11-25 06:00:00")


def test_a_failing_job_is_recorded_and_the_rest_still_run(db: Database) -> None:
    rec = Recorder()
    rec.failing.add(JobName.SWEEP)
    with freeze_time(sh("2026-11-25 09:00:00")):
        results = runner(db, rec).catch_up()
        now = clock()
        with db.session() as s:
            run = ledger.get(s, JobName.SWEEP, sh("2026-11-25 07:00:00"))
            ops = ops_report(s, now)
    outcome = {r.job: r.outcome for r in results}
    assert outcome[JobName.SWEEP] is Outcome.FAILED
    assert outcome[JobName.DIGEST] is Outcome.SUCCEEDED and outcome[JobName.OUTBOX] is Outcome.SUCCEEDED
    assert run is not None and run.status is RunStatus.FAILED and run.error == "RuntimeError: sweep broke"
    assert [(f.job, f.error) for f in ops.job_failures] == [("sweep", "RuntimeError: sweep broke")]


def test_a_failed_occurrence_is_retried_with_backoff_until_it_succeeds(db: Database) -> None:
    rec = Recorder()
    rec.failing.add(JobName.SWEEP)
    with freeze_time(sh("2026-11-25 07:00:00")) as frozen:
        r = runner(db, rec)
        assert r.run_due(JobName.SWEEP).outcome is Outcome.FAILED
        assert r.run_due(JobName.SWEEP).outcome is Outcome.RETRY_LATER
        frozen.tick(ledger.RETRY_FIRST)
        assert r.run_due(JobName.SWEEP).outcome is Outcome.FAILED  # still failing: the next wait is longer
        frozen.tick(ledger.RETRY_FIRST)
        assert r.run_due(JobName.SWEEP).outcome is Outcome.RETRY_LATER
        rec.failing.clear()
        frozen.tick(ledger.RETRY_FIRST)
        assert r.run_due(JobName.SWEEP).outcome is Outcome.SUCCEEDED
        assert r.run_due(JobName.SWEEP).outcome is Outcome.DONE_BEFORE
        with db.session() as s:
            run = ledger.get(s, JobName.SWEEP, sh("2026-11-25 07:00:00"))
    assert rec.jobs() == [JobName.SWEEP] * 3
    assert run is not None and run.status is RunStatus.SUCCEEDED and run.failures == 2 and run.attempts == 3


def test_a_failed_occurrence_is_superseded_by_the_next_one(db: Database) -> None:
    rec = Recorder()
    rec.failing.add(JobName.SWEEP)
    with freeze_time(sh("2026-11-25 07:00:00")) as frozen:
        r = runner(db, rec)
        r.run_due(JobName.SWEEP)
        rec.failing.clear()
        frozen.tick(timedelta(days=1))
        assert r.run_due(JobName.SWEEP) == Result(JobName.SWEEP, sh("2026-11-26 07:00:00"), Outcome.SUCCEEDED)
        assert r.run_due(JobName.SWEEP).outcome is Outcome.DONE_BEFORE
        with db.session() as s:
            old = ledger.get(s, JobName.SWEEP, sh("2026-11-25 07:00:00"))
    assert old is not None and old.status is RunStatus.FAILED  # the day before stays failed, in the record
    assert rec.jobs() == [JobName.SWEEP, JobName.SWEEP]


def test_digest_reports_failures_since_the_last_digest(db: Database) -> None:
    rec = Recorder()
    with freeze_time(sh("2026-11-25 09:00:00")) as frozen:
        r = runner(db, rec)
        r.catch_up()  # the digest of the 25th succeeded
        rec.failing.add(JobName.OUTBOX)
        frozen.tick(timedelta(minutes=5))
        assert r.run_due(JobName.OUTBOX).outcome is Outcome.FAILED
        with db.session() as s:
            ops = ops_report(s, clock())
    assert [f.job for f in ops.job_failures] == ["outbox"]
    assert ops.failures_since == sh("2026-11-25 09:00:00")


def test_the_hook_runs_after_success_only(db: Database) -> None:
    rec = Recorder()
    pinged: list[datetime] = []
    with freeze_time(sh("2026-11-25 09:00:00")) as frozen:
        r = runner(db, rec, after_success={JobName.SWEEP: pinged.append})
        rec.failing.add(JobName.SWEEP)
        r.run_due(JobName.SWEEP)
        assert pinged == []
        rec.failing.clear()
        frozen.tick(timedelta(days=1))
        r.run_due(JobName.SWEEP)
    assert pinged == [sh("2026-11-26 09:00:00")]


def test_an_unfinished_occurrence_of_a_dead_worker_is_run_again_after_its_lease(db: Database) -> None:
    rec = Recorder()
    with freeze_time(sh("2026-11-25 09:00:00")) as frozen:
        with db.session() as s:
            assert ledger.claim(s, JobName.SWEEP, sh("2026-11-25 07:00:00"), "dead", clock())
        r = runner(db, rec)
        assert r.run_due(JobName.SWEEP).outcome is Outcome.CLAIMED_ELSEWHERE
        frozen.tick(ledger.LEASE + timedelta(seconds=1))
        assert r.run_due(JobName.SWEEP).outcome is Outcome.SUCCEEDED
        # With the SQLite lock held, a restarted daemon need not wait for the lease.
        with db.session() as s:
            assert ledger.claim(s, JobName.DIGEST, sh("2026-11-25 08:30:00"), "dead", clock())
        exclusive = runner(db, rec, worker="w2", take_over_unfinished=True)
        assert exclusive.run_due(JobName.DIGEST).outcome is Outcome.SUCCEEDED
    assert rec.jobs() == [JobName.SWEEP, JobName.DIGEST]


def test_nothing_starts_once_stopping(db: Database) -> None:
    rec = Recorder()
    r = runner(db, rec)
    r.stopping.set()
    with freeze_time(sh("2026-11-25 09:00:00")):
        assert r.catch_up() == []
        assert r.run_due(JobName.SWEEP).outcome is Outcome.STOPPING
    assert rec.calls == []
