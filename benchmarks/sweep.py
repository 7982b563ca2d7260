"""Sweep benchmark (issue 8): the kept answer's full and daily sweeps over 100,000 entities with 36 months of
filings (SQLite), against the floor "read every filing row once" measured in the same run.

    .venv/bin/python benchmarks/sweep.py [--entities 100000] [--dir /tmp/sme-bench] [--changed 0.01]

Prints, in one run:
- floor: `SELECT sum(length(filed_on)) FROM filings`, run twice (the file in the page cache), the second taken;
- fresh `run_sweep` for the 10th of the month (for reference) and its ratio to the floor;
- read: the histories a full sweep reads (8 months of filings), into Python, no rule evaluated: the least a
  full sweep costs in one process;
- full sweep: `kept.refresh(..., full=True)` (every entity evaluated and its answer stored) on the 3rd, first
  in one process, then spread over worker processes as the product does (one per CPU), and their ratios to
  the floor (goal: at most 10x) and to each other; the second runs over the answers the first stored, as
  the re-evaluation after an upgrade on a running system does;
- daily sweep on the 10th: 1 % of the entities changed through the storage layer (half a new event, half a
  new filing: both mark the entity stale), then `kept.refresh` (goal: at most 0.1x the full sweep);
- daily sweep on the 1st of the next month, with another 1 % changed: the filing stages move for most
  entities (for information);
- peak RSS of the process.
The database is generated once per size and kept (upgraded when the schema moves; delete the directory to
regenerate); each run works on a copy.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor import credit_code, kept
from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.demo import DIVISION
from monitor.domain import EventKind, Kind
from monitor.storage import repository, stale
from monitor.storage.db import Database
from monitor.storage.models import CertificationRow, EntityRow, EventRow, FilingRow
from monitor.sweep import WINDOW_MONTHS, run_sweep

AS_OF = date(2026, 11, 25)  # the day the data was generated for
NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
FULL_DAY = date(2026, 11, 3)  # the full sweep; held-until dates then fall after the 10th for most entities
MID_MONTH = date(2026, 11, 10)  # the daily sweep, mid-month
FIRST = date(2026, 12, 1)  # the daily sweep on the 1st: the filing stages move for most entities
MONTHS = 36
BATCH = 50_000


def generate(db: Database, n: int, seed: int = 1) -> int:
    """n entities, each with a title granted in the last three years and 36 months of filings with gaps."""
    rng = random.Random(seed)
    districts = list(DIVISION)
    cal = lt.WorkCalendar()
    periods = list(lt.months(lt.add_months(lt.month_of(AS_OF), -MONTHS), lt.add_months(lt.month_of(AS_OF), -1)))
    deadlines = {p: lt.filing_deadline(p, 0, cal) for p in periods}
    first_grant = lt.days_after(lt.add_months(AS_OF, -36), 1)
    span = (AS_OF - first_grant).days - 30
    filings: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    certs: list[dict[str, object]] = []
    rows = 0
    with db.engine.begin() as conn:
        conn.execute(
            sa.insert(EntityRow),
            [
                {
                    "id": i,
                    "credit_code": credit_code.complete(f"91{DIVISION[districts[i % 23]]}MA{i:07d}"),
                    "name": f"基准测试主体{i}有限公司",
                    "kind": (Kind.PLATFORM if i % 3 else Kind.BASE).value,
                    "district": districts[i % 23],
                    "emails": f"e{i}@bench.example.cn",
                    "cert_no": f"B-{i}",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(1, n + 1)
            ],
        )
        event_id = 0
        for i in range(1, n + 1):
            granted = lt.days_after(first_grant, rng.randrange(span))
            event_id += 1
            events.append(_event(event_id, i, EventKind.CERTIFIED, granted))
            certs.append(
                {"entity_id": i, "event_id": event_id, "granted_on": granted, "cert_no": "", "scheme": "current"}
            )
            roll = rng.random()
            later = lt.days_after(granted, rng.randrange(1, max(2, (AS_OF - granted).days)))
            if roll < 0.05:
                event_id += 1
                events.append(_event(event_id, i, EventKind.RESTRUCTURED, later, detail="rename"))
            elif roll < 0.10:
                event_id += 1
                events.append(_event(event_id, i, EventKind.EVALUATED, later, result="failed"))
            elif roll < 0.105:
                event_id += 1
                events.append(_event(event_id, i, EventKind.MISCONDUCT, later, detail="fraud"))
            # Filing habits: most file on time, some are sloppy, a few stop altogether.
            habit = rng.random()
            stop = rng.randrange(MONTHS) if habit > 0.97 else MONTHS
            for k, period in enumerate(periods):
                r = rng.random()
                if k >= stop or (habit > 0.9 and r < 0.3) or r < 0.03:
                    continue
                d = deadlines[period]
                filed = lt.days_after(d, rng.randrange(1, 20)) if r < 0.06 else lt.days_before(d, rng.randrange(0, 25))
                filings.append(
                    {"entity_id": i, "period": period, "filed_on": filed, "source": "bench", "recorded_at": NOW}
                )
            if len(filings) >= BATCH:
                rows += _flush(conn, filings, events, certs)
        rows += _flush(conn, filings, events, certs)
    return rows


def _event(eid: int, entity: int, kind: EventKind, when: date, result: str = "", detail: str = "") -> dict[str, object]:
    return {
        "id": eid,
        "entity_id": entity,
        "kind": kind.value,
        "occurred_on": when,
        "result": result,
        "detail": detail,
        "note": "",
        "recorded_by": "bench",
        "source": "bench",
        "recorded_at": NOW,
    }


def _flush(
    conn: sa.Connection, filings: list[dict[str, Any]], events: list[dict[str, Any]], certs: list[dict[str, Any]]
) -> int:
    n = len(filings)
    if events:
        conn.execute(sa.insert(EventRow), events)
    if certs:
        conn.execute(sa.insert(CertificationRow), certs)
    if filings:
        conn.execute(sa.insert(FilingRow), filings)
    filings.clear()
    events.clear()
    certs.clear()
    return n


FLOOR_SQL = "SELECT sum(length(filed_on)) FROM filings"


def floor_query(db: Database) -> Timing:
    """Read every filing row once; run twice (the file in the page cache), the second run taken."""
    runs = [Timing(), Timing()]
    for timing in runs:
        with db.engine.connect() as conn, timing:
            conn.exec_driver_sql(FLOOR_SQL).scalar_one()
    return runs[-1]


def change(db: Database, n_entities: int, share: float, on: date, seed: int) -> int:
    """Write new data for `share` of the entities through the storage layer (which marks them stale): half a
    passed evaluation (repository.append_event), half a filing for the month before `on` (ORM insert)."""
    rng = random.Random(seed)
    ids = rng.sample(range(1, n_entities + 1), max(1, round(n_entities * share)))
    now = datetime.combine(on, datetime.min.time(), tzinfo=UTC)
    period = lt.add_months(lt.month_of(on), -1)
    with db.session() as session:
        for k, entity_id in enumerate(ids):
            if k % 2:
                event = repository.NewEvent("", EventKind.EVALUATED, on, result="passed", source="bench")
                repository.append_event(session, entity_id, event, now)
            else:
                session.execute(
                    sa.delete(FilingRow).where(FilingRow.entity_id == entity_id, FilingRow.period == period)
                )
                session.add(FilingRow(entity_id=entity_id, period=period, filed_on=on, source="bench", recorded_at=now))
    return len(ids)


class Timing:
    """Wall and CPU seconds of one step (the CPU figure is the steadier one on a shared machine)."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Timing:
        gc.collect()
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu

    def __str__(self) -> str:
        return f"{self.wall:7.2f} s (cpu {self.cpu:6.2f} s)"

    def ratio(self, other: Timing) -> str:
        return f"{self.wall / other.wall:6.3f}x (cpu {self.cpu / other.cpu:6.3f}x)"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/sme-bench"))
    parser.add_argument("--changed", type=float, default=0.01, help="share of the entities changed each day")
    args = parser.parse_args()
    n = args.entities
    args.dir.mkdir(parents=True, exist_ok=True)
    pristine = args.dir / f"sweep-{n}.db"
    db = Database(f"sqlite:///{pristine}")
    if pristine.exists() and db.current_revision() not in (None, db.head_revision()):
        db.upgrade()  # a newer schema: migrations keep the data, no need to generate it again
    if not pristine.exists() or db.current_revision() is None:
        db.dispose()
        pristine.unlink(missing_ok=True)
        db = Database(f"sqlite:///{pristine}")
        db.upgrade()
        t = time.perf_counter()
        generate(db, n)
        print(f"[generated {n:,} entities in {time.perf_counter() - t:.1f} s: {pristine}]", flush=True)
    db.dispose()
    work = args.dir / f"sweep-{n}-run.db"
    shutil.copyfile(pristine, work)
    db = Database(f"sqlite:///{work}")
    cal, rules = lt.WorkCalendar(), RuleSettings()
    with db.engine.connect() as conn:
        filing_rows = conn.exec_driver_sql("SELECT COUNT(*) FROM filings").scalar_one()
    print(f"entities={n:,}  filing_rows={filing_rows:,}  (SQLite, {work})", flush=True)

    with db.session() as session:  # every entity has its kept row, as on a running system (not timed)
        stale.mark_all_stale(session)

    floor = floor_query(db)
    print(f"floor  (read every filing row once, 2nd run)      {floor}", flush=True)

    with Timing() as fresh, db.session() as session:
        result = run_sweep(session, MID_MONTH, cal, rules)
    print(
        f"fresh  run_sweep ({MID_MONTH})                     {fresh}  = {fresh.ratio(floor)} floor  "
        f"(findings={len(result.findings):,}, errors={len(result.errors)})",
        flush=True,
    )
    del result

    with Timing() as read, db.session() as session:
        window = lt.add_months(lt.month_of(FULL_DAY), -WINDOW_MONTHS)
        read_n = sum(1 for _ in repository.iter_histories(session, filings_from=window, as_of=FULL_DAY))
    print(
        f"read   the histories a full sweep reads, no rule  {read}  = {read.ratio(floor)} floor  "
        f"({read_n:,} entities, one process: the least a full sweep in one process can cost)",
        flush=True,
    )

    with Timing() as serial:
        report = kept.refresh(db, FULL_DAY, cal, rules, full=True, now=NOW, workers=1)
    print(
        f"full   kept.refresh(full=True), 1 process          {serial}  = {serial.ratio(floor)} floor  "
        f"evaluated={report.evaluated:,} stored={report.stored:,}",
        flush=True,
    )
    procs = kept.workers_for(db, n, None)
    with Timing() as full:
        report = kept.refresh(db, FULL_DAY, cal, rules, full=True, now=NOW)
    print(
        f"full   kept.refresh(full=True) ({FULL_DAY}), {procs} proc {full}  = {full.ratio(floor)} floor "
        f"(goal <= 10x)  evaluated={report.evaluated:,} stored={report.stored:,}; "
        f"{serial.wall / full.wall:.2f}x faster than 1 process (cpu figure: this process only)",
        flush=True,
    )

    for day, seed, note in ((MID_MONTH, 10, "goal <= 0.1x"), (FIRST, 1, "for information")):
        changed = change(db, n, args.changed, day, seed=seed)
        with Timing() as daily:
            report = kept.refresh(db, day, cal, rules, now=NOW)
        print(
            f"daily  kept.refresh ({day}, {changed:,} changed) {daily}  = {daily.ratio(full)} full sweep "
            f"({note})  evaluated={report.evaluated:,}",
            flush=True,
        )
    print(f"peak RSS {peak_rss_mb():.0f} MB", flush=True)
    db.dispose()


if __name__ == "__main__":
    main()
