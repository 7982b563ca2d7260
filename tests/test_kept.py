"""The kept answer (monitor/kept.py, SPEC 10) on SQLite and PostgreSQL: what is evaluated when, what a write
marks stale, a write racing an evaluation, the fingerprint, and kept == fresh for random histories."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import credit_code, kept
from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import Entity, EventKind, History, Kind, Result
from monitor.storage import repository, stale
from monitor.storage.db import Database
from monitor.storage.kept_models import KeptAnswerRow, KeptFindingRow
from monitor.storage.models import EntityRow
from monitor.sweep import run_sweep
from tests import dbdata
from tests.kept_strategies import histories
from tests.rulecases import cert, monthly

CAL = lt.WorkCalendar()
RULES = RuleSettings()
NOW = dbdata.NOW


def _entity(n: int, district: str = "锦江区") -> Entity:
    return Entity(credit_code.complete(f"91510104MA{n:07d}"), f"成都第{n}服务平台有限公司", Kind.PLATFORM, district)


def _roster(db: Database, n: int) -> list[Entity]:
    """n title holders certified 2025-06-15 that filed every month through October 2026."""
    entities = [_entity(i) for i in range(1, n + 1)]
    dbdata.store(db, [History(e, (cert("2025-06-15"),), monthly("2025-07", "2026-10")) for e in entities])
    return entities


def _rows(db: Database) -> dict[str, Any]:
    with db.session() as s:
        return {r.credit_code: r for r in s.execute(sa.select(KeptAnswerRow.__table__))}


def _comparable(result: Any) -> tuple[Any, Any]:
    findings = sorted(
        (
            f.rule.value,
            f.entity,
            f.subject,
            f.stage,
            f.due,
            f.days_left,
            f.since,
            f.severity,
            f.audiences,
            # Parameters as JSON, dates as ISO text: a date made while another test froze the clock (a cached
            # legal_time.add_months result) is freezegun's FakeDate, equal to the date but not in repr.
            json.dumps(f.params, sort_keys=True, default=str, ensure_ascii=False),
            f.message("zh_CN"),
        )
        for f in result.findings
    )
    return findings, dict(sorted(result.statuses.items()))


def test_every_entity_has_a_stale_row_until_evaluated(db: Database) -> None:
    _roster(db, 3)
    rows = _rows(db)
    assert len(rows) == 3 and all(r.stale and r.as_of is None for r in rows.values())
    report = kept.refresh(db, date(2026, 11, 10), CAL, RULES, now=NOW)
    assert (report.evaluated, report.stored) == (3, 3)
    rows = _rows(db)
    assert all(not r.stale and r.as_of == date(2026, 11, 10) for r in rows.values())
    # November is open and unfiled: the 5-day reminder starts on the 25th (deadline Monday the 30th).
    assert {r.held_until for r in rows.values()} == {date(2026, 11, 25)}
    assert all(r.status == "active" and r.expires_on == date(2028, 6, 15) for r in rows.values())


def test_only_what_changed_or_came_due_is_evaluated_again(db: Database) -> None:
    entities = _roster(db, 4)
    kept.refresh(db, date(2026, 11, 10), CAL, RULES, now=NOW)
    with db.session() as s:
        assert not kept.needs_refresh(s, date(2026, 11, 24), kept.fingerprint(RULES, CAL))
    assert kept.ensure_fresh(db, date(2026, 11, 24), CAL, RULES) is None  # nothing due: nothing evaluated
    # A failed evaluation recorded for one entity marks it stale in the writer's own transaction.
    with db.session() as s:
        ids = repository.entity_ids(s, [entities[0].credit_code])
        new = repository.NewEvent(entities[0].credit_code, EventKind.EVALUATED, date(2026, 11, 12), Result.FAILED)
        repository.append_event(s, ids[entities[0].credit_code], new, NOW)
    assert _rows(db)[entities[0].credit_code].stale
    report = kept.ensure_fresh(db, date(2026, 11, 13), CAL, RULES)
    assert report is not None and report.evaluated == 1
    row = _rows(db)[entities[0].credit_code]
    assert row.status == "suspended" and not row.stale
    # On the 25th the others' held-until date has come: all four are due (the suspended one too: its
    # filing reminder starts that day as well).
    report = kept.ensure_fresh(db, date(2026, 11, 25), CAL, RULES)
    assert report is not None and report.evaluated == 4


def test_a_write_during_an_evaluation_is_not_covered_by_it(db: Database) -> None:
    entities = _roster(db, 2)
    kept.refresh(db, date(2026, 11, 10), CAL, RULES)
    code = entities[0].credit_code
    with db.session() as s:
        due = kept._due(s, date(2026, 11, 10), kept.fingerprint(RULES, CAL), True)
        answers = dict(kept._evaluate(s, [d[0] for d in due], date(2026, 11, 10), CAL, RULES))
    with db.session() as s:  # the write lands after the evaluation read the data
        stale.mark_stale_codes(s, [code])
    stored = kept._store(db, due, answers, kept.fingerprint(RULES, CAL), NOW)
    assert stored == 1
    rows = _rows(db)
    assert rows[code].stale and not rows[entities[1].credit_code].stale


def test_other_settings_or_code_make_every_answer_stale(db: Database) -> None:
    _roster(db, 2)
    kept.refresh(db, date(2026, 11, 10), CAL, RULES)
    other = replace(RULES, filing_reminder_days=(10, 1))
    assert kept.fingerprint(other, CAL) != kept.fingerprint(RULES, CAL)
    with db.session() as s:
        assert kept.needs_refresh(s, date(2026, 11, 10), kept.fingerprint(other, CAL))
    report = kept.ensure_fresh(db, date(2026, 11, 10), CAL, other)
    assert report is not None and report.evaluated == 2
    # With a 10-day reminder the answer now holds only until the 20th.
    assert {r.held_until for r in _rows(db).values()} == {date(2026, 11, 20)}


def test_findings_are_read_back_with_days_left_for_the_day_asked(db: Database) -> None:
    entities = _roster(db, 1)
    kept.refresh(db, date(2026, 11, 25), CAL, RULES)
    result = kept.current(db, date(2026, 11, 27), CAL, RULES, today=date(2026, 11, 27))
    (f,) = [f for f in result.findings if f.entity]
    assert (f.rule.value, f.stage, f.due, f.days_left) == ("FILING_DUE_SOON", "5d", date(2026, 11, 30), 3)
    assert f.entity_name == entities[0].name
    with db.session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(KeptFindingRow)).scalar_one() == 1


def test_time_travel_evaluates_afresh_and_leaves_the_cache(db: Database) -> None:
    _roster(db, 2)
    kept.refresh(db, date(2026, 11, 10), CAL, RULES)
    before = _rows(db)
    result = kept.current(db, date(2025, 9, 1), CAL, RULES, today=date(2026, 11, 10))
    assert {s.status.value for s in result.statuses.values()} == {"active"}
    assert {r.as_of for r in _rows(db).values()} == {date(2026, 11, 10)}
    assert {c: r.version for c, r in _rows(db).items()} == {c: r.version for c, r in before.items()}


def _clear(db: Database) -> None:
    with db.session() as s:
        for table in ("kept_findings", "kept_answers", "certifications", "filings", "events", "entities"):
            s.execute(sa.text(f"DELETE FROM {table}"))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    hs=st.lists(histories(), min_size=1, max_size=4),
    start=st.integers(min_value=0, max_value=5 * 365),
    gaps=st.lists(st.integers(min_value=0, max_value=45), min_size=1, max_size=4),
)
def test_kept_answer_equals_a_fresh_evaluation(db: Database, hs: list[History], start: int, gaps: list[int]) -> None:
    """Random histories, kept from a random day and read on later days, as readers and sweeps would: every
    read equals a fresh evaluation of that day."""
    _clear(db)
    day = date(2022, 1, 1) + timedelta(days=start)
    # Only what was recorded by the first day is in the database; what comes later is not known yet.
    dbdata.store(db, [replace(h.up_to(day), entity=_entity(i)) for i, h in enumerate(hs, 1)])
    kept.refresh(db, day, CAL, RULES)
    for gap in gaps:
        day += timedelta(days=gap)
        got = kept.current(db, day, CAL, RULES, today=day)
        with db.session() as s:
            fresh = run_sweep(s, day, CAL, RULES)
        assert _comparable(got) == _comparable(fresh), f"as of {day}"


def test_histories_by_ids_read_a_run_as_a_range_and_gaps_as_a_list(db: Database) -> None:
    entities = _roster(db, 4)
    with db.session() as s:
        ids = repository.entity_ids(s, [e.credit_code for e in entities])
        by_id = {v: k for k, v in ids.items()}
        first, second, third, fourth = sorted(by_id)
        assert repository.id_run([first, second, third]) == (first, third)
        assert repository.id_run([first, third]) is None
        for wanted in ([second, third], [first, fourth], [fourth, second], [third]):
            got = [h.entity.credit_code for h in repository.iter_histories(s, ids=wanted)]  # type: ignore[union-attr]
            assert got == [by_id[i] for i in sorted(wanted)]
            # a run's read takes only its own filings, as the IN list does
            assert all(len(h.filings) == 16 for h in repository.iter_histories(s, ids=wanted))  # type: ignore[union-attr]


def test_an_entity_written_around_the_storage_layer_gets_its_row_and_answer(db: Database) -> None:
    """A roster row inserted by plain SQL (no stale mark): the next refresh gives it a row and evaluates it."""
    _roster(db, 2)
    kept.refresh(db, date(2026, 11, 10), CAL, RULES, now=NOW)
    stray = _entity(9)
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(EntityRow).values(
                credit_code=stray.credit_code,
                name=stray.name,
                kind=stray.kind.value,
                district=stray.district,
                emails="",
                cert_no="",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    assert stray.credit_code not in _rows(db)
    report = kept.refresh(db, date(2026, 11, 10), CAL, RULES, now=NOW)
    assert (report.evaluated, report.stored) == (1, 1)
    row = _rows(db)[stray.credit_code]
    assert not row.stale and row.status == "uncertified" and row.as_of == date(2026, 11, 10)
    assert kept.refresh(db, date(2026, 11, 10), CAL, RULES, now=NOW).evaluated == 0
