"""The daily digest for administrators (SPEC section 5).

`build` gathers everything into `Digest` (data, subject, plain text, HTML, XLSX action list); `send_digest`
puts it in the outbox once per date and administrator (the key is the date, so two daemons produce one
digest). What needs action comes first: decisions awaiting staff, then undelivered messages and data
warnings, then deadlines in the next 30 days; totals, changes and compliance follow.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from monitor import legal_time as lt
from monitor.config import Settings
from monitor.domain import Audience, Kind, RuleId, Status
from monitor.rules.catalog import DECISIONS
from monitor.rules.finding import Finding
from monitor.storage import repository
from monitor.storage.db import Database
from monitor.sweep import SweepResult, run_sweep
from notifications import controls, outbox, texts
from notifications.compliance import MonthCompliance, filing_compliance
from notifications.models import Acknowledgement, Channel, MessageKind, MessageStatus, OutboxMessage, Silence, pending
from notifications.render import XLSX_TYPE, Attachment, FindingView, build_email, message_id, render_pair, view
from notifications.routing import routes

log = logging.getLogger(__name__)

UPCOMING_DAYS = 30
PORTAL_SYNC_STALE = timedelta(hours=36)


@dataclass(frozen=True, slots=True)
class JobFailure:
    job: str
    at: datetime
    error: str


@dataclass(frozen=True)
class Ops:
    """What the daemon knows about itself, for the digest (jobs/ fills it in)."""

    job_failures: Sequence[JobFailure] = ()
    last_portal_sync: datetime | None = None
    portal_error: str = ""  # why the last portal sync failed; empty when it succeeded


@dataclass(frozen=True, slots=True)
class StatusChange:
    credit_code: str
    name: str
    district: str
    before: str
    after: str


@dataclass
class DigestData:
    as_of: date
    previous: date
    statuses: Counter[Status] = field(default_factory=Counter)
    by_kind: dict[Kind, Counter[Status]] = field(default_factory=dict)
    by_district: dict[str, Counter[Status]] = field(default_factory=dict)
    changes: list[StatusChange] = field(default_factory=list)
    decisions: list[Finding] = field(default_factory=list)
    upcoming: list[Finding] = field(default_factory=list)
    admin: list[Finding] = field(default_factory=list)
    filing_due: list[Finding] = field(default_factory=list)  # routine FILING_DUE_SOON: counted, not listed
    at_risk: list[Finding] = field(default_factory=list)  # SERVICE_BELOW_THRESHOLD: at risk at renewal (SPEC 9)
    compliance: list[MonthCompliance] = field(default_factory=list)
    undelivered: list[OutboxMessage] = field(default_factory=list)
    outbox_counts: dict[str, int] = field(default_factory=dict)
    acks: list[Acknowledgement] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    acked_ids: dict[str, str] = field(default_factory=dict)  # finding id -> "who: note" at its current stage


@dataclass
class Digest:
    data: DigestData
    subject: str
    text: str
    html: str
    xlsx: bytes
    xlsx_name: str


def _order(f: Finding) -> tuple[int, date, str]:
    return (-int(f.severity), f.due or date.max, f.entity or f.district or "")


def gather(
    db: Database, settings: Settings, calendar: lt.WorkCalendar, as_of: date, now: datetime, ops: Ops | None = None
) -> DigestData:
    with db.session() as session:
        previous = outbox.last_digest_date(session, as_of) or lt.days_before(as_of, 1)
        today = run_sweep(session, as_of, calendar, settings.rules, settings.districts)
        before = run_sweep(session, previous, calendar, settings.rules, settings.districts)
        histories = [h for h in repository.iter_histories(session) if not isinstance(h, repository.Unreadable)]
        data = DigestData(as_of=as_of, previous=previous)
        _totals(data, today)
        data.changes = _changes(before, today)
        _sections(data, today.findings)
        data.compliance = filing_compliance(histories, as_of, calendar, settings.rules)
        data.undelivered = outbox.undelivered(
            session, now=now, age=timedelta(minutes=settings.daemon.outbox_age_minutes)
        )
        data.outbox_counts = outbox.counts(session)
        data.silences = controls.list_silences(session, as_of=as_of)
        data.acks = [a for a in controls.list_acks(session) if a.acked_on > lt.days_before(as_of, 30)]
        present = {f.finding_id: f.stage for f in today.findings}
        for a in controls.list_acks(session):
            if present.get(a.finding_id) == a.stage:
                data.acked_ids.setdefault(a.finding_id, f"{a.acked_by}：{a.note}" if a.note else a.acked_by)
        data.warnings = _warnings(today, settings, now, ops)
    return data


def _totals(data: DigestData, sweep: SweepResult) -> None:
    for code, st in sweep.statuses.items():
        entity = sweep.entities[code]
        data.statuses[st.status] += 1
        data.by_kind.setdefault(entity.kind, Counter())[st.status] += 1
        data.by_district.setdefault(entity.district, Counter())[st.status] += 1


def _changes(before: SweepResult, today: SweepResult) -> list[StatusChange]:
    out = []
    for code, st in today.statuses.items():
        old = before.statuses.get(code)
        old_status = old.status.value if old else "—"
        if old_status != st.status.value:
            e = today.entities[code]
            out.append(StatusChange(code, e.name, e.district, old_status, st.status.value))
    return sorted(out, key=lambda c: (c.after, c.district, c.credit_code))


def _sections(data: DigestData, findings: Sequence[Finding]) -> None:
    taken: set[str] = set()
    for f in sorted(findings, key=_order):
        if f.rule in DECISIONS:
            data.decisions.append(f)
            taken.add(f.finding_id)
    for f in findings:
        if f.rule is RuleId.FILING_DUE_SOON:
            data.filing_due.append(f)
            taken.add(f.finding_id)
    for f in sorted(findings, key=lambda f: (f.district or "", f.entity or "", f.subject)):
        if f.rule is RuleId.SERVICE_BELOW_THRESHOLD:
            data.at_risk.append(f)
            taken.add(f.finding_id)
    for f in sorted(findings, key=lambda f: (f.due or date.max, -int(f.severity))):
        if f.finding_id not in taken and f.days_left is not None and 0 <= f.days_left <= UPCOMING_DAYS:
            data.upcoming.append(f)
            taken.add(f.finding_id)
    data.admin = [
        f for f in sorted(findings, key=_order) if Audience.ADMIN in f.audiences and f.finding_id not in taken
    ]


def _warnings(sweep: SweepResult, settings: Settings, now: datetime, ops: Ops | None) -> list[str]:
    out = list(sweep.warnings)
    out += [f"主体 {e.credit_code} 数据有误，本次监测已跳过 (entity skipped): {e.error}" for e in sweep.errors]
    _, problems = routes(sweep.findings, sweep.entities, settings)
    out += problems.lines()
    if ops is not None:
        if settings.portal.url:
            if ops.last_portal_sync is None:
                out.append("填报平台数据尚未同步过 (the portal was never synced)")
            elif now - ops.last_portal_sync > PORTAL_SYNC_STALE:
                hours = int((now - ops.last_portal_sync).total_seconds() // 3600)
                when = ops.last_portal_sync.astimezone(lt.LEGAL_TZ).strftime("%Y-%m-%d %H:%M")
                out.append(f"填报平台数据已{hours}小时未同步，最近一次成功同步于{when} (portal sync is stale)")
            if ops.portal_error:
                out.append(f"最近一次填报平台同步失败 (the last portal sync failed)：{ops.portal_error}")
        for failure in ops.job_failures:
            when = failure.at.astimezone(lt.LEGAL_TZ).strftime("%Y-%m-%d %H:%M")
            out.append(f"任务 {failure.job} 于 {when} 运行失败 (job failed): {failure.error}")
    return out


# --- rendering ---------------------------------------------------------------------------------------------


def subject(data: DigestData, locale: str) -> str:
    day = texts.format_date(data.as_of, locale)
    failed = data.outbox_counts.get(MessageStatus.FAILED.value, 0)
    if locale == texts.EN:
        return (
            f"[{texts.tr(locale, 'digest_title')}] {day}: {len(data.decisions)} decisions awaiting, "
            f"{len(data.upcoming)} deadlines within {UPCOMING_DAYS} days, {failed} undelivered"
        )
    return (
        f"【{texts.tr(locale, 'digest_title')}】{day}：待决事项{len(data.decisions)}项，"
        f"{UPCOMING_DAYS}日内到期{len(data.upcoming)}项，未送达消息{failed}封"
    )


def _status_row(counter: Counter[Status]) -> list[int]:
    return [counter.get(s, 0) for s in Status] + [sum(counter.values())]


def _context(data: DigestData, settings: Settings) -> dict[str, object]:
    locale = settings.locale

    def views(findings: Sequence[Finding]) -> list[FindingView]:
        return [view(f, locale) for f in findings]

    chart = [
        {
            "label": m.label,
            "pct": None if m.rate is None else round(m.rate * 100),
            "owed": m.owed,
            "on_time": m.on_time,
            "late": m.late,
            "missing": m.missing,
        }
        for m in data.compliance
    ]
    return {
        "title": subject(data, locale),
        "as_of": data.as_of,
        "previous": data.previous,
        "statuses": [(texts.status_label(s, locale)) for s in Status],
        "total_row": _status_row(data.statuses),
        "kind_rows": [
            (k.zh if locale != texts.EN else k.value, _status_row(c)) for k, c in sorted(data.by_kind.items())
        ],
        "district_rows": [(d, _status_row(c)) for d, c in sorted(data.by_district.items())],
        "changes": [(c, _label(c.before, locale), _label(c.after, locale)) for c in data.changes],
        "decisions": views(data.decisions),
        "upcoming": views(data.upcoming),
        "filing_due": len(data.filing_due),
        "filing_due_by": texts.format_date(min((f.due for f in data.filing_due if f.due), default=None), locale),
        "admin": views(data.admin),
        "at_risk": views(data.at_risk),
        "acked": data.acked_ids,
        "last_month": chart[-1] if chart else None,
        "chart": chart,
        "undelivered": data.undelivered,
        "outbox_counts": data.outbox_counts,
        "acks": data.acks,
        "silences": data.silences,
        "warnings": data.warnings,
        "upcoming_days": UPCOMING_DAYS,
        "en": locale == texts.EN,
    }


def _label(status: str, locale: str) -> str:
    try:
        return texts.status_label(Status(status), locale)
    except ValueError:
        return status


def action_workbook(data: DigestData, settings: Settings, now: datetime) -> bytes:
    """The action list as XLSX: decisions, then deadlines in the next 30 days, then other admin matters."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    locale = settings.locale
    en = locale == texts.EN
    wb = Workbook()
    # The file's own timestamps come from the caller's clock, not from openpyxl's reading of it.
    wb.properties.created = wb.properties.modified = now.astimezone(lt.LEGAL_TZ).replace(tzinfo=None)
    ws = wb.active
    assert ws is not None
    ws.title = "Actions" if en else "待办事项"
    headers = (
        [
            "Section",
            "Severity",
            "Credit code",
            "Name",
            "District",
            "Matter",
            "Basis",
            "Stage",
            "Deadline",
            "Days left",
            "Details",
            "ID",
            "Acknowledged",
        ]
        if en
        else [
            "类别",
            "等级",
            "统一社会信用代码",
            "名称",
            "区县",
            "事项",
            "依据",
            "阶段",
            "截止日期",
            "剩余天数",
            "说明",
            "编号",
            "确认情况",
        ]
    )
    ws.append(headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="F0E6E6")
    sections = (
        ("Decision awaiting" if en else "待决事项", data.decisions),
        (f"Due within {UPCOMING_DAYS} days" if en else f"{UPCOMING_DAYS}日内到期", data.upcoming),
        ("For the bureau" if en else "需关注事项", data.admin),
    )
    for name, findings in sections:
        for f in findings:
            v = view(f, locale)
            ws.append(
                [
                    name,
                    v.severity,
                    f.entity or "",
                    v.entity_name,
                    v.district,
                    v.title,
                    v.article,
                    v.stage,
                    f.due,
                    f.days_left,
                    v.text,
                    f.finding_id,
                    data.acked_ids.get(f.finding_id, ""),
                ]
            )
    widths = [12, 8, 22, 30, 10, 30, 16, 12, 12, 10, 80, 40, 20]
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    for row in ws.iter_rows(min_row=2):
        row[8].number_format = "yyyy-mm-dd"
        row[10].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_digest(data: DigestData, settings: Settings, now: datetime) -> Digest:
    context = _context(data, settings)
    text, html = render_pair("digest", settings.locale, **context)
    name = f"{'actions' if settings.locale == texts.EN else '合规待办清单'}-{data.as_of.isoformat()}.xlsx"
    return Digest(data, str(context["title"]), text, html, action_workbook(data, settings, now), name)


def build(
    db: Database, settings: Settings, calendar: lt.WorkCalendar, as_of: date, now: datetime, ops: Ops | None = None
) -> Digest:
    return render_digest(gather(db, settings, calendar, as_of, now, ops), settings, now)


# --- sending -----------------------------------------------------------------------------------------------


@dataclass
class DigestReport:
    as_of: date
    enqueued: list[str] = field(default_factory=list)  # recipients
    already: list[str] = field(default_factory=list)
    digest: Digest | None = None


def digest_key(as_of: date, recipient: str) -> str:
    return f"digest|{as_of.isoformat()}|{recipient}"


def send_digest(
    db: Database, settings: Settings, calendar: lt.WorkCalendar, as_of: date, now: datetime, ops: Ops | None = None
) -> DigestReport:
    """Enqueue the digest of `as_of` for every administrator who has not got it yet (delivery is the outbox's)."""
    report = DigestReport(as_of=as_of)
    recipients = list(dict.fromkeys(settings.recipients.admins))
    with db.session() as session:
        have = set(
            session.execute(
                select(OutboxMessage.key).where(
                    OutboxMessage.as_of == as_of, OutboxMessage.kind == MessageKind.DIGEST.value
                )
            ).scalars()
        )
    missing = [r for r in recipients if digest_key(as_of, r) not in have]
    report.already = [r for r in recipients if r not in missing]
    if not missing:
        return report
    digest = build(db, settings, calendar, as_of, now, ops)
    report.digest = digest
    attachment = Attachment(digest.xlsx_name, digest.xlsx, *XLSX_TYPE)
    for recipient in missing:
        key = digest_key(as_of, recipient)
        mid = message_id(key, settings.mail.sender)
        raw = build_email(
            sender=settings.mail.sender,
            sender_name=settings.mail.sender_name,
            recipient=recipient,
            subject=digest.subject,
            text=digest.text,
            html=digest.html,
            msg_id=mid,
            now=now,
            attachments=[attachment],
        )
        try:
            with db.session() as session:
                session.add(
                    OutboxMessage(
                        **pending(
                            key=key,
                            kind=MessageKind.DIGEST,
                            channel=Channel.EMAIL,
                            audience=Audience.ADMIN.value,
                            recipient=recipient,
                            subject=digest.subject,
                            as_of=as_of,
                            message_id=mid,
                            content=raw,
                            now=now,
                        )
                    )
                )
            report.enqueued.append(recipient)
        except IntegrityError:
            report.already.append(recipient)  # another daemon enqueued it between our check and our insert
    log.info("digest %s enqueued for %d administrators (%d had it)", as_of, len(report.enqueued), len(report.already))
    return report
