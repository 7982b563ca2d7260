"""Sweep benchmark: the full rule sweep over 10,000 and 100,000 entities with 36 months of filings (SQLite).

    .venv/bin/python benchmarks/sweep.py [--sizes 10000 100000] [--dir /tmp/sme-bench]

Prints, per size: entities, filing rows, findings, sweep seconds, time per entity, and the time of one SQL
query computing every entity's trailing streak of missed months over the same database, with the ratio
sweep / query; at the end the peak RSS of the process. Targets (issue 3), at 100,000 entities on a 2-core
machine: sweep <= 5 s, <= 10x the query, peak RSS < 1 GiB, time per entity within 1.3x of that at 10,000.
Databases are generated once per size and reused (delete the directory to regenerate).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from monitor import credit_code
from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.demo import DIVISION
from monitor.domain import EventKind, Kind
from monitor.storage.db import Database
from monitor.storage.models import CertificationRow, EntityRow, EventRow, FilingRow
from monitor.sweep import run_sweep

AS_OF = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
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


STREAK_SQL = """
WITH ok AS (
    SELECT entity_id, MAX(period) AS last_ok
    FROM filings
    WHERE filed_on <= CASE period {cases} END
    GROUP BY entity_id
),
title AS (
    SELECT entity_id, MAX(granted_on) AS granted FROM certifications GROUP BY entity_id
)
SELECT e.id,
       {last_closed} - MAX(
           COALESCE(CAST(strftime('%Y', ok.last_ok) AS INTEGER) * 12 + CAST(strftime('%m', ok.last_ok) AS INTEGER), 0),
           CAST(strftime('%Y', title.granted) AS INTEGER) * 12 + CAST(strftime('%m', title.granted) AS INTEGER)
       ) AS streak
FROM entities e
JOIN title ON title.entity_id = e.id
LEFT JOIN ok ON ok.entity_id = e.id
"""


def streak_query(db: Database) -> tuple[float, int]:
    cal = lt.WorkCalendar()
    periods = lt.months(lt.add_months(lt.month_of(AS_OF), -48), lt.month_of(AS_OF))
    cases = " ".join(f"WHEN '{p.isoformat()}' THEN '{lt.filing_deadline(p, 0, cal).isoformat()}'" for p in periods)
    last_closed = lt.add_months(lt.month_of(AS_OF), -1)
    sql = STREAK_SQL.format(cases=cases, last_closed=last_closed.year * 12 + last_closed.month)
    start = time.perf_counter()
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(sql).fetchall()
    return time.perf_counter() - start, sum(1 for r in rows if r[1] > 0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/sme-bench"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    per_entity: dict[int, float] = {}
    for n in args.sizes:
        path = args.dir / f"sweep-{n}.db"
        db = Database(f"sqlite:///{path}")
        if not path.exists() or db.current_revision() is None:
            path.unlink(missing_ok=True)
            db = Database(f"sqlite:///{path}")
            db.upgrade()
            t = time.perf_counter()
            generate(db, n)
            print(f"[generated {n} entities in {time.perf_counter() - t:.1f} s: {path}]", flush=True)
        with db.engine.connect() as conn:
            filing_rows = conn.exec_driver_sql("SELECT COUNT(*) FROM filings").scalar_one()
        query_s, with_streak = streak_query(db)
        gc.collect()
        cal = lt.WorkCalendar()
        start = time.perf_counter()
        with db.session() as session:
            result = run_sweep(session, AS_OF, cal, RuleSettings())
        sweep_s = time.perf_counter() - start
        per_entity[n] = sweep_s / n
        print(
            f"entities={n:,}  filing_rows={filing_rows:,}  findings={len(result.findings):,}  "
            f"errors={len(result.errors)}  sweep={sweep_s:.2f} s  per_entity={per_entity[n] * 1e6:.1f} us  "
            f"streak_query={query_s:.2f} s (entities with a streak: {with_streak:,})  "
            f"sweep/query={sweep_s / query_s:.1f}x  peak_rss={peak_rss_mb():.0f} MB",
            flush=True,
        )
        del result
        db.dispose()
    if len(per_entity) >= 2:
        small, large = min(per_entity), max(per_entity)
        print(f"time per entity at {large:,} / at {small:,} = {per_entity[large] / per_entity[small]:.2f}x")
    print(f"peak RSS of the whole run: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
