"""The sweep reads in bulk and sums up old filings in SQL: it must say exactly what the per-entity evaluation
of the full history says, on SQLite and on PostgreSQL, and one broken entity must not stop it."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import credit_code
from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import Entity, Event, EventKind, History, Kind, Scheme
from monitor.rules import evaluate_entity
from monitor.storage import repository
from monitor.storage.db import Database
from monitor.storage.models import EntityRow, EventRow
from monitor.sweep import WINDOW_MONTHS, run_sweep
from tests.dbdata import store

DISTRICTS = ["锦江区", "青羊区", "高新区"]
K = EventKind


def random_history(rng: random.Random, n: int) -> History:
    code = credit_code.complete(f"91510104MA{n:07d}")
    entity = Entity(code, f"测试主体{n}", rng.choice(list(Kind)), rng.choice(DISTRICTS), (f"e{n}@example.cn",))
    granted = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1300))
    events = [Event(K.CERTIFIED, granted, scheme=rng.choice([Scheme.CURRENT, Scheme.LEGACY_2018]))]

    def day() -> date:
        return granted + timedelta(days=rng.randrange(1, 700))

    roll = rng.random()
    if roll < 0.15:
        events.append(Event(K.RESTRUCTURED, day(), detail="rename"))
    elif roll < 0.3:
        events.append(Event(K.EVALUATED, day(), result="failed"))
        if rng.random() < 0.5:
            events.append(Event(K.RECTIFICATION_ACCEPTED, day()))
    elif roll < 0.35:
        events.append(Event(K.MISCONDUCT, day(), detail="fraud"))
    elif roll < 0.4:
        events.append(Event(K.CERTIFIED, day()))
    filings: dict[date, date] = {}
    for period in lt.months(lt.add_months(granted, 1), date(2026, 12, 1)):
        r = rng.random()
        if r < 0.75:
            filings[period] = lt.last_day_of_month(period) - timedelta(days=rng.randrange(0, 10))
        elif r < 0.85:
            filings[period] = lt.last_day_of_month(period) + timedelta(days=rng.randrange(1, 40))
    events.sort(key=lambda e: e.date)
    return History(entity, tuple(events), filings)


@pytest.mark.parametrize("as_of", ["2026-11-25", "2026-03-01", "2025-07-31"])
def test_sweep_equals_per_entity_evaluation_of_the_full_history(db: Database, as_of: str) -> None:
    rng = random.Random(7)
    histories = [random_history(rng, n) for n in range(1, 81)] + window_edges()
    store(db, histories)
    day = date.fromisoformat(as_of)
    cal = lt.WorkCalendar()
    rules = RuleSettings()
    with db.session() as session:
        result = run_sweep(session, day, cal, rules)
        full = [h for h in repository.iter_histories(session) if isinstance(h, History)]
    assert not result.errors
    swept = sorted((f.entity or "", f.rule, f.subject, f.stage, f.days_left) for f in result.findings if f.entity)
    direct = sorted(
        (f.entity or "", f.rule, f.subject, f.stage, f.days_left)
        for h in full
        for f in evaluate_entity(h, day, cal, rules).findings
    )
    assert swept == direct
    if as_of == "2026-11-25":
        # The edge cases reach back across the window that the sweep reads row by row.
        assert max(s.filing_streak for s in result.statuses.values()) > WINDOW_MONTHS


def window_edges() -> list[History]:
    """Streaks that start before the months the sweep reads row by row (monitor.sweep.WINDOW_MONTHS)."""
    out = []
    granted = date(2024, 6, 3)
    stops = {
        "no filing at all": None,
        "on time just before the window": date(2026, 2, 1),
        "late just before the window": date(2026, 3, 1),
        "on time long ago": date(2024, 12, 1),
    }
    for n, (label, last) in enumerate(stops.items(), 900):
        filings: dict[date, date] = {}
        if last is not None:
            for period in lt.months(lt.add_months(granted, 1), last):
                filings[period] = lt.last_day_of_month(period) - timedelta(days=2)
            if label.startswith("late"):
                filings[last] = lt.last_day_of_month(last) + timedelta(days=5)
        code = credit_code.complete(f"91510104MA{n:07d}")
        entity = Entity(code, label, Kind.BASE, "锦江区", ())
        out.append(History(entity, (Event(K.CERTIFIED, granted),), filings))
    return out


def test_one_broken_entity_is_reported_and_the_rest_evaluated(db: Database) -> None:
    rng = random.Random(3)
    good = [random_history(rng, n) for n in range(1, 6)]
    store(db, good)
    with db.session() as session:
        # Corrupt one stored event: a kind the code does not know (as a bad manual edit of the database would).
        row = session.query(EventRow).order_by(EventRow.id).first()
        assert row is not None
        row.kind = "no_such_kind"
        broken = session.get(EntityRow, row.entity_id)
        assert broken is not None
        broken_code = broken.credit_code
    with db.session() as session:
        result = run_sweep(session, date(2026, 11, 25), lt.WorkCalendar(), RuleSettings())
    assert [e.credit_code for e in result.errors] == [broken_code]
    assert "no_such_kind" in result.errors[0].error
    assert set(result.statuses) == {h.entity.credit_code for h in good} - {broken_code}


events_after = st.lists(
    st.tuples(
        st.sampled_from([K.EVALUATED, K.RESTRUCTURED, K.MISCONDUCT, K.REVOKED, K.CERTIFIED, K.APPLIED]),
        st.integers(min_value=1, max_value=900),
    ),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), offset=st.integers(0, 1200), later=events_after)
def test_status_on_a_past_date_does_not_change_when_later_events_are_added(
    seed: int, offset: int, later: list[tuple[EventKind, int]]
) -> None:
    history = random_history(random.Random(seed), seed)
    as_of = date(2023, 1, 1) + timedelta(days=offset)
    cal = lt.WorkCalendar()
    before = evaluate_entity(history, as_of, cal, RuleSettings())
    extra = tuple(
        Event(kind, as_of + timedelta(days=d), result="failed", detail="20" if kind is K.REVOKED else "fraud")
        for kind, d in later
    )
    more_filings = {lt.month_of(as_of): as_of + timedelta(days=1), **history.filings}
    grown = History(history.entity, history.events + extra, more_filings)
    after = evaluate_entity(grown, as_of, cal, RuleSettings())
    assert after.state.status == before.state.status
    assert after.state.reasons == before.state.reasons
    assert sorted(map(repr, after.findings)) == sorted(map(repr, before.findings))


def test_sweep_reads_in_bulk_not_per_entity(db: Database) -> None:
    rng = random.Random(11)
    store(db, [random_history(rng, n) for n in range(1, 121)])
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.session() as session:
            result = run_sweep(session, date(2026, 11, 25), lt.WorkCalendar(), RuleSettings(), chunk=50)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(result.statuses) == 120
    # Three chunks of 50 entities: entities, events, filings, applications and service figures per chunk, plus
    # the end of the table, the few entities read again in full, and the district reports. Never one query per
    # entity.
    assert len(statements) <= 3 * 5 + 1 + 6 + 1, statements


def test_figures_are_read_only_for_months_filed_by_the_as_of_day(db: Database) -> None:
    """Service figures count from the day their month's filing was made: read as of a day, a month filed later
    (or never) is not there, a month filed by then is, and last year's months are not read at all."""
    import json

    from monitor.applications.models import FilingFiguresRow
    from tests.dbdata import NOW

    code = credit_code.complete("91510104MA0000001")
    entity = Entity(code, "图表主体", Kind.BASE, DISTRICTS[0], ("f@example.cn",))
    filings = {
        date(2025, 12, 1): date(2026, 1, 5),
        date(2026, 3, 1): date(2026, 4, 2),
        date(2026, 4, 1): date(2026, 5, 20),
    }
    store(db, [History(entity, (Event(K.CERTIFIED, date(2025, 6, 1)),), filings)])
    with db.session() as session:
        entity_id = repository.entity_ids(session, [code])[code]
        for period in (date(2025, 12, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)):  # May: never filed
            figures = json.dumps({"policy_system": True})
            session.add(FilingFiguresRow(entity_id=entity_id, period=period, figures=figures, recorded_at=NOW))
    with db.session() as session:
        early = next(repository.iter_histories(session, codes=[code], as_of=date(2026, 5, 10)))
        late = next(repository.iter_histories(session, codes=[code], as_of=date(2026, 5, 20)))
    assert isinstance(early, History) and isinstance(late, History)
    assert sorted(early.figures) == [date(2026, 3, 1)]
    assert early.figures[date(2026, 3, 1)]["policy_system"] is True
    assert sorted(late.figures) == [date(2026, 3, 1), date(2026, 4, 1)]
