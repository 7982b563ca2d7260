"""Monthly filings (Art. 20): one row per entity and month; the earliest filing date counts.

Rows are validated as they stream in and staged in bulk; unknown credit codes are looked up a chunk at a
time. Nothing reaches the `filings` table until every row has passed; then two statements merge the lot.
A row may carry the month's service figures (SPEC 9, optional columns): kept with the filing, a later upload
of the same month replaces them while the filing's date stays the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from monitor.applications.fields import BY_NAME, Type
from monitor.applications.figures_store import merge_figures
from monitor.applications.parsers import count, yes_no
from monitor.importing import values
from monitor.importing.common import ImportOptions, RowCheck, Summary
from monitor.importing.fields import FILING_FIELDS
from monitor.importing.problems import Problems
from monitor.legal_time import format_period
from monitor.storage.bulk import FilingMerge
from monitor.storage.repository import entity_ids

CODE, PERIOD, FILED = range(3)
FIRST_FIGURE = 3
CHUNK = 20_000


def unknown_code(code: str) -> str:
    return f"统一社会信用代码 {code} 不在名册中，请先导入名册 (unknown credit code: import the roster first)"


def import_filings(
    session: Session,
    rows: Iterable[tuple[int | None, Sequence[Any]]],
    labels: Sequence[str],
    opts: ImportOptions,
    problems: Problems,
) -> Summary:
    """Validate and merge filing rows (cells: credit code, period, filed on). Raises ImportFailed, having
    written nothing that outlives the caller's rollback, when any row is bad."""
    staging = _Staging(session, labels, problems)
    read = 0
    for row, cells in rows:
        read += 1
        check = RowCheck(problems, row, cells, labels)
        code = check.get(CODE, values.credit, required=True)
        period = check.get(PERIOD, values.period_cell, required=True)
        filed = check.get(FILED, values.date_cell, required=True)
        if filed is not None:
            check.not_future(FILED, filed, opts.today)
            if period is not None and filed < period:
                check.fail(
                    FILED,
                    f"填报日期 {filed} 早于所填月份 {format_period(period)} (filed before the month began)",
                )
        figures = _figures(check, labels)
        if code:  # checked against the roster even when another cell of the row is bad
            staging.add(row, code, period, filed, check.ok)
            if figures and check.ok and period is not None:
                staging.figures[(code, period)] = figures
    staging.flush()
    problems.raise_if_any()
    added, updated = staging.merge.apply(opts.stamp)
    staging.merge.close()
    if staging.figures:
        updated += merge_figures(session, {(staging.ids[c], p): f for (c, p), f in staging.figures.items()}, opts.stamp)
    return Summary(read=read, added=added, updated=updated, unchanged=read - added - updated)


def _figures(check: RowCheck, labels: Sequence[str]) -> dict[str, Any]:
    """The row's service figures (columns after filed_on; a portal row has none)."""
    out: dict[str, Any] = {}
    for i in range(FIRST_FIGURE, min(len(check.cells), len(labels))):
        if not check.has(i):
            continue
        name = FILING_FIELDS[i].name
        kind = BY_NAME[name].type
        value = check.get(i, yes_no if kind is Type.YES else count)
        if value is not None:
            out[name] = value
    return out


class _Staging:
    def __init__(self, session: Session, labels: Sequence[str], problems: Problems) -> None:
        self.session = session
        self.labels = labels
        self.problems = problems
        self.merge = FilingMerge(session)
        self.ids: dict[str, int] = {}
        self.unknown: set[str] = set()
        self.pending: list[tuple[int | None, str, date | None, date | None, bool]] = []
        self.figures: dict[tuple[str, date], dict[str, Any]] = {}  # (code, period) -> figures, the last row wins

    def add(self, row: int | None, code: str, period: date | None, filed: date | None, ok: bool) -> None:
        self.pending.append((row, code, period, filed, ok))
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        missing = {p[1] for p in self.pending} - self.ids.keys() - self.unknown
        if missing:
            found = entity_ids(self.session, missing)
            self.ids.update(found)
            self.unknown |= missing - found.keys()
        staged: list[dict[str, object]] = []
        for row, code, period, filed, ok in self.pending:
            entity_id = self.ids.get(code)
            if entity_id is None:
                self.problems.add(row, self.labels[CODE], unknown_code(code), seq=CODE)
            elif ok and not self.problems:  # once anything is wrong nothing will be written: stop staging
                staged.append({"entity_id": entity_id, "period": period, "filed_on": filed})
        if not self.problems:
            self.merge.add(staged)
        self.pending.clear()
