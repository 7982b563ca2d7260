"""Cron schedules in Asia/Shanghai: pure functions of an expression and an instant, no clock.

APScheduler's CronTrigger only looks forward; the daemon also needs to look back ("which occurrence is the
latest one that has come?") to catch up after a stop, so that is computed here from the same trigger.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from monitor.legal_time import LEGAL_TZ

_TICK = timedelta(microseconds=1)
# The rarest cron occurrence is February 29th (every four years, up to eight around 2100); look back that far.
_LONGEST_GAP = timedelta(days=8 * 366 + 1)


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def trigger(expr: str) -> CronTrigger:
    """The trigger for a five-field crontab expression, evaluated in Asia/Shanghai whatever the host's zone."""
    fields = expr.split()
    if len(fields) == 5:
        fields[4] = crontab_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=LEGAL_TZ)


def crontab_weekdays(field: str) -> str:
    """The day-of-week field with crontab's numbering (0 or 7 = Sunday) spelled as names.

    APScheduler 3 counts 0 as Monday (its documented "historical mistake"); an operator who writes the
    usual `1-5` means Monday to Friday, so numbers are converted to names, which both read the same way.
    """
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"day-of-week step must be positive, got: {part!r}")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            first_text, last_text = base.split("-", 1)
            first, last = _weekday(first_text), _weekday(last_text)
            if last == 0 and first > 0:
                last = 7  # "5-7" and "fri-sun" run to Sunday
        else:
            first = last = _weekday(base)
            if step_text:
                last = max(first, 6)
        if first > last:
            raise ValueError(f"day-of-week range runs backwards: {part!r}")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def _weekday(text: str) -> int:
    text = text.strip().lower()
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    if text.isdigit() and 0 <= int(text) <= 7:
        return int(text)
    raise ValueError(f"not a day of the week (0-7 or sun-sat): {text!r}")


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("schedule computations need a timezone-aware datetime")
    return now.astimezone(LEGAL_TZ)


def next_occurrence(expr: str, after: datetime) -> datetime | None:
    """The first occurrence strictly after `after`."""
    fire: datetime | None = trigger(expr).get_next_fire_time(None, _aware(after) + _TICK)
    return fire


def latest_occurrence(expr: str, now: datetime) -> datetime | None:
    """The most recent occurrence at or before `now` (None only for an expression that never fired)."""
    now = _aware(now)
    cron = trigger(expr)
    lookback = timedelta(hours=1)
    while True:
        fire: datetime | None = cron.get_next_fire_time(None, now - lookback)
        if fire is not None and fire <= now:
            break
        if lookback >= _LONGEST_GAP:
            return None
        lookback *= 2
    # `fire` is the first occurrence in the window; walk forward to the last one that is not in the future.
    while True:
        following: datetime | None = cron.get_next_fire_time(None, fire + _TICK)
        if following is None or following > now:
            return fire
        fire = following


def period_at(expr: str, now: datetime) -> timedelta | None:
    """The gap between the latest occurrence at or before `now` and the one before it: the job's period."""
    last = latest_occurrence(expr, now)
    if last is None:
        return None
    before = latest_occurrence(expr, last - _TICK)
    return None if before is None else last - before
