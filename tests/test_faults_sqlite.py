"""A busy SQLite file (issue 11, fault 4): the daemon sweeps, enqueues thousands of messages and delivers
them while an operator records filings. The daemon holds the write lock only for short transactions (the
messages are composed outside it; WAL lets readers and the writer work side by side), so the operator's
writes, here with a busy timeout of 2 s instead of the real 30 s, never fail with "database is locked"."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from monitor.importing import ImportOptions, import_rows
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from monitor.sweep import run_sweep
from notifications import service
from notifications.channels import FileChannel
from notifications.models import Channel, OutboxMessage
from tests import notify_support as ns
from tests.jobs_data import add_entities

ENTITIES = 400
AS_OF = date(2026, 3, 26)


def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA busy_timeout=2000")


def test_operator_writes_are_never_locked_out_while_the_daemon_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    daemon_db = Database(url)
    daemon_db.upgrade()
    codes = add_entities(daemon_db, ENTITIES, certified_on=date(2025, 3, 1))
    with daemon_db.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar_one() == "wal"
    operator_db = Database(url)
    event.listen(operator_db.engine, "connect", _short_busy_timeout)
    settings = ns.make_settings(tmp_path)
    now = datetime(2026, 3, 26, 1, 0, tzinfo=UTC)
    phases: dict[str, float] = {}
    done = threading.Event()
    errors: list[BaseException] = []

    def daemon() -> None:
        try:
            t = time.monotonic()
            with daemon_db.session() as s:
                result = run_sweep(s, AS_OF, WorkCalendar(), settings.rules, settings.districts)
            phases["sweep"] = time.monotonic() - t
            t = time.monotonic()
            report = service.enqueue(daemon_db, result, settings, AS_OF, now)
            phases["enqueue"] = time.monotonic() - t
            phases["messages"] = len(report.messages)
            t = time.monotonic()
            service.deliver(daemon_db, settings, now, "daemon", channels={Channel.EMAIL: FileChannel(tmp_path / "m")})
            phases["deliver"] = time.monotonic() - t
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    opts = ImportOptions(
        today=AS_OF,
        now=now,
        districts=frozenset(d.name for d in settings.districts),
        source="cli",
        recorded_by="operator",
    )
    thread = threading.Thread(target=daemon)
    thread.start()
    refused: list[str] = []
    waits: list[float] = []
    month = date(2025, 4, 1)
    i = 0
    while not done.is_set():
        code = codes[i % len(codes)]
        period = (month + timedelta(days=31 * (i // len(codes)))).strftime("%Y-%m")
        t = time.monotonic()
        try:
            import_rows(
                operator_db,
                "filings",
                [(None, [code, period, "2026-03-20"])],
                ["CODE", "--period", "--date"],
                "command line",
                opts,
            )
        except sa.exc.OperationalError as exc:
            refused.append(str(exc.orig))
        waits.append(time.monotonic() - t)
        i += 1
    thread.join()
    operator_db.dispose()
    with daemon_db.session() as s:
        sent = s.execute(sa.select(sa.func.count()).where(OutboxMessage.status == "sent")).scalar_one()
    daemon_db.dispose()
    assert not errors, errors
    assert phases["messages"] > ENTITIES and sent == phases["messages"]
    assert len(waits) > 20, f"too few operator writes ran alongside the daemon: {phases}"
    # Refused is what matters; how long each write took (its own work included) is in the message.
    assert refused == [], f"{len(refused)} refused: {refused[:1]}; daemon {phases}; slowest write {max(waits):.1f} s"
