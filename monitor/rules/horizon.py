"""Until when an entity's evaluation holds: the next day on which, without new data, a stage, a deadline, an
expiry or the end of a ban could change its findings or its status (SPEC section 10).

Like a trigger's next fire time, this is computed from the state alone: every date at which some rule compares
the as-of date with a threshold is a candidate, and the answer is the earliest candidate after `as_of`. A
candidate that changes nothing only costs an early re-evaluation; a change point missing here would keep a wrong
answer, so the list errs on the side of more dates, and the first day of the next month is always one (the
filing month rolls over, the year may change, monthly rules move). `days_left` and the like are not part of
the answer: they are derived from the stored dates when read.

A rule that compares the as-of date with a new threshold must add that threshold here; the property test in
tests/test_kept_property.py checks that the answer is constant on every day before the date given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import EventKind, History
from monitor.status import EntityState, decided, filing_position, reviewed


def _before(due: date, offsets: Iterable[int]) -> Iterator[date]:
    """A reminder `n` days ahead of `due` starts on due - n; the day after `due` the deadline has passed."""
    for n in offsets:
        yield lt.days_before(due, n)
    yield lt.days_after(due, 1)


def _candidates(
    history: History, state: EntityState, as_of: date, cal: lt.WorkCalendar, s: RuleSettings
) -> Iterator[date]:
    yield lt.add_months(lt.month_of(as_of), 1)
    title = state.title
    if title is not None and state.revocation is None:
        last = title.last_valid_day
        yield date(last.year, 1, 1)  # RENEWAL_YEAR starts (it ends with the year: a first of a month)
        yield from _before(last, s.cert_expiring_days)  # CERT_EXPIRING stages; expiry the day after
        yield lt.days_after(last, s.cert_expired_days + 1)  # CERT_EXPIRED ends
    if state.holds_title:
        for r in state.restructurings:
            if r.reported_on is None:
                yield from _before(r.report_deadline, s.restructuring_report_days)
        for rect in state.rectifications:
            yield from _before(rect.deadline, s.rectification_days)
        pos = filing_position(history, state, as_of, cal, s)
        if pos.open_deadline is not None:
            yield from _before(pos.open_deadline, s.filing_reminder_days)
    for until in (state.ban_until, state.revocation.ban_until if state.revocation else None):
        if until is not None:
            yield lt.days_after(until, 1)
    for applied in state.applications:  # DISTRICT_REVIEW_PENDING starts the day after the district's deadline
        if decided(state, applied) is None and reviewed(state, applied, EventKind.DISTRICT_REVIEWED) is None:
            yield lt.days_after(lt.deadline_after(applied.date, cal, days=s.district_review_days), 1)
    if state.publicized:
        yield lt.days_after(lt.period_end(state.publicized[-1].date, days=s.publicity_days), 1)


def held_until(history: History, state: EntityState, as_of: date, cal: lt.WorkCalendar, settings: RuleSettings) -> date:
    """The first day after `as_of` on which the evaluation may differ from the one made for `as_of`."""
    return min(d for d in _candidates(history, state, as_of, cal, settings) if d > as_of)
