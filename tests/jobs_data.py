"""Small roster helpers for the jobs tests: real rows, valid credit codes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from monitor.credit_code import complete
from monitor.domain import EventKind
from monitor.storage.db import Database
from monitor.storage.models import EntityRow
from monitor.storage.repository import NewEvent, append_event

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)


def code(n: int) -> str:
    return complete(f"91510100MA{n:07d}")


def add_entities(db: Database, count: int, *, certified_on: date = date(2025, 3, 1)) -> list[str]:
    codes = [code(i) for i in range(1, count + 1)]
    with db.session() as s:
        for i, c in enumerate(codes, start=1):
            row = EntityRow(
                credit_code=c,
                name=f"测试平台{i}",
                kind="platform",
                district="锦江区",
                emails=f"entity{i}@example.org",
                cert_no=f"CD-{i:04d}",
                created_at=RECORDED,
                updated_at=RECORDED,
            )
            s.add(row)
            s.flush()
            append_event(s, row.id, NewEvent(c, EventKind.CERTIFIED, certified_on, cert_no=f"CD-{i:04d}"), RECORDED)
    return codes
