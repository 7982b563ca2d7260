"""Console benchmark: `sme-monitor serve` under load from a second process (wrk), at 100,000 entities.

    .venv/bin/python benchmarks/console.py [--entities 100000] [--backends sqlite postgres]
        [--duration 10] [--connections 8] [--dir /tmp/sme-bench] [--pg-url URL]

For each backend: the roster of benchmarks/registry.py (generated once, reused), the kept answer filled, a
console user logged in; then `python -m monitor serve` in its own process, driven by Debian's `wrk` with the
session cookie: the yardstick `/healthz` (same server, same middleware, no database), the entity list (pages
drawn at random, with and without a status or district filter, and a name search), and the entity page
(status, findings, timeline, the 24-month filing grid: a fresh evaluation of that entity). Prints requests/s,
p50/p95/p99 latency and the ratio of requests/s to the yardstick's measured in the same run. Not a test: it
prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from registry import _free_port, _row, prepare, start_server, wrk  # noqa: E402  (benchmarks/registry.py)
from sweep import AS_OF  # noqa: E402

from monitor import accounts, config, kept  # noqa: E402
from monitor.legal_time import WorkCalendar, legal_today  # noqa: E402
from monitor.storage.db import Database  # noqa: E402

USER, PASSWORD = "bench-staff", "bench-password-1"


def pg_database(base: str) -> str:
    url = sa.engine.make_url(base)
    name = "sme_bench_console"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def ensure_user(db: Database, settings: config.Settings) -> None:
    with db.session() as session:
        if accounts.get(session, USER) is None:
            districts = frozenset(d.name for d in settings.districts)
            accounts.add_user(session, USER, accounts.Role.STAFF, "", PASSWORD, datetime.now(UTC), districts)


def login(base: str) -> str:
    http = requests.Session()
    form = http.get(f"{base}/login", timeout=10).text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    answer = http.post(
        f"{base}/login",
        data={"username": USER, "password": PASSWORD, "csrf_token": token, "next": "/"},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.status_code
    return str(http.cookies["sme_session"])


def sample_paths(db: Database, settings: config.Settings, rng: random.Random) -> dict[str, list[str]]:
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT credit_code, name FROM entities ORDER BY random() LIMIT 300").all()
        total = conn.exec_driver_sql("SELECT count(*) FROM entities").scalar_one()
    pages = max(1, total // 50)
    districts = [d.name for d in settings.districts]

    def q(path: str, **params: object) -> str:
        return f"{path}?{urlencode({k: str(v) for k, v in params.items()}, quote_via=quote)}"

    return {
        "entity list, any page": [q("/entities", page=rng.randrange(1, pages + 1)) for _ in range(300)],
        "list, status filter": [q("/entities", status="active", page=rng.randrange(1, 40)) for _ in range(300)],
        "list, district filter": [q("/entities", district=rng.choice(districts)) for _ in range(300)],
        "list, name search": [q("/entities", q=r.name[3:6]) for r in rows],
        "entity page": [f"/entities/{r.credit_code}" for r in rows],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per case")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/sme-bench"))
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SME_MONITOR_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL server; the benchmark uses its own database sme_bench_console there",
    )
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    settings = config.load(environ={})
    cal = WorkCalendar.load(None)
    rng = random.Random(5)
    for backend in args.backends:
        url = (
            f"sqlite:///{args.dir / f'console-{args.entities}.db'}" if backend == "sqlite" else pg_database(args.pg_url)
        )
        db = Database(url)
        prepare(db, args.entities)
        ensure_user(db, settings)
        print(f"\n== {backend}: {args.entities:,} entities", flush=True)
        # The server reads the real clock: the kept answer is filled for the real today before the load.
        t = time.perf_counter()
        kept.ensure_fresh(db, legal_today(datetime.now(UTC)), cal, settings.rules)
        print(f"  kept answer brought up to date: {time.perf_counter() - t:.1f} s", flush=True)
        paths = sample_paths(db, settings, rng)
        db.dispose()
        port = _free_port()
        proc = start_server(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            cookie = login(base)
            headers = [f"Cookie: sme_session={cookie}"]
            for path_list in paths.values():  # warm the server and the database's cache
                wrk(base, path_list, 2, args.connections, headers)
            yard = wrk(base, ["/healthz"], args.duration, args.connections, headers)
            print(f"  {'case':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'ratio':>6}  errors")
            _row("/healthz (yardstick)", yard, yard)
            for case, path_list in paths.items():
                _row(case, wrk(base, path_list, args.duration, args.connections, headers), yard)
        finally:
            proc.terminate()
            proc.wait(30)
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.duration}s with a staff session against one `sme-monitor serve` "
        f"process; data as of {AS_OF}"
    )


if __name__ == "__main__":
    main()
