"""The command line over a real database: check's JSON contract, today's date in Beijing, entities list/show,
and the errors an operator sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from monitor.cli import main
from monitor.storage.db import Database
from monitor.storage.models import Base

AS_OF = "2026-11-25"
FIELDS = {
    "entity",
    "entity_name",
    "district",
    "rule",
    "article",
    "severity",
    "stage",
    "due",
    "days_left",
    "audiences",
    "message",
}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "notice": 2, "info": 3}


@pytest.fixture
def demo_db(db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Database:
    monkeypatch.setenv("SME_MONITOR_DATABASE_URL", db.url)
    monkeypatch.delenv("SME_MONITOR_CONFIG", raising=False)
    assert main(["demo", "--as-of", AS_OF]) == 0
    capsys.readouterr()
    return db


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_check_json_contract(demo_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    findings = run_json(capsys, "check", "--as-of", AS_OF, "--json")
    assert isinstance(findings, list) and findings
    for f in findings:
        assert set(f) >= FIELDS, FIELDS - set(f)
        assert isinstance(f["article"], int)
        assert f["severity"] in SEVERITY_ORDER
        assert f["message"] and "第" in f["message"] and "条" in f["message"]
        if f["due"] is not None:
            assert isinstance(f["days_left"], int)
    # Most urgent first.
    ranks = [SEVERITY_ORDER[f["severity"]] for f in findings]
    assert ranks == sorted(ranks)
    rules = {f["rule"] for f in findings}
    # The demo story shows every kind of rule an entity can break.
    assert {
        "FILING_DUE_SOON",
        "FILING_MISSED",
        "FILING_REVOCATION_DUE",
        "CERT_EXPIRING",
        "CERT_EXPIRED",
        "RESTRUCTURING_SUSPENDED",
        "RESTRUCTURING_REPORT_DUE",
        "RESTRUCTURING_REPORT_OVERDUE",
        "RESTRUCTURING_REVIEW_PENDING",
        "RECTIFICATION_DUE",
        "RECTIFICATION_OVERDUE",
        "MISCONDUCT_REVOKED",
        "APPLICATION_DURING_BAN",
        "LEGACY_REAPPLY_REQUIRED",
        "PUBLICITY_ENDED",
        "DISTRICT_REPORT_OVERDUE",
        "APPLICATION_INELIGIBLE",
        "DISTRICT_REVIEW_PENDING",
        "SERVICE_BELOW_THRESHOLD",
    } <= rules
    district_own = [f for f in findings if f["rule"].startswith("DISTRICT_REPORT_")]
    assert all(f["entity"] is None and f["district"] for f in district_own)


def snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to show that a command wrote nothing."""
    with db.engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr) for t in Base.metadata.sorted_tables
        }


def test_check_changes_nothing(demo_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(demo_db)
    assert main(["check", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "【严重 critical】" in out and "共" in out
    assert snapshot(demo_db) == before


@freeze_time("2026-11-24T17:30:00Z")  # 01:30 on 25 November in Beijing, still the 24th in UTC
def test_check_without_as_of_uses_todays_date_in_beijing(demo_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    today = run_json(capsys, "check", "--json")
    beijing = run_json(capsys, "check", "--as-of", "2026-11-25", "--json")
    utc_day = run_json(capsys, "check", "--as-of", "2026-11-24", "--json")
    assert today == beijing
    assert today != utc_day


def test_entities_show_json(demo_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    listing = run_json(capsys, "entities", "list", "--as-of", AS_OF, "--json")
    assert isinstance(listing, list) and len(listing) == 41
    suspended = [e for e in listing if e["status"] == "suspended"]
    assert suspended and all(e["reasons"] for e in suspended)
    code = suspended[0]["credit_code"]
    shown = run_json(capsys, "entities", "show", code, "--as-of", AS_OF, "--json")
    assert isinstance(shown, dict)
    for key in ("credit_code", "name", "status", "reasons", "expires_on", "filing_streak", "timeline"):
        assert key in shown
    assert shown["credit_code"] == code and shown["status"] == "suspended"
    assert shown["timeline"][0]["kind"] == "certified"
    filtered = run_json(capsys, "entities", "list", "--status", "suspended", "--as-of", AS_OF, "--json")
    assert filtered == suspended
    # The same entity before its suspension began.
    first = shown["reasons"][0]["since"]
    earlier = run_json(capsys, "entities", "show", code, "--as-of", "2026-01-01", "--json")
    assert isinstance(earlier, dict) and earlier["status"] == "active" and first > "2026-01-01"


def test_entities_show_human_lines_up(demo_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["entities", "list", "--district", "锦江区", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "锦江区" in out
    assert main(["entities", "list", "--district", "不存在区", "--as-of", AS_OF]) == 2
    assert "不存在区" in capsys.readouterr().err


def test_unknown_entity_is_a_usage_error(demo_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["entities", "show", "91510104MA0000999X"]) == 2
    assert "91510104MA0000999X" in capsys.readouterr().err


def test_empty_database_says_run_db_upgrade(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SME_MONITOR_DATABASE_URL", sqlite_url)
    assert main(["check", "--as-of", AS_OF]) == 1
    assert "sme-monitor db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    assert main(["check", "--as-of", AS_OF, "--json"]) == 0


def test_bad_configuration_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[mail.smtp]\nport = "twenty-five"\n', encoding="utf-8")
    assert main(["--config", str(cfg), "check"]) == 2
    err = capsys.readouterr().err
    assert "mail.smtp.port" in err and "twenty-five" in err and "Traceback" not in err
    cfg.write_text("[mail]\nbackdoor = 1\n", encoding="utf-8")
    assert main(["--config", str(cfg), "check"]) == 2
    assert "mail.backdoor" in capsys.readouterr().err


def _kept_rows(db: Database) -> dict[str, tuple[object, ...]]:
    with db.session() as s:
        rows = s.execute(sa.text("SELECT credit_code, as_of, version, stale FROM kept_answers")).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_check_answers_from_the_kept_answer_and_full_agrees(
    demo_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Today's check refreshes the kept answer (a cache) and answers from it; a second check evaluates
    nothing; `check --full` evaluates afresh, prints the same findings and says the kept answer agrees."""
    with freeze_time("2026-11-25 09:00:00+08:00"):
        kept_first = run_json(capsys, "check", "--json")
        rows = _kept_rows(demo_db)
        assert rows and all(r[2] in (False, 0) for r in rows.values())  # none stale
        assert {str(r[0]) for r in rows.values()} == {"2026-11-25"}
        again = run_json(capsys, "check", "--json")
        assert _kept_rows(demo_db) == rows  # nothing re-evaluated, nothing rewritten
        assert main(["check", "--full", "--json"]) == 0
        out = capsys.readouterr()
        full = json.loads(out.out)
        assert "agrees with a fresh evaluation for all" in out.err
    assert again == kept_first
    assert isinstance(full, list) and isinstance(kept_first, list)
    assert sorted(json.dumps(f, sort_keys=True) for f in full) == sorted(
        json.dumps(f, sort_keys=True) for f in kept_first
    )


def test_check_full_exits_1_when_a_kept_answer_is_wrong(demo_db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    with freeze_time("2026-11-25 09:00:00+08:00"):
        run_json(capsys, "check", "--json")
        with demo_db.session() as s:  # corrupt one kept answer behind the code's back
            code = s.execute(sa.text("SELECT credit_code FROM kept_answers WHERE status = 'active' LIMIT 1")).scalar()
            s.execute(sa.text("UPDATE kept_answers SET status = 'revoked' WHERE credit_code = :c"), {"c": code})
        assert main(["check", "--full"]) == 1
    assert f"the kept answer for {code} differs" in capsys.readouterr().err
