"""`applications import FILE`: applications keyed by (credit code, year), all or nothing.

Each application records one `applied` event per credit code and year, dated `applied_on`: a re-import with
another date moves that event, never adds a second. An applicant not on the roster is added to it,
uncertified (a name, kind and district are then needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.applications import codec
from monitor.applications.fields import APPLICATION_FIELDS, AppField, Type
from monitor.applications.models import ApplicationRow
from monitor.applications.parsers import count, number, park, percent, yes_no
from monitor.domain import EventKind, Kind
from monitor.importing import values
from monitor.importing.common import REQUIRED, ImportOptions, RowCheck, Summary
from monitor.importing.events import district_parser
from monitor.importing.fields import Field
from monitor.importing.problems import Problems
from monitor.storage import stale
from monitor.storage.bulk import append_events, chunks, insert_entities, roster
from monitor.storage.models import EventRow
from monitor.storage.repository import NewEvent, entity_ids

# The import file's columns: the header may carry the conditions the template writes after the name.
FIELDS: tuple[Field, ...] = tuple(
    Field(f.name, f.zh, (*f.aliases, f"{f.zh}[{f.serves}]", f"{f.name}[{f.serves}]"), required=f.required)
    for f in APPLICATION_FIELDS
)
_I = {f.name: i for i, f in enumerate(APPLICATION_FIELDS)}

PARSERS: dict[Type, Callable[[Any], Any]] = {
    Type.YES: yes_no,
    Type.COUNT: count,
    Type.NUMBER: number,
    Type.PERCENT: percent,
    Type.PARK: park,
    Type.DATE: values.date_cell,
    Type.TEXT: lambda c: values.plain_text(c, max_len=200),
}


@dataclass(slots=True)
class Parsed:
    row: int | None
    code: str
    year: int
    kind: Kind
    applied_on: date
    name: str
    district: str
    facts: dict[str, Any]


def parse_row(check: RowCheck, opts: ImportOptions) -> Parsed | None:
    code = check.get(_I["credit_code"], values.credit, required=True)
    year = check.get(_I["year"], values.year_cell, required=True)
    kind: Kind | None = check.get(_I["kind"], values.kind, required=True)
    applied_on = check.get(_I["applied_on"], values.date_cell, required=True)
    check.not_future(_I["applied_on"], applied_on, opts.today)
    if year is not None and applied_on is not None and abs(year - applied_on.year) > 1:
        check.fail(_I["year"], f"申报年度 {year} 与申报日期 {applied_on} 不符 (the year does not fit applied_on)")
    name = check.get(_I["name"], PARSERS[Type.TEXT]) or ""
    district = check.get(_I["district"], district_parser(opts.districts)) or ""
    facts: dict[str, Any] = {}
    for f in APPLICATION_FIELDS:
        if f.type in (Type.CODE, Type.YEAR, Type.KIND, Type.DISTRICT) or f.name in ("name", "applied_on"):
            continue
        value = _fact(check, f, kind)
        if value is not None:
            facts[f.name] = value
    registered = facts.get("registered_on")
    if registered is not None and applied_on is not None and registered > applied_on:
        check.fail(_I["registered_on"], f"注册登记日期 {registered} 晚于申报日期 (registered after applied_on)")
    qualified, staff = facts.get("qualified_staff"), facts.get("full_time_staff")
    if qualified is not None and staff is not None and qualified > staff:
        check.fail(_I["qualified_staff"], f"{qualified} 人多于专职服务人员数 {staff} (more than the full-time staff)")
    if not check.ok or not code or year is None or kind is None or applied_on is None:
        return None
    return Parsed(check.row, code, year, kind, applied_on, name, district, facts)


def _fact(check: RowCheck, f: AppField, kind: Kind | None) -> Any:
    i = _I[f.name]
    if f.type is Type.FUNCTIONS:
        if kind is None or not check.has(i):
            return None
        cell = check.cells[i]
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        return check.get(i, lambda c: values.functions(c, kind))
    return check.get(i, PARSERS[f.type])


def import_applications(
    session: Session,
    rows: Iterable[tuple[int | None, Sequence[Any]]],
    labels: Sequence[str],
    opts: ImportOptions,
    problems: Problems,
) -> Summary:
    parsed: list[Parsed] = []
    seen: dict[tuple[str, int], int | None] = {}
    read = 0
    for row, cells in rows:
        read += 1
        check = RowCheck(problems, row, cells, labels)
        p = parse_row(check, opts)
        if p is None:
            continue
        key = (p.code, p.year)
        if key in seen:
            problems.add(row, labels[_I["year"]], f"与第 {seen[key]} 行重复：同一主体同一年度只有一份申报 (duplicate)")
            continue
        seen[key] = row
        parsed.append(p)
    existing = roster(session, {p.code for p in parsed})
    for p in parsed:
        old = existing.get(p.code)
        if old is None:
            for column, value in (("name", p.name), ("district", p.district)):
                if not value:
                    problems.add(
                        p.row, labels[_I[column]], f"{REQUIRED}：申报主体不在名册中，需填写 (not on the roster)"
                    )
        elif old["kind"] != p.kind.value:
            problems.add(
                p.row,
                labels[_I["kind"]],
                f"申报类型 {p.kind.value} 与名册中的类型 {old['kind']} 不符 (the kind differs from the roster)",
            )
    problems.raise_if_any()
    return _write(session, parsed, existing, opts, read)


def _write(
    session: Session, parsed: list[Parsed], existing: dict[str, dict[str, Any]], opts: ImportOptions, read: int
) -> Summary:
    stamp = {"recorded_by": opts.recorded_by, "source": opts.source}
    new_entities = [
        {
            "credit_code": p.code,
            "name": p.name,
            "kind": p.kind.value,
            "district": p.district,
            "emails": "",
            "cert_no": "",
            "functions": "",
            **stamp,
            "created_at": opts.now,
            "updated_at": opts.now,
        }
        for p in parsed
        if p.code not in existing
    ]
    insert_entities(session, new_entities)
    ids = {code: row["id"] for code, row in existing.items()}
    ids.update(entity_ids(session, (str(e["credit_code"]) for e in new_entities)))
    entity_ids_ = sorted({ids[p.code] for p in parsed})
    stored = _stored_applications(session, entity_ids_)
    applied = _applied_events(session, entity_ids_)
    added = updated = 0
    new_events: list[tuple[int, NewEvent]] = []
    for p in parsed:
        entity_id = ids[p.code]
        fields = codec.dumps(p.facts)
        row = stored.get((entity_id, p.year))
        if row is None:
            session.add(
                ApplicationRow(
                    entity_id=entity_id,
                    year=p.year,
                    kind=p.kind.value,
                    applied_on=p.applied_on,
                    name=p.name,
                    district=p.district,
                    fields=fields,
                    recorded_at=opts.now,
                    updated_at=opts.now,
                    **stamp,
                )
            )
            added += 1
        elif (row.applied_on, row.fields, row.kind, row.name, row.district) != (
            p.applied_on,
            fields,
            p.kind.value,
            p.name,
            p.district,
        ):
            row.applied_on, row.fields, row.kind, row.name, row.district = (
                p.applied_on,
                fields,
                p.kind.value,
                p.name,
                p.district,
            )
            row.updated_at = opts.now
            row.recorded_by, row.source = opts.recorded_by, opts.source
            updated += 1
        # One `applied` event per entity and year: added once, moved to the new date by a re-import.
        event = applied.get((entity_id, str(p.year)))
        if event is None:
            new_events.append(
                (
                    entity_id,
                    NewEvent(
                        credit_code=p.code,
                        kind=EventKind.APPLIED,
                        date=p.applied_on,
                        detail=str(p.year),
                        recorded_by=opts.recorded_by,
                        source=opts.source,
                    ),
                )
            )
        elif event[1] != p.applied_on:
            session.execute(
                update(EventRow)
                .where(EventRow.id == event[0])
                .values(
                    occurred_on=p.applied_on, recorded_by=opts.recorded_by, source=opts.source, recorded_at=opts.now
                )
            )
    append_events(session, new_events, opts.now)
    session.flush()
    # The applications and the moved events change what these entities' evaluations read (SPEC 10).
    stale.mark_stale(session, entity_ids_)
    return Summary(read=read, added=added, updated=updated, unchanged=read - added - updated)


def _stored_applications(session: Session, entity_ids_: list[int]) -> dict[tuple[int, int], ApplicationRow]:
    out: dict[tuple[int, int], ApplicationRow] = {}
    for part in chunks(entity_ids_):
        for row in session.execute(select(ApplicationRow).where(ApplicationRow.entity_id.in_(part))).scalars():
            out[(row.entity_id, row.year)] = row
    return out


def _applied_events(session: Session, entity_ids_: list[int]) -> dict[tuple[int, str], tuple[int, date]]:
    """(entity, year) -> (event id, date) of its first `applied` event."""
    out: dict[tuple[int, str], tuple[int, date]] = {}
    for part in chunks(entity_ids_):
        query = (
            select(EventRow.entity_id, EventRow.detail, EventRow.id, EventRow.occurred_on)
            .where(EventRow.entity_id.in_(part), EventRow.kind == EventKind.APPLIED.value)
            .order_by(EventRow.id)
        )
        for entity_id, detail, event_id, occurred in session.execute(query):
            out.setdefault((entity_id, detail), (event_id, occurred))
    return out
