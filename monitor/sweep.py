"""The sweep: every entity and district evaluated from the database in bulk, one bad entity never fatal."""

from __future__ import annotations

import gc
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.districts import District
from monitor.domain import Entity, History, IncompleteHistory, Status
from monitor.progress import progress
from monitor.rules import evaluate_district, evaluate_entity, evaluate_regulation
from monitor.rules.art21_district_report import report_years
from monitor.rules.finding import Finding
from monitor.status import Reason
from monitor.storage import repository

log = logging.getLogger(__name__)

# Months of filings a sweep reads for every entity; an entity whose streak reaches further is read in full.
WINDOW_MONTHS = 8


@dataclass(frozen=True, slots=True)
class EntityStatus:
    status: Status
    reasons: tuple[Reason, ...]
    expires_on: date | None
    filing_streak: int = 0


@dataclass(frozen=True, slots=True)
class EntityError:
    credit_code: str
    error: str


@dataclass
class SweepResult:
    as_of: date
    findings: list[Finding] = field(default_factory=list)
    entities: dict[str, Entity] = field(default_factory=dict)
    statuses: dict[str, EntityStatus] = field(default_factory=dict)
    errors: list[EntityError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    evaluated: int | None = None  # entities evaluated for this result (None: all; a kept answer: the refresh's)


def calendar_warnings(cal: lt.WorkCalendar) -> list[str]:
    return [
        f"{year}年法定节假日安排未收录（chinesecalendar 未覆盖，calendar.holidays_file 未提供），"
        f"该年截止日期仅按周末顺延，请补充国务院办公厅公布的安排 "
        f"(no official holiday data for {year}: weekends only)"
        for year in sorted(cal.assumed_years)
    ]


@contextmanager
def collector_paused() -> Iterator[None]:
    """The sweep allocates millions of small acyclic objects; Python's cycle collector would rescan the
    growing heap again and again (a fifth of the sweep's time at 100,000 entities). It runs again after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_sweep(
    session: Session,
    as_of: date,
    cal: lt.WorkCalendar,
    settings: RuleSettings,
    districts: Iterable[District] = (),
    *,
    codes: Iterable[str] | None = None,
    chunk: int = repository.CHUNK,
    label: str | None = None,
) -> SweepResult:
    """Evaluate every rule for every entity (or those in `codes`), every district and the Measures.

    Filings are read for the last WINDOW_MONTHS months only; the few entities whose streak of missed months
    reaches further back are read again in full. With `label`, the sweep shows its progress under that name
    (`monitor.progress`: a bar on a terminal, else one log line).
    """
    result = SweepResult(as_of=as_of)
    years = report_years(as_of)
    titled: dict[str, set[int]] = defaultdict(set)
    start = lt.add_months(lt.month_of(as_of), -WINDOW_MONTHS)
    incomplete: list[str] = []
    histories: Iterable[History | repository.Unreadable] = repository.iter_histories(
        session, codes=codes, filings_from=start, as_of=as_of, chunk=chunk
    )
    if label is not None:
        total = (
            len(codes) if isinstance(codes, Sized) else repository.count_entities(session) if codes is None else None
        )
        histories = progress(histories, total, label, unit="主体")
    with collector_paused():
        for history in histories:
            code = _evaluate(history, as_of, cal, settings, years, titled, result)
            if code:
                incomplete.append(code)
        for i in range(0, len(incomplete), 500):
            for history in repository.iter_histories(session, codes=incomplete[i : i + 500], as_of=as_of):
                _evaluate(history, as_of, cal, settings, years, titled, result)
    if codes is None:
        reports = repository.district_reports(session)
        for district in districts:
            result.findings.extend(
                evaluate_district(district.name, titled.get(district.name, set()), reports, as_of, cal, settings)
            )
        result.findings.extend(evaluate_regulation(as_of, settings))
    result.warnings = calendar_warnings(cal)
    return result


def _evaluate(
    history: History | repository.Unreadable,
    as_of: date,
    cal: lt.WorkCalendar,
    settings: RuleSettings,
    years: tuple[int, ...],
    titled: dict[str, set[int]],
    result: SweepResult,
) -> str | None:
    """Evaluate one entity into `result`; returns its code when it must be read again in full."""
    if isinstance(history, repository.Unreadable):
        log.error("entity %s skipped: stored data unreadable: %s", history.credit_code, history.error)
        result.errors.append(EntityError(history.credit_code, history.error))
        return None
    entity = history.entity
    try:
        report = evaluate_entity(history, as_of, cal, settings)
    except IncompleteHistory:
        return entity.credit_code
    except Exception as exc:  # one entity's bad data must not stop the sweep for the others
        log.exception("entity %s skipped: rule evaluation failed", entity.credit_code)
        result.errors.append(EntityError(entity.credit_code, f"{type(exc).__name__}: {exc}"))
        return None
    state = report.state
    title = state.title
    result.entities[entity.credit_code] = entity
    result.statuses[entity.credit_code] = EntityStatus(
        state.status, tuple(state.reasons), title.last_valid_day if title else None, report.filing_streak
    )
    result.findings.extend(report.findings)
    for y in years:
        if state.held_during(date(y, 1, 1), date(y, 12, 31)):
            titled[entity.district].add(y)
    return None
