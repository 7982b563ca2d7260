"""An entity's reminder links to its page in the public registry (`web.base_url`)."""

from __future__ import annotations

import email
from dataclasses import replace
from datetime import UTC, date, datetime
from email import policy

from monitor import config
from monitor.legal_time import WorkCalendar
from monitor.rules import evaluate_entity
from notifications import compose
from tests.rulecases import CODE, ENTITY, cert, monthly

CAL = WorkCalendar.load(None)


def _reminder(settings: config.Settings) -> email.message.EmailMessage:
    from monitor.domain import History

    history = History(ENTITY, (cert("2025-06-10"),), monthly("2025-07", "2026-02"))
    report = evaluate_entity(history, date(2026, 3, 27), CAL, settings.rules)
    finding = next(f for f in report.findings if f.entity == CODE)
    composed = compose.entity_reminder(
        settings, "k", "test@example.cn", finding, ENTITY, date(2026, 3, 27), datetime(2026, 3, 27, 1, tzinfo=UTC)
    )
    message = email.message_from_bytes(composed.content, policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def _bodies(message: email.message.EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_reminder_links_to_the_registry_page_at_base_url() -> None:
    settings = config.load(environ={})
    settings = replace(settings, web=replace(settings.web, base_url="https://mingdan.example.gov.cn/"))
    text, html = _bodies(_reminder(settings))
    url = f"https://mingdan.example.gov.cn/registry/{CODE}"
    assert f"贵单位在认定名单中的公开信息：{url}" in text
    assert f'<a href="{url}">' in html


def test_without_base_url_the_link_uses_the_servers_host_and_port() -> None:
    settings = config.load(environ={"SME_MONITOR_WEB__PORT": "8181"})
    text, _ = _bodies(_reminder(settings))
    assert f"http://127.0.0.1:8181/registry/{CODE}" in text
