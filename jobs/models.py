"""Tables of the jobs package (migration 0003): the run ledger and the state of external syncs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from monitor.storage.models import Base, BigId, UTCDateTime


class JobRunRow(Base):
    """One row per occurrence of a scheduled job: inserting it is how a daemon claims the occurrence.

    The unique key (job, scheduled_at) makes each occurrence run once however many daemons share the
    database. `lease_until` lets another daemon take over an occurrence whose daemon died before finishing;
    the running daemon keeps pushing it forward. Rows are never deleted: they are the daemon's history.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "scheduled_at"),
        Index("ix_job_runs_status_finished_at", "status", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # JSON: what the run did (counts), for /metrics
    # Attempts of this occurrence that failed (a step that raised, or a worker that died holding it); a
    # counter that never goes down, so /metrics can report it as one. `error` is the latest failure's.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A failed run is tried again from this time on, until it succeeds or a later occurrence supersedes it.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SyncStateRow(Base):
    """The last attempt and the last success of an external sync (the filing portal), one row per source."""

    __tablename__ = "sync_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")  # what the last good sync asked for and applied
