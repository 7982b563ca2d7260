"""The sweep: every entity and district evaluated from the database in bulk, one bad entity never fatal."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.districts import District
from monitor.domain import Entity, Status
from monitor.rules import evaluate_district, evaluate_entity, evaluate_regulation
from monitor.rules.art21_district_report import report_years
from monitor.rules.finding import Finding
from monitor.status import Reason
from monitor.storage import repository

log = logging.getLogger(__name__)

# Months of filings a sweep reads row by row; older months are summed up in SQL (repository.FilingsWindow).
WINDOW_MONTHS = 8
# How far back the SQL summary looks: no title held today was granted earlier than this.
SUMMARY_MONTHS = 48


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


def calendar_warnings(cal: lt.WorkCalendar) -> list[str]:
    return [
        f"{year}年法定节假日安排未收录（chinesecalendar 未覆盖，calendar.holidays_file 未提供），"
        f"该年截止日期仅按周末顺延，请补充国务院办公厅公布的安排 "
        f"(no official holiday data for {year}: weekends only)"
        for year in sorted(cal.assumed_years)
    ]


def filings_window(as_of: date, cal: lt.WorkCalendar, settings: RuleSettings) -> repository.FilingsWindow:
    start = lt.add_months(lt.month_of(as_of), -WINDOW_MONTHS)
    deadlines = None
    if settings.late_filing_counts_as_miss:
        deadlines = {
            p: lt.filing_deadline(p, settings.filing_due_day, cal)
            for p in lt.months(lt.add_months(start, -SUMMARY_MONTHS), lt.add_months(start, -1))
        }
    return repository.FilingsWindow(start=start, as_of=as_of, deadlines=deadlines)


def run_sweep(
    session: Session,
    as_of: date,
    cal: lt.WorkCalendar,
    settings: RuleSettings,
    districts: Iterable[District] = (),
    *,
    codes: Iterable[str] | None = None,
) -> SweepResult:
    """Evaluate every rule for every entity (or those in `codes`), every district and the Measures."""
    result = SweepResult(as_of=as_of)
    window = filings_window(as_of, cal, settings)
    years = report_years(as_of)
    titled: dict[str, set[int]] = defaultdict(set)
    for history in repository.iter_histories(session, codes=codes, window=window):
        if isinstance(history, repository.Unreadable):
            log.error("entity %s skipped: stored data unreadable: %s", history.credit_code, history.error)
            result.errors.append(EntityError(history.credit_code, history.error))
            continue
        entity = history.entity
        try:
            report = evaluate_entity(history, as_of, cal, settings)
            state = report.state
            streak = next((f.params["streak"] for f in report.findings if "streak" in f.params), 0)
            status = EntityStatus(
                state.status,
                tuple(state.reasons),
                state.title.last_valid_day if state.title else None,
                streak,
            )
            for y in years:
                if state.held_during(date(y, 1, 1), date(y, 12, 31)):
                    titled[entity.district].add(y)
        except Exception as exc:  # one entity's bad data must not stop the sweep for the others
            log.exception("entity %s skipped: rule evaluation failed", entity.credit_code)
            result.errors.append(EntityError(entity.credit_code, f"{type(exc).__name__}: {exc}"))
            continue
        result.entities[entity.credit_code] = entity
        result.statuses[entity.credit_code] = status
        result.findings.extend(report.findings)
    if codes is None:
        reports = repository.district_reports(session)
        for district in districts:
            result.findings.extend(
                evaluate_district(district.name, titled.get(district.name, set()), reports, as_of, cal, settings)
            )
        result.findings.extend(evaluate_regulation(as_of, settings))
    result.warnings = calendar_warnings(cal)
    return result
