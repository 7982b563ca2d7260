"""What the `applications` commands read: the stored applications, each checked with the entity's ban."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import legal_time as lt
from monitor.applications.evaluate import Check, check
from monitor.applications.models import ApplicationRow
from monitor.config import RuleSettings
from monitor.domain import Application, Entity, History
from monitor.status import derive
from monitor.storage import repository
from monitor.storage.models import EntityRow


@dataclass(frozen=True, slots=True)
class Checked:
    entity: Entity
    application: Application
    check: Check


def ban_on(history: History, as_of: date, cal: lt.WorkCalendar, settings: RuleSettings) -> tuple[date, date] | None:
    """The Art. 22 ban on the entity as known on `as_of` (monitor.status.derive), if any."""
    state = derive(history.up_to(as_of), as_of, cal, settings)
    if state.ban_from is None or state.ban_until is None:
        return None
    return (state.ban_from, state.ban_until)


def checked(
    session: Session,
    as_of: date,
    cal: lt.WorkCalendar,
    settings: RuleSettings,
    *,
    codes: list[str] | None = None,
    year: int | None = None,
    locale: str = "zh_CN",
) -> list[Checked]:
    """Every stored application (of `year`, of `codes`), oldest year first per entity, with its check."""
    out: list[Checked] = []
    if codes is None:  # only the entities that applied: the roster may be long
        query = select(EntityRow.credit_code).join(ApplicationRow, ApplicationRow.entity_id == EntityRow.id)
        if year is not None:
            query = query.where(ApplicationRow.year == year)
        codes = sorted(set(session.execute(query).scalars()))
    for history in repository.iter_histories(session, codes=codes):
        if isinstance(history, repository.Unreadable) or not history.applications:
            continue
        ban = ban_on(history, as_of, cal, settings)
        for app in history.applications:
            if year is None or app.year == year:
                out.append(Checked(history.entity, app, check(app, ban, locale)))
    return out
