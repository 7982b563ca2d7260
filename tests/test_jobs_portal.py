"""Portal sync against a real HTTP server: paging, retries, and all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jobs import portal, sync_state
from monitor import httpclient
from monitor.config import PortalSettings
from monitor.storage.db import Database
from monitor.storage.models import FilingRow
from tests.http_fixtures import TOKEN, FakePortal, serve
from tests.jobs_data import add_entities

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 on the 25th in Beijing


def settings(url: str, *, timeout: int = 1, retries: int = 2) -> PortalSettings:
    return PortalSettings(url=f"{url}/api", token=TOKEN, timeout=timeout, retries=retries)


def filings(db: Database) -> set[tuple[date, date]]:
    with db.session() as s:
        return {(p, f) for p, f in s.execute(select(FilingRow.period, FilingRow.filed_on))}


def two_pages(codes: list[str]) -> dict[int, dict[str, object]]:
    return {
        1: {
            "items": [
                {"credit_code": codes[0], "period": "2026-09", "filed_on": "2026-09-28"},
                {"credit_code": codes[1], "period": "2026-09", "filed_on": "2026-10-08"},
            ],
            "next_page": 2,
        },
        2: {"items": [{"credit_code": codes[0], "period": "2026-10", "filed_on": "2026-10-30"}], "next_page": None},
    }


def test_pages_are_fetched_with_the_token_and_applied(db: Database) -> None:
    codes = add_entities(db, 2)
    with serve(FakePortal(pages=two_pages(codes))) as fake:
        result = portal.sync(db, settings(fake.url), NOW, backoff=0.01)
    assert (result.pages, result.items, result.applied, result.since) == (2, 3, 3, "2025-10")
    assert [(r.path, r.query) for r in fake.requests] == [
        ("/api/filings", {"since": "2025-10", "page": "1"}),
        ("/api/filings", {"since": "2025-10", "page": "2"}),
    ]
    assert {r.authorization for r in fake.requests} == {f"Bearer {TOKEN}"}
    assert {r.user_agent for r in fake.requests} == {httpclient.USER_AGENT}
    assert filings(db) == {
        (date(2026, 9, 1), date(2026, 9, 28)),
        (date(2026, 9, 1), date(2026, 10, 8)),
        (date(2026, 10, 1), date(2026, 10, 30)),
    }
    with db.session() as s:
        state = sync_state.get(s)
    assert state is not None and state.last_success_at == NOW and state.last_error == ""


def test_a_second_sync_asks_from_six_months_before_the_last_good_one_and_changes_nothing_twice(db: Database) -> None:
    codes = add_entities(db, 2)
    with serve(FakePortal(pages=two_pages(codes))) as fake:
        portal.sync(db, settings(fake.url), NOW, backoff=0.01)
        again = portal.sync(db, settings(fake.url), NOW, backoff=0.01)
    assert again.since == "2026-05"
    assert (again.applied, again.unchanged) == (0, 3)


def test_an_earlier_filing_replaces_a_later_one(db: Database) -> None:
    codes = add_entities(db, 1)
    first = {
        1: {"items": [{"credit_code": codes[0], "period": "2026-09", "filed_on": "2026-10-20"}], "next_page": None}
    }
    earlier = {
        1: {"items": [{"credit_code": codes[0], "period": "2026-09", "filed_on": "2026-09-30"}], "next_page": None}
    }
    with serve(FakePortal(pages=first)) as fake:
        portal.sync(db, settings(fake.url), NOW, backoff=0.01)
        fake.pages = earlier
        assert portal.sync(db, settings(fake.url), NOW, backoff=0.01).applied == 1
        fake.pages = first
        assert portal.sync(db, settings(fake.url), NOW, backoff=0.01).applied == 0
    assert filings(db) == {(date(2026, 9, 1), date(2026, 9, 30))}


def test_a_timeout_and_a_500_are_retried(db: Database) -> None:
    codes = add_entities(db, 2)
    with serve(FakePortal(pages=two_pages(codes), faults=["timeout", 500], slow_seconds=1.5)) as fake:
        result = portal.sync(db, settings(fake.url, timeout=1, retries=2), NOW, backoff=0.01)
    assert result.applied == 3
    assert len(fake.requests) == 4  # page 1 three times (timeout, 500, ok), page 2 once


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        (["timeout"] * 3, "超时 (timed out)"),
        ([500] * 3, "HTTP 500"),
        (["badjson"], "invalid JSON"),
    ],
    ids=["timeout", "500", "invalid-json"],
)
def test_a_failure_that_outlasts_the_retries_applies_nothing(
    db: Database, faults: list[str | int], reason: str
) -> None:
    codes = add_entities(db, 2)
    # Page 1 succeeds, page 2 fails: what page 1 brought must not be applied either.
    fake_portal = FakePortal(pages=two_pages(codes), faults=list(faults), fault_page=2, slow_seconds=1.5)
    with serve(fake_portal) as fake, pytest.raises(httpclient.HttpError) as err:
        portal.sync(db, settings(fake.url, timeout=1, retries=2), NOW, backoff=0.01)
    assert reason in str(err.value)
    assert TOKEN not in str(err.value)
    assert filings(db) == set()
    with db.session() as s:
        state = sync_state.get(s)
    assert state is not None and state.last_success_at is None and reason in state.last_error


def test_one_bad_row_applies_nothing_and_every_problem_is_named(db: Database) -> None:
    codes = add_entities(db, 2)
    pages = two_pages(codes)
    pages[2]["items"] = [
        {"credit_code": codes[0], "period": "2026-10", "filed_on": "2026-10-30"},
        {"credit_code": "91510100MA00000099", "period": "2026-13", "filed_on": "2026-12-01"},
        {"credit_code": codes[1], "period": "2026-10"},
    ]
    with serve(FakePortal(pages=pages)) as fake:
        with pytest.raises(portal.SyncError) as err:
            portal.sync(db, settings(fake.url), NOW, backoff=0.01)
        problems = err.value.problems
        assert filings(db) == set()
        # The portal fixes its data: the next sync succeeds.
        fake.pages = two_pages(codes)
        assert portal.sync(db, settings(fake.url), NOW, backoff=0.01).applied == 3
    where = f"{fake.url}/api/filings page=2"
    assert f"{where} item 2: credit_code: 统一社会信用代码校验位错误" in "\n".join(problems)
    assert any(p.startswith(f"{where} item 2: period:") for p in problems)
    assert any(p.startswith(f"{where} item 2: filed_on:") and "a date in the future" in p for p in problems)
    assert any(p.startswith(f"{where} item 3: filed_on:") for p in problems)
    assert len(problems) == 4


def test_unknown_entities_are_refused(db: Database) -> None:
    add_entities(db, 1)
    from tests.jobs_data import code

    page = {1: {"items": [{"credit_code": code(77), "period": "2026-10", "filed_on": "2026-10-30"}], "next_page": None}}
    with serve(FakePortal(pages=page)) as fake, pytest.raises(portal.SyncError) as err:
        portal.sync(db, settings(fake.url), NOW, backoff=0.01)
    assert "unknown credit code" in err.value.problems[0]


def test_an_answer_of_the_wrong_shape_is_refused(db: Database) -> None:
    with serve(FakePortal(pages={1: {"items": [], "next_page": 1}})) as fake, pytest.raises(portal.SyncError) as err:
        portal.sync(db, settings(fake.url), NOW, backoff=0.01)
    assert "next_page" in str(err.value)


def test_a_wrong_token_is_reported_without_the_token(db: Database) -> None:
    with serve(FakePortal()) as fake:
        bad = PortalSettings(url=f"{fake.url}/api", token="wrong-token", timeout=1, retries=0)
        with pytest.raises(httpclient.HttpError) as err:
            portal.sync(db, bad, NOW)
    assert "HTTP 401" in str(err.value) and "wrong-token" not in str(err.value)


def test_no_portal_configured(db: Database) -> None:
    with pytest.raises(portal.PortalNotConfigured):
        portal.sync(db, PortalSettings(url="", token="", timeout=1, retries=0), NOW)


@pytest.mark.parametrize(
    ("last", "now", "since"),
    [
        (None, datetime(2026, 11, 25, 2, tzinfo=UTC), date(2025, 10, 1)),
        (None, datetime(2026, 11, 30, 17, tzinfo=UTC), date(2025, 11, 1)),  # already December 1st in Beijing
        (datetime(2026, 11, 24, 22, tzinfo=UTC), datetime(2026, 11, 25, 2, tzinfo=UTC), date(2026, 5, 1)),
        (datetime(2026, 3, 31, 17, tzinfo=UTC), datetime(2026, 11, 25, 2, tzinfo=UTC), date(2025, 10, 1)),
    ],
)
def test_since_month(last: datetime | None, now: datetime, since: date) -> None:
    assert portal.since_month(last, now) == since


def test_service_figures_come_with_the_portals_filings(db: Database) -> None:
    from monitor.applications.models import FilingFiguresRow

    codes = add_entities(db, 1)
    item = {"credit_code": codes[0], "period": "2026-09", "filed_on": "2026-09-28"}
    pages = {1: {"items": [item | {"policy_system": True, "policy_offline": 12}], "next_page": None}}
    with serve(FakePortal(pages=pages)) as fake:
        portal.sync(db, settings(fake.url), NOW, backoff=0.01)
    with db.session() as s:
        assert list(s.execute(select(FilingFiguresRow.figures)).scalars()) == [
            '{"policy_offline":12,"policy_system":true}'
        ]
