"""Filings from the portal: validation and the apply step, the same checks a filings import makes.

This is the seam to `monitor.importing` (the filings import): once its row validation is on main, these two
functions delegate to it so the portal and a file are held to one standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor import credit_code
from monitor.legal_time import month_of, parse_period
from monitor.storage.models import FilingRow
from monitor.storage.repository import entity_ids


@dataclass(frozen=True, slots=True)
class FilingItem:
    """One filing as it came in, still text; `where` names its origin for error messages."""

    where: str
    credit_code: str
    period: str
    filed_on: str


@dataclass(frozen=True, slots=True)
class ValidFiling:
    entity_id: int
    period: date  # first day of the month
    filed_on: date


def validate_filings(session: Session, items: list[FilingItem], today: date) -> tuple[list[ValidFiling], list[str]]:
    """The filings, or every problem as `WHERE: column: reason`; a filing in the future is refused."""
    ids = entity_ids(session, {i.credit_code.strip().upper() for i in items})
    out: list[ValidFiling] = []
    problems: list[str] = []
    for item in items:
        code = item.credit_code.strip().upper()
        bad = credit_code.problem(code)
        if bad:
            problems.append(f"{item.where}: credit_code: {bad}")
        elif code not in ids:
            problems.append(f"{item.where}: credit_code: 名册中无此主体 (not in the roster): {code}")
        try:
            period = parse_period(item.period.strip())
        except ValueError:
            problems.append(f"{item.where}: period: 应为 YYYY-MM (not a month): {item.period!r}")
            period = None
        try:
            filed_on = date.fromisoformat(item.filed_on.strip()) if len(item.filed_on.strip()) == 10 else None
        except ValueError:
            filed_on = None
        if filed_on is None:
            problems.append(f"{item.where}: filed_on: 应为 YYYY-MM-DD (not a date): {item.filed_on!r}")
        elif filed_on > today:
            problems.append(f"{item.where}: filed_on: 日期在将来 (a date in the future): {filed_on}")
        elif period is not None and period > month_of(filed_on):
            problems.append(f"{item.where}: period: 填报月份晚于填报日期 (month after the filing date): {item.period}")
        if not bad and code in ids and period is not None and filed_on is not None:
            out.append(ValidFiling(ids[code], period, filed_on))
    return out, problems


def apply_filings(session: Session, filings: list[ValidFiling], now: datetime, *, source: str) -> int:
    """Record the filings; the earliest filing of a month counts. Returns how many rows were added or moved."""
    earliest: dict[tuple[int, date], date] = {}
    for f in filings:
        key = (f.entity_id, f.period)
        if key not in earliest or f.filed_on < earliest[key]:
            earliest[key] = f.filed_on
    if not earliest:
        return 0
    existing: dict[tuple[int, date], FilingRow] = {}
    entity_list = sorted({k[0] for k in earliest})
    for i in range(0, len(entity_list), 900):
        rows = session.execute(select(FilingRow).where(FilingRow.entity_id.in_(entity_list[i : i + 900]))).scalars()
        existing.update({(r.entity_id, r.period): r for r in rows})
    changed = 0
    for (entity_id, period), filed_on in earliest.items():
        row = existing.get((entity_id, period))
        if row is None:
            session.add(
                FilingRow(entity_id=entity_id, period=period, filed_on=filed_on, source=source, recorded_at=now)
            )
            changed += 1
        elif filed_on < row.filed_on:
            row.filed_on, row.source, row.recorded_at = filed_on, source, now
            changed += 1
    return changed
