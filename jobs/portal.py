"""Portal sync: pull monthly filings from the filing portal's HTTP API, all or nothing.

`GET {portal.url}/filings?since=YYYY-MM&page=N` with `Authorization: Bearer {token}` answers
`{"items": [{"credit_code", "period", "filed_on"}], "next_page": N or null}` (an item may also carry the month's
service figures under the filings import's field names, SPEC 9). Every page is fetched first,
then every item is validated by the filings import itself (`monitor.importing.filings`, the same checks and messages as a
file), then all are applied in one transaction, together with the time of this good sync. A network failure, a 5xx that outlasts the retries, an answer that is not the
expected JSON or one bad item leaves the database as it was and records the failure.

Which months to ask for (`since`): on the first sync, 13 months back from the current month, a year of
filings plus the current month, enough for every rule that looks at filings (the longest, Art. 20's six-month
streak). Afterwards, 6 months before the month of the last good sync: a filing made late for an older month
still reaches us, and asking again for months already applied is harmless (the earliest filing of a month
counts, so re-applying changes nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import requests
from sqlalchemy.orm import Session

from jobs import sync_state
from monitor import httpclient
from monitor.config import PortalSettings
from monitor.importing.common import ImportOptions
from monitor.importing.fields import FILING_FIELDS
from monitor.importing.filings import import_filings
from monitor.importing.problems import ImportFailed, Problems
from monitor.importing.readers import ABSENT
from monitor.legal_time import add_months, format_period, legal_today, month_of
from monitor.storage.db import Database

log = logging.getLogger(__name__)

SOURCE = "portal"
RECORDED_BY = "sme-monitor filings sync"
# The portal's item keys, in the order the filings import expects its cells: the filing, then its figures.
FIELDS = tuple(f.name for f in FILING_FIELDS)
FIRST_SYNC_MONTHS = 13
OVERLAP_MONTHS = 6
MAX_PAGES = 10_000


class PortalNotConfigured(Exception):
    """`portal.url` is empty: there is nothing to sync from."""


class SyncError(Exception):
    """The sync failed and nothing was applied; `problems` lists what was wrong with the data (if that was it)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        text = super().__str__()
        if self.problems:
            shown = self.problems[:20]
            more = len(self.problems) - len(shown)
            text += "\n" + "\n".join(shown) + (f"\n... 另有 {more} 项 (and {more} more)" if more > 0 else "")
        return text


@dataclass(frozen=True, slots=True)
class SyncResult:
    since: str
    pages: int
    items: int
    applied: int  # filings new to the database, or earlier than the one it had
    unchanged: int
    problems: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"since": self.since, "pages": self.pages, "items": self.items, "applied": self.applied}


def since_month(last_success: datetime | None, now: datetime) -> date:
    """The first month to ask the portal for (see the module's docstring)."""
    if last_success is None:
        return add_months(month_of(legal_today(now)), -FIRST_SYNC_MONTHS)
    return add_months(month_of(legal_today(last_success)), -OVERLAP_MONTHS)


@dataclass(frozen=True, slots=True)
class Item:
    page: int
    index: int  # 1-based position on its page
    data: Any


def fetch_all(session: requests.Session, portal: PortalSettings, since: date) -> tuple[list[Item], int]:
    """Every item of every page, with where it came from; the number of pages."""
    url = f"{portal.url}/filings"
    headers = {"Authorization": f"Bearer {portal.token}", "Accept": "application/json"}
    items: list[Item] = []
    page, pages = 1, 0
    while True:
        data = httpclient.get_json(
            session, url, params={"since": format_period(since), "page": page}, headers=headers, timeout=portal.timeout
        )
        pages += 1
        where = f"{httpclient.safe_url(url)} page={page}"
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise SyncError(f"{where}: 应答缺少 items 列表 (the answer has no `items` list)")
        items.extend(Item(page, i, item) for i, item in enumerate(data["items"], start=1))
        following = data.get("next_page")
        if following is None:
            return items, pages
        if not isinstance(following, int) or isinstance(following, bool) or following <= page:
            raise SyncError(f"{where}: next_page 应为大于 {page} 的整数或 null, 实际为 {following!r}")
        if pages >= MAX_PAGES:
            raise SyncError(f"{where}: 页数超过 {MAX_PAGES} (more than {MAX_PAGES} pages)")
        page = following


def sync(
    db: Database,
    portal: PortalSettings,
    now: datetime,
    *,
    session: requests.Session | None = None,
    backoff: float = 1.0,
) -> SyncResult:
    """One sync. SyncError or httpclient.HttpError when it failed (nothing applied, the failure recorded)."""
    if not portal.url:
        raise PortalNotConfigured("portal.url 未配置，无法同步 (portal.url is not set)")
    own_session = session is None
    http_session = session or httpclient.make_session(retries=portal.retries, backoff=backoff)
    try:
        with db.session() as s:
            since = since_month(sync_state.last_success(s), now)
        try:
            items, pages = fetch_all(http_session, portal, since)
            with db.session() as s:
                result = _validate_and_apply(s, items, pages, since, now, portal)
        except (SyncError, httpclient.HttpError) as exc:
            with db.session() as s:
                sync_state.record_failure(s, now, str(exc))
            raise
    finally:
        if own_session:
            http_session.close()
    log.info(
        "portal sync since %s: %d pages, %d items, %d applied",
        result.since,
        result.pages,
        result.items,
        result.applied,
    )
    return result


def _validate_and_apply(
    s: Session, items: list[Item], pages: int, since: date, now: datetime, portal: PortalSettings
) -> SyncResult:
    url = httpclient.safe_url(f"{portal.url}/filings")
    # The import numbers rows; row n is the n-th item of the whole sync, told back as its page and position.
    problems = Problems(where=url)
    rows: list[tuple[int | None, list[Any]]] = []
    for n, item in enumerate(items, start=1):
        if isinstance(item.data, dict):
            rows.append((n, [item.data.get(name, ABSENT) for name in FIELDS]))
        else:
            problems.add(n, "item", f"应为对象 (must be an object), 实际为 {item.data!r}")
    opts = ImportOptions(today=legal_today(now), now=now, districts=frozenset(), source=SOURCE, recorded_by=RECORDED_BY)
    try:
        summary = import_filings(s, rows, FIELDS, opts, problems)
    except ImportFailed:
        lines = [
            f"{url} page={items[p.row - 1].page} item {items[p.row - 1].index}: {p.column}: {p.reason}"
            for p in sorted(problems.items, key=lambda p: (p.row or 0, p.seq))
            if p.row is not None
        ]
        raise SyncError(f"门户数据有 {len(lines)} 处错误，未做任何更改 (nothing applied)", lines) from None
    applied = summary.added + summary.updated
    result = SyncResult(
        since=format_period(since), pages=pages, items=len(items), applied=applied, unchanged=summary.unchanged
    )
    sync_state.record_success(s, now, result.summary())
    return result
