"""A title holder's service figures for the year so far, projected to the full year (SPEC section 9). Pure.

Counts of services (enterprises served, person-times, activities) add up over the months; states (a system
exists) take the latest month's value. The projection is the sum x 12 / the closed months of the year counted
(the months before the as-of month, from the first month after the grant when the title was granted this
year); only closed months' figures are counted. Each function's condition of Art. 5 / Art. 7 is then checked
on the projection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from monitor import legal_time as lt
from monitor.applications.conditions import FUNCTIONS, STATE_FIELDS, Condition, Context, Result, function_condition
from monitor.domain import Kind


@dataclass(frozen=True, slots=True)
class FunctionStanding:
    function: str
    condition: Condition
    result: Result  # met: on track
    so_far: dict[str, float]  # count field -> sum over the closed months
    projected: dict[str, float]  # count field -> sum x 12 / closed months


@dataclass(frozen=True, slots=True)
class YearStanding:
    year: int
    first_month: date
    last_month: date  # the last closed month counted
    closed: int
    functions: tuple[FunctionStanding, ...]

    @property
    def on_track(self) -> int:
        return sum(1 for f in self.functions if f.result is Result.MET)


_NUMBERS = (int, float)  # exact classes: a bool is not a count
_NO_BAN = Context()


def standing(
    kind: Kind,
    functions: tuple[str, ...],
    figures: Mapping[date, Mapping[str, Any]],
    as_of: date,
    granted_on: date | None = None,
) -> YearStanding | None:
    """None when no month of the year is closed yet, or none of the closed months carries a figure (figures
    are optional in a filing: the monitor cannot tell a silent entity from an idle one)."""
    year = as_of.year
    first = date(year, 1, 1)
    if granted_on is not None and granted_on.year == year:
        first = lt.add_months(lt.month_of(granted_on), 1)
    last = lt.add_months(lt.month_of(as_of), -1)
    if last < first:
        return None
    closed = lt.months_between(first, last) + 1
    # One pass over the months: counts add up, states (yes/no) keep the latest month's value.
    totals: dict[str, float] = {}
    states: dict[str, Any] = {}
    seen = False
    for p in sorted(p for p in figures if first <= p <= last):
        for field, v in figures[p].items():
            seen = True
            if v is True or v is False:
                states[field] = v
            elif v.__class__ in _NUMBERS:
                totals[field] = totals.get(field, 0) + v
    if not seen:
        return None
    out = []
    for name in functions:
        if name not in FUNCTIONS[kind]:
            continue
        cond = function_condition(kind, name)
        values: dict[str, Any] = {}
        so_far: dict[str, float] = {}
        projected: dict[str, float] = {}
        for field in cond.fields:
            if field in STATE_FIELDS:
                if field in states:
                    values[field] = states[field]
                continue
            total = so_far[field] = totals.get(field, 0)
            projected[field] = values[field] = round(total * 12 / closed, 1)
        outcome = cond.test.check(values, _NO_BAN)
        out.append(FunctionStanding(name, cond, outcome.result, so_far, projected))
    return YearStanding(year, first, last, closed, tuple(out))
