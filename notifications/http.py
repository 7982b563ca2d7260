"""All HTTP of the notifications package goes through here: one POST of JSON, errors sorted into
transient (network trouble, 429, 5xx) and permanent (any other 4xx, a reply that is not JSON when JSON was
promised)."""

from __future__ import annotations

from typing import Any

import requests

from monitor.logs import redact
from notifications.channels.base import DeliveryError

USER_AGENT = "sme-monitor (+notifications)"


def post_json(session: requests.Session, url: str, payload: Any, *, timeout: float) -> tuple[int, Any]:
    """POST `payload` as JSON; returns (status, parsed reply or None). Raises DeliveryError unless 2xx."""
    try:
        response = session.post(url, json=payload, timeout=timeout, headers={"User-Agent": USER_AGENT})
    except requests.Timeout:
        raise DeliveryError(f"HTTP timeout after {timeout}s: {redact(url)}") from None
    except requests.RequestException as exc:
        raise DeliveryError(f"HTTP request failed: {redact(str(exc))}") from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise DeliveryError(f"HTTP {status} from {redact(url)}")
    if not 200 <= status < 300:
        raise DeliveryError(f"HTTP {status} from {redact(url)}: {response.text[:200]}", permanent=True)
    try:
        body = response.json()
    except ValueError:
        body = None
    return status, body
