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


def test_serve_answers_logs_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    db.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
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
