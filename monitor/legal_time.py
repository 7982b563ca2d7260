"""Legal time: the one module that does date arithmetic on deadlines (SPEC section 2, Civil Code Arts. 200-204).

- A period counted in days, months or years starts the day after its trigger (Art. 201) and ends on the
  corresponding day of its final month, or that month's last day when it has no such day (Art. 202).
- The last day of a deadline to act moves to the next working day when it is not one (Art. 203). Validity
  periods (a title's three years, a ban) never move.
- Working days come from `chinesecalendar`, overridden by the operator's holidays file; a year that neither
  covers falls back to "weekends only" and is remembered in `WorkCalendar.assumed_years` so the caller can warn.
"""

from __future__ import annotations

import calendar as _stdcal
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.errors import CalendarError as CalendarError  # defined apart, so the command line can name it cheaply

LEGAL_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class YearArrangement:
    holidays: frozenset[date] = frozenset()  # non-working weekdays
    workdays: frozenset[date] = frozenset()  # adjusted working weekend days (调休)


def _package_years() -> frozenset[int]:
    import chinese_calendar  # imported on first use: commands that never ask for a workday start without it

    return frozenset(d.year for d in chinese_calendar.constants.holidays)


def _package_is_workday(day: date) -> bool:
    import chinese_calendar

    return bool(chinese_calendar.is_workday(day))


@dataclass
class WorkCalendar:
    overrides: Mapping[int, YearArrangement] = field(default_factory=dict)
    use_package: bool = True
    assumed_years: set[int] = field(default_factory=set)
    _cache: dict[date, bool] = field(default_factory=dict, repr=False)
    # Filing deadlines by (period, due day): a sweep asks for the same few dozen months for every entity.
    _filing_deadlines: dict[tuple[date, int], date] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._package_years = _package_years() if self.use_package else frozenset()

    @classmethod
    def load(cls, holidays_file: Path | None) -> WorkCalendar:
        return cls(overrides=load_holidays_file(holidays_file) if holidays_file else {})

    def covers(self, year: int) -> bool:
        """Whether the official arrangement for `year` is known (from the package or the operator)."""
        return year in self._package_years or year in self.overrides

    def is_workday(self, day: date) -> bool:
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._is_workday(day)
        return cached

    def _is_workday(self, day: date) -> bool:
        arrangement = self.overrides.get(day.year)
        if arrangement is not None:
            if day in arrangement.holidays:
                return False
            if day in arrangement.workdays:
                return True
        if day.year in self._package_years:
            return _package_is_workday(day)
        if arrangement is None:
            self.assumed_years.add(day.year)
        return day.weekday() < 5

    def next_workday_on_or_after(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day


def load_holidays_file(path: Path) -> dict[int, YearArrangement]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise CalendarError(f"{path}: 节假日文件不存在 (holidays file not found)") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CalendarError(f"{path}: 无法读取节假日文件 (cannot read holidays file): {exc}") from None
    out: dict[int, YearArrangement] = {}
    for key, table in data.items():
        if not key.isdigit() or not isinstance(table, dict):
            raise CalendarError(f"{path}: [{key}] 应为年份表，如 [2027] (each section must be a year)")
        year = int(key)
        unknown = set(table) - {"holidays", "workdays"}
        if unknown:
            raise CalendarError(f"{path}: [{year}] 未知项 (unknown keys): {', '.join(sorted(unknown))}")
        sets = {name: _dates(path, year, name, table.get(name, [])) for name in ("holidays", "workdays")}
        both = sets["holidays"] & sets["workdays"]
        if both:
            day = min(both).isoformat()
            raise CalendarError(f"{path}: [{year}] {day} 同时列为休息日和工作日 (listed as both)")
        out[year] = YearArrangement(holidays=sets["holidays"], workdays=sets["workdays"])
    return out


def _dates(path: Path, year: int, name: str, values: object) -> frozenset[date]:
    if not isinstance(values, list):
        raise CalendarError(f"{path}: [{year}] {name} 应为日期列表 (must be a list of dates)")
    out = set()
    for value in values:
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise CalendarError(f"{path}: [{year}] {name}: {value!r} 不是有效日期 (not a date)") from None
        if day.year != year:
            raise CalendarError(f"{path}: [{year}] {name}: {day} 不属于 {year} 年 (belongs to another year)")
        out.add(day)
    return frozenset(out)


# --- Today ---------------------------------------------------------------------------------------------


def legal_today(now: datetime) -> date:
    """The calendar date in Asia/Shanghai at the instant `now` (which must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("legal_today needs a timezone-aware datetime")
    return now.astimezone(LEGAL_TZ).date()


# --- Months ------------------------------------------------------------------------------------------------


def month_of(day: date) -> date:
    """The month containing `day`, as its first day (how filing periods are kept)."""
    return day.replace(day=1)


@lru_cache(maxsize=8192)
def add_months(day: date, months: int) -> date:
    """The corresponding day `months` later; the month's last day when it has no such day (Art. 202)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, _stdcal.monthrange(year, month + 1)[1]))


def month_index(period: date) -> int:
    return period.year * 12 + period.month - 1


def months_between(first: date, last: date) -> int:
    """How many months from period `first` to period `last` (both first days of months)."""
    return month_index(last) - month_index(first)


def last_day_of_month(day: date) -> date:
    return day.replace(day=_stdcal.monthrange(day.year, day.month)[1])


def months(first: date, last: date) -> Iterable[date]:
    """Periods from `first` to `last` inclusive."""
    current = month_of(first)
    while current <= last:
        yield current
        current = add_months(current, 1)


def parse_period(text: str) -> date:
    """'YYYY-MM' to the first day of that month; ValueError otherwise."""
    if len(text) != 7 or text[4] != "-" or not (text[:4].isdigit() and text[5:].isdigit()):
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    return date(int(text[:4]), int(text[5:]), 1)


def format_period(period: date) -> str:
    return f"{period.year:04d}-{period.month:02d}"


# --- Periods and deadlines (Arts. 201-203) --------------------------------------------------------------


def period_end(trigger: date, *, days: int = 0, months: int = 0, years: int = 0) -> date:
    """The last day of a period that begins the day after `trigger` (Arts. 201-202).

    n days after 2026-01-10 end on 2026-01-10 + n; 3 months after 2026-11-30 end on 2027-02-28.
    """
    if days and (months or years):
        raise ValueError("a period is counted in days, or in months and years, not both")
    if days:
        return trigger + timedelta(days=days)
    return add_months(trigger, months + 12 * years)


def act_deadline(last_day: date, cal: WorkCalendar) -> date:
    """The deadline to act whose last day is `last_day`, moved past non-working days (Art. 203)."""
    return cal.next_workday_on_or_after(last_day)


def deadline_after(trigger: date, cal: WorkCalendar, *, days: int = 0, months: int = 0, years: int = 0) -> date:
    """A deadline to act (report, rectify) counted from `trigger`: Arts. 201-203 together."""
    return act_deadline(period_end(trigger, days=days, months=months, years=years), cal)


def validity_last_day(start: date, years: int) -> date:
    """The last valid day of something granted on `start` for `years` years; never moved (Art. 203 n/a)."""
    return period_end(start, years=years)


def filing_deadline(period: date, due_day: int, cal: WorkCalendar) -> date:
    """When the filing for month `period` is due: the month's last day (due_day 0) or day `due_day` of the
    following month, moved past non-working days (Arts. 20, 203)."""
    key = (period, due_day)
    deadline = cal._filing_deadlines.get(key)
    if deadline is None:
        last = last_day_of_month(period) if due_day == 0 else add_months(period, 1).replace(day=due_day)
        deadline = cal._filing_deadlines[key] = act_deadline(last, cal)
    return deadline


def district_report_deadline(report_year: int, cal: WorkCalendar) -> date:
    """The district report on `report_year` is due by the end of February of the next year (Art. 21)."""
    return act_deadline(last_day_of_month(date(report_year + 1, 2, 1)), cal)


def days_before(due: date, n: int) -> date:
    """The day a reminder `n` days ahead of `due` starts."""
    return due - timedelta(days=n)


def days_after(day: date, n: int) -> date:
    return day + timedelta(days=n)


def days_left(as_of: date, due: date) -> int:
    """0 on the deadline day itself, negative once it has passed."""
    return (due - as_of).days


def stage_reached(as_of: date, due: date, offsets: Iterable[int]) -> int | None:
    """The smallest offset (in days before `due`) whose reminder has started by `as_of`, or None.

    With offsets (90, 30, 7), 20 days before `due` gives 30; 100 days before gives None.
    """
    left = days_left(as_of, due)
    reached = [n for n in offsets if left <= n]
    return min(reached) if reached else None
