"""The notification commands over a real database with the file backend: notify (and its dry run), outbox
list/retry, digest --output/--send, ack and silence, and the errors an operator sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.cli import main
from monitor.storage.db import Database
from notifications.models import Acknowledgement, MessageStatus, OutboxMessage, Silence
from tests import notify_support as ns

AS_OF = ns.AS_OF.isoformat()
FRAUD = f"MISCONDUCT_REVOKED/{ns.C}/2026-03-10"


@pytest.fixture
def cli(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("SME_MONITOR_DATABASE_URL", db.url)
    monkeypatch.setenv("SME_MONITOR_MAIL__DIRECTORY", str(tmp_path / "mail"))
    monkeypatch.setenv("SME_MONITOR_RECIPIENTS__STAFF", '["staff1@center.example.cn"]')
    monkeypatch.delenv("SME_MONITOR_CONFIG", raising=False)
    ns.load(db)
    return db


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def test_notify_dry_run_then_notify_then_again(
    cli: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notify", "--as-of", AS_OF, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "将写入发件箱" in out and "【合规提醒】" in out and "试运行" in out
    assert count(cli, OutboxMessage) == 0 and not (tmp_path / "mail").exists()

    assert main(["notify", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    sent = count(cli, OutboxMessage)
    assert sent > 0 and f"发送：{sent} 封成功" in out
    assert len(list((tmp_path / "mail").glob("*.eml"))) == sent

    assert main(["notify", "--as-of", AS_OF]) == 0
    assert "已写入发件箱 0 封消息" in capsys.readouterr().out
    assert count(cli, OutboxMessage) == sent


def test_outbox_list_and_retry(cli: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notify", "--as-of", AS_OF]) == 0
    with cli.session() as s:
        s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == 1).values(status="failed", last_error="550 x"))
    capsys.readouterr()
    assert main(["outbox", "list", "--status", "failed", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["last_error"]) for r in rows] == [(1, "failed", "550 x")]
    assert main(["outbox", "retry", "1"]) == 0
    assert "已重新排队 1 封" in capsys.readouterr().out
    with cli.session() as s:
        assert s.get(OutboxMessage, 1).status == MessageStatus.SENT.value  # type: ignore[union-attr]
    assert main(["outbox", "retry", "1"]) == 2  # not a failed message any more
    with pytest.raises(SystemExit) as exc:
        main(["outbox", "list", "--status", "bogus"])
    assert exc.value.code == 2


def test_ack_records_and_lists(cli: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ack", FRAUD, "--by", "王科长", "--note", "已移交", "--as-of", AS_OF]) == 0
    assert "阶段 revoked" in capsys.readouterr().out
    assert main(["ack", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["finding"], row["stage"], row["by"], row["note"]) == (FRAUD, "revoked", "王科长", "已移交")
    # errors: no --by, not an ID, an ID with nothing behind it; nothing written
    assert main(["ack", FRAUD, "--as-of", AS_OF]) == 2
    assert main(["ack", "not-an-id", "--by", "x"]) == 2
    assert main(["ack", f"MISCONDUCT_REVOKED/{ns.A}/2026-03-10", "--by", "x", "--as-of", AS_OF]) == 2
    assert "没有事项" in capsys.readouterr().err
    assert count(cli, Acknowledgement) == 1


def test_silence_add_list_lift(cli: Database, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["silence", ns.A, "--until", "2026-04-30", "--reason", "异议复核中", "--by", "李四", "--as-of", AS_OF]
    assert main(args) == 0
    assert main(["silence", "list", "--json", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    [row] = json.loads(out[out.index("[") :])
    assert (row["credit_code"], row["until"], row["reason"]) == (ns.A, "2026-04-30", "异议复核中")
    assert main(["notify", "--as-of", AS_OF]) == 0
    assert f"FILING_DUE_SOON/{ns.A}/2026-03" in capsys.readouterr().out  # held, and said so
    assert main(["silence", "lift", str(row["id"]), "--by", "张三", "--as-of", "2026-03-27"]) == 0
    assert main(["silence", "list", "--json", "--as-of", "2026-03-27"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1]) == []
    # bad input changes nothing
    assert main(["silence", "91510104MA0000001X", "--until", "2026-04-30", "--reason", "r"]) == 2
    assert main(["silence", ns.A, "--until", "2026-03-01", "--reason", "r", "--as-of", AS_OF]) == 2
    assert main(["silence", ns.A, "--reason", "r"]) == 2
    assert count(cli, Silence) == 1


def test_digest_output_and_send(cli: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "report" / "digest.html"
    assert main(["digest", "--as-of", AS_OF, "--output", str(out_file)]) == 0
    html = out_file.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "【每日合规简报】2026年3月26日" in html
    assert count(cli, OutboxMessage) == 0  # building the digest writes nothing
    assert main(["digest", "--as-of", AS_OF]) == 0
    assert "一、待决事项" in capsys.readouterr().out
    assert main(["digest", "--as-of", AS_OF, "--send"]) == 0
    assert main(["digest", "--as-of", AS_OF, "--send"]) == 0
    assert "此前已发给" in capsys.readouterr().out
    digests = list((tmp_path / "mail").glob("*_digest_*.eml"))
    assert len(digests) == 1


def test_demo_mail_writes_eml_files_and_the_digest(db: Database, tmp_path: Path) -> None:
    from dataclasses import replace

    from monitor.legal_time import WorkCalendar
    from notifications.demo import write_demo_mail

    ns.load(db)
    settings = ns.make_settings(tmp_path)
    settings = replace(settings, mail=replace(settings.mail, backend="smtp"))  # the demo never uses SMTP
    out = write_demo_mail(db, settings, WorkCalendar.load(None), ns.AS_OF, ns.at(ns.AS_OF))
    files = list(out.directory.glob("*.eml"))
    assert out.messages == len(files) > 1 and any("_digest_" in f.name for f in files)
    assert out.digest_html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    again = write_demo_mail(db, settings, WorkCalendar.load(None), ns.AS_OF, ns.at(ns.AS_OF))
    assert again.messages == 0 and len(list(out.directory.glob("*.eml"))) == len(files)
