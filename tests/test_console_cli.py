"""`sme-monitor users ...` and the audit trail of command-line writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from monitor import accounts, actor
from monitor.cli import main
from monitor.storage.console_models import AuditRow, SessionRow
from monitor.storage.db import Database


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("SME_MONITOR_DATABASE_URL", db.url)
    monkeypatch.delenv("SME_MONITOR_CONFIG", raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield db
    actor.set_process_actor(None)
    # main() points the root logger at this test's captured stderr: give the next tests their handlers back.
    root.handlers[:], root.level = handlers, level


def run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def test_users_add_list_disable_password(
    cli: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["users", "add", "wang", "--role", "staff"], "s3cret-pass\n", monkeypatch) == 0
    assert run(["users", "add", "li", "--role", "district", "--district", "锦江区"], "another-pass\n", monkeypatch) == 0
    capsys.readouterr()
    assert main(["users", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["name"], u["role"], u["district"], u["disabled"]) for u in listed] == [
        ("li", "district", "锦江区", False),
        ("wang", "staff", None, False),
    ]
    now = datetime.now(UTC)
    with cli.session() as session:
        login = accounts.authenticate(session, "wang", "s3cret-pass", "127.0.0.1", now)
        assert login.user is not None
        accounts.open_session(session, login.user, "127.0.0.1", now, 8)
    assert main(["users", "disable", "wang"]) == 0
    with cli.session() as session:
        assert session.execute(sa.select(SessionRow.ended_at)).scalar_one() is not None
        assert accounts.authenticate(session, "wang", "s3cret-pass", "127.0.0.1", now).user is None
    assert run(["users", "password", "li"], "a-new-password\n", monkeypatch) == 0
    with cli.session() as session:
        assert accounts.authenticate(session, "li", "a-new-password", "127.0.0.1", now).user is not None
        row = accounts.get(session, "li")
        assert row is not None and row.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (["users", "add", "x", "--role", "staff"], "short\n"),
        (["users", "add", "x", "--role", "district"], "long-enough-1\n"),
        (["users", "add", "x", "--role", "district", "--district", "巴黎"], "long-enough-1\n"),
        (["users", "add", "x", "--role", "staff", "--district", "锦江区"], "long-enough-1\n"),
        (["users", "disable", "nobody"], ""),
        (["users", "password", "nobody"], "long-enough-1\n"),
    ],
)
def test_bad_user_commands_exit_2_and_write_nothing(
    cli: Database, monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str
) -> None:
    cli.upgrade()
    assert run(argv, stdin, monkeypatch) == 2
    with cli.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(AuditRow)).scalar_one() == 0


def test_a_command_line_write_is_audited_as_cli_user_from_this_host(
    cli: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["users", "add", "zhao", "--role", "viewer"], "secret-passw0rd\n", monkeypatch) == 0
    with cli.session() as session:
        row = session.execute(sa.select(AuditRow)).scalar_one()
    assert row.actor.startswith("cli:") and row.origin and row.request_id
    assert row.action == "sme-monitor users add zhao --role viewer" and row.changes == "users +"
    assert "secret-passw0rd" not in row.action


def test_reads_and_refused_writes_leave_no_audit_row(cli: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.upgrade()
    assert main(["users", "list"]) == 0
    with cli.session() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(AuditRow)).scalar_one() == 0


def test_the_daemons_writes_are_audited_as_daemon_host(db: Database) -> None:
    import socket

    from monitor.storage.console_models import UserRow

    actor.set_process_actor(actor.daemon_actor())
    try:
        with db.session() as session:  # any write a daemon job makes, from any thread without the context
            session.add(
                UserRow(
                    name="d",
                    role="viewer",
                    district="",
                    password_hash="x",
                    disabled=False,
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            )
    finally:
        actor.set_process_actor(None)
    with db.session() as session:
        row = session.execute(sa.select(AuditRow)).scalar_one()
    assert row.actor == f"daemon:{socket.gethostname()}" and row.origin == socket.gethostname()
    assert row.changes == "users +"
