"""Arts. 4-10: an application that does not meet the conditions, and one the district has not reviewed.

第九条 属地区（市）县工业和信息化主管部门对申报主体资格、申报材料的真实性和完整性进行初审……符合申报条件的，
推荐至市经信局。

Both findings last until the application is decided (rejected or certified). The verdict is the pure check of
`monitor.applications.evaluate`, with the Art. 22 ban read from the entity's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from monitor import legal_time as lt
from monitor.applications.evaluate import Verdict, check
from monitor.domain import Application, Event, EventKind, Kind, RuleId, StageName
from monitor.rules.base import RuleInput, Stage, make
from monitor.rules.catalog import CATALOG, RuleMeta
from monitor.rules.finding import Finding
from monitor.status import EntityState, decided, event_year, reviewed


def _applied_event(state: EntityState, app: Application) -> Event | None:
    for ev in state.applications:
        if event_year(ev) == app.year:
            return ev
    return None


def _ban(state: EntityState) -> tuple[date, date] | None:
    if state.ban_from is None or state.ban_until is None:
        return None
    return (state.ban_from, state.ban_until)


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    state, as_of = ri.state, ri.as_of
    yield from _ineligible(ri)
    for applied in state.applications:
        if decided(state, applied) is not None or reviewed(state, applied, EventKind.DISTRICT_REVIEWED):
            continue
        due = lt.deadline_after(applied.date, ri.cal, days=ri.settings.district_review_days)
        if as_of > due:
            yield make(
                RuleId.DISTRICT_REVIEW_PENDING,
                ri,
                as_of,
                Stage(StageName.OVERDUE, lt.days_after(due, 1)),
                str(event_year(applied)),
                due,
                applied_on=applied.date,
                year=event_year(applied),
                days=ri.settings.district_review_days,
            )


def _ineligible(ri: RuleInput) -> Iterator[Finding]:
    state, as_of = ri.state, ri.as_of
    ban = _ban(state)
    for app in ri.history.applications:
        applied = _applied_event(state, app)
        if applied is not None and decided(state, applied) is not None:
            continue
        result = check(app, ban)
        if result.verdict is not Verdict.NOT_ELIGIBLE:
            continue
        base = CATALOG[RuleId.APPLICATION_INELIGIBLE]
        article = 4 if app.kind is Kind.PLATFORM else 6
        yield make(
            RuleId.APPLICATION_INELIGIBLE,
            ri,
            as_of,
            Stage(StageName.APPLIED, app.applied_on),
            str(app.year),
            None,
            meta=RuleMeta(article, base.severity, base.audiences),
            year=app.year,
            applied_on=app.applied_on,
            app_kind=app.kind.value,
            unmet=[c.id for c in result.unmet],
            unmet_where=[c.where for c in result.unmet],
        )
