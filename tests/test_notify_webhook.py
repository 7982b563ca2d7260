"""Staff alerts to group robots through a real HTTP server on 127.0.0.1: WeCom, DingTalk (signed), Feishu
(signed), plain JSON; robot error codes and HTTP errors sorted into permanent and transient."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import httpclient
from monitor.config import Settings, WebhookSettings
from monitor.storage.db import Database
from notifications import service
from notifications.channels import FileChannel, WebhookChannel
from notifications.models import Channel, MessageStatus, OutboxMessage
from tests import notify_support as ns

pytestmark = pytest.mark.slow


def hook_settings(tmp_path: Path, kind: str, url: str, secret: str = "") -> Settings:
    settings = ns.make_settings(tmp_path)
    return replace(settings, webhook=WebhookSettings(kind=kind, url=url, secret=secret, timeout=5))


def run(db: Database, settings: Settings) -> service.DeliveryReport:
    ns.load(db)
    service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
    channels = {Channel.EMAIL: FileChannel(settings.mail.directory), Channel.WEBHOOK: WebhookChannel(settings.webhook)}
    return service.deliver(db, settings, ns.at(ns.AS_OF), "w1", channels=channels)


def webhook_row(db: Database) -> OutboxMessage:
    with db.session() as s:
        return s.execute(sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook")).scalar_one()


def test_wecom_markdown_one_post_per_run(db: Database, tmp_path: Path) -> None:
    with ns.HttpServer() as http:
        settings = hook_settings(tmp_path, "wecom", http.url("/cgi-bin/webhook/send?key=abc"))
        run(db, settings)
        # the same run again posts nothing
        service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
        service.deliver(db, settings, ns.at(ns.AS_OF), "w1")
    assert len(http.requests) == 1
    req = http.requests[0]
    assert req.path == "/cgi-bin/webhook/send" and req.query == {"key": ["abc"]}
    assert req.body["msgtype"] == "markdown"
    content = req.body["markdown"]["content"]
    assert content.startswith("### 【合规预警】2026年3月26日：新增合规事项2项（严重2项）")
    assert "《办法》第二十二条" in content and "《办法》第十八条" in content
    assert webhook_row(db).status == MessageStatus.SENT.value


def test_dingtalk_signs_the_url(db: Database, tmp_path: Path) -> None:
    secret = "SECdingtalk-test-secret"
    with ns.HttpServer() as http:
        settings = hook_settings(tmp_path, "dingtalk", http.url("/robot/send?access_token=tok"), secret)
        run(db, settings)
    req = http.requests[0]
    ts = req.query["timestamp"][0]
    assert int(ts) == int(ns.at(ns.AS_OF).timestamp() * 1000)
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    assert req.query["sign"] == [expected]  # parse_qs undoes the URL quoting
    assert req.query["access_token"] == ["tok"]
    assert req.body["msgtype"] == "markdown" and req.body["markdown"]["title"].startswith("【合规预警】")


def test_feishu_signs_the_body(db: Database, tmp_path: Path) -> None:
    secret = "feishu-secret"
    with ns.HttpServer() as http:
        http.reply = {"code": 0, "msg": "success"}
        settings = hook_settings(tmp_path, "feishu", http.url("/open-apis/bot/v2/hook/x"), secret)
        run(db, settings)
    body = http.requests[0].body
    ts = body["timestamp"]
    expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == expected and body["msg_type"] == "text"
    assert "根据《办法》第二十二条" in body["content"]["text"]


def test_plain_json_carries_the_finding_ids(db: Database, tmp_path: Path) -> None:
    with ns.HttpServer() as http:
        http.reply = {}
        settings = hook_settings(tmp_path, "json", http.url())
        run(db, settings)
    body = http.requests[0].body
    assert body["as_of"] == "2026-03-26"
    assert len(body["findings"]) == 2 and body["title"].startswith("【合规预警】")


@pytest.mark.parametrize(
    ("status", "reply", "outcome"),
    [
        (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, MessageStatus.FAILED),
        (200, {"errcode": 45009, "errmsg": "api freq out of limit"}, MessageStatus.PENDING),
        (500, {}, MessageStatus.PENDING),
        (429, {}, MessageStatus.PENDING),
        (404, {}, MessageStatus.FAILED),
    ],
    ids=["bad-key", "rate-limit", "server-error", "too-many", "not-found"],
)
def test_robot_errors_are_sorted(
    db: Database, tmp_path: Path, status: int, reply: dict[str, object], outcome: MessageStatus
) -> None:
    with ns.HttpServer() as http:
        http.status, http.reply = status, reply
        settings = hook_settings(tmp_path, "wecom", http.url())
        run(db, settings)
    row = webhook_row(db)
    assert row.status == outcome.value and row.attempts == 1 and row.last_error


def test_an_unreachable_robot_is_retried(db: Database, tmp_path: Path) -> None:
    settings = hook_settings(tmp_path, "wecom", f"http://127.0.0.1:{ns.free_port()}/hook")
    report = run(db, settings)
    assert report.retrying == 1
    assert webhook_row(db).status == MessageStatus.PENDING.value


@pytest.mark.parametrize("status", [404, 500])
def test_robot_errors_name_the_site_not_the_key_and_share_the_user_agent(
    db: Database, tmp_path: Path, status: int
) -> None:
    with ns.HttpServer() as http:
        http.status, http.reply = status, {}
        settings = hook_settings(tmp_path, "feishu", http.url("/open-apis/bot/v2/hook/hook-secret?key=key-secret"))
        run(db, settings)
    assert http.requests[0].headers["User-Agent"] == httpclient.USER_AGENT  # the one the portal sync sends
    error = webhook_row(db).last_error or ""
    assert f"HTTP {status}" in error and http.url("") in error
    assert "secret" not in error
