"""Subjects and bodies of the three finding messages: entity reminder, staff alert, district notice.

Each returns `Composed`: the subject and the bytes the outbox stores (an RFC 5322 message, or the JSON document
a robot channel turns into its payload).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from monitor.config import Settings
from monitor.domain import Entity
from monitor.rules.finding import Finding
from notifications import texts
from notifications.render import FindingView, build_email, message_id, render, render_pair, view

WEBHOOK_LIST_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Composed:
    subject: str
    message_id: str
    content: bytes


def sort_key(f: Finding) -> tuple[int, str, str, str]:
    return (-int(f.severity), f.district or "", f.entity or "", f.rule.value)


def _email(settings: Settings, key: str, recipient: str, subject: str, text: str, html: str, now: datetime) -> Composed:
    mid = message_id(key, settings.mail.sender)
    raw = build_email(
        sender=settings.mail.sender,
        sender_name=settings.mail.sender_name,
        recipient=recipient,
        subject=subject,
        text=text,
        html=html,
        msg_id=mid,
        now=now,
    )
    return Composed(subject, mid, raw)


def reminder_subject(v: FindingView, locale: str) -> str:
    if locale == texts.EN:
        due = f" (due {v.due})" if v.due != "—" else ""
        return f"[{texts.tr(locale, 'reminder_title')}] {v.entity_name}: {v.title}{due}"
    due = f"（截止{v.due}）" if v.due != "—" else ""
    return f"【{texts.tr(locale, 'reminder_title')}】{v.entity_name}：{v.title}{due}"


def entity_reminder(
    settings: Settings, key: str, recipient: str, finding: Finding, entity: Entity | None, as_of: date, now: datetime
) -> Composed:
    locale = settings.locale
    v = view(finding, locale, settings.mail.portal_url, entity)
    subject = reminder_subject(v, locale)
    text, html = render_pair(
        "entity_reminder",
        locale,
        title=subject,
        f=v,
        as_of=as_of,
        measures=texts.MEASURES_ZH,
        portal_url=settings.mail.portal_url,
        registry_url=registry_url(settings, finding.entity),
    )
    return _email(settings, key, recipient, subject, text, html, now)


def registry_url(settings: Settings, credit_code: str | None) -> str:
    """The entity's page in the public registry (`web.base_url`), which its reminders link to."""
    return f"{settings.web.public_url}/registry/{credit_code}" if credit_code else ""


def alert_subject(new: int, critical: int, repeats: int, as_of: date, locale: str) -> str:
    day = texts.format_date(as_of, locale)
    if locale == texts.EN:
        parts = [f"{new} new matter{'s' if new != 1 else ''}"] if new else []
        if critical:
            parts.append(f"{critical} critical")
        if repeats:
            parts.append(f"{repeats} unresolved critical repeated")
        return f"[{texts.tr(locale, 'alert_title')}] {day}: {', '.join(parts)}"
    parts = [f"新增合规事项{new}项" + (f"（严重{critical}项）" if critical else "")] if new else []
    if repeats:
        parts.append(f"未解决严重事项{repeats}项重复提醒")
    return f"【{texts.tr(locale, 'alert_title')}】{day}：{'，'.join(parts)}"


def _alert_context(
    settings: Settings, new: Sequence[Finding], repeats: Sequence[Finding], as_of: date
) -> tuple[str, dict[str, object]]:
    locale = settings.locale
    critical = sum(1 for f in new if f.severity.name == "CRITICAL")
    subject = alert_subject(len(new), critical, len(repeats), as_of, locale)
    context: dict[str, object] = {
        "title": subject,
        "as_of": as_of,
        "new": [view(f, locale) for f in sorted(new, key=sort_key)],
        "repeats": [view(f, locale) for f in sorted(repeats, key=sort_key)],
        "repeat_days": settings.notifications.repeat_critical_days,
    }
    return subject, context


def staff_alert(
    settings: Settings,
    key: str,
    recipient: str,
    new: Sequence[Finding],
    repeats: Sequence[Finding],
    as_of: date,
    now: datetime,
) -> Composed:
    subject, context = _alert_context(settings, new, repeats, as_of)
    text, html = render_pair("staff_alert", settings.locale, **context)
    return _email(settings, key, recipient, subject, text, html, now)


def staff_webhook(
    settings: Settings, key: str, new: Sequence[Finding], repeats: Sequence[Finding], as_of: date
) -> Composed:
    subject, context = _alert_context(settings, new, repeats, as_of)
    markdown = render("staff_alert.md", settings.locale, limit=WEBHOOK_LIST_LIMIT, **context)
    text = render("staff_alert.txt", settings.locale, **context)
    doc = {
        "title": subject,
        "markdown": markdown,
        "text": text,
        "as_of": as_of.isoformat(),
        "findings": [f.finding_id for f in sorted(new, key=sort_key)],
        "repeats": [f.finding_id for f in sorted(repeats, key=sort_key)],
    }
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    return Composed(subject, message_id(key, settings.mail.sender), data)


def notice_subject(district: str, count: int, as_of: date, locale: str) -> str:
    day = texts.format_date(as_of, locale)
    if locale == texts.EN:
        return f"[{texts.tr(locale, 'notice_title')}] {district}: {count} compliance matter{'s' if count != 1 else ''} ({day})"
    return f"【{texts.tr(locale, 'notice_title')}】{district}：平台、基地合规事项{count}项（{day}）"


def district_notice(
    settings: Settings,
    key: str,
    recipient: str,
    district: str,
    findings: Sequence[Finding],
    as_of: date,
    now: datetime,
) -> Composed:
    locale = settings.locale
    ordered = sorted(findings, key=sort_key)
    subject = notice_subject(district, len(ordered), as_of, locale)
    text, html = render_pair(
        "district_notice",
        locale,
        title=subject,
        as_of=as_of,
        district=district,
        entities=[view(f, locale) for f in ordered if f.entity],
        own=[view(f, locale) for f in ordered if not f.entity],
    )
    return _email(settings, key, recipient, subject, text, html, now)
