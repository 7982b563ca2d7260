"""`sanctions.auto_apply`: record the revocations that Arts. 20 and 21 make due, dated the due day.

Off by default: the rules flag the revocation and staff decide. When on, the sweep step (notify, the daemon)
appends a `revoked` event for each due revocation, so the status stays a pure function of events. `check`
never calls this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from monitor.domain import EventKind, RuleId
from monitor.rules.finding import Finding
from monitor.storage import repository

log = logging.getLogger(__name__)

RECORDED_BY = "sme-monitor"
SOURCE = "sanctions.auto_apply"
DUE_REVOCATIONS = {RuleId.FILING_REVOCATION_DUE: 20, RuleId.RECTIFICATION_OVERDUE: 21}


@dataclass(frozen=True, slots=True)
class Applied:
    credit_code: str
    article: int
    on: date


def due(findings: list[Finding]) -> list[Applied]:
    """The revocations the findings make due, each on the first day it was due."""
    return [
        Applied(f.entity, DUE_REVOCATIONS[f.rule], f.since)
        for f in findings
        if f.rule in DUE_REVOCATIONS and f.entity is not None
    ]


def apply(session: Session, findings: list[Finding], now: datetime) -> list[Applied]:
    """Append a `revoked` event for every revocation due; returns what was recorded."""
    todo = due(findings)
    ids = repository.entity_ids(session, [a.credit_code for a in todo])
    for a in todo:
        repository.append_event(
            session,
            ids[a.credit_code],
            repository.NewEvent(
                a.credit_code,
                EventKind.REVOKED,
                a.on,
                detail=str(a.article),
                note=f"依据《办法》第{a.article}条自动撤销 (sanctions.auto_apply)",
                recorded_by=RECORDED_BY,
                source=SOURCE,
            ),
            now,
        )
        log.info("revoked %s under Art. %d on %s (sanctions.auto_apply)", a.credit_code, a.article, a.on)
    return todo
