"""`sme-monitor serve` as a process: listens where told, logs one line per request, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from monitor.storage.db import Database
from tests.notify_support import free_port

pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SME_MONITOR_")}
    env["SME_MONITOR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'm.db'}"
    return env


def _serve(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    """`sme-monitor serve` on the database of `_env`, its output read as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_answers_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    db.dispose()
    port = free_port()
    proc = _serve(tmp_path, port)
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}/" in proc.stdout.readline()  # the console
        assert f"http://127.0.0.1:{port}/registry" in proc.stdout.readline()
        deadline = time.monotonic() + 15
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.1)
        assert answer.status_code == 200 and "content-security-policy" in answer.headers
        assert "server" not in answer.headers
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert [line for line in err.splitlines() if "web.access: GET /healthz 200" in line]


def test_serve_brings_the_kept_answer_up_to_date_before_it_listens(tmp_path: Path) -> None:
    """After an upgrade every kept answer is out of date: serve evaluates them before its first request."""
    import sqlalchemy as sa

    from monitor import credit_code
    from monitor.domain import Entity, History, Kind
    from tests import dbdata
    from tests.rulecases import cert

    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    code = credit_code.complete("91510104MA0000001")
    dbdata.store(
        db, [History(Entity(code, "成都示例服务平台有限公司", Kind.PLATFORM, "锦江区"), (cert("2025-06-15"),), {})]
    )
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT stale FROM kept_answers")).scalar_one() == 1
    port = free_port()
    proc = _serve(tmp_path, port)
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}/" in proc.stdout.readline()  # printed once the answer is kept
        with db.engine.connect() as conn:
            stale, status = conn.execute(sa.text("SELECT stale, status FROM kept_answers")).one()
        assert (stale, status) == (0, "active")
        # A SIGTERM while uvicorn is still starting stops it once started (it used to be dropped).
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
        db.dispose()
    assert "kept answer refreshed" in err and proc.returncode == 0


def test_serve_refuses_a_database_that_is_not_upgraded(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "serve", "--port", str(free_port())],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "sme-monitor db upgrade" in done.stderr


def test_serve_refuses_a_bad_port(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "serve", "--port", "70000"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "1-65535" in done.stderr


def test_demo_serve_prints_a_demo_admin_once_and_the_address_and_the_login_works(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path) | {"SME_MONITOR_MAIL__DIRECTORY": str(tmp_path / "mail")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "demo", "--serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any("/registry" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "demo --serve ended early"
            lines.append(line)
        admin = next(line for line in lines if "demo-admin" in line)
        password = admin.split("密码")[1].split()[0]
        assert any(f"http://127.0.0.1:{port}/" in line and "console" in line for line in lines)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                form = requests.get(f"{base}/login", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.1)
        http = requests.Session()
        form = http.get(f"{base}/login", timeout=5)
        token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        login = http.post(
            f"{base}/login",
            data={"username": "demo-admin", "password": password, "csrf_token": token},
            timeout=10,
            allow_redirects=False,
        )
        assert login.status_code == 303
        home = http.get(f"{base}/", timeout=30)
        assert home.status_code == 200 and "工作台" in home.text
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert password not in err  # printed once, on standard output, never logged
