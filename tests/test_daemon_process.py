"""`sme-monitor run` as a real process: catch-up on start, the SQLite lock, SIGTERM, logs without secrets."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import requests

from jobs import ledger
from jobs.ledger import JobName
from monitor.storage.db import Database
from tests.daemon_helpers import Daemon, cli, free_port, wait_until, write_config
from tests.http_fixtures import TOKEN, FakePortal, serve
from tests.jobs_data import add_entities, code

pytestmark = pytest.mark.slow

HEARTBEAT_SECRET = "hb-9f8e7d"


def base_config(tmp_path: Path, db_url: str, portal_url: str, http_port: int = 0) -> Path:
    return write_config(
        tmp_path / "monitor.toml",
        {
            "database": {"url": db_url},
            "mail": {"backend": "file", "directory": str(tmp_path / "mail")},
            "portal": {"url": f"{portal_url}/api", "token": TOKEN, "timeout": 5, "retries": 1},
            "daemon": {"heartbeat_url": f"{portal_url}/ping/{HEARTBEAT_SECRET}", "http_port": http_port},
        },
    )


def finished_runs(db: Database) -> dict[JobName, list[ledger.Run]]:
    from sqlalchemy import select

    from jobs.models import JobRunRow

    with db.session() as s:
        rows = s.execute(select(JobRunRow)).scalars().all()
        runs = [ledger.get(s, JobName(r.job), r.scheduled_at) for r in rows]
    out: dict[JobName, list[ledger.Run]] = {}
    for run in runs:
        if run is not None and run.finished_at is not None:
            out.setdefault(run.job, []).append(run)
    return out


def test_catch_up_on_start_then_sigterm_exits_0(tmp_path: Path, sqlite_url: str) -> None:
    port = free_port()
    portal = FakePortal()
    with serve(portal) as fake:
        config = base_config(tmp_path, sqlite_url, fake.url, http_port=port)
        assert cli(config, "db", "upgrade").returncode == 0
        db = Database(sqlite_url)
        add_entities(db, 3)
        fake.pages = {
            1: {"items": [{"credit_code": code(1), "period": "2025-12", "filed_on": "2025-12-20"}], "next_page": None}
        }
        daemon = Daemon(config, tmp_path / "daemon.log")
        try:
            daemon.wait_for_log("daemon started")
            runs = wait_until(lambda: (r := finished_runs(db)) and len(r) == 4 and r, what="catch-up of all four jobs")
            health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
            code_, seconds = daemon.terminate(signal.SIGTERM)
        finally:
            daemon.kill()
            db.dispose()
    assert code_ == 0 and seconds < 10
    assert {job: len(r) for job, r in runs.items()} == {job: 1 for job in JobName}
    assert runs[JobName.PORTAL_SYNC][0].summary["applied"] == 1
    assert health.status_code == 200, health.text
    assert 'sme_monitor_job_failures_total{job="sweep"} 0.0' in metrics.text
    assert "sme_monitor_entities 3.0" in metrics.text
    assert {r.status for job_runs in runs.values() for r in job_runs} == {ledger.RunStatus.SUCCEEDED}
    log = daemon.log_text()
    assert TOKEN not in log and HEARTBEAT_SECRET not in log
    lines = daemon.log_lines()
    assert all(line.get("level") != "raw" for line in lines), "every log line is one JSON object"
    assert any("stopping on SIGTERM" in line["msg"] for line in lines)
    assert lines[-1]["msg"].startswith("daemon stopped")
    # The portal was asked with the token, the job ran before the sweep.
    assert portal.requests[0].authorization == f"Bearer {TOKEN}"


def test_a_second_daemon_on_the_same_sqlite_file_exits_2(tmp_path: Path, sqlite_url: str) -> None:
    with serve(FakePortal()) as fake:
        config = base_config(tmp_path, sqlite_url, fake.url)
        assert cli(config, "db", "upgrade").returncode == 0
        first = Daemon(config, tmp_path / "first.log")
        try:
            first.wait_for_log("daemon started")
            second = cli(config, "run", timeout=30)
            code_, _ = first.terminate(signal.SIGINT)
        finally:
            first.kill()
    assert second.returncode == 2
    assert "SQLite supports one daemon" in second.stderr
    assert code_ == 0


def test_run_refuses_a_database_that_was_not_migrated(tmp_path: Path, sqlite_url: str) -> None:
    config = base_config(tmp_path, sqlite_url, "http://127.0.0.1:9")
    result = cli(config, "run", timeout=30)
    assert result.returncode == 1 and "sme-monitor db upgrade" in result.stderr


def test_filings_sync_command(tmp_path: Path, sqlite_url: str) -> None:
    with serve(FakePortal(faults=["badjson"])) as fake:
        config = base_config(tmp_path, sqlite_url, fake.url)
        assert cli(config, "db", "upgrade").returncode == 0
        db = Database(sqlite_url)
        add_entities(db, 1)
        db.dispose()
        broken = cli(config, "filings", "sync")
        fake.pages = {
            1: {"items": [{"credit_code": code(1), "period": "2026-13", "filed_on": "2026-01-02"}], "next_page": None}
        }
        bad_row = cli(config, "filings", "sync")
        fake.pages = {
            1: {"items": [{"credit_code": code(1), "period": "2026-01", "filed_on": "2026-01-02"}], "next_page": None}
        }
        good = cli(config, "filings", "sync")
    assert broken.returncode == 1 and "invalid JSON" in broken.stderr
    assert bad_row.returncode == 2 and "item 1: period:" in bad_row.stderr
    assert good.returncode == 0 and "1 条" in good.stdout
    for result in (broken, bad_row, good):
        assert TOKEN not in result.stderr + result.stdout


def test_filings_sync_without_a_portal_is_a_usage_error(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "m.toml", {"database": {"url": sqlite_url}})
    assert cli(config, "db", "upgrade").returncode == 0
    result = cli(config, "filings", "sync")
    assert result.returncode == 2 and "portal.url" in result.stderr
