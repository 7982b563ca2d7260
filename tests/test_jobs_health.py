"""/healthz and /metrics over real HTTP, the heartbeat ping, and the one-daemon lock of an SQLite file."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from jobs import ledger, steps
from jobs.health import HealthServer, sweep_health
from jobs.ledger import JobName
from jobs.lock import AlreadyRunning, ProcessLock, lock_path
from monitor import httpclient
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from notifications import digest, service
from notifications.models import OutboxMessage
from tests import notify_support as ns
from tests.http_fixtures import FakePortal, serve

SH = ZoneInfo("Asia/Shanghai")
SWEEP_CRON = "0 7 * * *"


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def record_sweep(db: Database, scheduled: datetime, seconds: float, *, error: str | None = None) -> None:
    with db.session() as s:
        claim = ledger.claim(s, JobName.SWEEP, scheduled, "w", scheduled)
        assert claim
        summary = {"entities": 40, "errors": 1, "findings": {"FILING_MISSED": {"warning": 3, "critical": 1}}}
        ledger.finish(s, claim, scheduled + timedelta(seconds=seconds), error=error, summary=summary)


@pytest.mark.parametrize(
    ("now", "healthy"),
    [
        ("2026-11-25 07:01:00", True),
        ("2026-11-27 07:00:29", True),  # just under two days after the sweep finished
        ("2026-11-27 07:00:31", False),  # two daily periods have gone by without a sweep
    ],
)
def test_healthy_while_the_last_sweep_finished_within_two_periods(db: Database, now: str, healthy: bool) -> None:
    record_sweep(db, sh("2026-11-25 07:00:00"), 30)
    with db.session() as s:
        ok, reason = sweep_health(s, SWEEP_CRON, sh(now))
    assert ok is healthy
    assert ("two periods" in reason) is not healthy


def test_unhealthy_before_any_sweep_and_after_only_failed_ones(db: Database) -> None:
    with db.session() as s:
        assert sweep_health(s, SWEEP_CRON, sh("2026-11-25 08:00:00"))[0] is False
    record_sweep(db, sh("2026-11-25 07:00:00"), 5, error="boom")
    with db.session() as s:
        ok, reason = sweep_health(s, SWEEP_CRON, sh("2026-11-25 08:00:00"))
    assert not ok and "no sweep has succeeded" in reason


def test_healthz_and_metrics_over_http(db: Database) -> None:
    record_sweep(db, sh("2026-11-25 07:00:00"), 12.5)
    with db.session() as s:
        failed = ledger.claim(s, JobName.OUTBOX, sh("2026-11-25 07:05:00"), "w", sh("2026-11-25 07:05:00"))
        assert failed
        ledger.finish(s, failed, sh("2026-11-25 07:05:01"), error="SMTP down")
    now = [sh("2026-11-25 09:00:00")]
    server = HealthServer(db, SWEEP_CRON, lambda: now[0], "127.0.0.1", 0)
    port = server.start()
    try:
        base = f"http://127.0.0.1:{port}"
        outbox_failed = requests.get(f"{base}/healthz", timeout=5)
        with db.session() as s:
            later = ledger.claim(s, JobName.OUTBOX, sh("2026-11-25 07:10:00"), "w", sh("2026-11-25 07:10:00"))
            assert later and ledger.finish(s, later, sh("2026-11-25 07:10:01"))
        ok = requests.get(f"{base}/healthz", timeout=5)
        now[0] = sh("2026-11-28 09:00:00")
        stale = requests.get(f"{base}/healthz", timeout=5)
        metrics = requests.get(f"{base}/metrics", timeout=5)
        missing = requests.get(f"{base}/nothing", timeout=5)
    finally:
        server.stop()
    # The latest outbox run failed: 503 until a later one succeeds.
    assert outbox_failed.status_code == 503 and "outbox" in outbox_failed.text and "SMTP down" in outbox_failed.text
    assert ok.status_code == 200
    assert stale.status_code == 503 and "two periods" in stale.text
    assert missing.status_code == 404
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(metrics.text)
        for sample in family.samples
    }
    assert samples[("sme_monitor_last_sweep_timestamp_seconds", ())] == sh("2026-11-25 07:00:12.5").timestamp()
    assert samples[("sme_monitor_last_sweep_duration_seconds", ())] == 12.5
    assert samples[("sme_monitor_findings", (("rule", "FILING_MISSED"), ("severity", "warning")))] == 3
    assert samples[("sme_monitor_findings", (("rule", "FILING_MISSED"), ("severity", "critical")))] == 1
    assert samples[("sme_monitor_job_failures_total", (("job", "outbox"),))] == 1
    assert samples[("sme_monitor_job_failures_total", (("job", "sweep"),))] == 0
    assert samples[("sme_monitor_sweep_entity_errors", ())] == 1
    assert samples[("sme_monitor_entities", ())] == 40


def test_heartbeat_pings_and_never_raises() -> None:
    session = httpclient.make_session(retries=0)
    with serve(FakePortal()) as fake:
        assert httpclient.ping(session, f"{fake.url}/ping") is True
        assert httpclient.ping(session, f"{fake.url}/missing") is False  # 401 from the fake: logged, not raised
    assert [r.path for r in fake.requests] == ["/ping", "/missing"]
    # Nobody listens there any more.
    assert httpclient.ping(session, fake.url + "/ping", timeout=1) is False


def test_lock_path_is_beside_the_sqlite_file(tmp_path: Path) -> None:
    assert lock_path(f"sqlite:///{tmp_path}/m.db") == tmp_path / "m.db.lock"
    assert lock_path("postgresql+psycopg://u@h/db") is None
    assert lock_path("sqlite://") is None


def test_a_second_holder_of_the_sqlite_lock_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.db.lock"
    with ProcessLock(path):
        # Another process (flock locks are per open file, so a second process is the honest test).
        code = (
            "import sys; from pathlib import Path; from jobs.lock import ProcessLock, AlreadyRunning\n"
            f"try:\n    ProcessLock(Path({str(path)!r})).acquire()\nexcept AlreadyRunning as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        held = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
        with pytest.raises(AlreadyRunning):
            ProcessLock(path).acquire()
    assert held.returncode == 3 and "SQLite supports one daemon" in held.stdout
    free = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert free.returncode == 0


def test_metrics_time_is_utc_based(db: Database) -> None:
    # The ledger keeps instants; a sweep finished at 07:00 Beijing is 23:00 UTC the day before.
    record_sweep(db, sh("2026-11-25 07:00:00"), 0)
    with db.session() as s:
        run = ledger.last_success(s, JobName.SWEEP)
    assert run is not None and run.finished_at == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


def test_an_old_or_failed_message_turns_healthz_503_and_the_heartbeat_to_fail(db: Database, tmp_path: Path) -> None:
    enqueued = sh("2026-11-25 07:00:00")
    record_sweep(db, enqueued, 1)
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, enqueued)
    now = [enqueued + timedelta(minutes=59)]
    server = HealthServer(db, SWEEP_CRON, lambda: now[0], "127.0.0.1", 0, outbox_age=timedelta(minutes=60))
    port = server.start()
    with serve(FakePortal()) as hooks:
        settings = replace(settings, daemon=replace(settings.daemon, heartbeat_url=f"{hooks.url}/ping/abc?x=1"))
        ctx = steps.StepContext(settings, db, WorkCalendar(), "w", lambda: now[0])
        try:
            young = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert steps.heartbeat(ctx, now[0])
            now[0] = enqueued + timedelta(minutes=61)
            old = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            assert steps.heartbeat(ctx, now[0])
            text = digest.build(db, settings, WorkCalendar(), ns.AS_OF, now[0]).text
            delivered = service.deliver(db, settings, now[0], "w")
            sent = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            with db.session() as s:
                s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == 1).values(status="failed"))
            failed = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        finally:
            server.stop()
    assert young.status_code == 200
    assert old.status_code == 503 and "undelivered for longer than 1h00m" in old.text
    assert [r.path for r in hooks.requests] == ["/ping/abc", "/ping/abc/fail"]
    assert [r.query for r in hooks.requests] == [{"x": "1"}, {"x": "1"}]
    # The digest lists the messages that have waited too long, though none has been tried yet.
    assert text.count("等待重试") >= delivered.sent > 0
    assert sent.status_code == 200
    assert failed.status_code == 503 and "1 outbox message(s) failed" in failed.text
