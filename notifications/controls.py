"""Staff controls over notifications: acknowledgements (stop a finding's repeats at its stage) and silences
(hold an entity's reminders for a dated span). Both are recorded and listed, never deleted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from notifications.models import Acknowledgement, OutboxItem, Silence


class ControlError(Exception):
    """Bad input to ack/silence, worded for the operator (exit 2)."""


def latest_stage(session: Session, finding_id: str) -> str | None:
    """The stage of the latest notification sent about `finding_id`, if any."""
    row = session.execute(
        select(OutboxItem.stage)
        .where(OutboxItem.finding_id == finding_id)
        .order_by(OutboxItem.as_of.desc(), OutboxItem.id.desc())
        .limit(1)
    ).first()
    return row[0] if row else None


def acknowledge(
    session: Session, finding_id: str, stage: str, by: str, note: str, as_of: date, now: datetime
) -> Acknowledgement:
    if not by.strip():
        raise ControlError("--by 不能为空：请写明确认人 (who acknowledges)")
    ack = Acknowledgement(
        finding_id=finding_id, stage=stage, acked_by=by.strip(), note=note.strip(), acked_on=as_of, created_at=now
    )
    session.add(ack)
    session.flush()
    return ack


def acked_stages(session: Session, finding_ids: Iterable[str] | None = None) -> dict[str, set[str]]:
    """finding_id -> the stages at which it was acknowledged."""
    query = select(Acknowledgement.finding_id, Acknowledgement.stage)
    out: dict[str, set[str]] = {}
    if finding_ids is not None:
        wanted = list(set(finding_ids))
        rows: list[tuple[str, str]] = []
        for i in range(0, len(wanted), 900):
            rows += [
                (a, b) for a, b in session.execute(query.where(Acknowledgement.finding_id.in_(wanted[i : i + 900])))
            ]
    else:
        rows = [(a, b) for a, b in session.execute(query)]
    for fid, stage in rows:
        out.setdefault(fid, set()).add(stage)
    return out


def list_acks(session: Session, *, limit: int = 500) -> list[Acknowledgement]:
    return list(session.execute(select(Acknowledgement).order_by(Acknowledgement.id.desc()).limit(limit)).scalars())


def add_silence(
    session: Session, code: str, starts_on: date, ends_on: date, reason: str, by: str, now: datetime
) -> Silence:
    if ends_on < starts_on:
        raise ControlError(f"--until {ends_on} 早于开始日期 {starts_on} (the span ends before it starts)")
    if not reason.strip():
        raise ControlError("--reason 不能为空：请写明暂停提醒的原因 (why)")
    row = Silence(
        credit_code=code,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason.strip(),
        created_by=by.strip(),
        created_at=now,
        lifted_by="",
    )
    session.add(row)
    session.flush()
    return row


def lift_silence(session: Session, silence_id: int, by: str, as_of: date) -> Silence:
    row = session.get(Silence, silence_id)
    if row is None:
        raise ControlError(f"没有编号为 {silence_id} 的暂停提醒 (no such silence)")
    if row.lifted_on is not None:
        raise ControlError(f"暂停提醒 {silence_id} 已于 {row.lifted_on} 解除 (already lifted)")
    row.lifted_on = as_of
    row.lifted_by = by.strip()
    return row


def _in_force(as_of: date) -> ColumnElement[bool]:
    return and_(
        Silence.starts_on <= as_of,
        Silence.ends_on >= as_of,
        or_(Silence.lifted_on.is_(None), Silence.lifted_on > as_of),
    )


def silenced_codes(session: Session, as_of: date) -> set[str]:
    """Entities whose reminders are held on `as_of` (a silence lifted on a day no longer holds that day)."""
    return set(session.execute(select(Silence.credit_code).where(_in_force(as_of))).scalars())


def list_silences(session: Session, *, as_of: date | None = None, limit: int = 500) -> list[Silence]:
    query = select(Silence).order_by(Silence.id.desc()).limit(limit)
    if as_of is not None:
        query = query.where(_in_force(as_of))
    return list(session.execute(query).scalars())
