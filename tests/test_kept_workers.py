"""A large refresh spread over worker processes (monitor/workers.py, kept.refresh): the same kept answer as one
process gives, on SQLite and PostgreSQL; a worker that dies or cannot start costs time, never an answer."""

from __future__ import annotations

import os
import random
import sys
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from monitor import kept, workers
from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.storage.db import Database
from monitor.storage.kept_models import KeptAnswerRow, KeptFindingRow
from tests import dbdata
from tests.test_sweep import random_history

CAL = lt.WorkCalendar()
RULES = RuleSettings()
AS_OF = date(2026, 11, 10)


def _kept(db: Database) -> tuple[list[Any], list[Any]]:
    """Both tables, without what says which refresh wrote a row (its token, when)."""
    a, f = KeptAnswerRow.__table__.c, KeptFindingRow.__table__.c
    skip = {"token", "evaluated_at"}
    with db.session() as s:
        answers = s.execute(sa.select(*(c for c in a if c.name not in skip)).order_by(a.entity_id)).all()
        findings = s.execute(sa.select(*(c for c in f if c.name != "id")).order_by(f.entity_id, f.id)).all()
    return [tuple(r) for r in answers], [tuple(r) for r in findings]


def _fill(db: Database, n: int = 90) -> None:
    rng = random.Random(8)
    dbdata.store(db, [random_history(rng, i) for i in range(1, n + 1)])


def test_workers_store_what_one_process_stores(db: Database) -> None:
    _fill(db)
    serial = kept.refresh(db, AS_OF, CAL, RULES, full=True, now=dbdata.NOW, chunk=20, workers=1)
    one = _kept(db)
    spread = kept.refresh(db, AS_OF, CAL, RULES, full=True, now=dbdata.NOW, chunk=20, workers=2)
    assert (spread.evaluated, spread.stored) == (serial.evaluated, serial.stored) == (90, 90)
    assert [e.credit_code for e in spread.errors] == [e.credit_code for e in serial.errors]
    two = _kept(db)
    assert two == one
    assert sum(1 for r in two[0] if r[KeptAnswerRow.__table__.c.keys().index("status")] != "uncertified") > 30
    assert len(two[1]) > 10  # findings were written, not only statuses


def test_a_refresh_with_workers_that_cannot_start_is_done_here(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _fill(db, 30)
    expected = kept.refresh(db, AS_OF, CAL, RULES, full=True, now=dbdata.NOW, chunk=10, workers=1)
    wanted = _kept(db)
    with db.session() as s:  # every answer out of date again
        s.execute(sa.update(KeptAnswerRow).values(stale=True, status="uncertified", held_until=None))
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    report = kept.refresh(db, AS_OF, CAL, RULES, now=dbdata.NOW, chunk=10, workers=2)
    assert (report.evaluated, report.stored) == (expected.evaluated, 30)
    assert _kept(db) == wanted
    assert "worker process could not start" in caplog.text


def _square(x: int) -> int:
    if x == 3:
        os._exit(7)  # the process dies in the middle of a task
    return x * x


def _nothing() -> None:
    return None


def test_a_worker_that_dies_loses_its_task_not_the_others(caplog: pytest.LogCaptureFixture) -> None:
    got: dict[int, int] = {}
    done = workers.run(_nothing, (), _square, [(x,) for x in range(8)], 2, got.__setitem__)
    assert 3 not in done and got.get(3) is None
    # The worker that died took no further task; the other did the rest.
    assert got == {k: k * k for k in done}
    assert len(done) >= 4 and done <= set(range(8))
    assert "stopped" in caplog.text and "exited with 7" in caplog.text


def test_a_task_that_raises_is_reported_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    got: dict[int, float] = {}
    done = workers.run(_nothing, (), _inverse, [(x,) for x in (1, 0, 4)], 1, got.__setitem__)
    assert done == {0, 2} and got == {0: 1.0, 2: 0.25}
    assert "ZeroDivisionError" in caplog.text


def _inverse(x: int) -> float:
    return 1 / x
