"""The held-until date (monitor/rules/horizon.py): an evaluation stays the same on every day before it."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import History
from monitor.rules import evaluate_entity
from tests.kept_strategies import days, histories, history_and_day, signature

CAL = lt.WorkCalendar()
SETTINGS = [RuleSettings(), RuleSettings(filing_due_day=10), RuleSettings(late_filing_counts_as_miss=False)]


def _check(history: History, as_of: date, rules: RuleSettings) -> date:
    known = history.up_to(as_of)  # what was recorded by the end of as_of; later data would mark it stale
    first = evaluate_entity(known, as_of, CAL, rules)
    until = first.held_until
    assert until > as_of
    want = signature(first)
    day = lt.days_after(as_of, 1)
    while day < until:
        assert signature(evaluate_entity(known, day, CAL, rules)) == want, f"changed on {day}, held until {until}"
        day = lt.days_after(day, 1)
    return until


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), which=st.integers(min_value=0, max_value=len(SETTINGS) - 1))
def test_kept_answer_matches_every_day(history: History, which: int) -> None:
    """Walk four years day by day from just before the first event, as the daemon would: evaluate, keep the
    answer until its held-until date, then evaluate again. Every day in between must give the kept answer."""
    rules = SETTINGS[which]
    first = min((e.date for e in history.events), default=date(2024, 1, 1))
    day, end = lt.days_before(first, 30), lt.days_after(first, 4 * 366)
    arrivals = sorted({e.date for e in history.events} | set(history.filings.values()))
    while day < end:
        until = _check(history, day, rules)
        # Data recorded before `until` would have marked the answer stale: evaluate again on that day.
        day = min([until, *(d for d in arrivals if day < d < until)])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=history_and_day(), which=st.integers(min_value=0, max_value=len(SETTINGS) - 1))
def test_evaluation_is_constant_until_held_until(case: tuple[History, date], which: int) -> None:
    _check(case[0], case[1], SETTINGS[which])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), as_of=days)
def test_held_until_is_a_change_or_a_month_start(history: History, as_of: date) -> None:
    """Not a test of correctness but of usefulness: the date is no later than the first of the next month,
    and when it is earlier, the evaluation on that day really differs (the horizon names real changes, not
    noise, most of the time: here at least its own month's first day is a safe upper bound)."""
    until = _check(history, as_of, RuleSettings())
    assert until <= lt.add_months(lt.month_of(as_of), 1)


def test_mid_month_filer_holds_until_the_first_reminder() -> None:
    """A title holder that has filed every month is not re-evaluated until its next filing reminder: on
    2026-11-10 with November unfiled, the 5-day reminder starts 2026-11-25 (deadline Monday 2026-11-30)."""
    from tests.rulecases import ENTITY, cert, monthly

    history = History(ENTITY, (cert("2025-06-15"),), monthly("2025-07", "2026-10"))
    report = evaluate_entity(history, date(2026, 11, 10), CAL, RuleSettings())
    assert report.findings == []
    assert report.held_until == date(2026, 11, 25)
    # On the 25th the reminder appears, and the answer holds until the 1-day stage on the 29th.
    on_25 = evaluate_entity(history, date(2026, 11, 25), CAL, RuleSettings())
    assert [f.stage for f in on_25.findings] == ["5d"]
    assert on_25.held_until == date(2026, 11, 29)
