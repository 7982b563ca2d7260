"""Log lines go to stderr: the stream of the moment, not the one set up with."""

from __future__ import annotations

import io
import logging
import sys

from monitor.logs import setup_logging


def test_log_lines_follow_stderr_when_it_is_replaced() -> None:
    """A stream captured at set-up may be closed later (a test's capture, a redirect): lines go to the stderr
    of the moment, never to a closed file."""
    old = sys.stderr
    first = io.StringIO()
    sys.stderr = first
    try:
        setup_logging()
        first.close()
        second = io.StringIO()
        sys.stderr = second
        logging.getLogger("monitor.test").info("第二行")
        assert "第二行" in second.getvalue() and "Logging error" not in second.getvalue()
    finally:
        sys.stderr = old
        setup_logging()
