"""sanctions.auto_apply records the revocations that are due, on their due day, and only those."""

from __future__ import annotations

from datetime import date

from monitor import credit_code, sanctions
from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import Entity, EventKind, History, Kind, Status
from monitor.storage import repository
from monitor.storage.db import Database
from monitor.sweep import run_sweep
from tests.dbdata import NOW, store
from tests.rulecases import CODE, ENTITY, cert, ev, monthly

OTHER = Entity(credit_code.complete("91510105MA0000998"), "成都另一服务平台", Kind.BASE, "青羊区", ())


def test_auto_apply_revokes_on_the_due_day(db: Database) -> None:
    other = OTHER
    # Six months missed (May-October 2026): due the day after October's moved deadline, 2026-11-03.
    store(db, [History(ENTITY, (cert("2026-01-10"),), monthly("2026-02", "2026-04"))])
    # Failed evaluation 2026-04-01: rectification due 2026-10-08; this one files every month.
    store(
        db,
        [
            History(
                other,
                (cert("2025-01-10"), ev(EventKind.EVALUATED, "2026-04-01", "failed")),
                monthly("2025-02", "2026-10"),
            )
        ],
    )
    cal, rules, as_of = lt.WorkCalendar(), RuleSettings(), date(2026, 11, 20)
    with db.session() as session:
        result = run_sweep(session, as_of, cal, rules)
        done = sanctions.apply(session, result.findings, NOW)
    assert sorted((a.credit_code, a.article, a.on) for a in done) == sorted(
        [(CODE, 20, date(2026, 11, 3)), (other.credit_code, 21, date(2026, 10, 9))]
    )
    with db.session() as session:
        after = run_sweep(session, as_of, cal, rules)
        history = repository.load_history(session, CODE)
    assert after.statuses[CODE].status is Status.REVOKED
    assert after.statuses[other.credit_code].status is Status.REVOKED
    assert sanctions.due(after.findings) == []
    assert isinstance(history, History)
    revoked = [e for e in history.events if e.kind is EventKind.REVOKED]
    assert [(e.date, e.detail, e.recorded_by) for e in revoked] == [(date(2026, 11, 3), "20", "sme-monitor")]
    # Status on a day before the due day is unchanged by the recorded decision.
    with db.session() as session:
        before = run_sweep(session, date(2026, 11, 2), cal, rules)
    assert before.statuses[CODE].status is Status.ACTIVE
