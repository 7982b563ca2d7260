"""Bulk writes for imports: many rows per statement, never one query per row.

Monthly filings go through a temporary staging table and are merged by two set-based statements, so an
import of a million rows needs neither a million queries nor a million Python objects at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    Date,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from monitor.domain import EventKind, Scheme
from monitor.storage import stale
from monitor.storage.models import (
    BigId,
    CertificationRow,
    DistrictReportRow,
    EntityRow,
    EventRow,
    FilingRow,
    UTCDateTime,
)
from monitor.storage.repository import NewEvent

IN_CHUNK = 900  # ids per IN (...): under SQLite's bound-parameter limit

ENTITIES = cast(Table, EntityRow.__table__)
EVENTS = cast(Table, EventRow.__table__)
CERTIFICATIONS = cast(Table, CertificationRow.__table__)
FILINGS = cast(Table, FilingRow.__table__)
DISTRICT_REPORTS = cast(Table, DistrictReportRow.__table__)

_staging = MetaData()
FILING_STAGE = Table(
    "import_filing_stage",
    _staging,
    Column("entity_id", BigId, nullable=False),
    Column("period", Date, nullable=False),
    Column("filed_on", Date, nullable=False),
    prefixes=["TEMPORARY"],
)
FILING_MERGED = Table(
    "import_filing_merged",
    _staging,
    Column("entity_id", BigId, nullable=False),
    Column("period", Date, nullable=False),
    Column("filed_on", Date, nullable=False),
    PrimaryKeyConstraint("entity_id", "period"),
    prefixes=["TEMPORARY"],
)


def chunks(items: Sequence[int], size: int = IN_CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True, slots=True)
class Stamp:
    """Who writes, from where, when: recorded on every row an import writes."""

    source: str
    recorded_by: str
    now: datetime


class FilingMerge:
    """Stage (entity, month, filed on) rows, then merge them into `filings`: a month not yet there is added; a
    month there with a later date takes the earlier one (the earliest filing counts); anything else is left."""

    def __init__(self, session: Session) -> None:
        self.session = session
        conn = session.connection()
        for table in (FILING_STAGE, FILING_MERGED):
            # A pooled SQLite connection may keep a temp table from an import that was rolled back.
            conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
            table.create(conn)
        self.staged = 0

    def add(self, rows: Sequence[dict[str, object]]) -> None:
        """Rows of {"entity_id", "period", "filed_on"}: one COPY on PostgreSQL, one executemany elsewhere."""
        if not rows:
            return
        conn = self.session.connection()
        if conn.dialect.name == "postgresql":
            # COPY is several times faster than psycopg's executemany, on the session's own connection
            # and so inside its transaction.
            raw = conn.connection.driver_connection
            assert raw is not None
            columns = ", ".join(FILING_STAGE.c.keys())
            with raw.cursor() as cursor, cursor.copy(f"COPY {FILING_STAGE.name} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row["entity_id"], row["period"], row["filed_on"]))
        else:
            self.session.execute(insert(FILING_STAGE), rows)
        self.staged += len(rows)

    def apply(self, stamp: Stamp) -> tuple[int, int]:
        """Merge what was staged; returns (added, updated)."""
        s, m, f = FILING_STAGE.c, FILING_MERGED.c, FILINGS.c
        self.session.execute(
            insert(FILING_MERGED).from_select(
                ["entity_id", "period", "filed_on"],
                select(s.entity_id, s.period, func.min(s.filed_on)).group_by(s.entity_id, s.period),
            )
        )
        same_month = and_(f.entity_id == m.entity_id, f.period == m.period)
        updated = _rowcount(
            self.session.execute(
                update(FILINGS)
                .where(same_month, m.filed_on < f.filed_on)
                .values(filed_on=m.filed_on, source=stamp.source, recorded_by=stamp.recorded_by, recorded_at=stamp.now)
            )
        )
        added = _rowcount(
            self.session.execute(
                insert(FILINGS)
                .from_select(
                    ["entity_id", "period", "filed_on", "source", "recorded_by", "recorded_at"],
                    select(
                        m.entity_id,
                        m.period,
                        m.filed_on,
                        literal(stamp.source),
                        literal(stamp.recorded_by),
                        literal(stamp.now, UTCDateTime()),
                    ).where(~exists().where(same_month)),
                )
                # Without this psycopg's count of an INSERT is lost once its cursor closes.
                .execution_options(preserve_rowcount=True)
            )
        )
        if added or updated:
            stale.mark_stale_from(self.session, select(m.entity_id).distinct())
        return added, updated

    def close(self) -> None:
        conn = self.session.connection()
        for table in (FILING_MERGED, FILING_STAGE):
            conn.execute(text(f"DROP TABLE IF EXISTS {table.name}"))


# --- events --------------------------------------------------------------------------------------------


def append_events(session: Session, events: Sequence[tuple[int, NewEvent]], now: datetime) -> int:
    """Append events (entity id, event) with two statements: the events, then the certifications of the
    `certified` ones (which need the new events' ids)."""
    if not events:
        return 0
    params = [
        {
            "entity_id": entity_id,
            "kind": ev.kind.value,
            "occurred_on": ev.date,
            "result": ev.result,
            "detail": ev.detail,
            "note": ev.note,
            "recorded_by": ev.recorded_by,
            "source": ev.source,
            "recorded_at": now,
        }
        for entity_id, ev in events
    ]
    table = EVENTS
    ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), params).scalars().all()
    certifications = [
        {
            "entity_id": entity_id,
            "event_id": event_id,
            "granted_on": ev.date,
            "cert_no": ev.cert_no,
            "scheme": (ev.scheme or Scheme.CURRENT).value,
        }
        for (entity_id, ev), event_id in zip(events, ids, strict=True)
        if ev.kind is EventKind.CERTIFIED
    ]
    if certifications:
        session.execute(insert(CERTIFICATIONS), certifications)
    stale.mark_stale(session, (entity_id for entity_id, _ in events))
    return len(ids)


@dataclass(frozen=True, slots=True)
class KnownEvent:
    """What an import needs to know of an event already recorded: enough to spot a duplicate and to check that
    a new event makes sense after it."""

    kind: EventKind
    date: date
    result: str
    detail: str


def known_events(session: Session, entity_ids: Iterable[int]) -> dict[int, list[KnownEvent]]:
    out: dict[int, list[KnownEvent]] = {}
    e = EVENTS.c
    for part in chunks(sorted(set(entity_ids))):
        query = select(e.entity_id, e.kind, e.occurred_on, e.result, e.detail).where(e.entity_id.in_(part))
        for entity_id, kind, occurred_on, result, detail in session.execute(query):
            out.setdefault(entity_id, []).append(KnownEvent(EventKind(kind), occurred_on, result, detail))
    return out


# --- district reports (Art. 21) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DistrictReport:
    district: str
    year: int
    reported_on: date
    note: str = ""


def merge_district_reports(session: Session, reports: Iterable[DistrictReport], stamp: Stamp) -> tuple[int, int]:
    """Add reports; for a (district, year) already there keep the earliest date. Returns (added, updated)."""
    earliest: dict[tuple[str, int], DistrictReport] = {}
    for r in reports:
        key = (r.district, r.year)
        if key not in earliest or r.reported_on < earliest[key].reported_on:
            earliest[key] = r
    if not earliest:
        return 0, 0
    t = DISTRICT_REPORTS
    existing = {
        (d, y): (rid, on) for rid, d, y, on in session.execute(select(t.c.id, t.c.district, t.c.year, t.c.reported_on))
    }
    stamped = {"recorded_by": stamp.recorded_by, "source": stamp.source, "recorded_at": stamp.now}
    new = [
        {"district": r.district, "year": r.year, "reported_on": r.reported_on, "note": r.note, **stamped}
        for key, r in earliest.items()
        if key not in existing
    ]
    moved = [
        {"id": existing[key][0], "reported_on": r.reported_on, **stamped}
        for key, r in earliest.items()
        if key in existing and r.reported_on < existing[key][1]
    ]
    if new:
        session.execute(insert(t), new)
    if moved:
        session.execute(update(DistrictReportRow), moved)
    return len(new), len(moved)


# --- the roster ----------------------------------------------------------------------------------------


ROSTER_COLUMNS = ("name", "kind", "district", "emails", "cert_no", "functions")


def roster(session: Session, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Credit code -> {"id", "name", "kind", "district", "emails", "cert_no"} for the codes that exist."""
    out: dict[str, dict[str, Any]] = {}
    t = ENTITIES
    columns = [t.c.id, t.c.credit_code, *(t.c[name] for name in ROSTER_COLUMNS)]
    wanted = sorted(set(codes))
    for i in range(0, len(wanted), IN_CHUNK):
        for row in session.execute(select(*columns).where(t.c.credit_code.in_(wanted[i : i + IN_CHUNK]))):
            values = row._asdict()
            out[values.pop("credit_code")] = values
    return out


def insert_entities(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(ENTITIES), list(rows))
        stale.mark_stale_codes(session, (row["credit_code"] for row in rows))


def update_entities(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of {"row_id", every roster column, "recorded_by", "source", "updated_at"}: one executemany."""
    if not rows:
        return
    t = ENTITIES
    names = [*ROSTER_COLUMNS, "recorded_by", "source", "updated_at"]
    statement = update(t).where(t.c.id == bindparam("row_id")).values({name: bindparam(name) for name in names})
    session.execute(statement, list(rows))
    stale.mark_stale(session, (row["row_id"] for row in rows))
