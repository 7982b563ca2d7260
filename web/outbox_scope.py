"""The outbox as the console reads it: always through `Scope.outbox_where` (web/access.py)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from monitor.config import Settings
from notifications.models import MessageStatus, OutboxMessage
from web.access import Scope

M = OutboxMessage


def undelivered(session: Session, scope: Scope, settings: Settings, limit: int = 50) -> list[OutboxMessage]:
    """Failed messages, then those waiting for a retry, in the scope."""
    query = (
        sa.select(M)
        .where(
            scope.outbox_where(settings),
            sa.or_(
                M.status == MessageStatus.FAILED.value,
                sa.and_(M.status.in_([MessageStatus.PENDING.value, MessageStatus.SENDING.value]), M.attempts > 0),
            ),
        )
        .order_by(M.status, M.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def listing(
    session: Session, scope: Scope, settings: Settings, status: MessageStatus | None, page: int, per_page: int | None
) -> tuple[list[OutboxMessage], int]:
    where = [scope.outbox_where(settings)]
    if status is not None:
        where.append(M.status == status.value)
    total = session.execute(sa.select(sa.func.count()).select_from(M).where(*where)).scalar_one()
    query = sa.select(M).where(*where).order_by(M.id.desc())
    if per_page is not None:
        query = query.limit(per_page).offset((page - 1) * per_page)
    return list(session.execute(query).scalars()), int(total)


def get(session: Session, scope: Scope, settings: Settings, message_id: int) -> OutboxMessage | None:
    return session.execute(sa.select(M).where(M.id == message_id, scope.outbox_where(settings))).scalar_one_or_none()
