"""Art. 21 (first paragraph): each district reports on its platforms and bases by the end of February.

第二十一条 区（市）县工业和信息化主管部门……每年2月底前将上一年度平台、基地工作总结和检查情况报告报市经信局。
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import RuleId, StageName
from monitor.rules.base import Stage, make, overdue, stage_before
from monitor.rules.finding import Finding


def report_years(as_of: date) -> tuple[int, int]:
    """The years whose reports matter on `as_of`: the previous year's (due this February) and the one before
    (overdue until this year's deadline supersedes it)."""
    return as_of.year - 2, as_of.year - 1


def evaluate_district(
    district: str,
    years_with_titles: set[int],
    reports: Mapping[tuple[str, int], date],
    as_of: date,
    cal: lt.WorkCalendar,
    settings: RuleSettings,
) -> Iterator[Finding]:
    older, year = report_years(as_of)
    deadline = lt.district_report_deadline(year, cal)

    def missing(y: int) -> bool:
        received = reports.get((district, y))
        return y in years_with_titles and (received is None or received > as_of)

    if missing(older) and as_of <= deadline:
        late = overdue(as_of, lt.district_report_deadline(older, cal))
        if late:
            yield _finding(RuleId.DISTRICT_REPORT_OVERDUE, district, older, late, as_of, cal)
    if not missing(year):
        return
    late = overdue(as_of, deadline)
    if late:
        yield _finding(RuleId.DISTRICT_REPORT_OVERDUE, district, year, late, as_of, cal)
        return
    stage = stage_before(as_of, deadline, settings.district_report_days)
    feb1 = date(year + 1, 2, 1)
    if stage is None and as_of >= feb1:
        stage = Stage(StageName.FEB1, feb1)
    if stage:
        yield _finding(RuleId.DISTRICT_REPORT_DUE, district, year, stage, as_of, cal)


def _finding(rule: RuleId, district: str, year: int, stage: Stage, as_of: date, cal: lt.WorkCalendar) -> Finding:
    due = lt.district_report_deadline(year, cal)
    return make(rule, None, as_of, stage, str(year), due, district=district, year=year)
