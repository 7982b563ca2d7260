"""The roster: entities upserted by credit code. A changed field becomes a `roster_changed` event
(`name: 旧 → 新`), a certification date a `certified` event (once per date).

A column the file does not have (say, no e-mail column) leaves that field as it is; a column that is there but
empty sets it empty. Certification dates are optional: an applicant not yet certified has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from monitor.domain import EventKind, Kind, Scheme
from monitor.importing import values
from monitor.importing.common import ImportOptions, RowCheck, Summary
from monitor.importing.events import district_parser
from monitor.importing.problems import Problems
from monitor.storage.bulk import ROSTER_COLUMNS, append_events, insert_entities, known_events, roster, update_entities
from monitor.storage.repository import NewEvent, entity_ids

CODE, NAME, KIND, DISTRICT, CERTIFIED_ON, CERT_NO, EMAIL, SCHEME, FUNCTIONS = range(9)
DETAIL_MAX = 200
EMPTY = "（空）"


@dataclass(slots=True)
class EntityInput:
    row: int | None
    code: str
    fields: dict[str, str]  # the roster columns the file gives
    certified_on: date | None
    scheme: Scheme | None


def _name(cell: Any) -> str:
    return values.plain_text(cell, max_len=200)


def _cert_no(cell: Any) -> str:
    return values.plain_text(cell, max_len=64)


def _emails(cell: Any) -> str:
    return ";".join(values.emails(cell))


def parse_entity(check: RowCheck, opts: ImportOptions) -> EntityInput | None:
    code = check.get(CODE, values.credit, required=True)
    name = check.get(NAME, _name, required=True)
    kind: Kind | None = check.get(KIND, values.kind, required=True)
    district = check.get(DISTRICT, district_parser(opts.districts), required=True)
    certified_on = check.get(CERTIFIED_ON, values.date_cell)
    check.not_future(CERTIFIED_ON, certified_on, opts.today)
    fields = {"name": name or "", "kind": kind.value if kind else "", "district": district or ""}
    if check.has(CERT_NO):
        fields["cert_no"] = check.get(CERT_NO, _cert_no) or ""
    if check.has(EMAIL):
        fields["emails"] = check.get(EMAIL, _emails) or ""
    scheme = check.get(SCHEME, values.scheme)
    if check.has(FUNCTIONS) and kind is not None:
        fields["functions"] = ";".join(check.get(FUNCTIONS, lambda c: values.functions(c, kind)) or ())
    if not check.ok or not code:
        return None
    return EntityInput(check.row, code, fields, certified_on, scheme)


def import_entities(
    session: Session,
    rows: Iterable[tuple[int | None, Sequence[Any]]],
    labels: Sequence[str],
    opts: ImportOptions,
    problems: Problems,
) -> Summary:
    parsed: list[EntityInput] = []
    first_row: dict[str, int | None] = {}
    read = 0
    for row, cells in rows:
        read += 1
        check = RowCheck(problems, row, cells, labels)
        entity = parse_entity(check, opts)
        if entity is None:
            continue
        if entity.code in first_row:
            check.fail(
                CODE, f"与第 {first_row[entity.code]} 行的统一社会信用代码重复 (duplicate credit code in this file)"
            )
            continue
        first_row[entity.code] = row
        parsed.append(entity)
    problems.raise_if_any()
    return _write(session, parsed, opts, read)


def _same(column: str, old: str, new: str) -> bool:
    if column == "emails":  # the same addresses in another order are the same contacts
        return set(old.split(";")) - {""} == set(new.split(";")) - {""}
    return old == new


def _change_event(column: str, old: str, new: str, opts: ImportOptions) -> NewEvent:
    full = f"{column}: {old or EMPTY} → {new or EMPTY}"
    short = full if len(full) <= DETAIL_MAX else full[: DETAIL_MAX - 1] + "…"
    return NewEvent(
        credit_code="",
        kind=EventKind.ROSTER_CHANGED,
        date=opts.today,
        detail=short,
        note=full if short != full else "",
        recorded_by=opts.recorded_by,
        source=opts.source,
    )


def _certified(entity: EntityInput, cert_no: str, opts: ImportOptions) -> NewEvent:
    assert entity.certified_on is not None
    return NewEvent(
        credit_code=entity.code,
        kind=EventKind.CERTIFIED,
        date=entity.certified_on,
        cert_no=cert_no,
        scheme=entity.scheme or Scheme.CURRENT,
        recorded_by=opts.recorded_by,
        source=opts.source,
    )


def _write(session: Session, parsed: list[EntityInput], opts: ImportOptions, read: int) -> Summary:
    existing = roster(session, (e.code for e in parsed))
    certified_on: dict[int, set[date]] = {}
    for entity_id, history in known_events(session, (r["id"] for r in existing.values())).items():
        certified_on[entity_id] = {e.date for e in history if e.kind is EventKind.CERTIFIED}
    stamp = {"recorded_by": opts.recorded_by, "source": opts.source}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[tuple[str, NewEvent]] = []
    updated = 0
    for entity in parsed:
        old = existing.get(entity.code)
        if old is None:
            row = {"emails": "", "cert_no": "", "functions": "", **entity.fields}
            inserts.append({"credit_code": entity.code, **row, **stamp, "created_at": opts.now, "updated_at": opts.now})
            if entity.certified_on:
                events.append((entity.code, _certified(entity, row["cert_no"], opts)))
            continue
        new = {column: entity.fields.get(column, old[column]) for column in ROSTER_COLUMNS}
        changed = [c for c in ROSTER_COLUMNS if not _same(c, old[c], new[c])]
        events.extend((entity.code, _change_event(c, old[c], new[c], opts)) for c in changed)
        if changed:
            updates.append(
                {"row_id": old["id"], **{c: new[c] for c in ROSTER_COLUMNS}, **stamp, "updated_at": opts.now}
            )
        certify = entity.certified_on is not None and entity.certified_on not in certified_on.get(old["id"], set())
        if certify:
            events.append((entity.code, _certified(entity, new["cert_no"], opts)))
        updated += bool(changed or certify)
    insert_entities(session, inserts)
    update_entities(session, updates)
    ids = {code: row["id"] for code, row in existing.items()}
    ids.update(entity_ids(session, (r["credit_code"] for r in inserts)))
    append_events(session, [(ids[code], ev) for code, ev in events], opts.now)
    added = len(inserts)
    return Summary(read=read, added=added, updated=updated, unchanged=read - added - updated)
