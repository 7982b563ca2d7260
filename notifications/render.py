"""Messages from templates: Jinja2 (HTML autoescaped, plain text verbatim) and the MIME envelope around them.

Nothing that comes from the data can add a header or a recipient: header values are flattened to one line
before they reach `EmailMessage` (whose default policy would refuse a CR/LF anyway), recipients are single
checked addresses, and non-ASCII headers are RFC 2047-encoded by the policy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from monitor.config import is_email
from monitor.domain import Entity, Severity
from monitor.legal_time import LEGAL_TZ
from monitor.rules.finding import Finding
from notifications import texts

TEMPLATES = Path(__file__).resolve().parent / "templates"
# CRLF line ends as SMTP wants them; the .eml files keep them too (mail programs read both).
WIRE_POLICY = policy.SMTP
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x00\u2028\u2029\x85]+")

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def one_line(text: str) -> str:
    """A header value made of data: every line break becomes a space, so it cannot start a new header."""
    return _LINE_BREAKS.sub(" ", text).strip()


def valid_address(address: str) -> bool:
    return is_email(address) and one_line(address) == address


@dataclass(frozen=True, slots=True)
class FindingView:
    """A finding as a message shows it, in one locale."""

    finding_id: str
    rule: str
    title: str
    article: str
    severity: str
    critical: bool
    stage: str
    entity: str
    entity_name: str
    district: str
    due: str
    left: str
    text: str
    action: str


def finding_text(finding: Finding, locale: str) -> str:
    return finding.message(locale)


def view(finding: Finding, locale: str, portal_url: str = "", entity: Entity | None = None) -> FindingView:
    name = finding.entity_name or (entity.name if entity else "")
    if not finding.entity and not name:  # a district's own finding is addressed to its authority
        name = texts.district_authority(finding.district or "", locale)
    name = one_line(name)
    return FindingView(
        finding_id=finding.finding_id,
        rule=finding.rule.value,
        title=texts.rule_title(finding.rule, locale),
        article=texts.article_ref(finding.article, locale),
        severity=texts.severity_label(finding.severity, locale),
        critical=finding.severity >= Severity.CRITICAL,
        stage=texts.stage_label(finding.stage, locale),
        entity=finding.entity or "",
        entity_name=name,
        district=finding.district or (entity.district if entity else "") or "",
        due=texts.format_date(finding.due, locale),
        left=texts.days_left_text(finding.days_left, locale),
        text=finding_text(finding, locale),
        action=texts.action_text(finding.rule, finding.due, locale, portal_url),
    )


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def render(name: str, locale: str, **context: Any) -> str:
    """Render `templates/<name>` with `tr` (the locale's sentences) and `date` helpers at hand."""
    template = environment().get_template(name)
    return template.render(
        locale=locale,
        tr=lambda key, **values: texts.tr(locale, key, **values),
        fmt_date=lambda day: texts.format_date(day, locale),
        **context,
    )


def render_pair(stem: str, locale: str, **context: Any) -> tuple[str, str]:
    """(plain text, HTML) of `templates/<stem>.txt` and `<stem>.html`."""
    return render(f"{stem}.txt", locale, **context), render(f"{stem}.html", locale, **context)


def message_id(key: str, sender: str) -> str:
    """A Message-ID that is a pure function of the outbox key: a resend is recognisably the same message."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "sme-monitor.invalid"
    return f"<{digest}@{domain}>"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str


def build_email(
    *,
    sender: str,
    sender_name: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    msg_id: str,
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The complete message, ready for SMTP or an .eml file. `recipient` must be one checked address."""
    if not valid_address(recipient):
        raise ValueError(f"not a single e-mail address: {recipient!r}")
    msg = EmailMessage(policy=policy.default)
    msg["From"] = Address(display_name=one_line(sender_name), addr_spec=sender)
    msg["To"] = Address(addr_spec=recipient)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(now.astimezone(LEGAL_TZ))
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders should not answer
    msg.set_content(text, charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    for att in attachments:
        msg.add_attachment(att.content, maintype=att.maintype, subtype=att.subtype, filename=att.filename)
    return msg.as_bytes(policy=WIRE_POLICY)
