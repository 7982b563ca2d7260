"""Registry benchmark: `sme-monitor serve` under load from a second process (wrk), at 100,000 entities.

    .venv/bin/python benchmarks/registry.py [--entities 100000] [--backends sqlite postgres]
        [--duration 10] [--connections 8] [--dir /tmp/sme-bench] [--pg-url URL]

For each backend: generates the roster once (benchmarks/sweep.py's 36 months of filings, with varied Chinese
names; reused on later runs), fills the kept answer, starts `python -m monitor serve` in its own process and
drives it with Debian's `wrk` (another process): the yardstick `/healthz` (same server, same middleware, no
database), then a name fragment of 3-4 characters (/registry, 50 a page, and the API), 2-character and
1-character fragments (which no trigram index serves: a scan), a broad word shared by a sixth of the roster,
a credit-code prefix, and a detail page; each with paths drawn at random from a few hundred. Prints requests/s, p50/p95/p99 latency and the ratio of
requests/s to the yardstick's. Goal (issue 8): search >= 0.5x the yardstick, p95 < 50 ms.

Also prints, in-process, what the kept answer's freshness check costs per request when nothing changed, and
the query time of `monitor.registry.search` by fragment length. Not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sweep import AS_OF, generate  # noqa: E402  (benchmarks/sweep.py: the same data as the sweep benchmark)

from monitor import config, registry  # noqa: E402
from monitor.legal_time import WorkCalendar, legal_today  # noqa: E402
from monitor.storage.db import Database  # noqa: E402

PLACES = ["成都", "锦江", "青羊", "金牛", "武侯", "成华", "天府", "蓉城", "龙泉", "温江", "双流", "郫都"]
BRANDS = "华信创达博远恒通鑫瑞嘉和盛宏泰安康德源兴隆丰美佳誉智汇科联众合启明星辰云海天宇金石峰正道"
FIELDS = ["科技", "数字", "智能", "文化", "创新", "电子信息", "生物医药", "新材料", "物流", "电商", "软件", "环保"]
TYPES = ["服务平台", "孵化基地", "企业服务中心", "创业园", "众创空间", "产业园"]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司"]


def names(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(PLACES)
        + rng.choice(BRANDS)
        + rng.choice(BRANDS)
        + rng.choice(FIELDS)
        + rng.choice(TYPES)
        + rng.choice(SUFFIXES)
        for _ in range(n)
    ]


def prepare(db: Database, n: int) -> None:
    """Generate the roster once; the search index follows the names through its triggers / GIN indexes."""
    if db.current_revision() is not None:
        with db.engine.connect() as conn:
            if conn.exec_driver_sql("SELECT count(*) FROM entities").scalar_one() == n:
                db.upgrade()
                return
    db.upgrade()
    t = time.perf_counter()
    generate(db, n)
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE entities SET name = :name WHERE id = :id"),
            [{"id": i, "name": name} for i, name in enumerate(names(n), 1)],
        )
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"[generated {n:,} entities in {time.perf_counter() - t:.0f} s]", flush=True)


def sample_paths(db: Database, rng: random.Random) -> dict[str, list[str]]:
    """Paths for each case. A name fragment is what someone looking for one entity types: the distinctive
    part of its name (names are PLACE + two BRANDS characters + FIELD + TYPE + SUFFIX), not "有限公司";
    the broad case shows what a word shared by a sixth of the roster costs."""
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT credit_code, name FROM entities ORDER BY random() LIMIT 400").all()

    def q(path: str, value: str) -> str:
        return f"{path}?{urlencode({'q': value}, quote_via=quote)}"

    return {
        "name 3-4 chars, page": [q("/registry", r.name[2 : 2 + rng.choice((3, 4))]) for r in rows],
        "name 3-4 chars, API": [q("/api/v1/registry", r.name[2 : 2 + rng.choice((3, 4))]) for r in rows],
        "name 2 chars, page": [q("/registry", r.name[2:4]) for r in rows],
        "name 1 char, page": [q("/registry", r.name[rng.choice((2, 3))]) for r in rows],
        "broad word, page": [q("/registry", t) for t in TYPES],
        "code prefix, page": [q("/registry", r.credit_code[: rng.randrange(12, 17)].lower()) for r in rows],
        "detail page": [f"/registry/{r.credit_code}" for r in rows],
    }


LUA = """
local paths = {%s}
local n = #paths
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% n) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "seconds": %%f, "p50": %%f, "p95": %%f, "p99": %%f, ' ..
    '"non2xx": %%d, "socket_errors": %%d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk(
    url: str, paths: list[str], duration: int, connections: int, headers: list[str] | None = None
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % ", ".join(json.dumps(p) for p in paths))
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", script]
            + [arg for header in headers or [] for arg in ("-H", header)]
            + [url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SME_MONITOR_")}
    env["SME_MONITOR_DATABASE_URL"] = url
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # one access-log line per request: not what is measured here
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("serve did not start") from None
            time.sleep(0.2)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `fn` in milliseconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def in_process(db: Database, settings: config.Settings, cal: WorkCalendar, today: date) -> None:
    t = time.perf_counter()
    freshness = registry.Freshness(cal, settings.rules)
    freshness.ensure(db, today)
    print(f"  kept answer brought up to date for {today}: {time.perf_counter() - t:.2f} s")
    if db.dialect == "postgresql":  # what autovacuum does soon after the first fill rewrote every row
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    fresh = timed(lambda: freshness.ensure(db, today), 20)
    print(f"  freshness check per request when nothing changed: {fresh:.2f} ms (median of 20)")
    with db.engine.connect() as conn:
        sample = [r[0] for r in conn.exec_driver_sql("SELECT name FROM entities ORDER BY random() LIMIT 30").all()]
    for size in (1, 2, 3, 4):
        fragments = [name[2 : 2 + size] for name in sample]  # from the distinctive part (sample_paths)
        runs: list[float] = []
        totals: list[int] = []
        for fragment in fragments:

            def one(fragment: str = fragment, totals: list[int] = totals) -> None:
                with db.session() as session:
                    totals.append(registry.search(session, registry.Filters(q=fragment), 1, 50).total)

            runs.append(timed(one, 3))
        print(
            f"  search query, {size}-character fragment: median {statistics.median(runs):.1f} ms, "
            f"max {max(runs):.1f} ms (matches: median {int(statistics.median(totals)):,}, max {max(totals):,})"
        )


def pg_database(base: str, name: str = "sme_bench_registry") -> str:
    url = sa.engine.make_url(base)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


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
        help="a PostgreSQL server; the benchmark uses its own database there (--pg-database)",
    )
    parser.add_argument("--pg-database", default="sme_bench_registry")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    settings = config.load(environ={})
    cal = WorkCalendar.load(None)
    rng = random.Random(3)
    for backend in args.backends:
        url = (
            f"sqlite:///{args.dir / f'registry-{args.entities}.db'}"
            if backend == "sqlite"
            else pg_database(args.pg_url, args.pg_database)
        )
        db = Database(url)
        prepare(db, args.entities)
        print(f"\n== {backend}: {args.entities:,} entities", flush=True)
        # The server reads the real clock: the kept answer is filled for the real today before the load.
        in_process(db, settings, cal, legal_today(datetime.now(UTC)))
        paths = sample_paths(db, rng)
        db.dispose()
        port = _free_port()
        proc = start_server(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            for path_list in paths.values():  # warm the server and the database's cache
                wrk(base, path_list, 2, args.connections)
            yard = wrk(base, ["/healthz"], args.duration, args.connections)
            print(f"  {'case':<22} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'ratio':>6}  errors")
            _row("/healthz (yardstick)", yard, yard)
            for case, path_list in paths.items():
                _row(case, wrk(base, path_list, args.duration, args.connections), yard)
        finally:
            proc.terminate()
            proc.wait(30)
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.duration}s against one `sme-monitor serve` process; data as of {AS_OF}"
    )


def _row(case: str, r: dict[str, float], yard: dict[str, float]) -> None:
    errors = int(r["non2xx"] + r["socket_errors"])
    print(
        f"  {case:<22} {r['rps']:8.0f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} "
        f"{r['rps'] / yard['rps']:5.2f}x  {errors}",
        flush=True,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
