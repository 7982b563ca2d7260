"""Tables of applications and service figures (migration 0006).

An application is one row per (entity, year); a re-import replaces its fields (the `applied` event moves with
it). Service figures are kept with the month's filing, one row per (entity, period): a later upload of the
same month replaces the figures while the filing's date stays the first.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.storage.models import Base, BigId, UTCDateTime


class ApplicationRow(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("entity_id", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    applied_on: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200), default="")
    district: Mapped[str] = mapped_column(String(32), default="")
    # The fields as given (JSON object: field -> value; dates ISO, yes/no booleans, functions a list).
    fields: Mapped[str] = mapped_column(Text, default="{}")
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FilingFiguresRow(Base):
    __tablename__ = "filing_figures"
    __table_args__ = (UniqueConstraint("entity_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"))
    period: Mapped[date] = mapped_column(Date)  # first day of the month
    figures: Mapped[str] = mapped_column(Text, default="{}")  # JSON object: field -> number or boolean
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
