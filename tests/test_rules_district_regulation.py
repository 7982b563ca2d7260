"""Art. 21 district reports and Art. 27 expiry of the Measures: one case per row, dates checked by hand.

The 2025 report is due by the end of February 2026: Saturday 28 Feb 2026 is an adjusted working day, so the
deadline stays 2026-02-28. The 2026 report is due 28 Feb 2027, a Sunday in a year chinesecalendar does not
cover: weekends only, so Monday 1 March 2027."""

from __future__ import annotations

from datetime import date

import pytest

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import RuleId as R
from monitor.rules import evaluate_district, evaluate_regulation

D = date.fromisoformat
DIST = "锦江区"

CASES = [
    # (id, as_of, years with titles, reports {(year): received}, expected {rule: (stage, days_left, year)})
    ("Jan 31: nothing yet", "2026-01-31", {2024, 2025}, {2024: "2025-02-20"}, {}),
    (
        "Feb 1: first reminder",
        "2026-02-01",
        {2024, 2025},
        {2024: "2025-02-20"},
        {R.DISTRICT_REPORT_DUE: ("feb1", 27, 2025)},
    ),
    ("8 days before", "2026-02-20", {2024, 2025}, {2024: "2025-02-20"}, {R.DISTRICT_REPORT_DUE: ("feb1", 8, 2025)}),
    ("7 days before", "2026-02-21", {2024, 2025}, {2024: "2025-02-20"}, {R.DISTRICT_REPORT_DUE: ("7d", 7, 2025)}),
    (
        "deadline day (worked Saturday)",
        "2026-02-28",
        {2024, 2025},
        {2024: "2025-02-20"},
        {R.DISTRICT_REPORT_DUE: ("7d", 0, 2025)},
    ),
    (
        "the day after",
        "2026-03-01",
        {2024, 2025},
        {2024: "2025-02-20"},
        {R.DISTRICT_REPORT_OVERDUE: ("overdue", -1, 2025)},
    ),
    ("resolved by the report", "2026-03-06", {2024, 2025}, {2024: "2025-02-20", 2025: "2026-03-05"}, {}),
    (
        "a report received later is not known yet",
        "2026-03-04",
        {2025},
        {2025: "2026-03-05"},
        {R.DISTRICT_REPORT_OVERDUE: ("overdue", -4, 2025)},
    ),
    ("no titles in the district that year", "2026-03-01", {2026}, {}, {}),
    ("year not covered: 28 Feb 2027 is a Sunday", "2027-03-01", {2026}, {}, {R.DISTRICT_REPORT_DUE: ("7d", 0, 2026)}),
    (
        "year not covered: overdue from 2 March",
        "2027-03-02",
        {2026},
        {},
        {R.DISTRICT_REPORT_OVERDUE: ("overdue", -1, 2026)},
    ),
    (
        "older report still overdue in January",
        "2027-01-15",
        {2025, 2026},
        {},
        {R.DISTRICT_REPORT_OVERDUE: ("overdue", -321, 2025)},
    ),
]


@pytest.mark.parametrize(("as_of", "years", "reports", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_district_report(as_of: str, years: set[int], reports: dict[int, str], expected: dict[str, object]) -> None:
    received = {(DIST, y): D(on) for y, on in reports.items()}
    got = list(evaluate_district(DIST, years, received, D(as_of), lt.WorkCalendar(), RuleSettings()))
    assert {f.rule: (f.stage, f.days_left, f.params["year"]) for f in got} == expected
    for f in got:
        assert f.entity is None and f.district == DIST
        assert "第二十一条" in f.message()


def test_overdue_older_report_is_superseded_by_the_next_deadline() -> None:
    cal = lt.WorkCalendar()
    got = list(evaluate_district(DIST, {2025, 2026}, {}, D("2027-03-02"), cal, RuleSettings()))
    assert [(f.rule, f.params["year"]) for f in got] == [(R.DISTRICT_REPORT_OVERDUE, 2026)]


ISSUED = RuleSettings(regulation_issued_on=D("2025-01-15"))  # valid through 2030-01-15
REGULATION = [
    ("off when no issue date", RuleSettings(), "2029-12-01", None),
    ("181 days before", ISSUED, "2029-07-18", None),
    ("180 days before", ISSUED, "2029-07-19", ("180d", 180)),
    ("last day", ISSUED, "2030-01-15", ("180d", 0)),
    ("the day after", ISSUED, "2030-01-16", ("expired", -1)),
]


@pytest.mark.parametrize(("settings", "as_of", "expected"), [r[1:] for r in REGULATION], ids=[r[0] for r in REGULATION])
def test_regulation_expiring(settings: RuleSettings, as_of: str, expected: tuple[str, int] | None) -> None:
    got = [(f.stage, f.days_left) for f in evaluate_regulation(D(as_of), settings)]
    assert got == ([expected] if expected else [])
