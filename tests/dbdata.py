"""Writing histories straight into a test database (the import pipeline has its own tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.domain import History
from monitor.storage import repository
from monitor.storage.db import Database
from monitor.storage.models import EntityRow, FilingRow

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def store(db: Database, histories: list[History]) -> None:
    with db.session() as session:
        for h in histories:
            e = h.entity
            row = EntityRow(
                credit_code=e.credit_code,
                name=e.name,
                kind=e.kind.value,
                district=e.district,
                emails=";".join(e.emails),
                cert_no=e.cert_no,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(row)
            session.flush()
            for ev in sorted(h.events, key=lambda x: (x.date, x.seq)):
                repository.append_event(
                    session,
                    row.id,
                    repository.NewEvent(
                        e.credit_code,
                        ev.kind,
                        ev.date,
                        ev.result,
                        ev.detail,
                        ev.note,
                        "test",
                        "test",
                        ev.scheme,
                        ev.cert_no,
                    ),
                    NOW,
                )
            session.add_all(
                FilingRow(entity_id=row.id, period=p, filed_on=f, source="test", recorded_at=NOW)
                for p, f in h.filings.items()
            )
