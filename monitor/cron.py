"""Five-field crontab expressions as APScheduler triggers in Asia/Shanghai: the one parser of cron strings.

The configuration validates `[schedule]` with `trigger` and the daemon schedules with it, so an expression
the daemon would run is never refused at start-up, and the other way round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.legal_time import LEGAL_TZ

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def trigger(expr: str) -> CronTrigger:
    """The trigger for a five-field crontab expression, evaluated in Asia/Shanghai whatever the host's zone.

    Raises ValueError for an expression that is not one.
    """
    from apscheduler.triggers.cron import CronTrigger  # imported here: `--help` and the CLI start without it

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
