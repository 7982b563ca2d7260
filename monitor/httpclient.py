"""All outgoing HTTP (portal sync, heartbeat, robot webhooks): requests Sessions with one User-Agent,
timeouts, retries, and one way of keeping secrets out of messages.

Retries (urllib3 Retry, exponential backoff) cover what is worth trying again: connection errors, read
timeouts and 5xx answers, for GET only (a POST is never repeated by the transport: the outbox decides).
Messages name a URL by `safe_url` (no credentials, query or fragment: a token passed as a parameter never
reaches a log line) or by `site` when the path itself is the secret (a heartbeat check, a robot's hook), and
never quote requests' own exception text, which carries the full URL.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from monitor import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"sme-monitor/{__version__}"
RETRY_STATUSES = (500, 502, 503, 504)


class HttpError(Exception):
    """A request that failed for good (after the retries): the message says what and where, never a secret.

    `transient`: trying again later may help (network trouble, a timeout, HTTP 429 or 5xx)."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


def make_session(*, retries: int = 3, backoff: float = 1.0) -> requests.Session:
    """A session that retries connection errors, read timeouts and 5xx answers `retries` times.

    urllib3 waits backoff * 2^(n-1) seconds before the n-th retry after the first (0 s, 2*backoff, 4*backoff...).
    """
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,  # the last 5xx answer comes back and is reported with its status
        respect_retry_after_header=True,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def timeouts(seconds: float) -> tuple[float, float]:
    """(connect, read): connecting should never take long, reading may take the configured time."""
    return (min(seconds, 10.0), seconds)


def safe_url(url: str) -> str:
    """The URL without credentials, query or fragment: fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def site(url: str) -> str:
    """Scheme and host only: a heartbeat URL's path is its secret (a Healthchecks check UUID, say)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}"


def get_json(
    session: requests.Session,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Any:
    """GET `url` and decode its JSON body; HttpError for a network failure, a non-2xx answer or bad JSON."""
    where = safe_url(url)
    try:
        response = session.get(url, params=params, headers=headers, timeout=timeouts(timeout))
    except requests.RequestException as exc:
        raise HttpError(f"GET {where}: {_reason(exc)}") from None
    with response:
        if not response.ok:
            status = response.status_code
            raise HttpError(f"GET {where}: HTTP {status} {response.reason}", transient=_transient_status(status))
        try:
            return response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            raise HttpError(f"GET {where}: 应答不是有效的 JSON (invalid JSON): {exc}") from None


def post_json(
    session: requests.Session, url: str, payload: Any, *, timeout: float = 30, where: str | None = None
) -> tuple[int, Any]:
    """POST `payload` as JSON; (status, parsed reply or None) for a 2xx answer, else HttpError (`transient` for
    network trouble, 429 and 5xx). `where` names the URL in messages (default `safe_url(url)`)."""
    where = where or safe_url(url)
    try:
        response = session.post(url, json=payload, timeout=timeouts(timeout))
    except requests.RequestException as exc:
        raise HttpError(f"POST {where}: {_reason(exc)}") from None
    with response:
        status = response.status_code
        if not 200 <= status < 300:
            detail = "" if _transient_status(status) else f": {clip(response.text, 200)}"
            raise HttpError(f"POST {where}: HTTP {status}{detail}", transient=_transient_status(status))
        try:
            body = response.json()
        except ValueError:
            body = None
        return status, body


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _transient_status(status: int) -> bool:
    return status == 429 or status >= 500


def ping(session: requests.Session, url: str, *, timeout: float = 10) -> bool:
    """GET a heartbeat URL (a Healthchecks check, say). Failure is logged and returned, never raised."""
    try:
        with session.get(url, timeout=timeouts(timeout)) as response:
            if response.ok:
                log.info("heartbeat sent to %s", site(url))
                return True
            log.warning("heartbeat to %s answered HTTP %s", site(url), response.status_code)
    except requests.RequestException as exc:
        log.warning("heartbeat to %s failed: %s", site(url), _reason(exc))
    return False


def _reason(exc: requests.RequestException) -> str:
    """A short reason without the full URL (requests puts the query string, and so tokens, in its messages)."""
    reason = exc.args[0] if exc.args else None
    if isinstance(exc, requests.Timeout) or (
        isinstance(reason, MaxRetryError) and isinstance(reason.reason, ReadTimeoutError | ConnectTimeoutError)
    ):
        return "超时 (timed out)"
    if isinstance(exc, requests.exceptions.RetryError):
        return "重试后仍失败 (failed after retries)"
    if isinstance(exc, requests.ConnectionError):
        return "无法连接 (connection failed)"
    return type(exc).__name__
