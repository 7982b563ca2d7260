"""The event log: an events file or one `events record` command. Also filings (kind `filing`) and district
reports (kind `district_report`, Art. 21), which have tables of their own.

An event that is already recorded (same entity, kind, date, result and detail) is not added again, so an
events file can be imported twice. Whether an event makes sense is judged against the entity's events in the
database and every good row of the same file, by date: a file need not be sorted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from monitor.domain import EventKind, Scheme
from monitor.importing import values
from monitor.importing.common import ImportOptions, RowCheck, Summary
from monitor.importing.event_rules import (
    AFTER_APPLICATION,
    NOT_RECORDABLE,
    WITH_DETAIL,
    WITH_RESULT,
    WITH_YEAR,
    Firsts,
    article,
    event_kind,
    result,
    sense,
)
from monitor.importing.fields import EVENT_FIELDS
from monitor.importing.filings import unknown_code
from monitor.importing.problems import Problems
from monitor.legal_time import format_period
from monitor.storage.bulk import DistrictReport, FilingMerge, KnownEvent, append_events, known_events
from monitor.storage.bulk import merge_district_reports as merge_reports
from monitor.storage.repository import NewEvent, entity_ids

_I = {f.name: i for i, f in enumerate(EVENT_FIELDS)}
CODE, KIND, DATE, RESULT, DETAIL, NOTE = (_I[n] for n in ("credit_code", "kind", "date", "result", "detail", "note"))
DISTRICT, YEAR, PERIOD, CERT_NO, SCHEME = (_I[n] for n in ("district", "year", "period", "cert_no", "scheme"))
FIRST_YEAR = 2000
_ENGLISH = {"结果": "result", "详情": "detail"}
NOTE_MAX = 2000


@dataclass(slots=True)
class EventInput:
    row: int | None
    kind: EventKind
    day: date
    code: str = ""
    result: str = ""
    detail: str = ""
    note: str = ""
    district: str = ""
    year: int | None = None
    period: date | None = None
    cert_no: str = ""
    scheme: Scheme | None = None
    ok: bool = True  # False: a cell was bad; the row is still checked against the roster


def district_parser(known: frozenset[str]) -> Callable[[Any], str]:
    def parse(cell: Any) -> str:
        value = values.text(cell)
        if value and value not in known:
            raise values.Bad(f"未知区县 {value!r}，应为配置的成都市区（市）县之一 (unknown district)")
        return value

    return parse


def _plain(max_len: int, *, breaks: bool = False) -> Callable[[Any], str]:
    return lambda cell: values.plain_text(cell, max_len=max_len, allow_breaks=breaks)


def _no_value(check: RowCheck, i: int, what: str, kind: EventKind) -> None:
    """A value in a column this kind does not use is refused: it was most likely meant for another row."""
    cell = check.cells[i]
    if check.has(i) and cell is not None and (not isinstance(cell, str) or cell.strip()):
        check.fail(i, f"{kind.value} 事件不填{what}，说明请写在备注 ({kind.value} takes no {_ENGLISH[what]})")


def parse_event(check: RowCheck, opts: ImportOptions) -> EventInput | None:
    kind = check.get(KIND, event_kind, required=True)
    day = check.get(DATE, values.date_cell, required=True)
    check.not_future(DATE, day, opts.today)
    note = check.get(NOTE, _plain(NOTE_MAX, breaks=True)) or ""
    if kind is None:
        return None
    if kind in NOT_RECORDABLE:
        check.fail(KIND, NOT_RECORDABLE[kind])
        return None
    ev = EventInput(row=check.row, kind=kind, day=day or date.min, note=note)
    if kind is EventKind.DISTRICT_REPORT:
        _district_report(check, ev, opts)
    else:
        ev.code = check.get(CODE, values.credit, required=True) or ""
        _entity_event(check, ev)
    ev.ok = check.ok and day is not None
    return ev


def _district_report(check: RowCheck, ev: EventInput, opts: ImportOptions) -> None:
    if check.has(CODE) and values.text(check.cells[CODE]):
        check.fail(CODE, "区县报告不填统一社会信用代码，请填所属区县和年度 (a district report has no credit code)")
    ev.district = check.get(DISTRICT, district_parser(opts.districts), required=True) or ""
    ev.year = check.get(YEAR, values.year_cell, required=True)
    if ev.year is not None and not FIRST_YEAR <= ev.year <= ev.day.year:
        check.fail(YEAR, f"报告年度 {ev.year} 应不晚于报告日期所在年份 (the year covered cannot follow the report)")
    for i, what in ((RESULT, "结果"), (DETAIL, "详情")):
        _no_value(check, i, what, ev.kind)


def _entity_event(check: RowCheck, ev: EventInput) -> None:
    kind = ev.kind
    if kind in WITH_RESULT:
        ev.result = check.get(RESULT, result, required=True) or ""
    else:
        _no_value(check, RESULT, "结果", kind)
    if kind in WITH_DETAIL:
        words, expected = WITH_DETAIL[kind]
        ev.detail = check.get(DETAIL, lambda c: values.vocabulary(c, words, expected) or "", required=True) or ""
    elif kind is EventKind.REVOKED:
        ev.detail = check.get(DETAIL, article, required=True) or ""
    elif kind is EventKind.APPLIED:
        # The year applied for: the year column, or the detail column as the SPEC has it.
        source = YEAR if check.has(YEAR) and values.text(check.cells[YEAR]) else DETAIL
        ev.year = check.get(source, values.year_cell, required=True)
        if ev.year is not None and abs(ev.year - ev.day.year) > 1:
            check.fail(
                source, f"申报年度 {ev.year} 与申报日期 {ev.day} 不符 (the year applied for does not fit the date)"
            )
        ev.detail = str(ev.year or "")
    else:
        _no_value(check, DETAIL, "详情", kind)
    if kind in WITH_YEAR:
        # The application's year is kept in `detail`, as for `applied` (monitor.status.event_year reads it).
        year = check.get(YEAR, values.year_cell) if check.has(YEAR) else None
        if year is not None and abs(year - ev.day.year) > 1:
            check.fail(YEAR, f"申报年度 {year} 与日期 {ev.day} 不符 (the application's year does not fit the date)")
        ev.year = year
        if kind in AFTER_APPLICATION:
            ev.detail = str(year or ev.day.year)
        elif year is not None:
            ev.detail = str(year)
    if kind is EventKind.FILING:
        ev.period = check.get(PERIOD, values.period_cell, required=True)
        if ev.period is not None and ev.day < ev.period:
            check.fail(
                DATE, f"填报日期 {ev.day} 早于所填月份 {format_period(ev.period)} (filed before the month began)"
            )
    if kind is EventKind.CERTIFIED:
        ev.cert_no = check.get(CERT_NO, _plain(64)) or ""
        ev.scheme = check.get(SCHEME, values.scheme)


def import_events(
    session: Session,
    rows: Iterable[tuple[int | None, Sequence[Any]]],
    labels: Sequence[str],
    opts: ImportOptions,
    problems: Problems,
) -> Summary:
    """Validate every row, then append the events, merge filings and district reports; raises ImportFailed
    before writing anything when a row is bad."""
    parsed: list[EventInput] = []
    read = 0
    for row, cells in rows:
        read += 1
        ev = parse_event(RowCheck(problems, row, cells, labels), opts)
        if ev is not None:
            parsed.append(ev)

    ids = entity_ids(session, {ev.code for ev in parsed if ev.code})
    for ev in parsed:
        if ev.code and ev.code not in ids:
            problems.add(ev.row, labels[CODE], unknown_code(ev.code), seq=CODE)
    known = known_events(session, ids.values())
    firsts = {entity_id: Firsts.of(history) for entity_id, history in known.items()}
    good = [ev for ev in parsed if ev.ok]
    for ev in good:
        if ev.code in ids:
            firsts.setdefault(ids[ev.code], Firsts()).add(KnownEvent(ev.kind, ev.day, ev.result, ev.detail))
    for ev in good:
        if ev.code in ids:
            why = sense(ev.kind, ev.day, firsts[ids[ev.code]])
            if why:
                problems.add(ev.row, labels[KIND], why, seq=KIND)
    problems.raise_if_any()
    return _write(session, good, ids, known, opts, read)


def _write(
    session: Session,
    parsed: list[EventInput],
    ids: dict[str, int],
    known: dict[int, list[KnownEvent]],
    opts: ImportOptions,
    read: int,
) -> Summary:
    seen = {(entity_id, e) for entity_id, events in known.items() for e in events}
    new: list[tuple[int, NewEvent]] = []
    filings: list[dict[str, object]] = []
    reports: list[DistrictReport] = []
    for ev in parsed:
        if ev.kind is EventKind.DISTRICT_REPORT:
            assert ev.year is not None
            reports.append(DistrictReport(ev.district, ev.year, ev.day, ev.note))
            continue
        entity_id = ids[ev.code]
        if ev.kind is EventKind.FILING:
            filings.append({"entity_id": entity_id, "period": ev.period, "filed_on": ev.day})
            continue
        key = (entity_id, KnownEvent(ev.kind, ev.day, ev.result, ev.detail))
        if key in seen:
            continue
        seen.add(key)
        new.append(
            (
                entity_id,
                NewEvent(
                    credit_code=ev.code,
                    kind=ev.kind,
                    date=ev.day,
                    result=ev.result,
                    detail=ev.detail,
                    note=ev.note,
                    recorded_by=opts.recorded_by,
                    source=opts.source,
                    scheme=ev.scheme,
                    cert_no=ev.cert_no,
                ),
            )
        )
    added = append_events(session, new, opts.now)
    updated = 0
    if filings:
        merge = FilingMerge(session)
        merge.add(filings)
        f_added, f_updated = merge.apply(opts.stamp)
        merge.close()
        added, updated = added + f_added, updated + f_updated
    r_added, r_updated = merge_reports(session, reports, opts.stamp)
    added, updated = added + r_added, updated + r_updated
    return Summary(read=read, added=added, updated=updated, unchanged=read - added - updated)
