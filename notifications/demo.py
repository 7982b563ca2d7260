"""What `sme-monitor demo` calls to show the messages: the day's reminders, alerts, notices and digest written
as .eml files (always the file channel, whatever mail.backend says: a demo never mails anyone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from monitor.config import Settings
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from monitor.sweep import run_sweep
from notifications import digest, service
from notifications.channels import FileChannel
from notifications.models import Channel


@dataclass(frozen=True)
class DemoMail:
    directory: Path
    messages: int  # .eml files written by this call
    digest_html: Path


def write_demo_mail(db: Database, settings: Settings, calendar: WorkCalendar, as_of: date, now: datetime) -> DemoMail:
    """Enqueue the findings of `as_of` and its digest, deliver them to settings.mail.directory as .eml files,
    and write the digest's HTML beside them. Running it again adds nothing (the outbox keys hold)."""
    directory = settings.mail.directory
    file_channel = FileChannel(directory)
    channels = {Channel.EMAIL: file_channel, Channel.WEBHOOK: file_channel}
    with db.session() as session:
        result = run_sweep(session, as_of, calendar, settings.rules, settings.districts)
    service.enqueue(db, result, settings, as_of, now)
    sent = digest.send_digest(db, settings, calendar, as_of, now)
    done = service.deliver(db, settings, now, "demo", channels=channels)
    built = sent.digest or digest.build(db, settings, calendar, as_of, now)
    html = directory / f"digest-{as_of.isoformat()}.html"
    directory.mkdir(parents=True, exist_ok=True)
    html.write_text(built.html, encoding="utf-8")
    return DemoMail(directory=directory, messages=done.sent, digest_html=html)
