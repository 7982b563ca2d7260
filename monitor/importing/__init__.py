"""Imports of the roster, monthly filings and events from CSV, XLSX or JSON files (SPEC section 6).

An import is all or nothing: every row is checked, every problem is collected as `FILE:ROW: column: reason`,
and the rows are written in one transaction only when there was none (`ImportFailed` otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from monitor.applications.importer import FIELDS as APPLICATION_FIELDS
from monitor.applications.importer import import_applications
from monitor.importing.common import CLI, ImportOptions, Summary
from monitor.importing.entities import import_entities
from monitor.importing.events import import_events
from monitor.importing.fields import ENTITY_FIELDS, EVENT_FIELDS, FILING_FIELDS, Field
from monitor.importing.filings import import_filings
from monitor.importing.problems import ImportFailed, Problems, shown
from monitor.importing.readers import ABSENT, Reader
from monitor.progress import progress
from monitor.storage.db import Database

__all__ = [
    "ABSENT",
    "CLI",
    "FILE_KINDS",
    "ImportFailed",
    "ImportOptions",
    "Summary",
    "import_file",
    "import_rows",
    "in_transaction",
]

Importer = Callable[
    [Session, Iterable[tuple[int | None, Sequence[Any]]], Sequence[str], ImportOptions, Problems], Summary
]

FILE_KINDS: dict[str, tuple[tuple[Field, ...], Importer]] = {
    "entities": (ENTITY_FIELDS, import_entities),
    "filings": (FILING_FIELDS, import_filings),
    "events": (EVENT_FIELDS, import_events),
    "applications": (APPLICATION_FIELDS, import_applications),
}


def in_transaction(db: Database, work: Callable[[Session], Summary], *, dry_run: bool = False) -> Summary:
    """Run `work` in one transaction: committed when it returns, rolled back when it raises or on a dry run
    (which still computes the summary exactly, by doing the writes and undoing them)."""
    with Session(db.engine, expire_on_commit=False) as session:
        tx = session.begin()
        try:
            summary = work(session)
        except BaseException:
            tx.rollback()
            raise
        if dry_run:
            tx.rollback()
        else:
            tx.commit()
        return summary


def import_file(db: Database, what: str, path: Path, where: str, opts: ImportOptions, *, dry_run: bool) -> Summary:
    """Import the file at `path` as `what` (entities, filings or events); `where` names it in messages."""
    fields, importer = FILE_KINDS[what]
    problems = Problems(where)
    reader = Reader(path, fields, problems, opts.limits)
    rows = progress(reader, label=f"读取 (reading) {shown(path.name, 60)}", unit="行")
    return in_transaction(db, lambda s: importer(s, rows, reader.labels, opts, problems), dry_run=dry_run)


def import_rows(
    db: Database,
    what: str,
    rows: Sequence[tuple[int | None, Sequence[Any]]],
    labels: Sequence[str],
    where: str,
    opts: ImportOptions,
    *,
    dry_run: bool = False,
) -> Summary:
    """The same checks and writes for rows that come from elsewhere (the command line, the portal)."""
    _fields, importer = FILE_KINDS[what]
    problems = Problems(where)
    return in_transaction(db, lambda s: importer(s, rows, labels, opts, problems), dry_run=dry_run)
