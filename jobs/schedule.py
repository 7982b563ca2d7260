"""Cron schedules in Asia/Shanghai: pure functions of an expression and an instant, no clock.

APScheduler's CronTrigger only looks forward; the daemon also needs to look back ("which occurrence is the
latest one that has come?") to catch up after a stop, so that is computed here from the same trigger.
The trigger (crontab weekday numbering) is `monitor.cron.trigger`, the one the configuration validates with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.cron import crontab_weekdays, trigger
from monitor.legal_time import LEGAL_TZ

__all__ = ["crontab_weekdays", "latest_occurrence", "next_occurrence", "period_at", "trigger"]

_TICK = timedelta(microseconds=1)
# The rarest cron occurrence is February 29th (every four years, up to eight around 2100); look back that far.
_LONGEST_GAP = timedelta(days=8 * 366 + 1)


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
