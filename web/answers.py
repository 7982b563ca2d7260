"""What the console reads, always through a `Scope` (web/access.py): the kept answer (SPEC 10) for lists and
counts, a fresh evaluation of one entity for its page (any `?as_of=`), the findings of the scope.

Lists and counts are SQL over `entities` joined with `kept_answers`, filtered by `scope.where_district`, so a
district user's pages, counts and exports can only contain its district. `kept.ensure_fresh` runs first (a
cache write, no data change), so every answer is right for today at any hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor import kept, registry
from monitor import legal_time as lt
from monitor.domain import History, Status
from monitor.rules import evaluate_district, evaluate_entity, evaluate_regulation
from monitor.rules.art21_district_report import report_years
from monitor.rules.finding import Finding
from monitor.status import filed_as_required, filing_position
from monitor.storage import repository
from monitor.storage.kept_models import KeptAnswerRow, KeptFindingRow
from monitor.storage.models import EntityRow
from monitor.sweep import SweepResult, run_sweep
from web.access import Scope

if TYPE_CHECKING:
    from web.app import AppState

ENTITIES = cast(sa.Table, EntityRow.__table__)
KEPT = cast(sa.Table, KeptAnswerRow.__table__)
FINDINGS = cast(sa.Table, KeptFindingRow.__table__)


EntityFilters = registry.Filters  # q, status, district, kind: the registry's filters, every status allowed


@dataclass(frozen=True)
class EntityItem:
    credit_code: str
    name: str
    kind: str
    district: str
    status: str
    expires_on: date | None
    filing_streak: int


def fresh(state: AppState, today: date) -> None:
    """The kept answer up to date for today (the registry's `Freshness`: one refresh at a time)."""
    state.freshness.ensure(state.db, today)


def _entity_where(session: Session, scope: Scope, f: EntityFilters) -> list[sa.ColumnElement[bool]]:
    """The conditions on `entities` (and, for a status, on `kept_answers`) of the filters, in the scope."""
    where = [scope.where_district(ENTITIES.c.district)]
    if f.q:
        where.append(registry.text_condition(session.get_bind().dialect.name, f.q))
    if f.status is Status.UNCERTIFIED:  # also an entity the kept answer has no row for yet
        where.append(sa.func.coalesce(KEPT.c.status, Status.UNCERTIFIED.value) == f.status.value)
    elif f.status:
        where.append(KEPT.c.status == f.status.value)
    if f.district:
        where.append(ENTITIES.c.district == f.district)
    if f.kind:
        where.append(ENTITIES.c.kind == f.kind.value)
    return where


_JOIN = ENTITIES.outerjoin(KEPT, KEPT.c.entity_id == ENTITIES.c.id)
_COLUMNS = (
    ENTITIES.c.credit_code,
    ENTITIES.c.name,
    ENTITIES.c.kind,
    ENTITIES.c.district,
    KEPT.c.status,
    KEPT.c.expires_on,
    KEPT.c.filing_streak,
)


def _item(row: Any) -> EntityItem:
    return EntityItem(
        row.credit_code,
        row.name,
        row.kind,
        row.district,
        row.status or Status.UNCERTIFIED.value,
        row.expires_on,
        row.filing_streak or 0,
    )


def _source(f: EntityFilters) -> sa.FromClause:
    """`entities` alone unless a status is asked for: joining the kept answer to every row only to count
    them costs seconds at 100,000 entities (benchmarks/console.py)."""
    if f.status is None:
        return ENTITIES
    if f.status is Status.UNCERTIFIED:
        return _JOIN
    return ENTITIES.join(KEPT, KEPT.c.entity_id == ENTITIES.c.id)


def entity_page(
    session: Session, scope: Scope, f: EntityFilters, page: int, per_page: int
) -> tuple[list[EntityItem], int]:
    if f.status not in (None, Status.UNCERTIFIED) and not (f.q or f.district or f.kind) and scope.district is None:
        # Only a status: the kept answer's own rows (one per entity) and its status index answer it alone.
        assert f.status is not None
        only = KEPT.c.status == f.status.value
        total = session.execute(sa.select(sa.func.count()).select_from(KEPT).where(only)).scalar_one()
        ids = sa.select(KEPT.c.entity_id).where(only).order_by(KEPT.c.credit_code)
    else:
        where = _entity_where(session, scope, f)
        source = _source(f)
        total = session.execute(sa.select(sa.func.count()).select_from(source).where(*where)).scalar_one()
        ids = sa.select(ENTITIES.c.id).select_from(source).where(*where).order_by(ENTITIES.c.credit_code)
    ids = ids.limit(per_page).offset((page - 1) * per_page)
    page_ids = list(session.execute(ids).scalars())
    rows = session.execute(
        sa.select(*_COLUMNS).select_from(_JOIN).where(ENTITIES.c.id.in_(page_ids)).order_by(ENTITIES.c.credit_code)
    ).all()
    return [_item(r) for r in rows], int(total)


def entity_rows(session: Session, scope: Scope, f: EntityFilters) -> list[EntityItem]:
    """Every row of the filtered list (an export), in the scope."""
    where = _entity_where(session, scope, f)
    rows = session.execute(sa.select(*_COLUMNS).select_from(_JOIN).where(*where).order_by(ENTITIES.c.credit_code))
    return [_item(r) for r in rows]


def status_counts(session: Session, scope: Scope) -> dict[str, int]:
    status = sa.func.coalesce(KEPT.c.status, Status.UNCERTIFIED.value)
    rows = session.execute(
        sa.select(status, sa.func.count())
        .select_from(_JOIN)
        .where(scope.where_district(ENTITIES.c.district))
        .group_by(status)
    )
    return {str(s): int(n) for s, n in rows}


def scoped_findings(
    state: AppState, scope: Scope, as_of: date, today: date, *, only: sa.ColumnElement[bool] | None = None
) -> SweepResult:
    """The open findings the user may read as of `as_of`: the kept answer (fresh for today) of the entities
    in the scope, plus the district findings of the scope's districts (and, outside a district, the
    regulation's)."""
    settings = state.settings
    if as_of != today:
        with state.db.session() as session:
            result = run_sweep(session, as_of, state.calendar, settings.rules, settings.districts)
    else:
        fresh(state, today)
        with state.db.session() as session:
            codes = None
            if only is not None:  # the entities with a kept finding of this kind, in the scope
                codes = list(
                    session.execute(
                        sa.select(FINDINGS.c.credit_code)
                        .distinct()
                        .where(only, scope.where_district(FINDINGS.c.district))
                    ).scalars()
                )
            elif scope.district is not None:
                codes = list(
                    session.execute(
                        sa.select(ENTITIES.c.credit_code).where(scope.where_district(ENTITIES.c.district))
                    ).scalars()
                )
            result = kept.read(session, as_of, codes=codes)
            titled = kept.titled_years(session, report_years(as_of))
            reports = repository.district_reports(session)
        for district in settings.districts:
            if scope.sees(district.name):
                result.findings.extend(
                    evaluate_district(
                        district.name, titled.get(district.name, set()), reports, as_of, state.calendar, settings.rules
                    )
                )
        if scope.district is None:
            result.findings.extend(evaluate_regulation(as_of, settings.rules))
    result.findings = [f for f in result.findings if scope.sees(f.district)]
    result.statuses = {
        c: s for c, s in result.statuses.items() if c in result.entities and scope.sees(result.entities[c].district)
    }
    return result


# --- one entity ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridMonth:
    period: date
    label: str
    state: str  # filed | late | missed | open | none
    filed_on: date | None
    deadline: date | None


@dataclass
class EntityView:
    history: History
    as_of: date
    status: Status
    report: Any
    findings: list[Finding]
    grid: list[GridMonth]
    title: Any


def entity_view(state: AppState, history: History, as_of: date) -> EntityView:
    rules, cal = state.settings.rules, state.calendar
    report = evaluate_entity(history, as_of, cal, rules)
    known = history.up_to(as_of)
    st = report.state
    pos = filing_position(known, st, as_of, cal, rules)
    grid: list[GridMonth] = []
    last = lt.month_of(as_of)
    for i in range(23, -1, -1):
        period = lt.add_months(last, -i)
        deadline = lt.filing_deadline(period, rules.filing_due_day, cal)
        filed = known.filings.get(period)
        owed = (
            pos.first_owed is not None
            and period >= pos.first_owed
            and (st.title is None or period <= st.title.last_valid_day)
        )
        if filed is not None:
            kind = "filed" if filed_as_required(known, period, deadline, rules) else "late"
        elif not owed:
            kind = "none"
        elif deadline < as_of:
            kind = "missed"
        else:
            kind = "open"
        grid.append(GridMonth(period, lt.format_period(period), kind, filed, deadline if owed else None))
    findings = sorted(report.findings, key=lambda f: (-f.severity, f.days_left if f.days_left is not None else 10**6))
    return EntityView(known, as_of, st.status, report, findings, grid, st.title)
