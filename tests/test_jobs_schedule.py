"""Cron schedules in Asia/Shanghai: latest and next occurrences, computed from the instant given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs import schedule

SH = ZoneInfo("Asia/Shanghai")


def sh(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


# (expression, now in Shanghai, latest occurrence at or before now)
LATEST = [
    ("0 7 * * *", "2026-11-25 07:00:00", "2026-11-25 07:00:00"),  # an occurrence counts at its own instant
    ("0 7 * * *", "2026-11-25 06:59:59", "2026-11-24 07:00:00"),
    ("0 7 * * *", "2026-11-25 23:59:00", "2026-11-25 07:00:00"),
    ("30 8 * * *", "2026-01-01 00:10:00", "2025-12-31 08:30:00"),  # across a year end
    ("*/5 * * * *", "2026-11-25 10:14:59", "2026-11-25 10:10:00"),
    ("0 6 * * *", "2026-03-01 05:00:00", "2026-02-28 06:00:00"),
    ("0 9 * * 1-5", "2026-11-29 12:00:00", "2026-11-27 09:00:00"),  # Sunday: Friday's, crontab weekdays
    ("0 9 * * 0", "2026-11-25 12:00:00", "2026-11-22 09:00:00"),  # 0 is Sunday, as in crontab
    ("0 9 * * 7", "2026-11-25 12:00:00", "2026-11-22 09:00:00"),
    ("0 0 1 1 *", "2026-11-25 12:00:00", "2026-01-01 00:00:00"),  # yearly: looks back far enough
    ("0 0 29 2 *", "2026-11-25 12:00:00", "2024-02-29 00:00:00"),  # every four years
]


@pytest.mark.parametrize(("expr", "now", "expected"), LATEST)
def test_latest_occurrence(expr: str, now: str, expected: str) -> None:
    assert schedule.latest_occurrence(expr, sh(now)) == sh(expected)


def test_latest_occurrence_is_the_same_instant_whatever_zone_now_is_given_in() -> None:
    # 23:30 UTC on the 24th is 07:30 on the 25th in Beijing: that day's 07:00 sweep has come.
    now = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert schedule.latest_occurrence("0 7 * * *", now) == sh("2026-11-25 07:00:00")
    la = now.astimezone(ZoneInfo("America/Los_Angeles"))
    assert schedule.latest_occurrence("0 7 * * *", la) == sh("2026-11-25 07:00:00")


NEXT = [
    ("0 7 * * *", "2026-11-25 07:00:00", "2026-11-26 07:00:00"),  # strictly after
    ("0 7 * * *", "2026-11-25 06:59:00", "2026-11-25 07:00:00"),
    ("*/5 * * * *", "2026-11-25 10:14:59", "2026-11-25 10:15:00"),
    ("30 8 * * *", "2026-12-31 09:00:00", "2027-01-01 08:30:00"),
    ("0 9 * * 1-5", "2026-11-27 10:00:00", "2026-11-30 09:00:00"),  # Friday after 9: Monday
]


@pytest.mark.parametrize(("expr", "after", "expected"), NEXT)
def test_next_occurrence(expr: str, after: str, expected: str) -> None:
    assert schedule.next_occurrence(expr, sh(after)) == sh(expected)


@pytest.mark.parametrize(
    ("expr", "period"),
    [("0 7 * * *", timedelta(days=1)), ("*/5 * * * *", timedelta(minutes=5)), ("0 7 * * 1", timedelta(days=7))],
)
def test_period(expr: str, period: timedelta) -> None:
    assert schedule.period_at(expr, sh("2026-11-25 12:00:00")) == period


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("5-7", "sun,fri,sat"),
        ("0,6", "sun,sat"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("1-5/2", "mon,wed,fri"),
    ],
)
def test_crontab_weekdays_are_spelled_as_names(field: str, names: str) -> None:
    assert schedule.crontab_weekdays(field) == names


@pytest.mark.parametrize("field", ["8", "x", "5-2", "*/0"])
def test_bad_weekday_fields_are_refused(field: str) -> None:
    with pytest.raises(ValueError):
        schedule.crontab_weekdays(field)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.latest_occurrence("0 7 * * *", datetime(2026, 11, 25, 7))
