"""Reading and writing the roster and the event log.

Reads for a sweep are bulk: entities are taken in chunks of consecutive ids, and each chunk costs three
queries (entities, events with their certifications, filings) whatever its size. Writes append; the only
update is an entity's roster row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from monitor.applications import codec
from monitor.applications.models import ApplicationRow, FilingFiguresRow
from monitor.domain import Application, Entity, Event, EventKind, History, Kind, Scheme
from monitor.storage import driver, stale
from monitor.storage.models import CertificationRow, DistrictReportRow, EntityRow, EventRow, FilingRow

CHUNK = 5000


@lru_cache(maxsize=65536)
def _iso(text: str) -> date:
    return date.fromisoformat(text)


def _as_date(value: Any) -> date:
    """Dates read as text on SQLite (parsed through a cache: a sweep sees few distinct dates), as dates on
    PostgreSQL."""
    return value if isinstance(value, date) else _iso(value)


def split_emails(text: str) -> tuple[str, ...]:
    return tuple(e for e in (p.strip() for p in text.split(";")) if e)


def split_functions(text: str) -> tuple[str, ...]:
    return tuple(f for f in (p.strip() for p in text.split(";")) if f) if text else ()


# Enum lookups by value through plain dicts: a sweep converts millions of stored values.
_KINDS = {k.value: k for k in Kind}
_EVENT_KINDS = {k.value: k for k in EventKind}


def _enum(table: dict[str, Any], value: str, what: type) -> Any:
    try:
        return table[value]
    except KeyError:
        raise ValueError(f"{value!r} is not a valid {what.__name__}") from None


def _entity_from_tuple(t: Sequence[Any]) -> Entity:
    _id, code, name, kind, district, emails, cert_no, functions = t
    return Entity(
        code,
        name,
        _enum(_KINDS, kind, Kind),
        district,
        split_emails(emails) if emails else (),
        cert_no,
        split_functions(functions),
    )


_ENTITY_COLUMNS = (
    EntityRow.id,
    EntityRow.credit_code,
    EntityRow.name,
    EntityRow.kind,
    EntityRow.district,
    EntityRow.emails,
    EntityRow.cert_no,
    EntityRow.functions,
)
_EVENT_COLUMNS = (
    EventRow.entity_id,
    EventRow.id,
    EventRow.kind,
    type_coerce(EventRow.occurred_on, String),
    EventRow.result,
    EventRow.detail,
    EventRow.note,
    EventRow.recorded_by,
    EventRow.source,
    CertificationRow.cert_no,
    CertificationRow.scheme,
)


def _event_from_tuple(t: Sequence[Any]) -> Event:
    _eid, seq, kind, occurred, result, detail, note, by, source, cert_no, scheme = t
    return Event(
        kind=_enum(_EVENT_KINDS, kind, EventKind),
        date=_as_date(occurred),
        seq=seq,
        result=result,
        detail=detail,
        note=note,
        recorded_by=by,
        source=source,
        cert_no=cert_no or "",
        scheme=Scheme(scheme) if scheme else None,
    )


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An entity whose stored rows cannot be read (a value edited by hand into something unknown)."""

    credit_code: str
    district: str
    error: str


def iter_histories(
    session: Session,
    *,
    codes: Iterable[str] | None = None,
    ids: Iterable[int] | None = None,
    district: str | None = None,
    filings_from: date | None = None,
    as_of: date | None = None,
    chunk: int = CHUNK,
) -> Iterator[History | Unreadable]:
    """Every entity's history, in id order, three queries per chunk of `chunk` entities.

    `filings_from` leaves out the filings for earlier months (History.filings_from says so to the rules);
    `as_of` leaves out what was recorded as happening after that day. `codes` or `ids` (entity row ids, at
    most a few thousand: one IN list) choose the entities.
    """
    base = select(*_ENTITY_COLUMNS).order_by(EntityRow.id)
    if codes is not None:
        base = base.where(EntityRow.credit_code.in_(list(codes)))
    run = None
    if ids is not None:
        wanted = sorted(set(ids))
        run = id_run(wanted)
        base = base.where(ids_condition(EntityRow.id, wanted))
    if district is not None:
        base = base.where(EntityRow.district == district)
    # A run of consecutive ids (a full sweep's chunk) is a range like the unfiltered read, not an IN list.
    filtered = codes is not None or (ids is not None and run is None) or district is not None
    # Core execution on the session's connection: these are plain tuples, the ORM's row loading is not needed
    # (flushed first, as the session's own execute would: what this transaction added is read back).
    session.flush()
    conn = session.connection()
    last_id = 0
    while True:
        rows = driver.fetch_tuples(conn, base.where(EntityRow.id > last_id).limit(chunk))
        if not rows:
            return
        low, high = rows[0][0], rows[-1][0]
        last_id = high
        # Unfiltered, a chunk is every id in [low, high]; filtered, only the ids found.
        chunk_ids = [r[0] for r in rows]
        raw_events: dict[int, list[Any]] = defaultdict(list)
        ev_query = (
            select(*_EVENT_COLUMNS)
            .outerjoin(CertificationRow, CertificationRow.event_id == EventRow.id)
            .where(EventRow.entity_id.in_(chunk_ids) if filtered else EventRow.entity_id.between(low, high))
            .order_by(EventRow.entity_id, EventRow.occurred_on, EventRow.id)
        )
        for t in driver.fetch_tuples(conn, ev_query):  # one fetch, not a fetch per row
            raw_events[t[0]].append(t)
        filings: dict[int, dict[date, date]] = defaultdict(dict)
        f_query = select(
            FilingRow.entity_id, type_coerce(FilingRow.period, String), type_coerce(FilingRow.filed_on, String)
        ).where(FilingRow.entity_id.in_(chunk_ids) if filtered else FilingRow.entity_id.between(low, high))
        if filings_from is not None:
            f_query = f_query.where(FilingRow.period >= filings_from)
        if as_of is not None:
            f_query = f_query.where(FilingRow.filed_on <= as_of)
        memo: dict[Any, date] = {}  # a chunk has a few hundred distinct dates: parse each once
        for eid, period, filed in driver.fetch_tuples(conn, f_query):
            p = memo.get(period)
            if p is None:
                p = memo[period] = _as_date(period)
            f = memo.get(filed)
            if f is None:
                f = memo[filed] = _as_date(filed)
            filings[eid][p] = f
        in_chunk = filtered, chunk_ids, low, high
        applications = _applications(session, in_chunk)
        figures = _figures(session, in_chunk, as_of)
        for row in rows:
            try:
                yield History(
                    entity=_entity_from_tuple(row),
                    events=tuple(_event_from_tuple(t) for t in raw_events.get(row[0], ())),
                    filings=filings.get(row[0], {}),
                    filings_from=filings_from,
                    applications=tuple(_application(t) for t in applications.get(row[0], ())),
                    figures=figures.get(row[0], {}),
                )
            except ValueError as exc:  # a stored value the code cannot read: report it, go on with the rest
                yield Unreadable(credit_code=row[1], district=row[4], error=f"{type(exc).__name__}: {exc}")
        if len(rows) < chunk:
            return  # the last chunk: asking again would find nothing


_Chunk = tuple[bool, list[int], int, int]


def id_run(ids: Sequence[int]) -> tuple[int, int] | None:
    """(first, last) when sorted `ids` are consecutive (one range condition serves them), else None."""
    if ids and ids[-1] - ids[0] + 1 == len(ids):
        return ids[0], ids[-1]
    return None


def ids_condition(column: Any, ids: Sequence[int]) -> Any:
    """`column` among sorted `ids`: a range when they are consecutive, else an IN list."""
    run = id_run(ids)
    return column.in_(ids) if run is None else column.between(*run)


def _in_chunk(column: Any, chunk: _Chunk) -> Any:
    filtered, ids, low, high = chunk
    return column.in_(ids) if filtered else column.between(low, high)


def _applications(session: Session, chunk: _Chunk) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    query = (
        select(
            ApplicationRow.entity_id,
            ApplicationRow.year,
            ApplicationRow.kind,
            type_coerce(ApplicationRow.applied_on, String),
            ApplicationRow.fields,
            ApplicationRow.name,
            ApplicationRow.district,
        )
        .where(_in_chunk(ApplicationRow.entity_id, chunk))
        .order_by(ApplicationRow.entity_id, ApplicationRow.year)
    )
    for t in session.connection().execute(query).all():
        out[t[0]].append(t)
    return out


def _application(t: Sequence[Any]) -> Application:
    _eid, year, kind, applied_on, fields, name, district = t
    return Application(year, _enum(_KINDS, kind, Kind), _as_date(applied_on), codec.loads(fields), name, district)


def _figures(session: Session, chunk: _Chunk, as_of: date | None) -> dict[int, dict[date, dict[str, Any]]]:
    """The service figures of each entity's months: with `as_of`, those of its year (all the rules read) whose
    filing was made by then."""
    out: dict[int, dict[date, dict[str, Any]]] = defaultdict(dict)
    query = select(FilingFiguresRow.entity_id, type_coerce(FilingFiguresRow.period, String), FilingFiguresRow.figures)
    query = query.where(_in_chunk(FilingFiguresRow.entity_id, chunk))
    if as_of is not None:
        # EXISTS, not a join: SQLite drove a join from the filings (36 rows an entity) to probe a figures table
        # that is mostly empty; that cost 0.8 s of a 100,000-entity sweep for no row.
        filed = (
            select(FilingRow.id)
            .where(
                FilingRow.entity_id == FilingFiguresRow.entity_id,
                FilingRow.period == FilingFiguresRow.period,
                FilingRow.filed_on <= as_of,
            )
            .exists()
        )
        query = query.where(FilingFiguresRow.period >= date(as_of.year, 1, 1), filed)
    for eid, period, figures in session.connection().execute(query).all():
        out[eid][_as_date(period)] = codec.loads(figures)
    return out


def entities(session: Session, codes: Iterable[str] | None = None) -> dict[str, Entity]:
    """Credit code -> roster entity (without events or filings), for `codes` or the whole roster."""
    query = select(*_ENTITY_COLUMNS)
    wanted = None if codes is None else sorted(set(codes))
    out: dict[str, Entity] = {}
    parts = [None] if wanted is None else [wanted[i : i + 900] for i in range(0, len(wanted), 900)]
    for part in parts:
        q = query if part is None else query.where(EntityRow.credit_code.in_(part))
        for row in session.execute(q):
            try:
                out[row[1]] = _entity_from_tuple(row)
            except ValueError:
                continue  # unreadable: the evaluation reports it
    return out


def load_history(session: Session, code: str) -> History | Unreadable | None:
    return next(iter_histories(session, codes=[code]), None)


def entity_ids(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """Credit code to row id for the codes that exist."""
    wanted = list(set(codes))
    out: dict[str, int] = {}
    for i in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
        part = wanted[i : i + 900]
        # Iterated, not passed to dict.update(): a Result has .keys() and would be taken for a mapping.
        query = select(EntityRow.credit_code, EntityRow.id).where(EntityRow.credit_code.in_(part))
        out.update((code, entity_id) for code, entity_id in session.execute(query))
    return out


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append, as it came from a file, the command line or the portal."""

    credit_code: str
    kind: EventKind
    date: date
    result: str = ""
    detail: str = ""
    note: str = ""
    recorded_by: str = ""
    source: str = ""
    scheme: Scheme | None = None  # certified only
    cert_no: str = ""  # certified only


def append_event(session: Session, entity_id: int, ev: NewEvent, now: datetime) -> EventRow:
    row = EventRow(
        entity_id=entity_id,
        kind=ev.kind.value,
        occurred_on=ev.date,
        result=ev.result,
        detail=ev.detail,
        note=ev.note,
        recorded_by=ev.recorded_by,
        source=ev.source,
        recorded_at=now,
    )
    session.add(row)
    stale.mark_stale(session, [entity_id])
    if ev.kind is EventKind.CERTIFIED:
        session.flush()
        session.add(
            CertificationRow(
                entity_id=entity_id,
                event_id=row.id,
                granted_on=ev.date,
                cert_no=ev.cert_no,
                scheme=(ev.scheme or Scheme.CURRENT).value,
            )
        )
    return row


def count_entities(session: Session) -> int:
    """How many entities the roster holds (a progress bar's length)."""
    return int(session.execute(select(func.count()).select_from(EntityRow)).scalar_one())


def district_reports(session: Session) -> dict[tuple[str, int], date]:
    """(district, year covered) to the date the report was received."""
    rows = session.execute(select(DistrictReportRow.district, DistrictReportRow.year, DistrictReportRow.reported_on))
    return {(d, y): on for d, y, on in rows}
