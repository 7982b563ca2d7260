"""The daemon's steps called directly, at a chosen instant, against a real database and SMTP server."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from jobs import steps
from jobs.steps import StepContext
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from notifications import outbox
from tests.notify_support import AS_OF, SmtpServer, at, load, make_settings


def context(db: Database, tmp_path: Path, smtp_port: int, now: datetime, **rules: Any) -> StepContext:
    settings = make_settings(tmp_path, backend="smtp", smtp={"host": "127.0.0.1", "port": smtp_port})
    if rules:
        settings = replace(settings, rules=replace(settings.rules, **rules))
    return StepContext(settings, db, WorkCalendar.load(None), "test-worker", lambda: now)


def test_sweep_enqueues_then_delivers_and_a_second_run_sends_nothing(db: Database, tmp_path: Path) -> None:
    load(db)
    now = at(AS_OF)
    with SmtpServer() as smtp:
        ctx = context(db, tmp_path, smtp.port, now)
        first = steps.sweep_and_notify(ctx, now)
        sent = len(smtp.received)
        second = steps.sweep_and_notify(ctx, now)
        outbox_run = steps.deliver_outbox(ctx, now)
    assert first["entities"] == 4 and first["errors"] == 0
    assert first["findings"]["FILING_DUE_SOON"] == {"notice": 3}
    assert first["enqueued"] > 0 and first["sent"] == first["claimed"] == sent > 0
    assert second["enqueued"] == 0 and second.get("claimed", 0) == 0
    assert outbox_run.get("claimed", 0) == 0
    assert len(smtp.received) == sent
    ids = [r.message["Message-ID"] for r in smtp.received]
    assert len(set(ids)) == len(ids)
    with db.session() as s:
        assert outbox.counts(s) == {"sent": sent}


def test_a_stop_before_delivery_leaves_the_messages_for_the_outbox_job(db: Database, tmp_path: Path) -> None:
    load(db)
    now = at(AS_OF)
    with SmtpServer() as smtp:
        ctx = context(db, tmp_path, smtp.port, now)
        ctx.stopping = threading.Event()
        ctx.stopping.set()
        summary = steps.sweep_and_notify(ctx, now)
        assert smtp.received == []
        ctx.stopping.clear()
        delivered = steps.deliver_outbox(ctx, now)
    assert summary["enqueued"] > 0 and "sent" not in summary
    assert delivered["sent"] == len(smtp.received) > 0


def test_an_unreachable_mail_server_fails_nothing_but_leaves_messages_to_retry(db: Database, tmp_path: Path) -> None:
    from tests.daemon_helpers import free_port

    load(db)
    now = at(AS_OF)
    ctx = context(db, tmp_path, free_port(), now)
    summary = steps.sweep_and_notify(ctx, now)
    assert summary["sent"] == 0 and summary["retrying"] == summary["claimed"] > 0
    with db.session() as s:
        assert outbox.counts(s) == {"pending": summary["claimed"]}
