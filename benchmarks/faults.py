"""The fault campaign (issue 11): the daemon meets what an operator meets, and the figures say what was lost.

    .venv/bin/python benchmarks/faults.py [--quick] [--database-url postgresql+psycopg://postgres@127.0.0.1/test]
                                          [--only smtp,kill,takeover,database,busy]

Real parts throughout: `sme-monitor run` processes, a real aiosmtpd server on 127.0.0.1, SQLite files, and the
real PostgreSQL (`--database-url`, default env SME_MONITOR_TEST_DATABASE_URL; the PostgreSQL faults are
skipped without one). Each PostgreSQL fault runs in a schema owned by a role of its own, whose connections
are ended (`pg_terminate_backend`, AdminShutdown) and whose logins are refused while "the database is away"
(tests/pg_outage.py), so nothing else on the server is disturbed.

Faults:
  smtp      the SMTP server is down for longer than the old retry budget (31 min): 4 h (--quick: 45 min) of
            simulated time, the outbox job every 5 simulated minutes (the clock is passed in; no sleeping),
            then the server returns.
  kill      `sme-monitor run` killed by SIGKILL in the middle of delivery, N times (5; --quick 3), SQLite.
  takeover  two daemons on one PostgreSQL database, default leases; the one delivering is killed: how long
            until the other takes its messages over.
  database  the database goes away during the sweep for 60 s (--quick 10 s) and comes back: when is the
            missed sweep retried, and is its mail sent.
  busy      SQLite with 100,000 entities (--quick 10,000): operator commands (`events record`,
            `filings record`, `entities import`) run one after another while the daemon sweeps, enqueues and
            delivers.

Prints one line per fault: messages expected, received, lost, duplicated, job retries, operator commands
refused, and what was timed. Goals: 0 lost, at most 1 duplicate per crash, the missed sweep retried within
5 minutes of the database's return, 0 operator commands refused. Not a test; bounded in time (about 8
minutes in full, 3 with --quick).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobs.models import JobRunRow  # noqa: E402
from monitor import config as config_module  # noqa: E402
from monitor import credit_code  # noqa: E402
from monitor import legal_time as lt  # noqa: E402
from monitor.config import Recipients  # noqa: E402
from monitor.demo import DIVISION  # noqa: E402
from monitor.domain import EventKind  # noqa: E402
from monitor.storage.db import Database  # noqa: E402
from monitor.storage.models import CertificationRow, EntityRow, EventRow  # noqa: E402
from monitor.sweep import run_sweep  # noqa: E402
from notifications import service  # noqa: E402
from notifications.models import OutboxMessage  # noqa: E402
from tests.daemon_helpers import Daemon, cli, wait_until, write_config  # noqa: E402
from tests.notify_support import Recorder, SmtpServer, free_port  # noqa: E402
from tests.pg_outage import PgOutage  # noqa: E402

STAFF = "staff@example.org"
ADMIN = "admin@example.org"
NOW = datetime.now(UTC)
TODAY = lt.legal_today(NOW)


@dataclass
class Figures:
    fault: str
    expected: int = 0
    received: int = 0
    lost: int = 0
    duplicated: int = 0
    crashes: int = 0
    job_retries: int = 0
    refused: int = 0
    commands: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        dup = f"{self.duplicated}" + (f" ({self.duplicated / self.crashes:.1f}/crash)" if self.crashes else "")
        ops = f"{self.refused}/{self.commands}" if self.commands else "-"
        return (
            f"{self.fault:<9} expected={self.expected:<6} received={self.received:<6} lost={self.lost:<3} "
            f"duplicated={dup:<14} job_retries={self.job_retries:<3} commands_refused={ops:<8} " + "; ".join(self.notes)
        )


class SlowRecorder(Recorder):
    """Accepts each message after a pause, so a daemon can be killed in the middle of a delivery."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def at_least(items: list[Any], n: int) -> Callable[[], bool]:
    return lambda: len(items) >= n


def tally(fig: Figures, received: list[Any], expected_ids: set[str]) -> None:
    ids = [str(r.message["Message-ID"]) for r in received if ADMIN not in r.rcpt_tos]
    wanted = {i for i in expected_ids}
    fig.received = len(ids)
    fig.lost = len(wanted - set(ids))
    fig.duplicated = len(ids) - len(set(ids))


def outbox(db_url: str, *, digest: bool = False) -> tuple[Counter[str], set[str]]:
    db = Database(db_url)
    try:
        with db.session() as s:
            q = sa.select(OutboxMessage.status, OutboxMessage.message_id)
            if not digest:
                q = q.where(OutboxMessage.kind != "digest")
            rows = s.execute(q).all()
    finally:
        db.dispose()
    return Counter(st for st, _ in rows), {m for _, m in rows}


def job_failures(db_url: str) -> int:
    db = Database(db_url)
    try:
        with db.session() as s:
            return int(s.execute(sa.select(sa.func.coalesce(sa.func.sum(JobRunRow.failures), 0))).scalar_one())
    finally:
        db.dispose()


def populate(db: Database, n: int, bad: int) -> list[str]:
    """n entities; the first `bad` were certified 4 months ago and never filed (reminders, alerts, notices),
    the rest last week (nothing due yet). Returns the credit codes of the good ones."""
    districts = list(DIVISION)
    old = lt.add_months(TODAY, -4)
    recent = lt.days_before(TODAY, 7)
    codes = []
    ents, events, certs = [], [], []
    for i in range(1, n + 1):
        district = districts[i % 23]
        code = credit_code.complete(f"91{DIVISION[district]}MA{i:07d}")
        codes.append(code)
        ents.append(
            {
                "id": i,
                "credit_code": code,
                "name": f"故障演练主体{i}有限公司",
                "kind": "platform",
                "district": district,
                "emails": f"e{i}@faults.example.cn",
                "cert_no": f"F-{i}",
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        granted = old if i <= bad else recent
        events.append(
            {
                "id": i,
                "entity_id": i,
                "kind": EventKind.CERTIFIED.value,
                "occurred_on": granted,
                "result": "",
                "detail": "",
                "note": "",
                "recorded_by": "faults",
                "source": "faults",
                "recorded_at": NOW,
            }
        )
        certs.append({"entity_id": i, "event_id": i, "granted_on": granted, "cert_no": f"F-{i}", "scheme": "current"})
    with db.engine.begin() as conn:
        for rows, table in ((ents, EntityRow), (events, EventRow), (certs, CertificationRow)):
            for k in range(0, len(rows), 5000):
                conn.execute(sa.insert(table), rows[k : k + 5000])
    return codes[bad:]


def daemon_config(tmp: Path, db_url: str, smtp_port: int, name: str, **extra: dict[str, Any]) -> Path:
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": db_url},
        "mail": {"backend": "smtp", "directory": str(tmp / "mail")},
        "mail.smtp": {"host": "127.0.0.1", "port": smtp_port, "timeout": 5},
        "recipients": {"staff": [STAFF], "admins": [ADMIN]},
        "recipients.districts": {f'"{d}"': [f"d{k}@gov.example.cn"] for k, d in enumerate(DIVISION)},
    }
    for key, values in extra.items():
        sections.setdefault(key, {}).update(values)
    return write_config(tmp / name, sections)


def fresh(
    db_url: str, tmp: Path, smtp_port: int, name: str, n: int, bad: int, **extra: dict[str, Any]
) -> tuple[Path, list[str]]:
    config = daemon_config(tmp, db_url, smtp_port, name, **extra)
    done = cli(config, "db", "upgrade", timeout=120)
    if done.returncode:
        raise SystemExit(f"db upgrade failed: {done.stderr}")
    db = Database(db_url)
    try:
        good = populate(db, n, bad)
    finally:
        db.dispose()
    return config, good


def all_sent(db_url: str) -> Counter[str] | None:
    c, _ = outbox(db_url, digest=True)
    return c if c and set(c) == {"sent"} else None


def sweep_succeeded(db_url: str) -> bool:
    db = Database(db_url)
    try:
        with db.session() as s:
            q = sa.select(sa.func.count()).where(JobRunRow.job == "sweep", JobRunRow.status == "succeeded")
            return bool(s.execute(q).scalar_one())
    except sa.exc.OperationalError:
        return False
    finally:
        db.dispose()


def not_waiting(db_url: str) -> bool:
    """Every message but the digest sent."""
    c, _ = outbox(db_url)
    return bool(c) and set(c) == {"sent"}


# --- the faults ---------------------------------------------------------------------------------------------


def smtp_outage(tmp: Path, quick: bool) -> Figures:
    fig = Figures("smtp")
    outage = timedelta(minutes=45 if quick else 240)
    url = f"sqlite:///{tmp / 'smtp.db'}"
    db = Database(url)
    db.upgrade()
    populate(db, 60, 60)
    port = free_port()
    base = config_module.load(None, environ={})
    settings = replace(
        base,
        mail=replace(base.mail, backend="smtp", smtp=replace(base.mail.smtp, host="127.0.0.1", port=port, timeout=5)),
        recipients=Recipients(staff=(STAFF,), admins=(ADMIN,), districts={}),
    )
    t = NOW
    with db.session() as s:
        result = run_sweep(s, TODAY, lt.WorkCalendar(), settings.rules, settings.districts)
    service.enqueue(db, result, settings, TODAY, t)
    tries = 0
    while t < NOW + outage:
        tries += service.deliver(db, settings, t, "faults").claimed
        t += timedelta(minutes=5)  # the outbox job's schedule
    before, expected = outbox(url)
    back = t
    recorder = Recorder()
    with SmtpServer(recorder, port=port):
        while not all_sent(url) and t < back + timedelta(hours=2):
            service.deliver(db, settings, t, "faults")
            t += timedelta(minutes=5)
        time.sleep(0.5)
    db.dispose()
    fig.expected = len(expected)
    tally(fig, recorder.received, expected)
    fig.notes.append(
        f"outage {outage.total_seconds() / 60:.0f} min simulated, {tries} tries meanwhile, "
        f"state at the server's return {dict(before)}, all sent {(t - back).total_seconds() / 60:.0f} min after it"
    )
    return fig


def kill_during_delivery(tmp: Path, quick: bool) -> Figures:
    kills = 3 if quick else 5
    fig = Figures("kill", crashes=kills)
    url = f"sqlite:///{tmp / 'kill.db'}"
    recorder = SlowRecorder(0.02)
    with SmtpServer(recorder) as smtp:
        config, _ = fresh(url, tmp, smtp.port, "kill.toml", 300, 300, notifications={"lease_seconds": 3})
        for n in range(kills):
            before = len(recorder.received)
            victim = Daemon(config, tmp / f"kill{n}.log")
            try:
                wait_until(at_least(recorder.received, before + 20), timeout=120, what="delivery")
                victim.proc.send_signal(signal.SIGKILL)
                victim.proc.wait(timeout=10)
            finally:
                victim.kill()
            time.sleep(3.2)  # the killed worker's claim runs out
        heir = Daemon(config, tmp / "kill-heir.log")
        try:
            wait_until(lambda: all_sent(url), timeout=240, what="everything sent")
            heir.terminate()
        finally:
            heir.kill()
    _, expected = outbox(url)
    fig.expected = len(expected)
    tally(fig, recorder.received, expected)
    fig.job_retries = job_failures(url)
    fig.notes.append(f"{kills} SIGKILLs mid-delivery (lease 3 s for speed; default 30 s)")
    return fig


def takeover(tmp: Path, quick: bool, pg_url: str) -> Figures:
    fig = Figures("takeover", crashes=1)
    pg = PgOutage(pg_url)
    recorder = SlowRecorder(0.05)
    try:
        with SmtpServer(recorder) as smtp:
            config, _ = fresh(pg.url, tmp, smtp.port, "takeover.toml", 400, 400)
            daemons = [Daemon(config, tmp / f"takeover{k}.log") for k in range(2)]
            try:
                wait_until(lambda: len(recorder.received) >= 30, timeout=120, what="delivery")
                db = Database(pg.url)
                with db.session() as s:
                    owners = set(
                        s.execute(
                            sa.select(OutboxMessage.lease_owner).where(OutboxMessage.status == "sending")
                        ).scalars()
                    )
                db.dispose()
                pids = {int(o.split(":")[1]) for o in owners if o}
                victim = next((d for d in daemons if d.pid in pids), daemons[0])
                victim.proc.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                victim.proc.wait(timeout=10)
                at_kill = len(recorder.received)
                wait_until(lambda: len(recorder.received) > at_kill + 1, timeout=180, what="the take-over")
                taken = time.monotonic() - killed
                wait_until(lambda: all_sent(pg.url), timeout=240, what="everything sent")
                for d in daemons:
                    if d is not victim:
                        d.terminate()
            finally:
                for d in daemons:
                    d.kill()
        _, expected = outbox(pg.url)
        fig.expected = len(expected)
        tally(fig, recorder.received, expected)
        fig.job_retries = job_failures(pg.url)
        fig.notes.append(f"the survivor took over {taken:.0f} s after the kill (default leases: 30 s, catch-up 20 s)")
    finally:
        pg.drop()
    return fig


def database_away(tmp: Path, quick: bool, pg_url: str) -> Figures:
    fig = Figures("database")
    away = 10 if quick else 60
    pg = PgOutage(pg_url)
    recorder = Recorder()
    try:
        with SmtpServer(recorder) as smtp:
            config, _ = fresh(pg.url, tmp, smtp.port, "database.toml", 5000, 400)
            daemon = Daemon(config, tmp / "database.log")
            try:
                daemon.wait_for_log("job sweep for", timeout=120)
                time.sleep(0.5)
                pg.outage()
                time.sleep(away)
                pg.back()
                back = time.monotonic()

                wait_until(lambda: sweep_succeeded(pg.url), timeout=400, what="the sweep to succeed")
                retried = time.monotonic() - back
                wait_until(lambda: all_sent(pg.url), timeout=240, what="everything sent")
                daemon.terminate()
            finally:
                daemon.kill()
        _, expected = outbox(pg.url)
        fig.expected = len(expected)
        tally(fig, recorder.received, expected)
        fig.job_retries = job_failures(pg.url)
        fig.notes.append(
            f"database away {away} s during the sweep; the sweep succeeded {retried:.0f} s after its return"
        )
    finally:
        pg.drop()
    return fig


def busy_sqlite(tmp: Path, quick: bool) -> Figures:
    fig = Figures("busy")
    n = 10_000 if quick else 100_000
    bad = 300 if quick else 1000
    url = f"sqlite:///{tmp / 'busy.db'}"
    recorder = Recorder()
    with SmtpServer(recorder) as smtp:
        config, good = fresh(url, tmp, smtp.port, "busy.toml", n, bad)
        roster = tmp / "roster.csv"
        daemon = Daemon(config, tmp / "busy.log")
        slowest: dict[str, float] = {}
        try:
            k = 0
            deadline = time.monotonic() + (150 if quick else 360)
            while time.monotonic() < deadline:
                code = good[k % len(good)]
                which = ("events record", "filings record", "entities import")[k % 3]
                if which == "events record":
                    args = ["events", "record", "evaluated", code, "--date", TODAY.isoformat(), "--result", "passed"]
                elif which == "filings record":
                    period = lt.month_of(TODAY).isoformat()[:7]
                    args = ["filings", "record", code, "--period", period, "--date", TODAY.isoformat()]
                else:
                    new = credit_code.complete(f"91510104MB{k:07d}")
                    roster.write_text(
                        "credit_code,name,kind,district,certified_on,cert_no,email\n"
                        f"{new},新增主体{k},platform,锦江区,{TODAY.isoformat()},N-{k},n{k}@faults.example.cn\n",
                        encoding="utf-8",
                    )
                    args = ["entities", "import", str(roster)]
                started = time.monotonic()
                done = cli(config, *args, "--by", "operator", timeout=120)
                slowest[which] = max(slowest.get(which, 0.0), round(time.monotonic() - started, 1))
                fig.commands += 1
                if done.returncode != 0:
                    fig.refused += 1
                    print(f"  refused: {' '.join(args)}: {done.stderr.strip()[-200:]}", flush=True)
                k += 1
                # Until the sweep has succeeded and its mail is out (the digest may still be at work).
                if k > 6 and sweep_succeeded(url) and not_waiting(url):
                    break
            wait_until(lambda: not_waiting(url), timeout=240, what="everything sent")
        finally:
            daemon.kill()
        fig.notes.append(f"slowest operator command of each kind (s): {dict(slowest)}")
    _, expected = outbox(url)
    fig.expected = len(expected)
    tally(fig, recorder.received, expected)
    fig.job_retries = job_failures(url)
    fig.notes.append(f"{n:,} entities, busy timeout 30 s")
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller and shorter faults (about 3 minutes)")
    parser.add_argument("--database-url", default=os.environ.get("SME_MONITOR_TEST_DATABASE_URL", ""))
    parser.add_argument("--only", default="", help="comma-separated faults: smtp,kill,takeover,database,busy")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    runs: list[tuple[str, Callable[[Path], Figures]]] = [
        ("smtp", lambda tmp: smtp_outage(tmp, args.quick)),
        ("kill", lambda tmp: kill_during_delivery(tmp, args.quick)),
        ("busy", lambda tmp: busy_sqlite(tmp, args.quick)),
    ]
    if args.database_url:
        runs += [
            ("takeover", lambda tmp: takeover(tmp, args.quick, args.database_url)),
            ("database", lambda tmp: database_away(tmp, args.quick, args.database_url)),
        ]
    else:
        print("no --database-url: the PostgreSQL faults (takeover, database) are skipped", flush=True)
    started = time.monotonic()
    results = []
    for name, run in runs:
        if only and name not in only:
            continue
        t = time.monotonic()
        print(f"[{name}] ...", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"faults-{name}-") as tmp:
            fig = run(Path(tmp))
        fig.notes.append(f"{time.monotonic() - t:.0f} s")
        print(fig.line(), flush=True)
        results.append(fig)
    print(f"\nfault campaign ({'quick' if args.quick else 'full'}), {time.monotonic() - started:.0f} s in all:")
    for fig in results:
        print(fig.line())
    goals = all(f.lost == 0 and f.refused == 0 and f.duplicated <= max(f.crashes, 0) for f in results)
    print("goals (0 lost, <= 1 duplicate per crash, 0 commands refused):", "met" if goals else "NOT met")


if __name__ == "__main__":
    main()
