"""What every rule function receives, and the helpers that turn a stage into a `Finding`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import History, RuleId, StageName
from monitor.rules.catalog import CATALOG, RuleMeta
from monitor.rules.finding import Finding
from monitor.status import EntityState


@dataclass(frozen=True, slots=True)
class RuleInput:
    history: History
    state: EntityState
    as_of: date
    cal: lt.WorkCalendar
    settings: RuleSettings


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    since: date


def stage_before(as_of: date, due: date, offsets: tuple[int, ...]) -> Stage | None:
    """The reminder stage reached `offsets` days ahead of `due` (e.g. 30d), through the due day itself."""
    if as_of > due:
        return None
    n = lt.stage_reached(as_of, due, offsets)
    if n is None:
        return None
    return Stage(f"{n}d", lt.days_before(due, n))


def overdue(as_of: date, due: date) -> Stage | None:
    """From the day after the deadline: the deadline day itself counts in full (Art. 203)."""
    start = lt.days_after(due, 1)
    return Stage(StageName.OVERDUE, start) if as_of >= start else None


def make(
    rule: RuleId,
    ri: RuleInput | None,
    as_of: date,
    stage: Stage,
    subject: str,
    due: date | None,
    *,
    meta: RuleMeta | None = None,
    district: str | None = None,
    **params: Any,
) -> Finding:
    m = meta or CATALOG[rule]
    entity = ri.history.entity if ri else None
    if entity is not None:
        params.setdefault("name", entity.name)
        params.setdefault("code", entity.credit_code)
        params.setdefault("kind", entity.kind.value)
        params.setdefault("district", entity.district)
    elif district is not None:
        params.setdefault("district", district)
    return Finding(
        rule=rule,
        article=m.article,
        severity=m.severity,
        audiences=m.audiences,
        stage=str(stage.name),  # a plain str: stages are stored and compared as text
        subject=subject,
        entity=entity.credit_code if entity else None,
        entity_name=entity.name if entity else None,
        district=entity.district if entity else district,
        due=due,
        days_left=lt.days_left(as_of, due) if due else None,
        since=stage.since,
        params=params,
    )
