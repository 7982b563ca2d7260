"""The daemon's start-up and idle cost: time to the catch-up digest, then CPU and memory while idle.

    .venv/bin/python benchmarks/daemon_idle.py [--minutes 10] [--database-url URL]

Loads the demo data set (`monitor.demo`, 41 entities) into a fresh SQLite file (or the given database),
starts a real SMTP server (aiosmtpd) on 127.0.0.1, starts `sme-monitor run` and measures:
- the time from starting the process to the SMTP server accepting the catch-up digest (the first message to
  an administrator), and to the first message of any kind;
- over the next N minutes of idling (the outbox job every 5 minutes, the ledger catch-up check every minute):
  CPU time used (user + system, from /proc) as a share of one core, and resident memory (mean and peak);
- how long SIGTERM takes to stop it.
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor import demo
from monitor.config import RuleSettings
from monitor.legal_time import WorkCalendar, legal_today
from monitor.storage.db import Database
from tests.notify_support import PortZeroController, free_port

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin@example.org"
TICKS = os.sysconf("SC_CLK_TCK")


class Inbox:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.arrivals.append((time.monotonic(), list(envelope.rcpt_tos)))
        return "250 OK"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to measure the idle daemon")
    parser.add_argument("--database-url", help="default: a new SQLite file in a temporary directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sme-bench-"))
    db_url = args.database_url or f"sqlite:///{work / 'monitor.db'}"
    inbox = Inbox()
    smtp = PortZeroController(inbox, hostname="127.0.0.1", port=0)
    smtp.start()
    http_port = free_port()
    config = work / "monitor.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n'
        f'[mail]\nbackend = "smtp"\ndirectory = "{work / "mail"}"\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\n'
        f'[recipients]\nadmins = ["{ADMIN}"]\n'
        f"[daemon]\nhttp_port = {http_port}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SME_MONITOR_")}
    cmd = [sys.executable, "-m", "monitor", "--config", str(config)]
    # The demo data set through monitor.demo.load: the `demo` command would also write (and so mark as
    # handled) the day's messages, and the point here is to watch the daemon send them.
    upgrade = subprocess.run([*cmd, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True)
    if upgrade.returncode != 0:
        print(upgrade.stderr, file=sys.stderr)
        return 1
    db = Database(db_url)
    now = datetime.now(UTC)
    with db.session() as session:
        loaded = demo.load(session, legal_today(now), now, RuleSettings(), WorkCalendar.load(None))
    db.dispose()
    print(f"database: {db_url.split('@')[-1]}; demo entities loaded: {loaded}")

    log_path = work / "daemon.log"
    with log_path.open("wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen([*cmd, "--log-format", "json", "run"], cwd=ROOT, env=env, stderr=log)
        try:
            digest_at = first_at = None
            while time.monotonic() - started < 120 and digest_at is None:
                with inbox.lock:
                    if inbox.arrivals and first_at is None:
                        first_at = inbox.arrivals[0][0]
                    digest_at = next((t for t, rcpts in inbox.arrivals if ADMIN in rcpts), None)
                if proc.poll() is not None:
                    print(f"daemon exited {proc.returncode}:\n{log_path.read_text()}", file=sys.stderr)
                    return 1
                time.sleep(0.02)
            if digest_at is None:
                print(f"no digest within 120 s; log:\n{log_path.read_text()}", file=sys.stderr)
            else:
                print(f"start -> catch-up digest accepted by SMTP: {digest_at - started:.2f} s")
            if first_at is not None:
                print(f"start -> first message accepted: {first_at - started:.2f} s")
            with inbox.lock:
                print(f"messages accepted during catch-up: {len(inbox.arrivals)}")
            time.sleep(5)  # let the catch-up finish
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            samples = []
            end = t0 + args.minutes * 60
            while time.monotonic() < end:
                samples.append(rss_mib(proc.pid))
                time.sleep(min(5.0, max(0.0, end - time.monotonic())))
            samples.append(rss_mib(proc.pid))
            cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
            busy = cpu1 - cpu0
            print(
                f"idle {args.minutes:g} min: CPU {busy:.2f} s = {100 * busy / (t1 - t0):.3f}% of one core; "
                f"RSS mean {sum(samples) / len(samples):.1f} MiB, peak {max(samples):.1f} MiB"
            )
            stop = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            print(f"SIGTERM -> exit {code} in {time.monotonic() - stop:.2f} s")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            smtp.stop()
    print(f"work directory (config, database, log): {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
