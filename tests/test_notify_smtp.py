"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, over plain SMTP, STARTTLS with
login and implicit TLS; a server that was down; a dropped connection; a permanent rejection; hostile names."""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.config import Settings
from monitor.domain import RuleId
from monitor.storage.db import Database
from notifications import service
from notifications.channels import SmtpChannel
from notifications.models import Channel, MessageStatus, OutboxMessage
from tests import notify_support as ns

pytestmark = pytest.mark.slow


def smtp_settings(tmp_path: Path, port: int, **smtp: object) -> Settings:
    settings = ns.make_settings(
        tmp_path, backend="smtp", smtp={"host": "127.0.0.1", "port": port, "timeout": 5, **smtp}
    )
    return replace(settings, notifications=replace(settings.notifications, backoff_seconds=60))


def enqueue(db: Database, settings: Settings) -> service.EnqueueReport:
    ns.load(db)
    return service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))


def statuses(db: Database) -> Counter[str]:
    with db.session() as s:
        return Counter(s.execute(sa.select(OutboxMessage.status)).scalars())


def test_messages_arrive_with_decoded_chinese_headers_and_both_bodies(db: Database, tmp_path: Path) -> None:
    with ns.SmtpServer() as server:
        settings = smtp_settings(tmp_path, server.port)
        report = enqueue(db, settings)
        channel = SmtpChannel(settings.mail.smtp, sender=settings.mail.sender)
        done = service.deliver(db, settings, ns.at(ns.AS_OF), "w1", channels={Channel.EMAIL: channel})
        channel.close()
    assert done.sent == len(report.messages) == len(server.received)
    assert channel.connections == 1  # one connection for the whole batch
    by_rcpt = {r.rcpt_tos[0]: r for r in server.received if "ent-a" in r.rcpt_tos[0] or "staff1" in r.rcpt_tos[0]}

    reminder = by_rcpt["a@ent-a.example.cn"].message
    assert by_rcpt["a@ent-a.example.cn"].mail_from == settings.mail.sender
    assert (
        reminder["Subject"]
        == "【合规提醒】成都天府中小企业服务平台有限公司：月度服务工作情况填报即将截止（截止2026年3月31日）"
    )
    raw_headers = by_rcpt["a@ent-a.example.cn"].content.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in raw_headers.lower() and all(b < 128 for b in raw_headers)  # RFC 2047 on the wire
    assert reminder["Date"].endswith("+0800")
    assert reminder.get_content_type() == "multipart/alternative"
    text, html = ns.bodies(reminder)
    for body in (text, html):
        assert "《办法》第二十条" in body and "2026年3月31日" in body and "https://www.cdsme.com" in body
    assert "请于2026年3月31日（含当日）前登录成都市银企校院对接服务平台网站" in text

    alert = by_rcpt[ns.STAFF[0]].message
    assert alert["Subject"] == "【合规预警】2026年3月26日：新增合规事项2项（严重2项）"
    text, _ = ns.bodies(alert)
    assert "第十八条" in text and "第二十二条" in text


def test_message_id_is_stable_and_derived_from_the_outbox_key(db: Database, tmp_path: Path) -> None:
    with ns.SmtpServer() as server:
        settings = smtp_settings(tmp_path, server.port)
        enqueue(db, settings)
        service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    with db.session() as s:
        stored = dict(s.execute(sa.select(OutboxMessage.recipient, OutboxMessage.message_id)).all())
    arrived = {r.rcpt_tos[0]: r.message["Message-ID"] for r in server.received}
    assert arrived["a@ent-a.example.cn"] == stored["a@ent-a.example.cn"]
    assert len(set(arrived.values())) == len(arrived)
    from notifications.render import message_id

    with db.session() as s:
        key = s.execute(
            sa.select(OutboxMessage.key).where(OutboxMessage.recipient == "a@ent-a.example.cn")
        ).scalar_one()
    assert message_id(key, settings.mail.sender) == stored["a@ent-a.example.cn"]


def test_markup_in_a_name_is_escaped_in_html(db: Database, tmp_path: Path) -> None:
    with ns.SmtpServer() as server:
        settings = smtp_settings(tmp_path, server.port)
        enqueue(db, settings)
        service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    msg = next(r.message for r in server.received if r.rcpt_tos == ["c@ent-c.example.cn"])
    text, html = ns.bodies(msg)
    assert "<script>" not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;成都示范平台" in html
    assert "<script>alert('x')</script>成都示范平台" in text  # plain text shows the name as it is


def test_a_name_with_cr_lf_cannot_add_a_header_or_a_recipient(db: Database, tmp_path: Path) -> None:
    with ns.SmtpServer() as server:
        settings = smtp_settings(tmp_path, server.port)
        enqueue(db, settings)
        service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    received = next(r for r in server.received if "ent-e" in r.rcpt_tos[0])
    assert received.rcpt_tos == ["e@ent-e.example.cn"]
    msg = received.message
    assert msg["Bcc"] is None and msg.get_all("To") == ["e@ent-e.example.cn"]
    assert "成都换行平台 Bcc: evil@attacker.example" in msg["Subject"]
    assert all("attacker" not in rcpt for r in server.received for rcpt in r.rcpt_tos)


def test_server_down_then_up_delivers_everything_once(db: Database, tmp_path: Path) -> None:
    port = ns.free_port()
    settings = smtp_settings(tmp_path, port)
    report = enqueue(db, settings)
    n = len(report.messages)
    first = service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    assert first.sent == 0 and first.retrying == n and statuses(db) == {"pending": n}
    with db.session() as s:
        errors = set(s.execute(sa.select(OutboxMessage.last_error)).scalars())
    assert all("cannot connect" in e for e in errors)
    # before the backoff has run out nothing is tried again
    assert service.deliver(db, settings, ns.at(ns.AS_OF) + timedelta(seconds=30), "w1").claimed == 0
    with ns.SmtpServer(port=port) as server:
        second = service.deliver(db, settings, ns.at(ns.AS_OF) + timedelta(seconds=61), "w1")
    assert second.sent == n and statuses(db) == {"sent": n}
    keys = Counter(r.message["Message-ID"] for r in server.received)
    assert len(keys) == n and set(keys.values()) == {1}


def standing(at: datetime) -> Callable[[], datetime]:
    """A clock that stays at `at`."""
    return lambda: at


def test_transient_failures_back_off_to_the_ceiling_for_retry_days_then_fail(db: Database, tmp_path: Path) -> None:
    port = ns.free_port()  # nothing listens: connection refused, every try
    settings = smtp_settings(tmp_path, port)  # SPEC 5 defaults: 60 s doubling, 30 min ceiling, 3 days
    assert settings.notifications.retry_days == 3 and settings.notifications.retry_ceiling_minutes == 30
    settings = replace(settings, notifications=replace(settings.notifications, retry_days=1))  # a quicker test
    n = len(enqueue(db, settings).messages)
    start = t = ns.at(ns.AS_OF)
    waits = []
    while statuses(db) != {"failed": n}:
        # The test's clock stands still while a try runs: a loaded machine must not turn 1,800 s into 1,801.
        service.deliver(db, settings, t, "w1", clock=standing(t))
        with db.session() as s:
            nxt = s.execute(
                sa.select(sa.func.max(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
            ).scalar_one_or_none()
        if nxt is None:
            break
        assert statuses(db) == {"pending": n}, "a message failed before its three days were up"
        waits.append(round((nxt - t).total_seconds()))  # each outcome is recorded at its own instant
        t = nxt
    assert waits[:7] == [60, 120, 240, 480, 960, 1800, 1800]
    assert set(waits[5:]) == {1800}
    assert timedelta(days=1) <= t - start < timedelta(days=1, minutes=31)
    assert statuses(db) == {"failed": n}


def test_an_outage_longer_than_half_an_hour_ends_with_everything_sent(db: Database, tmp_path: Path) -> None:
    port = ns.free_port()
    settings = smtp_settings(tmp_path, port)
    n = len(enqueue(db, settings).messages)
    t = ns.at(ns.AS_OF)
    end = t + timedelta(hours=5)  # the old budget (6 tries, 60 s doubling) was spent after 31 minutes
    while t < end:
        service.deliver(db, settings, t, "w1")
        t += timedelta(minutes=5)  # the outbox job's schedule
    assert statuses(db) == {"pending": n}
    with ns.SmtpServer(port=port) as server:
        service.deliver(db, settings, t + timedelta(minutes=30), "w1")
    assert statuses(db) == {"sent": n} and len(server.received) == n


def test_a_dropped_connection_is_reopened_and_nothing_is_lost_or_doubled(db: Database, tmp_path: Path) -> None:
    recorder = ns.Recorder(drop_on_data={3})
    with ns.SmtpServer(recorder) as server:
        settings = smtp_settings(tmp_path, server.port)
        n = len(enqueue(db, settings).messages)
        channel = SmtpChannel(settings.mail.smtp, sender=settings.mail.sender)
        done = service.deliver(db, settings, ns.at(ns.AS_OF), "w1", channels={Channel.EMAIL: channel})
        channel.close()
    assert done.sent == n and channel.connections == 2
    assert len(server.received) == n
    assert len({r.message["Message-ID"] for r in server.received}) == n


def test_a_rejected_recipient_fails_at_once_and_a_deferred_one_is_retried(db: Database, tmp_path: Path) -> None:
    recorder = ns.Recorder(reject={"c@ent-c.example.cn"}, defer={"a@ent-a.example.cn"})
    with ns.SmtpServer(recorder) as server:
        settings = smtp_settings(tmp_path, server.port)
        n = len(enqueue(db, settings).messages)
        done = service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    assert done.failed == 1 and done.retrying == 1 and done.sent == n - 2
    with db.session() as s:
        rows = {r.recipient: r for r in s.execute(sa.select(OutboxMessage)).scalars()}
    assert rows["c@ent-c.example.cn"].status == MessageStatus.FAILED.value
    assert rows["c@ent-c.example.cn"].attempts == 1 and "550" in rows["c@ent-c.example.cn"].last_error
    assert rows["a@ent-a.example.cn"].status == MessageStatus.PENDING.value
    assert "450" in rows["a@ent-a.example.cn"].last_error
    assert len(server.received) == n - 2


def test_starttls_with_login(db: Database, tmp_path: Path) -> None:
    cert, key = ns.make_certificate(tmp_path)
    with ns.SmtpServer(starttls=ns.server_tls(cert, key), auth=True) as server:
        settings = smtp_settings(
            tmp_path, server.port, starttls=True, username=ns.USER, password=ns.PASSWORD, cafile=str(cert)
        )
        n = len(enqueue(db, settings).messages)
        done = service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    assert done.sent == n == len(server.received)


def test_starttls_with_a_wrong_password_keeps_messages_queued(db: Database, tmp_path: Path) -> None:
    cert, key = ns.make_certificate(tmp_path)
    with ns.SmtpServer(starttls=ns.server_tls(cert, key), auth=True) as server:
        settings = smtp_settings(
            tmp_path, server.port, starttls=True, username=ns.USER, password="wrong", cafile=str(cert)
        )
        n = len(enqueue(db, settings).messages)
        done = service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    assert done.sent == 0 and done.retrying == n and server.received == []
    assert done.errors and all("login refused" in e for e in done.errors), done.errors[:1]


def test_implicit_tls_verifies_the_certificate(db: Database, tmp_path: Path) -> None:
    cert, key = ns.make_certificate(tmp_path)
    with ns.SmtpServer(implicit_tls=ns.server_tls(cert, key)) as server:
        settings = smtp_settings(tmp_path, server.port, ssl=True, cafile=str(cert))
        n = len(enqueue(db, settings).messages)
        untrusted = SmtpChannel(
            settings.mail.smtp, sender=settings.mail.sender, tls_context=ssl.create_default_context()
        )
        refused = service.deliver(db, settings, ns.at(ns.AS_OF), "w1", channels={Channel.EMAIL: untrusted})
        untrusted.close()
        assert refused.sent == 0 and server.received == []
        done = service.deliver(db, settings, ns.at(ns.AS_OF) + timedelta(minutes=5), "w1")
    assert done.sent == n == len(server.received)


def test_english_locale(db: Database, tmp_path: Path) -> None:
    with ns.SmtpServer() as server:
        settings = replace(smtp_settings(tmp_path, server.port), locale="en")
        enqueue(db, settings)
        service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    msg = next(r.message for r in server.received if r.rcpt_tos == ["a@ent-a.example.cn"])
    assert msg["Subject"] == (
        "[Compliance reminder] 成都天府中小企业服务平台有限公司: Monthly service report due soon (due 2026-03-31)"
    )
    text, _ = ns.bodies(msg)
    assert "Art. 20 of the Measures" in text and "2026-03-31" in text
    assert RuleId.FILING_DUE_SOON.value in text
