"""The kept answer (SPEC section 10): each entity's evaluation, kept with the date until which it holds.

Who does what:
- Writers (events, filings, roster rows, applications) call `monitor.storage.stale.mark_stale` in their own
  transaction; the storage functions of imports and `events record` already do.
- `refresh(db, as_of, ...)` re-evaluates what is out of date for `as_of`: stale rows, rows whose `held_until`
  has come, rows of another fingerprint (rule settings, holiday data, code), entities without a row. It reads
  and evaluates a chunk, then stores it in a short transaction of its own, only where the row's version is
  the one it read. The daemon's sweep and `notify` call it; so do readers, through `ensure_fresh`.
- `ensure_fresh(db, as_of, ...)`: five index lookups when nothing is due, a refresh otherwise. A reader (the
  registry, the console, `check`) calls it first and then reads the tables. It only ever writes the cache.
- `current(db, as_of, ...)`: the whole answer as a `SweepResult` (findings, statuses, entities), from the kept
  rows when `as_of` is today, from a fresh evaluation for any other day (time travel never touches the cache).

District and regulation findings (Arts. 21, 27) are evaluated afresh every time: there are 23 districts.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from monitor import legal_time as lt
from monitor import sweep
from monitor import workers as worker_processes
from monitor.config import RuleSettings
from monitor.districts import District
from monitor.domain import Audience, Entity, History, IncompleteHistory, RuleId, Severity, Status
from monitor.progress import stage
from monitor.rules import evaluate_district, evaluate_entity, evaluate_regulation
from monitor.rules.art21_district_report import report_years
from monitor.rules.finding import Finding
from monitor.status import Reason
from monitor.storage import driver, repository, stale
from monitor.storage.db import Database
from monitor.storage.kept_models import KeptAnswerRow, KeptFindingRow
from monitor.storage.models import EntityRow

log = logging.getLogger(__name__)

KEPT = cast(Table, KeptAnswerRow.__table__)
FINDINGS = cast(Table, KeptFindingRow.__table__)
ENTITIES = cast(Table, EntityRow.__table__)

# Bump when what is stored changes shape or meaning: every kept answer becomes stale.
FORMAT = 1
CHUNK = 2000  # entities evaluated, then stored in one short transaction
_CODE_FILES = ("domain.py", "status.py", "legal_time.py", "kept.py", "rules")


# --- fingerprint ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def code_version() -> str:
    """The package version and a hash of the code the answer depends on (the rules, status, legal time)."""
    digest = hashlib.sha256(str(FORMAT).encode())
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("sme-monitor").encode())
    root = Path(__file__).parent
    for name in _CODE_FILES:
        path = root / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.name.encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def calendar_version(cal: lt.WorkCalendar) -> str:
    digest = hashlib.sha256()
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("chinesecalendar").encode())
    digest.update(str(cal.use_package).encode())
    for year in sorted(cal.overrides):
        arr = cal.overrides[year]
        digest.update(f"{year}:{sorted(arr.holidays)}:{sorted(arr.workdays)}".encode())
    return digest.hexdigest()


def fingerprint(settings: RuleSettings, cal: lt.WorkCalendar) -> str:
    """What an answer was computed with: the rule settings, the holiday data and the code."""
    digest = hashlib.sha256()
    digest.update(json.dumps(asdict(settings), default=str, sort_keys=True).encode())
    digest.update(calendar_version(cal).encode())
    digest.update(code_version().encode())
    return digest.hexdigest()


# --- JSON with dates -----------------------------------------------------------------------------------


def _dec(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$d" in value:
            return date.fromisoformat(value["$d"])
        return {k: _dec(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dec(v) for v in value]
    return value


def _tag_date(value: Any) -> Any:
    """json's hook for what it cannot encode: a date becomes {"$d": iso} ."""
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_tag_date)


def dumps(value: Any) -> str:
    """JSON with dates tagged, encoded by json's C encoder."""
    return _ENCODER.encode(value)


def loads(text: str) -> Any:
    return _dec(json.loads(text))


# --- what one evaluation stores ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """One entity's kept answer, as stored (findings rebuilt with `days_left` for the day read)."""

    entity_id: int
    credit_code: str
    as_of: date
    held_until: date
    status: Status
    reasons: tuple[Reason, ...]
    certified_on: date | None
    expires_on: date | None
    ever_certified: bool
    filing_streak: int
    title_spans: tuple[tuple[date, date], ...]
    findings: tuple[Finding, ...] = ()
    error: str = ""


def _answer(entity_id: int, history: History, as_of: date, cal: lt.WorkCalendar, rules: RuleSettings) -> Answer:
    report = evaluate_entity(history, as_of, cal, rules)
    state = report.state
    title = state.title
    return Answer(
        entity_id=entity_id,
        credit_code=history.entity.credit_code,
        as_of=as_of,
        held_until=report.held_until,
        status=state.status,
        reasons=tuple(state.reasons),
        certified_on=title.granted_on if title else None,
        expires_on=title.last_valid_day if title else None,
        ever_certified=bool(state.titles),
        filing_streak=report.filing_streak,
        title_spans=tuple(state.title_spans()),
        findings=tuple(report.findings),
    )


def _failed(entity_id: int, code: str, as_of: date, error: str) -> Answer:
    """An entity whose data broke a rule: kept as such for one day (or until its data changes), reported."""
    return Answer(
        entity_id, code, as_of, lt.days_after(as_of, 1), Status.UNCERTIFIED, (), None, None, False, 0, (), (), error
    )


def _reason_dict(r: Reason) -> dict[str, Any]:
    """dataclasses.asdict(r), without its deep copy."""
    return {"kind": r.kind, "article": r.article, "since": r.since, "deadline": r.deadline, "detail": r.detail}


def _answer_values(a: Answer, fp: str, token: str, now: datetime | None) -> dict[str, Any]:
    return {
        "b_id": a.entity_id,
        "b_version": 0,  # replaced by the caller
        "stale": False,
        "as_of": a.as_of,
        "held_until": a.held_until,
        "fingerprint": fp,
        "status": a.status.value,
        "reasons": dumps([_reason_dict(r) for r in a.reasons]) if a.reasons else "[]",
        "certified_on": a.certified_on,
        "expires_on": a.expires_on,
        "ever_certified": a.ever_certified,
        "filing_streak": a.filing_streak,
        "title_spans": dumps(a.title_spans) if a.title_spans else "[]",
        "error": a.error,
        "token": token,
        "evaluated_at": now,
    }


def _finding_values(entity_id: int, f: Finding) -> dict[str, Any]:
    return {
        "entity_id": entity_id,
        "credit_code": f.entity or "",
        "rule": f.rule.value,
        "subject": f.subject,
        "stage": f.stage,
        "severity": int(f.severity),
        "article": f.article,
        "due": f.due,
        "since": f.since,
        "district": f.district or "",
        "audiences": ",".join(a.value for a in f.audiences),
        "params": dumps(dict(f.params)),
    }


# --- refresh -------------------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    as_of: date
    evaluated: int = 0  # entities evaluated
    stored: int = 0  # answers stored (the others changed while being evaluated and stay stale)
    errors: list[sweep.EntityError] = field(default_factory=list)
    answers: dict[int, Answer] = field(default_factory=dict)  # what was evaluated, stored or not


def _due_filter(as_of: date, fp: str) -> Any:
    k = KEPT.c
    return or_(k.stale.is_(True), k.fingerprint != fp, k.held_until.is_(None), k.held_until <= as_of, k.as_of > as_of)


def _needs_statement() -> Any:
    k = KEPT.c
    return select(
        select(k.entity_id).where(k.stale.is_(True)).limit(1).scalar_subquery(),
        select(func.min(k.held_until)).scalar_subquery(),
        select(func.max(k.as_of)).scalar_subquery(),
        select(func.min(k.fingerprint)).scalar_subquery(),
        select(func.max(k.fingerprint)).scalar_subquery(),
    )


def needs_refresh(session: Session | Connection, as_of: date, fp: str) -> bool:
    """Whether any kept answer is out of date for `as_of`: each part is one index lookup.

    Every registry and console request asks this first, so the statement is compiled once per dialect and
    run on the driver (`driver.run_compiled`): building and compiling it through SQLAlchemy cost about 40
    times what the database takes to answer (0.9 ms against 0.02 ms on SQLite at 100,000 entities)."""
    conn = driver.connection_of(session)
    ((any_stale, min_held, max_as_of, min_fp, max_fp),) = driver.run_compiled(
        conn, ("kept.needs",), _needs_statement, {}
    )
    if any_stale is not None:
        return True
    if min_fp is None:  # no rows: an empty roster, or entities that predate their rows
        return session.execute(select(ENTITIES.c.id).limit(1)).first() is not None
    if isinstance(min_held, str):  # SQLite hands a raw statement's dates back as text
        min_held, max_as_of = date.fromisoformat(min_held), date.fromisoformat(max_as_of)
    return bool(min_fp != fp or max_fp != fp or min_held is None or min_held <= as_of or max_as_of > as_of)


def valid_codes(session: Session, as_of: date, fp: str) -> set[str]:
    """Credit codes whose kept answer holds for `as_of` (what `check --full` compares)."""
    k = KEPT.c
    query = select(k.credit_code).where(~_due_filter(as_of, fp), k.error == "")
    return {c for (c,) in session.execute(query)}


def _due(session: Session, as_of: date, fp: str, full: bool) -> list[tuple[int, int]]:
    """(entity id, version) of the answers to evaluate, in id order."""
    k = KEPT.c
    query = select(k.entity_id, k.version)
    if not full:
        query = query.where(_due_filter(as_of, fp))
    return [(i, v) for i, v in session.execute(query.order_by(k.entity_id))]


def _evaluate_one(
    entity_id: int, history: History | repository.Unreadable, as_of: date, cal: lt.WorkCalendar, rules: RuleSettings
) -> Answer | None:
    """One entity's answer, a failed answer for unreadable data or a rule error, or None when its filings
    must be read in full (IncompleteHistory)."""
    if isinstance(history, repository.Unreadable):
        return _failed(entity_id, history.credit_code, as_of, history.error)
    try:
        return _answer(entity_id, history, as_of, cal, rules)
    except IncompleteHistory:
        return None
    except Exception as exc:  # one entity's bad data must not stop the others
        code = history.entity.credit_code
        log.exception("entity %s: rule evaluation failed", code)
        return _failed(entity_id, code, as_of, f"{type(exc).__name__}: {exc}")


def _evaluate(
    session: Session, ids: Sequence[int], as_of: date, cal: lt.WorkCalendar, rules: RuleSettings
) -> Iterator[tuple[int, Answer]]:
    """Evaluate a chunk with the recent months of filings; the few entities whose streak reaches further are
    read again in full."""
    which = repository.ids_condition(ENTITIES.c.id, sorted(ids))
    codes_by_id = dict(session.connection().execute(select(ENTITIES.c.id, ENTITIES.c.credit_code).where(which)).all())
    id_by_code = {c: i for i, c in codes_by_id.items()}
    start = lt.add_months(lt.month_of(as_of), -sweep.WINDOW_MONTHS)
    again: list[int] = []
    for window in (start, None):
        chunk = ids if window is not None else again
        if not chunk:
            break
        for history in repository.iter_histories(session, ids=chunk, filings_from=window, as_of=as_of):
            code = history.credit_code if isinstance(history, repository.Unreadable) else history.entity.credit_code
            entity_id = id_by_code[code]
            answer = _evaluate_one(entity_id, history, as_of, cal, rules)
            if answer is None:
                again.append(entity_id)  # only a windowed read raises IncompleteHistory
            else:
                yield entity_id, answer


def _store(
    db: Database, due: Sequence[tuple[int, int]], answers: dict[int, Answer], fp: str, now: datetime | None
) -> int:
    """Store answers where the row's version is still the one read before evaluating; how many were stored.

    One short transaction: the answers, then their findings replaced, for the rows this call wrote.
    """
    token = uuid.uuid4().hex
    k = KEPT.c
    params = []
    for entity_id, version in due:
        answer = answers.get(entity_id)
        if answer is not None:
            params.append({**_answer_values(answer, fp, token, now), "b_version": version})
    if not params:
        return 0
    names = [n for n in params[0] if not n.startswith("b_")]
    statement = (
        update(KEPT)
        .where(and_(k.entity_id == bindparam("b_id"), k.version == bindparam("b_version")))
        .values({n: bindparam(n) for n in names})
    )
    with db.session() as session:
        conn = session.connection()
        driver.executemany(conn, statement, params)
        # Which rows this call wrote: its token, looked for in the chunk's id range only (the token has no
        # index, and a scan of the whole table per chunk made a full sweep quadratic in the roster).
        low, high = min(d[0] for d in due), max(d[0] for d in due)
        stored = [
            i for (i,) in conn.execute(select(k.entity_id).where(k.entity_id.between(low, high), k.token == token))
        ]
        for i in range(0, len(stored), 900):
            conn.execute(delete(FINDINGS).where(FINDINGS.c.entity_id.in_(stored[i : i + 900])))
        rows = [_finding_values(i, f) for i in stored for f in answers[i].findings]
        if rows:
            driver.executemany(conn, insert(FINDINGS).values({n: bindparam(n) for n in rows[0]}), rows)
    return len(stored)


POOL_MIN = 20_000  # answers due before a refresh spreads over processes: each costs about a second to start
MAX_WORKERS = 4


def workers_for(db: Database, due: int, workers: int | None) -> int:
    """How many processes evaluate a refresh of `due` answers: one, unless there are enough to pay for the
    start-up of others (`POOL_MIN`), the database is one other processes can open (not SQLite in memory) and
    the machine has more than one CPU. `workers` overrides the count (1: in this process)."""
    if workers is None:
        if due < POOL_MIN:
            return 1
        workers = min(os.cpu_count() or 1, MAX_WORKERS)
    if not db.shared:
        return 1
    return max(1, min(workers, due))


@dataclass
class _Part:
    """What evaluating and storing one chunk gave (small: it is all a worker process sends back)."""

    evaluated: int
    stored: int
    errors: list[sweep.EntityError]
    answers: dict[int, Answer] | None = None


def _refresh_part(
    db: Database,
    part: Sequence[tuple[int, int]],
    as_of: date,
    cal: lt.WorkCalendar,
    rules: RuleSettings,
    fp: str,
    now: datetime | None,
    keep: bool,
) -> _Part:
    with db.session() as session:
        answers = dict(_evaluate(session, [d[0] for d in part], as_of, cal, rules))
    stored = _store(db, part, answers, fp, now)
    errors = [sweep.EntityError(a.credit_code, a.error) for a in answers.values() if a.error]
    return _Part(len(answers), stored, errors, answers if keep else None)


# A worker process's own database handle and settings, set once by `_start_worker`.
_WORKER: tuple[Database, lt.WorkCalendar, RuleSettings, str] | None = None


def _start_worker(url: str, cal: lt.WorkCalendar, rules: RuleSettings, fp: str, log_json: bool, level: int) -> None:
    global _WORKER
    from monitor.logs import setup_logging

    setup_logging("json" if log_json else "text", level)
    gc.disable()  # as in the parent (sweep.collector_paused): the process lives for one refresh
    _WORKER = (Database(url), cal, rules, fp)


def _worker_part(part: Sequence[tuple[int, int]], as_of: date, now: datetime | None) -> _Part:
    assert _WORKER is not None, "not a refresh worker"
    db, cal, rules, fp = _WORKER
    return _refresh_part(db, part, as_of, cal, rules, fp, now, keep=False)


def _log_format() -> tuple[bool, int]:
    from monitor.logs import JsonFormatter

    root = logging.getLogger()
    as_json = any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    return as_json, root.level


def refresh(
    db: Database,
    as_of: date,
    cal: lt.WorkCalendar,
    rules: RuleSettings,
    *,
    full: bool = False,
    now: datetime | None = None,
    chunk: int = CHUNK,
    keep_answers: bool = False,
    workers: int | None = None,
) -> RefreshReport:
    """Evaluate what is out of date for `as_of` (everything with `full`) and store it, chunk by chunk.

    A large refresh (`POOL_MIN` answers or more: a full sweep, the 1st of a month, a catch-up) is spread over
    worker processes, one per CPU (`workers_for`, `monitor.workers`): each reads, evaluates and stores whole
    chunks in its own connection and short transactions, exactly as this process would, and sends back only
    counts and errors. The rules are pure Python, so one process evaluates on one CPU whatever its threads."""
    fp = fingerprint(rules, cal)
    report = RefreshReport(as_of)
    with db.session() as session:
        # Entities that predate their rows (or were written around the storage layer) get a stale one. Every
        # row names an entity (a foreign key, and no entity is ever deleted), so equal counts mean none is
        # missing: two index counts, where looking for a missing row probed the answers for every entity
        # (0.23 s at 100,000, the most of a refresh with nothing to do).
        rows = session.execute(
            select(
                select(func.count()).select_from(ENTITIES).scalar_subquery(),
                select(func.count()).select_from(KEPT).scalar_subquery(),
            )
        ).one()
        if rows[0] != rows[1]:
            missing = select(ENTITIES.c.id).where(~ENTITIES.c.id.in_(select(KEPT.c.entity_id).scalar_subquery()))
            stale.mark_stale_from(session, missing)
    with db.session() as session:
        due = _due(session, as_of, fp, full)
    parts = [due[i : i + chunk] for i in range(0, len(due), chunk)]
    procs = 1 if keep_answers else workers_for(db, len(due), workers)
    label = "全量评估 (kept answer, full)" if full else "更新保存的结论 (kept answer)"
    # A bar on a terminal (the line below is the log's): a catch-up after a long stop re-evaluates everything.
    with sweep.collector_paused(), stage(label, len(due), unit="主体", quiet=True) as advance:
        errors: dict[int, list[sweep.EntityError]] = {}

        def take(k: int, done: _Part) -> None:
            report.evaluated += done.evaluated
            report.stored += done.stored
            errors[k] = done.errors
            if done.answers is not None:
                report.answers.update(done.answers)
            advance(len(parts[k]))

        if procs > 1 and len(parts) > 1:
            # A task or a worker that fails is logged and left to the loop below: a part a worker stored but
            # whose answer did not come back is stored again, row by row only where its version has not moved.
            setup = (db.url, cal, rules, fp, *_log_format())
            tasks = [(part, as_of, now) for part in parts]
            worker_processes.run(_start_worker, setup, _worker_part, tasks, procs, take)
        for k, part in enumerate(parts):
            if k not in errors:  # all of them in this process; after a pool that broke, what it did not finish
                take(k, _refresh_part(db, part, as_of, cal, rules, fp, now, keep_answers))
    report.errors = [e for k in sorted(errors) for e in errors[k]]  # in id order, as the parts were cut
    if report.evaluated:
        log.info("kept answer refreshed as of %s: %d evaluated, %d stored", as_of, report.evaluated, report.stored)
    return report


def ensure_fresh(db: Database, as_of: date, cal: lt.WorkCalendar, rules: RuleSettings) -> RefreshReport | None:
    """Refresh what is out of date for `as_of`; cheap when nothing is. Returns the refresh, if one ran."""
    with db.session() as session:
        if not needs_refresh(session, as_of, fingerprint(rules, cal)):
            return None
    return refresh(db, as_of, cal, rules)


# --- reading -------------------------------------------------------------------------------------------


def _finding(row: Any, entities: dict[str, Entity], as_of: date) -> Finding:
    entity = entities.get(row.credit_code)
    params = loads(row.params)
    return Finding(
        rule=RuleId(row.rule),
        article=row.article,
        severity=Severity(row.severity),
        audiences=tuple(Audience(a) for a in row.audiences.split(",") if a),
        stage=row.stage,
        subject=row.subject,
        entity=row.credit_code or None,
        entity_name=entity.name if entity else params.get("name"),
        district=row.district or None,
        due=row.due,
        days_left=lt.days_left(as_of, row.due) if row.due else None,
        since=row.since,
        params=params,
    )


def _status(row: Any) -> sweep.EntityStatus:
    reasons = tuple(Reason(**r) for r in loads(row.reasons))
    return sweep.EntityStatus(Status(row.status), reasons, row.expires_on, row.filing_streak)


def read(session: Session, as_of: date, *, codes: Iterable[str] | None = None) -> sweep.SweepResult:
    """The kept answers as a SweepResult for `as_of` (the caller has made them fresh for that day)."""
    result = sweep.SweepResult(as_of=as_of)
    wanted = list(codes) if codes is not None else None
    result.entities = repository.entities(session, wanted)
    k, f = KEPT.c, FINDINGS.c
    aq = select(k.credit_code, k.status, k.reasons, k.expires_on, k.filing_streak, k.error)
    fq = select(
        f.credit_code,
        f.rule,
        f.subject,
        f.stage,
        f.severity,
        f.article,
        f.due,
        f.since,
        f.district,
        f.audiences,
        f.params,
    )
    if wanted is not None:
        aq, fq = aq.where(k.credit_code.in_(wanted)), fq.where(f.credit_code.in_(wanted))
    for row in session.execute(aq):
        if row.error:
            result.errors.append(sweep.EntityError(row.credit_code, row.error))
            result.entities.pop(row.credit_code, None)
        else:
            result.statuses[row.credit_code] = _status(row)
    for frow in session.execute(fq.order_by(f.entity_id, f.id)):
        if frow.credit_code in result.statuses:
            result.findings.append(_finding(frow, result.entities, as_of))
    return result


def titled_years(session: Session, years: Iterable[int]) -> dict[str, set[int]]:
    """District -> the years (of `years`) in which some entity of the district held a title."""
    wanted = tuple(years)
    out: dict[str, set[int]] = defaultdict(set)
    query = select(ENTITIES.c.district, KEPT.c.title_spans).join(KEPT, KEPT.c.entity_id == ENTITIES.c.id)
    for district, spans in session.execute(query.where(KEPT.c.title_spans != "[]")):
        for first, last in loads(spans):
            for y in wanted:
                if first <= date(y, 12, 31) and last >= date(y, 1, 1):
                    out[district].add(y)
    return out


def current(
    db: Database,
    as_of: date,
    cal: lt.WorkCalendar,
    rules: RuleSettings,
    districts: Iterable[District] = (),
    *,
    today: date | None = None,
) -> sweep.SweepResult:
    """The whole answer for `as_of`: kept when `as_of` is `today` (refreshed first), fresh otherwise."""
    if today is not None and as_of != today:
        with db.session() as session:
            return sweep.run_sweep(session, as_of, cal, rules, districts)
    refreshed = ensure_fresh(db, as_of, cal, rules)
    with db.session() as session:
        result = read(session, as_of)
        titled = titled_years(session, report_years(as_of))
        reports = repository.district_reports(session)
    if refreshed is not None:
        known = {e.credit_code for e in result.errors}
        result.errors += [e for e in refreshed.errors if e.credit_code not in known]
    for district in districts:
        result.findings.extend(
            evaluate_district(district.name, titled.get(district.name, set()), reports, as_of, cal, rules)
        )
    result.findings.extend(evaluate_regulation(as_of, rules))
    for year in (as_of.year, as_of.year + 1):  # deadlines of the kept findings fall in these years
        if not cal.covers(year):
            cal.assumed_years.add(year)
    result.warnings = sweep.calendar_warnings(cal)
    return result
