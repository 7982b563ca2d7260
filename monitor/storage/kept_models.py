"""Tables of the kept answer (migration 0004, SPEC section 10): each entity's evaluation as of a date and the
date until which it holds without new data. A cache: a row can always be evaluated again from the events, and
rewriting it never loses anything. The events, filings and roster stay the record.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from monitor.storage.models import Base, BigId, UTCDateTime


class KeptAnswerRow(Base):
    """One row per entity, created with the entity (stale until first evaluated).

    The answer is valid for a day D when `stale` is false, `fingerprint` is the reader's, and
    `as_of <= D < held_until`. Dates only: `days_left` and the like are derived when read.
    """

    __tablename__ = "kept_answers"
    __table_args__ = (
        Index("ix_kept_answers_stale", "stale"),
        Index("ix_kept_answers_held_until", "held_until"),
        Index("ix_kept_answers_as_of", "as_of"),
        Index("ix_kept_answers_fingerprint", "fingerprint"),
        Index("ix_kept_answers_status_code", "status", "credit_code"),  # the console lists a status by code
    )

    entity_id: Mapped[int] = mapped_column(BigId, ForeignKey("entities.id"), primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    # Bumped by every write that marks the row stale; an evaluation is stored only if it has not moved since
    # the evaluation read the data, so a write during an evaluation is never overwritten as fresh.
    version: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[bool] = mapped_column(Boolean, default=True)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    held_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="uncertified")
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the open suspension reasons
    certified_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the current title's grant
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # its own last valid day
    ever_certified: Mapped[bool] = mapped_column(Boolean, default=False)
    filing_streak: Mapped[int] = mapped_column(Integer, default=0)
    title_spans: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[granted, last day held], ...]
    error: Mapped[str] = mapped_column(Text, default="")  # the evaluation failed: why (held one day)
    token: Mapped[str] = mapped_column(String(40), default="")  # which refresh wrote the row
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KeptFindingRow(Base):
    """One open finding of a kept answer; replaced together with its answer row."""

    __tablename__ = "kept_findings"
    __table_args__ = (
        Index("ix_kept_findings_entity_id", "entity_id"),
        Index("ix_kept_findings_rule", "rule"),
        Index("ix_kept_findings_district_severity", "district", "severity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_id: Mapped[int] = mapped_column(BigId, ForeignKey("entities.id"))
    credit_code: Mapped[str] = mapped_column(String(18))
    rule: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(32))
    severity: Mapped[int] = mapped_column(Integer)
    article: Mapped[int] = mapped_column(Integer)
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    since: Mapped[date] = mapped_column(Date)
    district: Mapped[str] = mapped_column(String(32))
    audiences: Mapped[str] = mapped_column(String(64))  # comma-separated, as the finding had them
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON, dates tagged (monitor/kept.py)
