"""The rules of the Measures: pure functions of (history, as-of date, calendar, settings) -> findings.

One module per article. `evaluate_entity` runs every entity rule; district and regulation rules take the
district's or the Measures' own facts and are run by the sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import History
from monitor.rules import (
    art9_applications,
    art10_publicity,
    art17_certification,
    art18_restructuring,
    art20_filings,
    art21_district_report,
    art21_rectification,
    art22_misconduct,
    art27_transition,
    service_figures,
)
from monitor.rules.base import RuleInput
from monitor.rules.finding import Finding
from monitor.rules.horizon import held_until
from monitor.status import EntityState, derive

ENTITY_RULES: tuple[Callable[[RuleInput], Iterable[Finding]], ...] = (
    art9_applications.evaluate,
    art10_publicity.evaluate,
    art17_certification.evaluate,
    art18_restructuring.evaluate,
    art20_filings.evaluate,
    art21_rectification.evaluate,
    art22_misconduct.evaluate,
    art27_transition.evaluate,
    service_figures.evaluate,
)

evaluate_district = art21_district_report.evaluate_district
evaluate_regulation = art27_transition.evaluate_regulation


@dataclass(frozen=True, slots=True)
class EntityReport:
    state: EntityState
    findings: list[Finding]
    # The first day after the as-of date on which this report may change without new data (SPEC 10).
    held_until: date

    @property
    def filing_streak(self) -> int:
        """Months missed in a row (Art. 20), as the filing findings carry it; 0 without one."""
        return next((int(f.params["streak"]) for f in self.findings if "streak" in f.params), 0)


def evaluate_entity(history: History, as_of: date, cal: lt.WorkCalendar, settings: RuleSettings) -> EntityReport:
    """Everything the Measures say about one entity on `as_of`, from what was known by the end of that day."""
    known = history.up_to(as_of)
    state = derive(known, as_of, cal, settings)
    ri = RuleInput(known, state, as_of, cal, settings)
    findings = [f for rule in ENTITY_RULES for f in rule(ri)]
    return EntityReport(state, findings, held_until(known, state, as_of, cal, settings))


__all__ = ["EntityReport", "Finding", "evaluate_district", "evaluate_entity", "evaluate_regulation"]
