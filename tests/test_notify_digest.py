"""The daily digest over a real database and a real SMTP server: sections in order, what changed, compliance,
undelivered messages, acks and silences, data warnings; one message per date however often it is sent; HTML
and text in one message with an XLSX action list that opens in openpyxl."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from jobs import wiring
from jobs.ops import OpsReport
from monitor.domain import History, RuleId
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from notifications import controls, digest, service
from notifications.compliance import filing_compliance
from notifications.models import MessageStatus, OutboxMessage
from tests import notify_support as ns
from tests.rulecases import ENTITY, cert, filed, monthly

CAL = WorkCalendar.load(None)


def test_compliance_counts_on_time_late_and_missing_months() -> None:
    from monitor.config import RuleSettings

    # certified 2025-06-10: owes July 2025 on; April late, May missing
    filings = monthly("2025-07", "2026-03") | filed(("2026-04", "2026-05-08"))
    filings.pop(date(2026, 5, 1), None)
    history = History(ENTITY, (cert("2025-06-10"),), filings)
    months = filing_compliance([history], date(2026, 6, 15), CAL, RuleSettings(), months=12)
    by = {m.label: m for m in months}
    assert [m.label for m in months][-1] == "2026-05" and len(months) == 12
    assert by["2025-06"].owed == 0  # the month of the grant owes nothing
    assert (by["2026-03"].owed, by["2026-03"].on_time) == (1, 1)
    assert (by["2026-04"].on_time, by["2026-04"].late, by["2026-04"].missing) == (0, 1, 0)
    assert (by["2026-05"].on_time, by["2026-05"].missing) == (0, 1)


def test_digest_sections_and_attachment(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
    with db.session() as s:  # one message failed for good, one acknowledged finding, one silence
        s.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.recipient == "c@ent-c.example.cn")
            .values(
                status=MessageStatus.FAILED.value, attempts=1, last_error="SMTP recipient refused: 550 no such user"
            )
        )
        fraud = f"{RuleId.MISCONDUCT_REVOKED}/{ns.C}/2026-03-10"
        controls.acknowledge(s, fraud, "revoked", "王科长", "已移交执法部门", ns.AS_OF, ns.at(ns.AS_OF))
        controls.add_silence(s, ns.A, ns.AS_OF, date(2026, 4, 30), "异议复核中", "李四", ns.at(ns.AS_OF))
    ops = digest.Ops(
        job_failures=[digest.JobFailure("portal_sync", ns.at(ns.AS_OF), "HTTP 503")],
        last_portal_sync=ns.at(ns.AS_OF) - timedelta(days=3),
    )
    settings = replace(settings, portal=replace(settings.portal, url="http://127.0.0.1:9"))
    built = digest.build(db, settings, CAL, ns.AS_OF, ns.at(ns.AS_OF), ops)

    assert built.subject.startswith("【每日合规简报】2026年3月26日：")
    text = built.text
    order = [
        text.index(h)
        for h in (
            "一、待决事项",
            "二、未送达消息",
            "三、数据提示",
            "四、30日内到期",
            "七、认定主体统计",
            "八、月度填报情况",
        )
    ]
    assert order == sorted(order)
    assert "c@ent-c.example.cn" in text and "550 no such user" in text
    assert "任务 portal_sync" in text and "HTTP 503" in text and "72小时未同步" in text
    assert "以下区县未配置通报邮箱 recipients.districts，通报无法送达 (no district recipients)：青羊区" in text
    assert "王科长" in text and "已移交执法部门" in text and "异议复核中" in text
    assert "在册平台、基地共4家，其中有效2家、暂停1家、撤销1家" in text
    # admin-audience findings appear here (the fraud's revocation, the districts' overdue reports)
    assert "MISCONDUCT_REVOKED/" in text and "DISTRICT_REPORT_OVERDUE/锦江区/2025" in text
    # 12 months of compliance, February 2026 last: all four filed on time
    assert "2026-02月：应报4家，按时填报4家（100%）" in text
    assert built.html.count("height:12px;border-left") == 120  # 10 rows x 12 months, table cells only
    assert "<svg" not in built.html and "<script" not in built.html

    wb = load_workbook(io.BytesIO(built.xlsx))
    ws = wb.active
    assert ws is not None and ws.title == "待办事项"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("类别", "等级", "统一社会信用代码")
    assert any(r[11] == fraud and r[12] == "王科长：已移交执法部门" for r in rows[1:])


def test_status_changes_since_the_last_digest(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    earlier = date(2026, 3, 5)  # before the fraud of 03-10: C was active
    digest.send_digest(db, settings, CAL, earlier, ns.at(earlier))
    data = digest.gather(db, settings, CAL, ns.AS_OF, ns.at(ns.AS_OF))
    assert data.previous == earlier
    assert [(c.credit_code, c.before, c.after) for c in data.changes] == [(ns.C, "active", "revoked")]


def test_send_digest_once_per_date_and_deliver_over_smtp(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    with ns.SmtpServer() as server:
        settings = ns.make_settings(tmp_path, backend="smtp", smtp={"host": "127.0.0.1", "port": server.port})
        first = digest.send_digest(db, settings, CAL, ns.AS_OF, ns.at(ns.AS_OF))
        again = digest.send_digest(db, settings, CAL, ns.AS_OF, ns.at(ns.AS_OF, 10))
        assert first.enqueued == list(ns.ADMINS) and again.enqueued == [] and again.already == list(ns.ADMINS)
        service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    assert [r.rcpt_tos for r in server.received] == [list(ns.ADMINS)]
    msg = server.received[0].message
    assert msg.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in msg.iter_parts()] == [
        "multipart/alternative",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ]
    text, html = ns.bodies(msg)
    assert "一、待决事项" in text and "一、待决事项" in html
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == "合规待办清单-2026-03-26.xlsx"
    wb = load_workbook(io.BytesIO(attachment.get_content()))
    assert wb.active is not None and wb.active.max_row >= 2


def test_digest_in_english(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = replace(ns.make_settings(tmp_path), locale="en")
    built = digest.build(db, settings, CAL, ns.AS_OF, ns.at(ns.AS_OF))
    assert built.subject.startswith("[Daily compliance digest] 2026-03-26:")
    assert "1. Decisions awaiting staff" in built.text and "Art. 22 of the Measures" in built.text


@pytest.mark.parametrize("hours, stale", [(30, False), (40, True)])
def test_portal_sync_age_warning(db: Database, tmp_path: Path, hours: int, stale: bool) -> None:
    settings = ns.make_settings(tmp_path)
    settings = replace(settings, portal=replace(settings.portal, url="http://127.0.0.1:9"))
    now = datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
    data = digest.gather(db, settings, CAL, ns.AS_OF, now, digest.Ops(last_portal_sync=now - timedelta(hours=hours)))
    assert any("未同步" in w for w in data.warnings) is stale


@pytest.mark.parametrize("error", ["", "GET http://127.0.0.1:9/filings: HTTP 503 Service Unavailable"])
def test_the_last_portal_sync_error_is_shown(db: Database, tmp_path: Path, error: str) -> None:
    """OpsReport.portal_error travels through jobs.wiring into the digest's data warnings."""
    settings = ns.make_settings(tmp_path)
    settings = replace(settings, portal=replace(settings.portal, url="http://127.0.0.1:9"))
    now = datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
    report = OpsReport(job_failures=(), failures_since=now, last_portal_sync=now, portal_error=error)
    data = digest.gather(db, settings, CAL, ns.AS_OF, now, wiring.digest_ops(report))
    shown = [w for w in data.warnings if "同步失败" in w]
    assert shown == ([f"最近一次填报平台同步失败 (the last portal sync failed)：{error}"] if error else [])
