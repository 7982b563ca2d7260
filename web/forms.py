"""Recording one event from a console form with the import's own checks (monitor.importing): the same
messages, each shown beside its field; nothing is written when one field is refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from monitor.importing import ImportFailed, ImportOptions, Summary, import_rows
from monitor.importing.fields import EVENT_FIELDS
from monitor.storage.db import Database

FORM = "表单 (form)"
SOURCE = "console"

# The fields each kind's form shows (the events file's names), beside `kind` and `date`.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "certified": ("cert_no", "scheme", "note"),
    "restructured": ("detail", "note"),
    "restructuring_reported": ("note",),
    "restructuring_reviewed": ("result", "note"),
    "evaluated": ("result", "note"),
    "rectification_accepted": ("note",),
    "rectification_rejected": ("note",),
    "misconduct": ("detail", "note"),
    "revoked": ("detail", "note"),
    "applied": ("year", "note"),
    "publicized": ("note",),
    "district_reviewed": ("result", "year", "note"),
    "expert_reviewed": ("result", "year", "note"),
    "objection": ("year", "note"),
    "application_rejected": ("year", "note"),
    "district_report": ("district", "year", "note"),
}
CHOICES: dict[str, tuple[str, ...]] = {
    "result": ("passed", "failed"),
    "scheme": ("current", "2018"),
}
DETAIL_CHOICES: dict[str, tuple[str, ...]] = {
    "restructured": ("rename", "merger", "split", "other"),
    "misconduct": ("refused_cooperation", "fraud", "violation"),
    "revoked": ("18", "20", "21", "22"),
}


@dataclass
class Outcome:
    summary: Summary | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)  # field name -> the import's messages
    other: list[str] = field(default_factory=list)  # messages about no field of the form


def record(
    db: Database,
    values: Mapping[str, str],
    *,
    today: date,
    now: datetime,
    districts: frozenset[str],
    recorded_by: str,
) -> Outcome:
    """One events row from the form through `import_rows` (all its checks); the field names are the labels,
    so every problem names its field."""
    cells = [values.get(f.name) or None for f in EVENT_FIELDS]
    labels = [f.name for f in EVENT_FIELDS]
    opts = ImportOptions(today=today, now=now, districts=districts, source=SOURCE, recorded_by=recorded_by)
    try:
        return Outcome(summary=import_rows(db, "events", [(None, cells)], labels, FORM, opts))
    except ImportFailed as exc:
        out = Outcome()
        for line in exc.lines:
            rest = line.split(": ", 1)[1] if ": " in line else line
            column, _, reason = rest.partition(": ")
            if column in labels:
                out.errors.setdefault(column, []).append(reason)
            else:
                out.other.append(line)
        return out
