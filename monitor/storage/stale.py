"""Marking kept answers stale (SPEC 10): every write that changes what an entity's evaluation reads calls this
in its own transaction, so the next reader or sweep evaluates the entity again.

A mark is an upsert: an entity without a kept row gets a stale one, and an existing row is set stale with its
`version` bumped. `monitor.kept` stores an evaluation only where the version has not moved since it read the
data, so a write that lands during an evaluation is never covered by an answer computed before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Select, Table, event, literal, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from monitor.storage.kept_models import KeptAnswerRow
from monitor.storage.models import EntityRow, FilingRow

KEPT = cast(Table, KeptAnswerRow.__table__)
ENTITIES = cast(Table, EntityRow.__table__)
_CHUNK = 900  # ids per IN (...): under SQLite's bound-parameter limit


def _upsert(conn: Connection | Session, source: Select[Any]) -> None:
    k = KEPT.c
    columns = ["entity_id", "credit_code", "version", "stale", "fingerprint", "status", "reasons"]
    columns += ["ever_certified", "filing_streak", "title_spans", "error", "token"]
    rows = source.with_only_columns(
        ENTITIES.c.id,
        ENTITIES.c.credit_code,
        literal(0),
        true(),
        literal(""),
        literal("uncertified"),
        literal("[]"),
        literal(False),
        literal(0),
        literal("[]"),
        literal(""),
        literal(""),
    )
    dialect = (conn.get_bind() if isinstance(conn, Session) else conn).dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(KEPT).from_select(columns, rows)
    statement = ins.on_conflict_do_update(
        index_elements=[k.entity_id], set_={"stale": true(), "version": k.version + 1}
    )
    conn.execute(statement)


def mark_stale(session: Session, entity_ids: Iterable[int]) -> None:
    """Mark these entities' answers stale (creating the rows that are missing)."""
    ids = sorted(set(entity_ids))
    for i in range(0, len(ids), _CHUNK):
        _upsert(session, select(ENTITIES.c.id).where(ENTITIES.c.id.in_(ids[i : i + _CHUNK])))


def mark_stale_codes(session: Session, codes: Iterable[str]) -> None:
    wanted = sorted(set(codes))
    for i in range(0, len(wanted), _CHUNK):
        _upsert(session, select(ENTITIES.c.id).where(ENTITIES.c.credit_code.in_(wanted[i : i + _CHUNK])))


def mark_stale_from(session: Session, ids: Select[Any]) -> None:
    """Mark stale the entities a query of entity ids names (a staging table of a bulk import)."""
    _upsert(session, select(ENTITIES.c.id).where(ENTITIES.c.id.in_(ids.scalar_subquery())))


def mark_all_stale(session: Session) -> None:
    session.execute(update(KEPT).values(stale=True, version=KEPT.c.version + 1))
    _upsert(session, select(ENTITIES.c.id).where(~ENTITIES.c.id.in_(select(KEPT.c.entity_id).scalar_subquery())))


@event.listens_for(EntityRow, "after_insert")
def _entity_inserted(mapper: Mapper[Any], connection: Connection, target: EntityRow) -> None:
    """An entity added through the ORM (the demo, tests) gets its stale row like a bulk insert does."""
    _upsert(connection, select(ENTITIES.c.id).where(ENTITIES.c.id == target.id))


@event.listens_for(FilingRow, "after_insert")
def _filing_inserted(mapper: Mapper[Any], connection: Connection, target: FilingRow) -> None:
    """A filing added through the ORM (the demo, tests) marks its entity like a bulk merge does."""
    _upsert(connection, select(ENTITIES.c.id).where(ENTITIES.c.id == target.entity_id))
