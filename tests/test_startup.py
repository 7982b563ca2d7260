"""Start-up stays short: `--help` and building the parser import none of the heavy modules, and the tables the
parser is built from (kept apart from the modules they mirror so that it is) match those modules."""

from __future__ import annotations

import subprocess
import sys

from monitor.cli.commands_check import SEVERITY_ZH
from monitor.cli.commands_entities import STATUS_ZH
from monitor.cli.commands_notify import MESSAGE_STATES
from monitor.domain import Severity, Status
from notifications.models import MessageStatus

HEAVY: tuple[str, ...] = ("sqlalchemy", "alembic", "openpyxl", "jinja2", "apscheduler", "aiosmtplib", "requests")
HEAVY += ("chinese_calendar",)
HEAVY += ("tabulate", "tqdm", "notifications", "jobs", "monitor.storage.db", "monitor.importing", "monitor.sweep")


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from monitor.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for group in ('entities', 'filings', 'events', 'outbox', 'db'):\n"
        "    try:\n        main([group, '--help'])\n    except SystemExit:\n        pass\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "", f"imported at start-up: {out.splitlines()[-1]}"


def test_the_parsers_tables_match_the_enums() -> None:
    assert set(STATUS_ZH) == {s.value for s in Status}
    assert set(SEVERITY_ZH) == {s.value for s in Severity}
    assert set(MESSAGE_STATES) == {s.value for s in MessageStatus}
