"""Outbox delivery against a raw SMTP client (SPEC section 5; target: the outbox at least 0.7x the raw client).

Queues N rendered messages in the outbox of a fresh database, then in the same run
  1. delivers them through the outbox (claim under a lease, send over one SMTP connection, record per batch),
  2. sends the same bytes straight through one aiosmtplib connection,
both to a local aiosmtpd server running in a separate process, and prints both rates and their ratio.

    .venv/bin/python benchmarks/outbox_delivery.py [--messages 10000] [--database-url URL]

Not a test: it prints figures and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = """
import sys, time
from aiosmtpd.controller import Controller

class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"

class C(Controller):
    def _trigger_server(self):
        if self.port == 0:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

c = C(Count(), hostname="127.0.0.1", port=0)
c.start()
print(c.port, flush=True)
sys.stdin.read()  # until the benchmark closes our stdin
print(Count.n, flush=True)
c.stop()
"""


def start_server() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def stop_server(proc: subprocess.Popen[str]) -> int:
    out, _ = proc.communicate("", timeout=60)
    return int(out.strip() or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()

    import sqlalchemy as sa

    from monitor import config
    from monitor.domain import Entity, Kind, RuleId
    from monitor.rules.catalog import CATALOG
    from monitor.rules.finding import Finding
    from monitor.storage.db import Database
    from notifications import compose, service
    from notifications.channels import SmtpChannel
    from notifications.models import Channel, MessageKind, OutboxMessage, pending

    tmp = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    db = Database(url)
    db.upgrade()

    proc, port = start_server()
    base = config.load(None, environ={})
    settings = replace(
        base,
        mail=replace(base.mail, backend="smtp", smtp=replace(base.mail.smtp, host="127.0.0.1", port=port, timeout=30)),
        notifications=replace(base.notifications, batch_size=200),
    )
    now = datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
    as_of = date(2026, 3, 26)

    meta = CATALOG[RuleId.FILING_DUE_SOON]
    n = args.messages
    t0 = time.perf_counter()
    rows = []
    for i in range(n):
        code = f"91510104MA{i:07d}X"
        entity = Entity(code, f"成都示例服务平台{i}有限公司", Kind.PLATFORM, "锦江区", (f"e{i}@bench.example.cn",))
        finding = Finding(
            RuleId.FILING_DUE_SOON,
            meta.article,
            meta.severity,
            meta.audiences,
            "5d",
            "2026-03",
            code,
            entity.name,
            "锦江区",
            date(2026, 3, 31),
            5,
            as_of,
            {"name": entity.name, "period": "2026-03"},
        )
        key = f"reminder|FILING_DUE_SOON|{code}|2026-03|5d|entity|{entity.emails[0]}"
        c = compose.entity_reminder(settings, key, entity.emails[0], finding, entity, as_of, now)
        rows.append(
            pending(
                key=key,
                kind=MessageKind.REMINDER,
                channel=Channel.EMAIL,
                audience="entity",
                recipient=entity.emails[0],
                subject=c.subject,
                as_of=as_of,
                message_id=c.message_id,
                content=c.content,
                now=now,
            )
        )
    render_s = time.perf_counter() - t0
    with db.session() as session:
        session.execute(sa.insert(OutboxMessage), rows)
    size = sum(len(r["content"]) for r in rows) / n

    # 1. through the outbox
    channel = SmtpChannel(settings.mail.smtp, sender=settings.mail.sender)
    t0 = time.perf_counter()
    report = service.deliver(db, settings, now, "bench", channels={Channel.EMAIL: channel})
    outbox_s = time.perf_counter() - t0
    channel.close()
    assert report.sent == n, report

    # 2. the same bytes through one raw aiosmtplib connection
    import aiosmtplib

    async def raw() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
        await smtp.connect()
        for r in rows:
            await smtp.sendmail(settings.mail.sender, [r["recipient"]], r["content"])
        await smtp.quit()

    t0 = time.perf_counter()
    asyncio.run(raw())
    raw_s = time.perf_counter() - t0
    received = stop_server(proc)
    db.dispose()

    outbox_rate, raw_rate = n / outbox_s, n / raw_s
    print(f"database:            {url.split('://')[0]}")
    print(f"messages:            {n} (mean {size / 1024:.1f} KiB, rendered in {render_s:.1f} s)")
    print(
        f"outbox path:         {outbox_rate:8.0f} messages/s ({outbox_s:.2f} s, {report.batches} batches, {channel.connections} connection)"
    )
    print(f"raw aiosmtplib:      {raw_rate:8.0f} messages/s ({raw_s:.2f} s, 1 connection)")
    print(f"ratio outbox/raw:    {outbox_rate / raw_rate:8.2f}  (target >= 0.70)")
    print(f"server received:     {received} (expected {2 * n})")


if __name__ == "__main__":
    main()
