"""monitor.progress: a tqdm bar on stderr when it is a terminal (a real pseudo-terminal here), one log line per
stage otherwise; imports and the sweep report through it."""

from __future__ import annotations

import fcntl
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from monitor.progress import progress, stage
from tests.import_support import CODES, Cli, csv_text


def test_without_a_terminal_a_stage_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="monitor.progress")
    assert list(progress(range(5), 5, "读取", unit="行", terminal=False)) == [0, 1, 2, 3, 4]
    with stage("检查", 10) as advance:
        advance(4)
        advance(6)
    assert [r.getMessage().rsplit(",", 1)[0] for r in caplog.records] == ["读取: 5 行", "检查: 10 项"]


def test_a_stage_that_fails_says_how_far_it_got(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="monitor.progress")
    with pytest.raises(RuntimeError), stage("sweep", 3) as advance:
        advance(2)
        raise RuntimeError("boom")
    assert caplog.records[-1].getMessage().startswith("sweep: 中止于 2 项")


def test_on_a_terminal_a_bar_is_drawn_on_stderr() -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 columns wide
    code = "from monitor.progress import progress\nfor _ in progress(range(40), 40, 'bar-label', unit='行'): pass\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
    )
    os.close(slave)
    drawn = b""
    while True:  # read while it runs: Linux drops what is unread when the terminal's last writer closes it
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child has closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0 and proc.stdout is not None and proc.stdout.read() == b""
    text = drawn.decode("utf-8", "replace")
    assert "bar-label" in text and "/40" in text and "%|" in text, text


@pytest.fixture
def cli(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    from monitor.storage.db import Database

    db = Database(sqlite_url)
    db.upgrade()
    return Cli(db, tmp_path, capsys)


def test_an_import_and_a_check_log_their_stage(cli: Cli) -> None:
    cli.load_roster()
    path = cli.file(
        "filings.csv", csv_text([["credit_code", "period", "filed_on"], [CODES["A"], "2026-01", "2026-01-30"]])
    )
    result = cli("filings", "import", str(path))
    assert result.code == 0, result.err
    assert "读取 (reading) filings.csv: 1 行" in result.err
    result = cli("check", "--full", "--as-of", "2026-03-01", "--json")
    assert result.code == 0 and "全量检查 (check --full): 3 主体" in result.err
