"""All outgoing HTTP of the jobs package: one requests Session with timeouts and retries.

Retries (urllib3 Retry, exponential backoff) cover what is worth trying again: connection errors, read
timeouts and 5xx answers, for GET only. Error messages carry the URL without its query string, so a token
passed as a parameter never reaches a log line.
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
    """A request that failed for good (after the retries): the message says what and where, never a secret."""


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
            raise HttpError(f"GET {where}: HTTP {response.status_code} {response.reason}")
        try:
            return response.json()
        except (json.JSONDecodeError, ValueError) as exc:
            raise HttpError(f"GET {where}: 应答不是有效的 JSON (invalid JSON): {exc}") from None


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
