"""Benchmark: import a CSV of monthly filings (default one million rows) into a fresh SQLite database through
the code path of `sme-monitor filings import`, and print rows per second and the peak resident memory.

    .venv/bin/python benchmarks/import_filings.py [--rows 1000000] [--months 36] [--dir DIR] [--url URL]

Targets (issue 2): at least 50,000 rows/s and under 300 MB peak RSS on the 2-core reference machine.
The roster is imported first (through `entities import`), then the filings file twice: the second run finds
every month already filed and must change nothing.
"""

from __future__ import annotations

import argparse
import csv
import math
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from monitor.config import load
from monitor.credit_code import complete
from monitor.importing import ImportOptions, import_file
from monitor.legal_time import add_months, last_day_of_month
from monitor.storage.db import Database


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def codes(n: int) -> list[str]:
    return [complete(f"91510100MA{i:07d}") for i in range(n)]


def write_roster(path: Path, entity_codes: list[str], districts: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["统一社会信用代码", "名称", "类型", "所属区县", "认定日期", "证书编号", "联系邮箱"])
        for i, code in enumerate(entity_codes):
            out.writerow(
                [code, f"成都测试平台{i}号", "平台" if i % 3 else "基地", districts[i % len(districts)], "2022-12-15",
                 f"CD-{i:06d}", f"contact{i}@example.org"]
            )  # fmt: skip


def write_filings(path: Path, entity_codes: list[str], months: int, rows: int) -> int:
    """Rows ordered month by month, as a portal export would be; the filing date is the month's last day
    or a few days into the next month."""
    first = date(2023, 1, 1)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["credit_code", "period", "filed_on"])
        for m in range(months):
            period = add_months(first, m)
            label = f"{period.year:04d}-{period.month:02d}"
            end = last_day_of_month(period)
            for i, code in enumerate(entity_codes):
                if written == rows:
                    return written
                out.writerow([code, label, (end + timedelta(days=i % 5)).isoformat()])
                written += 1
    return written


def timed_import(db: Database, what: str, path: Path, opts: ImportOptions) -> tuple[float, str]:
    start = time.perf_counter()
    summary = import_file(db, what, path, path.name, opts, dry_run=False)
    return time.perf_counter() - start, summary.line()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--dir", type=Path, help="where to write the files and the database (default: a temp dir)")
    parser.add_argument("--url", help="database URL (default: a new SQLite file in --dir); must be empty")
    args = parser.parse_args()

    work = args.dir or Path(tempfile.mkdtemp(prefix="sme-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = load(environ={})
    districts = [d.name for d in settings.districts]
    entity_codes = codes(math.ceil(args.rows / args.months))
    roster, filings = work / "roster.csv", work / "filings.csv"
    write_roster(roster, entity_codes, districts)
    rows = write_filings(filings, entity_codes, args.months, args.rows)
    size_mb = filings.stat().st_size / 2**20
    print(f"files: {len(entity_codes)} entities, {rows} filing rows ({size_mb:.1f} MB) in {work}")
    print(f"peak RSS after writing the files: {peak_rss_mb():.0f} MB")

    url = args.url or f"sqlite:///{work / 'bench.db'}"
    db = Database(url)
    db.upgrade()
    now = datetime.now(UTC)
    opts = ImportOptions(
        today=date(2026, 11, 24), now=now, districts=frozenset(districts), source="", recorded_by="benchmark"
    )

    seconds, line = timed_import(db, "entities", roster, opts)
    print(f"entities import: {len(entity_codes)} rows in {seconds:.2f} s = {len(entity_codes) / seconds:,.0f} rows/s")
    print(f"  {line}")
    for label in ("filings import (new)", "filings import (again: nothing changes)"):
        seconds, line = timed_import(db, "filings", filings, opts)
        print(f"{label}: {rows} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")
        print(f"  {line}")
    peak = peak_rss_mb()
    print(f"peak RSS: {peak:.0f} MB")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
