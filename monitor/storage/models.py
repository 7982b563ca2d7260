"""Tables of the roster and the event log (migration 0001).

Events, filings and district reports are append-only: nothing in the product deletes or rewrites them. The
one exception is a filing row's `filed_on`, which an earlier filing for the same month replaces (the earliest
filing counts), and the roster row of an entity, whose changes are recorded as `roster_changed` events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored as naive UTC on every backend and returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EntityRow(Base):
    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    district: Mapped[str] = mapped_column(String(32), index=True)
    emails: Mapped[str] = mapped_column(Text, default="")  # ';'-separated
    cert_no: Mapped[str] = mapped_column(String(64), default="")
    # The service functions it was certified for (SPEC 9), ';'-separated; empty: the latest application's.
    functions: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Who wrote the row last and from where (a file name, 'cli'); the changes themselves are events.
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_entity_id_occurred_on", "entity_id", "occurred_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CertificationRow(Base):
    """The typed side of a `certified` event: certificate number and scheme."""

    __tablename__ = "certifications"
    __table_args__ = (Index("ix_certifications_entity_id_granted_on", "entity_id", "granted_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    granted_on: Mapped[date] = mapped_column(Date)
    cert_no: Mapped[str] = mapped_column(String(64), default="")
    scheme: Mapped[str] = mapped_column(String(16), default="current")


class FilingRow(Base):
    """One row per entity and month; `filed_on` is the earliest filing seen for that month."""

    __tablename__ = "filings"
    __table_args__ = (
        UniqueConstraint("entity_id", "period"),
        Index("ix_filings_period", "period"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    period: Mapped[date] = mapped_column(Date)  # first day of the month
    filed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DistrictReportRow(Base):
    """A district's annual report to the city (Art. 21); `year` is the year it covers."""

    __tablename__ = "district_reports"
    __table_args__ = (UniqueConstraint("district", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    district: Mapped[str] = mapped_column(String(32))
    year: Mapped[int] = mapped_column(Integer)
    reported_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Search machinery that migration 0005 builds outside the models (an FTS5 table and its triggers on SQLite,
# pg_trgm indexes on PostgreSQL): the schema comparison and autogenerate leave it alone.
SEARCH_PREFIX = "registry_search"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    return not (name or "").startswith(SEARCH_PREFIX)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (name or "").startswith(SEARCH_PREFIX)
