"""The rules of the Measures: pure functions of (history, as-of date, calendar, settings) -> findings.

One module per article. `evaluate_entity` runs every entity rule; district and regulation rules take the
district's or the Measures' own facts and are run by the sweep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


class EntityReport:
    """One entity's evaluation: its state and findings; `held_until` (SPEC 10), the first day after the as-of
    date on which this report may change without new data, is computed when first asked (the kept answer asks,
    a plain sweep does not: it costs a seventh of an evaluation)."""

    __slots__ = ("_as_of", "_cal", "_held_until", "_known", "_settings", "findings", "state")

    def __init__(
        self,
        state: EntityState,
        findings: list[Finding],
        known: History,
        as_of: date,
        cal: lt.WorkCalendar,
        settings: RuleSettings,
    ) -> None:
        self.state, self.findings = state, findings
        self._known, self._as_of, self._cal, self._settings = known, as_of, cal, settings
        self._held_until: date | None = None

    @property
    def held_until(self) -> date:
        if self._held_until is None:
            self._held_until = held_until(self._known, self.state, self._as_of, self._cal, self._settings)
        return self._held_until

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
    return EntityReport(state, findings, known, as_of, cal, settings)


__all__ = ["EntityReport", "Finding", "evaluate_district", "evaluate_entity", "evaluate_regulation"]
