"""Monthly filing compliance (Art. 20) for the digest: of the entities that owed a month's filing, how many
filed it by its deadline, late, or not at all.

A month is owed by an entity when one of its titles was held on the month's first day and the month comes
after the month of the grant (SPEC section 4: the obligation starts with the first month after certification
and lasts while the title is held). A month counts once its deadline has passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import History
from monitor.status import derive


@dataclass(frozen=True, slots=True)
class MonthCompliance:
    period: date  # first day of the month
    deadline: date
    owed: int
    on_time: int
    late: int

    @property
    def missing(self) -> int:
        return self.owed - self.on_time - self.late

    @property
    def rate(self) -> float | None:
        return self.on_time / self.owed if self.owed else None

    @property
    def label(self) -> str:
        return lt.format_period(self.period)


def closed_periods(as_of: date, count: int, cal: lt.WorkCalendar, settings: RuleSettings) -> list[date]:
    """The `count` latest months whose filing deadline passed before `as_of`, oldest first."""
    period = lt.month_of(as_of)
    while lt.filing_deadline(period, settings.filing_due_day, cal) >= as_of:
        period = lt.add_months(period, -1)
    return [lt.add_months(period, -k) for k in range(count - 1, -1, -1)]


def filing_compliance(
    histories: Iterable[History], as_of: date, cal: lt.WorkCalendar, settings: RuleSettings, months: int = 12
) -> list[MonthCompliance]:
    periods = closed_periods(as_of, months, cal, settings)
    deadlines = {p: lt.filing_deadline(p, settings.filing_due_day, cal) for p in periods}
    owed = dict.fromkeys(periods, 0)
    on_time = dict.fromkeys(periods, 0)
    late = dict.fromkeys(periods, 0)
    for history in histories:
        state = derive(history, as_of, cal, settings)
        spans = [
            (
                lt.add_months(lt.month_of(t.granted_on), 1),
                min(t.last_valid_day, state.title_ended_on.get(t.seq, t.last_valid_day)),
            )
            for t in state.titles
        ]
        for p in periods:
            if not any(first <= p <= end for first, end in spans):
                continue
            owed[p] += 1
            filed = history.filings.get(p)
            if filed is None or filed > as_of:
                continue
            if filed <= deadlines[p]:
                on_time[p] += 1
            else:
                late[p] += 1
    return [MonthCompliance(p, deadlines[p], owed[p], on_time[p], late[p]) for p in periods]
