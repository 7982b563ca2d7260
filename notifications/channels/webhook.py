"""Staff alerts to a group robot: WeCom (企业微信), DingTalk (钉钉, signed URL), Feishu (飞书) or plain JSON.

The outbox holds a neutral JSON document ({"title", "markdown", "text"}); the robot's own payload is built at
send time, so a signature carries the time it is sent. Robots answer HTTP 200 with an error code in the body;
rate limits are transient, every other code (bad key, bad signature, keyword mismatch) is permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import requests

from monitor import httpclient
from monitor.config import WebhookSettings
from notifications.channels.base import Channel, DeliveryError, Outgoing

# Robot error codes that mean "slow down", not "wrong".
_TRANSIENT_CODES = {
    "wecom": {-1, 45009},  # system busy; API frequency out of limit
    "dingtalk": {-1, 130101},  # system busy; sending too fast
    "feishu": {9499, 11232},  # rate limited
}
# WeCom limits markdown content to 4096 bytes; DingTalk and Feishu allow more, the same cap keeps them readable.
MAX_MARKDOWN_BYTES = 4000


def _clip(text: str, limit: int = MAX_MARKDOWN_BYTES) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 6].decode("utf-8", "ignore") + "\n……"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")), URL-quoted."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(mac).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b""))."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


class WebhookChannel(Channel):
    name = "webhook"

    def __init__(self, settings: WebhookSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or httpclient.make_session(retries=0)

    def request(self, doc: dict[str, Any], now: datetime) -> tuple[str, dict[str, Any]]:
        """(URL, payload) for the configured robot."""
        kind, url, secret = self.settings.kind, self.settings.url, self.settings.secret
        title, markdown, text = doc["title"], _clip(doc["markdown"]), doc["text"]
        if kind == "wecom":
            return url, {"msgtype": "markdown", "markdown": {"content": markdown}}
        if kind == "dingtalk":
            if secret:
                ts = int(now.timestamp() * 1000)
                sep = "&" if "?" in url else "?"
                url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
            return url, {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
        if kind == "feishu":
            payload: dict[str, Any] = {"msg_type": "text", "content": {"text": _clip(text)}}
            if secret:
                ts = int(now.timestamp())
                payload = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **payload}
            return url, payload
        return url, doc

    def send_each(self, messages: Sequence[Outgoing], now: datetime) -> Iterator[DeliveryError | None]:
        for msg in messages:
            yield self._send(msg, now)

    def _send(self, msg: Outgoing, now: datetime) -> DeliveryError | None:
        try:
            doc = json.loads(msg.content.decode("utf-8"))
            url, payload = self.request(doc, now)
        except (ValueError, KeyError) as exc:
            return DeliveryError(f"webhook message {msg.id} is not a valid document: {exc}", permanent=True)
        try:
            # The robot's secret is in its URL (a key or token parameter, Feishu's hook path): name the site only.
            where = httpclient.site(url)
            _status, body = httpclient.post_json(self.session, url, payload, timeout=self.settings.timeout, where=where)
        except httpclient.HttpError as exc:
            return DeliveryError(str(exc), permanent=not exc.transient)
        return self._check_reply(body)

    def _check_reply(self, body: Any) -> DeliveryError | None:
        kind = self.settings.kind
        if kind == "json" or not isinstance(body, dict):
            return None if kind == "json" else DeliveryError(f"{kind} robot: reply is not JSON", permanent=True)
        code = body.get("errcode", body.get("code", body.get("StatusCode", 0)))
        if code in (0, None):
            return None
        message = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
        transient = code in _TRANSIENT_CODES.get(kind, set())
        return DeliveryError(f"{kind} robot error {code}: {message}", permanent=not transient)

    def close(self) -> None:
        self.session.close()
