"""Legal time, one case per row, each checked by hand against SPEC section 2 and the State Council's 2026
holiday arrangement (New Year 1-3 Jan, Jan 4 worked; Spring Festival 15-23 Feb, Feb 14 and 28 worked;
Labour Day 1-5 May, May 9 worked; National Day 1-7 Oct, Sep 20 and Oct 10 worked)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor import legal_time as lt

D = date.fromisoformat


@pytest.fixture(scope="module")
def cal() -> lt.WorkCalendar:
    return lt.WorkCalendar()


# (trigger, months, years, days, last day of the period): Arts. 201-202.
PERIODS = [
    ("2026-08-31", 3, 0, 0, "2026-11-30", "Aug 31 + 3 months: November has no 31st, so its last day"),
    ("2026-11-30", 3, 0, 0, "2027-02-28", "SPEC example: Nov 30 + 3 months, February 2027 has 28 days"),
    ("2024-02-29", 0, 3, 0, "2027-02-28", "SPEC example: leap day + 3 years"),
    ("2024-02-29", 0, 4, 0, "2028-02-29", "leap day + 4 years lands on a leap day again"),
    ("2027-12-31", 2, 0, 0, "2028-02-29", "Dec 31 + 2 months into a leap February"),
    ("2026-01-31", 1, 0, 0, "2026-02-28", "Jan 31 + 1 month"),
    ("2026-03-31", 6, 0, 0, "2026-09-30", "Mar 31 + 6 months"),
    ("2026-12-15", 1, 0, 0, "2027-01-15", "year-end crossing, corresponding day"),
    ("2026-09-10", 6, 0, 0, "2027-03-10", "six months across the year end"),
    ("2026-12-28", 0, 0, 7, "2027-01-04", "7 days counted from the next day, across the year end"),
    ("2026-02-01", 0, 0, 0, "2026-02-01", "a zero-length period ends on its trigger"),
]


@pytest.mark.parametrize(
    ("trigger", "months", "years", "days", "expected", "why"), PERIODS, ids=[p[5] for p in PERIODS]
)
def test_period_end(trigger: str, months: int, years: int, days: int, expected: str, why: str) -> None:
    assert lt.period_end(D(trigger), months=months, years=years, days=days) == D(expected)


# (last day of a deadline to act, the deadline after Art. 203)
ACT = [
    ("2026-10-01", "2026-10-08", "National Day: 1-7 Oct off, the deadline moves to Oct 8"),
    ("2026-10-05", "2026-10-08", "inside the National Day holiday"),
    ("2026-02-28", "2026-02-28", "Saturday 28 Feb 2026 is an adjusted working day: no move"),
    ("2026-10-10", "2026-10-10", "Saturday 10 Oct 2026 is an adjusted working day: no move"),
    ("2026-10-31", "2026-11-02", "an ordinary Saturday moves to Monday"),
    ("2026-05-01", "2026-05-06", "Labour Day 1-5 May"),
    ("2026-02-15", "2026-02-24", "Spring Festival 15-23 Feb"),
    ("2026-01-31", "2026-02-02", "Saturday and Sunday at a month end"),
    ("2025-12-31", "2025-12-31", "a Wednesday: no move"),
    ("2026-01-01", "2026-01-04", "New Year 1-3 Jan, Sunday 4 Jan is worked"),
    ("2026-12-31", "2026-12-31", "a Thursday at the year end: no move"),
]


@pytest.mark.parametrize(("last", "expected", "why"), ACT, ids=[a[2] for a in ACT])
def test_act_deadline(cal: lt.WorkCalendar, last: str, expected: str, why: str) -> None:
    assert lt.act_deadline(D(last), cal) == D(expected)
    assert cal.assumed_years == set()


FILING = [
    ("2026-10", 0, "2026-11-02", "October's last day is a Saturday"),
    ("2026-09", 0, "2026-09-30", "September's last day is a Wednesday"),
    ("2026-01", 0, "2026-02-02", "January's last day is a Saturday"),
    ("2026-02", 0, "2026-02-28", "February 2026 ends on Saturday 28th, an adjusted working day"),
    ("2026-09", 10, "2026-10-10", "day 10 of October 2026 is a worked Saturday"),
    ("2026-09", 5, "2026-10-08", "day 5 of October 2026 is inside National Day"),
    ("2024-02", 0, "2024-02-29", "a leap February"),
]


@pytest.mark.parametrize(("period", "due_day", "expected", "why"), FILING, ids=[f[3] for f in FILING])
def test_filing_deadline(cal: lt.WorkCalendar, period: str, due_day: int, expected: str, why: str) -> None:
    assert lt.filing_deadline(lt.parse_period(period), due_day, cal) == D(expected)


def test_validity_is_never_moved(cal: lt.WorkCalendar) -> None:
    # A title granted on 1 Oct 2023 is valid through 1 Oct 2026, a holiday: the validity does not move.
    assert lt.validity_last_day(D("2023-10-01"), 3) == D("2026-10-01")
    assert lt.validity_last_day(D("2024-02-29"), 3) == D("2027-02-28")


def test_district_report_deadline_2025_is_the_worked_saturday(cal: lt.WorkCalendar) -> None:
    assert lt.district_report_deadline(2025, cal) == D("2026-02-28")


def test_year_without_calendar_data_falls_back_to_weekends_and_says_so() -> None:
    cal = lt.WorkCalendar()
    assert not cal.covers(2027)
    # 1 Jan 2027 is a Friday: with no official data it counts as a working day.
    assert lt.act_deadline(D("2027-01-01"), cal) == D("2027-01-01")
    # 28 Feb 2027 is a Sunday: weekends only, so Monday 1 March.
    assert lt.district_report_deadline(2026, cal) == D("2027-03-01")
    assert cal.assumed_years == {2027}


def test_operator_holidays_file_overrides(tmp_path: Path) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(
        '[2027]\nholidays = ["2027-01-01", "2027-02-05"]\nworkdays = ["2027-02-20"]\n'
        '[2026]\nholidays = ["2026-12-31"]\n',
        encoding="utf-8",
    )
    cal = lt.WorkCalendar.load(path)
    assert cal.covers(2027)
    # New Year's Day 2027 (Friday) is a holiday; the weekend follows: Monday 4 January.
    assert lt.act_deadline(D("2027-01-01"), cal) == D("2027-01-04")
    assert lt.act_deadline(D("2027-02-05"), cal) == D("2027-02-08")
    assert lt.act_deadline(D("2027-02-20"), cal) == D("2027-02-20")  # an adjusted working Saturday
    # For a year the package covers, the listed dates override it and the rest stays the package's.
    assert lt.act_deadline(D("2026-12-31"), cal) == D("2027-01-04")
    assert lt.act_deadline(D("2026-10-01"), cal) == D("2026-10-08")
    assert cal.assumed_years == set()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[2027]\nholidays = ["2027-02-30"]\n', "2027-02-30"),
        ('[2027]\nholidays = ["2028-01-01"]\n', "2028-01-01"),
        ('[2027]\nholidays = ["2027-01-01"]\nworkdays = ["2027-01-01"]\n', "2027-01-01"),
        ('[2027]\nrestdays = ["2027-01-01"]\n', "restdays"),
        ("[twenty]\n", "[twenty]"),
    ],
    ids=["impossible date", "date of another year", "both lists", "unknown key", "not a year"],
)
def test_bad_holidays_file_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "h.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(lt.CalendarError) as exc:
        lt.WorkCalendar.load(path)
    assert str(path) in str(exc.value) and message in str(exc.value)


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-11-24T16:00:00+00:00", "2026-11-25"),  # midnight in Beijing
        ("2026-11-24T15:59:59+00:00", "2026-11-24"),
        ("2026-11-24T08:00:00-08:00", "2026-11-25"),  # Los Angeles morning is Beijing's next day
    ],
)
def test_legal_today_is_beijing_date(instant: str, expected: str) -> None:
    assert lt.legal_today(datetime.fromisoformat(instant)) == D(expected)


def test_legal_today_refuses_naive_time() -> None:
    with pytest.raises(ValueError):
        lt.legal_today(datetime(2026, 1, 1))


def test_stage_reached() -> None:
    due = D("2026-12-31")
    assert lt.stage_reached(D("2026-10-01"), due, (90, 30, 7)) is None  # 91 days before
    assert lt.stage_reached(D("2026-10-02"), due, (90, 30, 7)) == 90
    assert lt.stage_reached(D("2026-12-24"), due, (90, 30, 7)) == 7
    assert lt.stage_reached(due, due, (90, 30, 7)) == 7


def test_the_host_timezone_is_in_force(host_timezone: str) -> None:
    """conftest's zone is the process's: naive local time is that zone's, and (unless it is Beijing) the host's
    date differs from China's at some hour of the day."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(host_timezone.removeprefix(":"))
    instant = datetime(2026, 3, 1, 20, tzinfo=UTC)  # 04:00 on 2 March in Beijing
    offset = instant.astimezone(zone).utcoffset()
    assert offset is not None and instant.astimezone().utcoffset() == offset
    assert time.localtime(instant.timestamp()).tm_gmtoff == offset.total_seconds()
    if zone.key != lt.LEGAL_TZ.key:
        hours = [instant + timedelta(hours=h) for h in range(24)]
        assert any(h.astimezone().date() != lt.legal_today(h) for h in hours)
