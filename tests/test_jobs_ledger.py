"""The run ledger on SQLite and PostgreSQL: one claim per occurrence, leases, take-over, failures."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from jobs import ledger
from jobs.ledger import JobName, RunStatus
from monitor.storage.db import Database

T0 = datetime(2026, 11, 24, 23, 0, tzinfo=UTC)  # 07:00 on the 25th in Beijing
SWEEP_AT = T0


def test_an_occurrence_is_claimed_once(db: Database) -> None:
    with db.session() as s:
        first = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "a", T0)
    with db.session() as s:
        second = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", T0)
        other_job = ledger.claim(s, JobName.DIGEST, SWEEP_AT, "b", T0)
        next_day = ledger.claim(s, JobName.SWEEP, SWEEP_AT + timedelta(days=1), "b", T0)
    assert first is not None and first.worker == "a" and first.attempt == 1
    assert second is None
    assert other_job is not None and next_day is not None


def test_finish_records_status_error_and_summary(db: Database) -> None:
    with db.session() as s:
        ok = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "a", T0)
        bad = ledger.claim(s, JobName.DIGEST, SWEEP_AT, "a", T0)
    assert ok and bad
    with db.session() as s:
        assert not ledger.is_finished(s, JobName.SWEEP, SWEEP_AT)
        assert ledger.finish(s, ok, T0 + timedelta(seconds=3), summary={"entities": 40})
        assert ledger.finish(s, bad, T0 + timedelta(seconds=1), error="SMTPError: 451 try later")
    with db.session() as s:
        run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
        failed = ledger.get(s, JobName.DIGEST, SWEEP_AT)
        assert ledger.is_finished(s, JobName.SWEEP, SWEEP_AT)
    assert run is not None and run.status is RunStatus.SUCCEEDED and run.summary == {"entities": 40}
    assert run.duration == timedelta(seconds=3)
    assert failed is not None and failed.status is RunStatus.FAILED and failed.error == "SMTPError: 451 try later"


def test_a_finished_occurrence_is_never_claimed_again(db: Database) -> None:
    with db.session() as s:
        claim = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "a", T0)
        assert claim
        ledger.finish(s, claim, T0)
    later = T0 + timedelta(days=30)
    with db.session() as s:
        assert ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", later) is None
        assert ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", later, take_over_unfinished=True) is None


def test_an_abandoned_occurrence_is_taken_over_when_its_lease_ends(db: Database) -> None:
    lease = timedelta(seconds=60)
    with db.session() as s:
        dead = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "dead", T0, lease=lease)
    assert dead
    with db.session() as s:
        assert ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", T0 + timedelta(seconds=59), lease=lease) is None
    with db.session() as s:
        taken = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", T0 + timedelta(seconds=61), lease=lease)
    assert taken is not None and taken.worker == "b" and taken.attempt == 2
    with db.session() as s:
        # The dead worker's late report does not overwrite the new owner's run.
        assert not ledger.finish(s, dead, T0 + timedelta(seconds=62))
        assert ledger.finish(s, taken, T0 + timedelta(seconds=63))
        run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
    assert run is not None and run.worker == "b" and run.attempts == 2


def test_renewing_keeps_a_live_worker_s_occurrence(db: Database) -> None:
    lease = timedelta(seconds=60)
    with db.session() as s:
        alive = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "alive", T0, lease=lease)
    assert alive
    impostor = ledger.Claim(JobName.SWEEP, SWEEP_AT, "someone-else", 1)
    with db.session() as s:
        assert ledger.renew(s, alive, T0 + timedelta(seconds=50), lease=lease)
        assert not ledger.renew(s, impostor, T0 + timedelta(seconds=50), lease=lease)
    with db.session() as s:
        assert ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", T0 + timedelta(seconds=100), lease=lease) is None
        assert [r.worker for r in ledger.unfinished(s)] == ["alive"]


def test_a_claim_taken_over_is_not_renewed_by_its_old_worker(db: Database) -> None:
    lease = timedelta(seconds=60)
    with db.session() as s:
        old = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "w", T0, lease=lease)
    with db.session() as s:
        new = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "w", T0 + timedelta(seconds=61), lease=lease)
    assert old and new and new.attempt == 2
    with db.session() as s:
        # The same worker name, but the attempt it renews is not the one in the ledger.
        assert not ledger.renew(s, old, T0 + timedelta(seconds=70), lease=lease)
        assert ledger.renew(s, new, T0 + timedelta(seconds=70), lease=lease)
        assert not ledger.finish(s, old, T0 + timedelta(seconds=71))


def test_a_failed_occurrence_is_claimed_again_after_a_growing_delay(db: Database) -> None:
    at = T0
    delays = []
    for attempt in range(1, 7):
        with db.session() as s:
            claim = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "a", at)
            assert claim is not None and claim.attempt == attempt
            assert ledger.finish(s, claim, at, error="OperationalError: AdminShutdown")
            run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
        assert run is not None and run.status is RunStatus.FAILED and run.failures == attempt
        assert run.retry_at is not None
        delays.append(run.retry_at - at)
        with db.session() as s:
            assert ledger.is_settled(s, JobName.SWEEP, SWEEP_AT, run.retry_at - timedelta(seconds=1))
            assert ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", run.retry_at - timedelta(seconds=1)) is None
            assert not ledger.is_settled(s, JobName.SWEEP, SWEEP_AT, run.retry_at)
        at = run.retry_at
    assert [d.total_seconds() for d in delays] == [30, 60, 120, 180, 180, 180]
    with db.session() as s:
        claim = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "a", at)
        assert claim and ledger.finish(s, claim, at, summary={"entities": 1})
        run = ledger.get(s, JobName.SWEEP, SWEEP_AT)
        counts = ledger.count_failures(s)
        assert ledger.is_settled(s, JobName.SWEEP, SWEEP_AT, at + timedelta(days=9))
    # The success keeps the count and the last error; the counter of failures never goes down.
    assert run is not None and run.status is RunStatus.SUCCEEDED and run.failures == 6
    assert run.error == "OperationalError: AdminShutdown" and run.retry_at is None
    assert counts[JobName.SWEEP] == 6


def test_an_abandoned_attempt_counts_as_a_failure(db: Database) -> None:
    with db.session() as s:
        assert ledger.claim(s, JobName.SWEEP, SWEEP_AT, "dead", T0)
    with db.session() as s:
        taken = ledger.claim(s, JobName.SWEEP, SWEEP_AT, "b", T0 + timedelta(minutes=2))
        assert taken and ledger.finish(s, taken, T0 + timedelta(minutes=3))
        assert ledger.count_failures(s)[JobName.SWEEP] == 1


def test_take_over_unfinished_ignores_the_lease(db: Database) -> None:
    with db.session() as s:
        assert ledger.claim(s, JobName.OUTBOX, SWEEP_AT, "killed", T0)
    with db.session() as s:
        taken = ledger.claim(s, JobName.OUTBOX, SWEEP_AT, "restarted", T0, take_over_unfinished=True)
    assert taken is not None and taken.worker == "restarted"


def test_failures_since_and_counts(db: Database) -> None:
    with db.session() as s:
        for i, job in enumerate([JobName.SWEEP, JobName.OUTBOX, JobName.OUTBOX]):
            at = SWEEP_AT + timedelta(hours=i)
            claim = ledger.claim(s, job, at, "a", at)
            assert claim
            ledger.finish(s, claim, at + timedelta(minutes=1), error=f"boom {i}")
        ok = ledger.claim(s, JobName.DIGEST, SWEEP_AT, "a", SWEEP_AT)
        assert ok
        ledger.finish(s, ok, SWEEP_AT)
    with db.session() as s:
        recent = ledger.failures_since(s, SWEEP_AT + timedelta(minutes=30))
        counts = ledger.count_failures(s)
    assert [r.error for r in recent] == ["boom 2", "boom 1"]  # newest first, the older one left out
    assert counts == {JobName.SWEEP: 1, JobName.OUTBOX: 2, JobName.DIGEST: 0, JobName.PORTAL_SYNC: 0}


@pytest.mark.postgres
def test_concurrent_claims_on_postgres_have_one_winner(pg_schema_url: str) -> None:
    database = Database(pg_schema_url)
    database.upgrade()
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def contend(name: str) -> None:
        barrier.wait()
        with database.session() as s:
            if ledger.claim(s, JobName.DIGEST, SWEEP_AT, name, T0):
                winners.append(name)

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database.dispose()
    assert len(winners) == 1
