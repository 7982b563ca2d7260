"""Writing service figures kept with monthly filings (table `filing_figures`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from monitor.applications import codec
from monitor.applications.models import FilingFiguresRow
from monitor.storage import stale
from monitor.storage.bulk import Stamp

IN_CHUNK = 400  # (entity, period) pairs per query: two bound parameters each


def merge_figures(session: Session, figures: Mapping[tuple[int, date], Mapping[str, Any]], stamp: Stamp) -> int:
    """Insert or replace each (entity id, period)'s figures; returns how many rows changed."""
    keys = list(figures)
    existing: dict[tuple[int, date], FilingFiguresRow] = {}
    for i in range(0, len(keys), IN_CHUNK):
        part = keys[i : i + IN_CHUNK]
        query = select(FilingFiguresRow).where(tuple_(FilingFiguresRow.entity_id, FilingFiguresRow.period).in_(part))
        for found in session.execute(query).scalars():
            existing[(found.entity_id, found.period)] = found
    changed: set[int] = set()
    rows = 0
    for key, values in figures.items():
        text = codec.dumps(values)
        row = existing.get(key)
        if row is None:
            session.add(
                FilingFiguresRow(
                    entity_id=key[0],
                    period=key[1],
                    figures=text,
                    recorded_by=stamp.recorded_by,
                    source=stamp.source,
                    recorded_at=stamp.now,
                )
            )
            changed.add(key[0])
            rows += 1
        elif row.figures != text:
            row.figures, row.recorded_by, row.source, row.recorded_at = text, stamp.recorded_by, stamp.source, stamp.now
            changed.add(key[0])
            rows += 1
    session.flush()
    # New figures change what the service-figure rule reads (SPEC 10): in the same transaction.
    stale.mark_stale(session, changed)
    return rows
