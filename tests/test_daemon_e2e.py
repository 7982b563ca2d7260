"""The daemon end to end: real processes, a real SMTP server, the demo data, SQLite and PostgreSQL.

What an operator relies on: the catch-up sends what was due, a restart sends nothing twice, several daemons
on one PostgreSQL database send each message once, and a daemon killed mid-delivery loses nothing.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from jobs import ledger
from jobs.ledger import JobName
from jobs.models import JobRunRow
from monitor import demo
from monitor.config import RuleSettings
from monitor.legal_time import WorkCalendar, legal_today
from monitor.storage.db import Database
from notifications.models import OutboxMessage
from tests.daemon_helpers import Daemon, cli, free_port, wait_until, write_config
from tests.http_fixtures import TOKEN, FakePortal, serve
from tests.notify_support import Recorder, SmtpServer, bodies

pytestmark = pytest.mark.slow

STAFF = "staff@example.org"
ADMIN = "admin@example.org"


def config_for(
    tmp_path: Path, db_url: str, smtp_port: int, *, name: str = "monitor.toml", **extra: dict[str, Any]
) -> Path:
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": db_url},
        "mail": {"backend": "smtp", "directory": str(tmp_path / "mail")},
        "mail.smtp": {"host": "127.0.0.1", "port": smtp_port, "timeout": 5},
        "recipients": {"staff": [STAFF], "admins": [ADMIN]},
    }
    for key, values in extra.items():
        sections.setdefault(key, {}).update(values)
    return write_config(tmp_path / name, sections)


def load_demo(config: Path, db_url: str) -> None:
    """The migrated database with the demo data set (41 entities, findings today) and an empty outbox.

    Loaded through `monitor.demo.load`, not the `demo` command, which also writes the day's messages.
    """
    assert cli(config, "db", "upgrade").returncode == 0
    now = datetime.now(UTC)
    db = Database(db_url)
    try:
        with db.session() as s:
            assert demo.load(s, legal_today(now), now, RuleSettings(), WorkCalendar.load(None)) == 41
    finally:
        db.dispose()


def message_ids(received: list[Any]) -> list[str]:
    return [str(r.message["Message-ID"]) for r in received]


def outbox_state(db_url: str) -> tuple[Counter[str], set[str]]:
    db = Database(db_url)
    try:
        with db.session() as s:
            rows = s.execute(select(OutboxMessage.status, OutboxMessage.message_id)).all()
    finally:
        db.dispose()
    return Counter(status for status, _ in rows), {mid for _, mid in rows}


def ledger_rows(db_url: str) -> list[tuple[str, str, str]]:
    db = Database(db_url)
    try:
        with db.session() as s:
            rows = s.execute(select(JobRunRow.job, JobRunRow.scheduled_at, JobRunRow.status)).all()
    finally:
        db.dispose()
    return [(job, at.isoformat(), status) for job, at, status in rows]


def stop(daemon: Daemon) -> int:
    code, seconds = daemon.terminate(signal.SIGTERM)
    assert seconds < 10
    return code


def test_catch_up_sends_what_was_due_and_a_restart_sends_nothing_twice(tmp_path: Path, sqlite_url: str) -> None:
    http_port = free_port()
    with SmtpServer() as smtp, serve(FakePortal()) as hooks:
        # The portal answers 500: the sync fails, and the catch-up digest says so.
        hooks.faults = [500] * 10
        config = config_for(
            tmp_path,
            sqlite_url,
            smtp.port,
            daemon={"heartbeat_url": f"{hooks.url}/ping", "http_port": http_port},
            portal={"url": f"{hooks.url}/api", "token": TOKEN, "retries": 0, "timeout": 5},
        )
        load_demo(config, sqlite_url)
        first = Daemon(config, tmp_path / "first.log")
        try:
            first.wait_for_log("catch-up on start done", timeout=60)
            health = requests.get(f"http://127.0.0.1:{http_port}/healthz", timeout=5)
            assert stop(first) == 0
        finally:
            first.kill()
        after_first = message_ids(smtp.received)
        second = Daemon(config, tmp_path / "second.log")
        try:
            line = second.wait_for_log("catch-up on start done", timeout=60)
            assert stop(second) == 0
        finally:
            second.kill()
        after_second = message_ids(smtp.received)
    assert after_first and len(set(after_first)) == len(after_first)
    assert after_second == after_first, "the restart sent something again"
    assert any(STAFF in r.rcpt_tos for r in smtp.received), "the staff alert arrived"
    # The failed sync is retried with backoff (30 s first): the restart may have tried it again.
    paths = [r.path for r in hooks.requests]
    assert paths[:2] == ["/api/filings", "/ping"] and set(paths[2:]) <= {"/api/filings"}, "one heartbeat"
    digests = [r for r in smtp.received if ADMIN in r.rcpt_tos]
    assert len(digests) == 1, "one catch-up digest"
    text, _html = bodies(digests[0].message)
    assert "portal_sync" in text and "HTTP 500" in text, "the digest reports the failed job"
    assert "最近一次填报平台同步失败" in text, "and the portal's last error"
    assert any(part.get_filename(" ").endswith(".xlsx") for part in digests[0].message.iter_attachments())
    # The sweep is fine, but the latest portal sync stands failed: /healthz says so.
    assert health.status_code == 503 and "portal_sync" in health.text and "HTTP 500" in health.text, health.text
    assert "succeeded" not in line["msg"] and "done_before" in line["msg"]
    assert TOKEN not in first.log_text() + second.log_text()
    statuses, ids = outbox_state(sqlite_url)
    assert statuses == Counter({"sent": len(after_first)}) and ids == set(after_first)


@pytest.mark.postgres
def test_three_daemons_on_one_postgres_database_send_each_message_once(tmp_path: Path, pg_schema_url: str) -> None:
    with SmtpServer() as smtp:
        config = config_for(tmp_path, pg_schema_url, smtp.port)
        load_demo(config, pg_schema_url)
        daemons = [Daemon(config, tmp_path / f"daemon{i}.log") for i in range(3)]
        try:
            for d in daemons:
                d.wait_for_log("catch-up on start done", timeout=90)
            statuses = wait_until(
                lambda: (c := outbox_state(pg_schema_url)[0]) and set(c) == {"sent"} and c,
                what="every message sent",
            )
            codes = [stop(d) for d in daemons]
        finally:
            for d in daemons:
                d.kill()
    ids = message_ids(smtp.received)
    assert codes == [0, 0, 0]
    assert sum(ADMIN in r.rcpt_tos for r in smtp.received) == 1, "exactly one digest"
    assert len(ids) == statuses["sent"] > 0
    assert len(set(ids)) == len(ids), "a message was sent twice"
    rows = ledger_rows(pg_schema_url)
    per_occurrence = Counter((job, at) for job, at, _ in rows)
    assert max(per_occurrence.values()) == 1
    sweeps = [r for r in rows if r[0] == JobName.SWEEP.value]
    assert len(sweeps) == 1 and sweeps[0][2] == ledger.RunStatus.SUCCEEDED.value


def at_least(items: list[Any], n: int) -> bool:
    return len(items) >= n


@dataclass
class SlowRecorder(Recorder):
    """Accepts each message after a pause, so a test can kill the daemon in the middle of a delivery."""

    delay: float = 0.25

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def test_a_daemon_killed_mid_delivery_loses_nothing(tmp_path: Path, db_url: str) -> None:
    batch, kills = 5, 3
    with SmtpServer(SlowRecorder()) as smtp:
        config = config_for(
            tmp_path,
            db_url,
            smtp.port,
            notifications={"batch_size": batch, "lease_seconds": 2, "backoff_seconds": 0},
        )
        load_demo(config, db_url)
        for n in range(kills):
            before = len(smtp.received)
            victim = Daemon(config, tmp_path / f"victim{n}.log")
            try:
                wait_until(partial(at_least, smtp.received, before + 3), timeout=60, what="the delivery to go on")
                victim.proc.send_signal(signal.SIGKILL)
                victim.proc.wait(timeout=10)
            finally:
                victim.kill()
            statuses, _ = outbox_state(db_url)
            assert statuses["pending"] + statuses["sending"] > 0, "the kill came after the delivery had finished"
            # The killed daemon's batch stays leased to it for 2 s; the next daemon delivers it once that
            # lease has ended.
            time.sleep(2.5)
        at_kill = len(smtp.received)
        heir = Daemon(config, tmp_path / "heir.log")
        try:
            heir.wait_for_log("catch-up on start done", timeout=90)
            final = wait_until(
                lambda: (c := outbox_state(db_url)[0]) and set(c) == {"sent"} and c,
                timeout=60,
                what="every message sent by the last daemon",
            )
            assert stop(heir) == 0
        finally:
            heir.kill()
    ids = message_ids(smtp.received)
    _, expected = outbox_state(db_url)
    assert set(ids) == expected, "a message was lost"
    duplicates = len(ids) - len(set(ids))
    # Each outcome is recorded as soon as the server has answered: only the message in flight at a kill can
    # have been accepted but not recorded.
    assert duplicates <= kills
    assert final["sent"] == len(expected) and len(ids) > at_kill


def test_sigterm_mid_delivery_finishes_the_batch_and_the_rest_waits(tmp_path: Path, sqlite_url: str) -> None:
    batch = 5
    with SmtpServer(SlowRecorder()) as smtp:
        config = config_for(tmp_path, sqlite_url, smtp.port, notifications={"batch_size": batch})
        load_demo(config, sqlite_url)
        first = Daemon(config, tmp_path / "first.log")
        try:
            wait_until(lambda: len(smtp.received) >= 2, timeout=60, what="the delivery to begin")
            assert stop(first) == 0
        finally:
            first.kill()
        at_stop = message_ids(smtp.received)
        statuses, _ = outbox_state(sqlite_url)
        second = Daemon(config, tmp_path / "second.log")
        try:
            second.wait_for_log("catch-up on start done", timeout=90)
            wait_until(lambda: set(outbox_state(sqlite_url)[0]) == {"sent"}, what="the rest sent")
            assert stop(second) == 0
        finally:
            second.kill()
    # The batch in hand was finished and recorded: nothing was left "sending", nothing is sent twice.
    assert statuses["sending"] == 0 and statuses["pending"] > 0
    assert len(at_stop) % batch == 0
    ids = message_ids(smtp.received)
    _, expected = outbox_state(sqlite_url)
    assert len(ids) == len(set(ids)) and set(ids) == expected
