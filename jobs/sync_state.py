"""When an external sync last ran and last succeeded (one row per source; the portal is the only one)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.models import SyncStateRow

PORTAL = "portal"


@dataclass(frozen=True, slots=True)
class SyncState:
    name: str
    last_attempt_at: datetime
    last_success_at: datetime | None
    last_error: str
    detail: Mapping[str, Any]


def get(session: Session, name: str = PORTAL) -> SyncState | None:
    row = session.get(SyncStateRow, name)
    if row is None:
        return None
    return SyncState(
        name=row.name,
        last_attempt_at=row.last_attempt_at,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
        detail=json.loads(row.detail) if row.detail else {},
    )


def last_success(session: Session, name: str = PORTAL) -> datetime | None:
    return session.execute(select(SyncStateRow.last_success_at).where(SyncStateRow.name == name)).scalar()


def _row(session: Session, name: str, now: datetime) -> SyncStateRow:
    # Locks the row on PostgreSQL so that two syncs finishing together record in turn.
    row = session.execute(select(SyncStateRow).where(SyncStateRow.name == name).with_for_update()).scalar()
    if row is None:
        row = SyncStateRow(name=name, last_attempt_at=now, last_success_at=None, last_error="", detail="")
        session.add(row)
    return row


def record_success(session: Session, now: datetime, detail: Mapping[str, Any], name: str = PORTAL) -> None:
    row = _row(session, name, now)
    row.last_attempt_at = now
    row.last_success_at = now
    row.last_error = ""
    row.detail = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def record_failure(session: Session, now: datetime, error: str, name: str = PORTAL) -> None:
    row = _row(session, name, now)
    row.last_attempt_at = now
    row.last_error = error[:4000]
