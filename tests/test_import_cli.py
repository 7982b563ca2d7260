"""Imports and `events record` through the real command line, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from monitor.importing import ImportFailed, ImportOptions, import_file
from monitor.legal_time import legal_today
from monitor.storage.db import Database
from tests.import_support import ROSTER, ROSTER_HEADER, UNKNOWN, A, B, C, Cli, csv_text, json_lines, rows, snapshot


@pytest.fixture
def cli(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db, tmp_path, capsys)


@pytest.fixture
def roster(cli: Cli) -> Cli:
    cli.load_roster()
    return cli


def summary(read: int, added: int, updated: int, unchanged: int) -> str:
    return f"读取 {read} 行，新增 {added}，更新 {updated}，未变 {unchanged} "


# --- roster ------------------------------------------------------------------------------------------------


def test_roster_import_adds_entities_and_certifications(cli: Cli) -> None:
    path = cli.file("roster.csv", csv_text([ROSTER_HEADER, *ROSTER]))
    result = cli("entities", "import", str(path), "--by", "张三")
    assert result.code == 0, result.err
    assert result.out.startswith(summary(3, 3, 0, 0))
    assert rows(cli.db, "entities", "credit_code", "name", "kind", "district", "emails", "cert_no", "source") == [
        (C, "成都丙服务平台（申报中）", "platform", "天府新区", "", "", "roster.csv"),
        (A, "成都市甲中小企业服务平台", "platform", "锦江区", "a@example.org;ops@example.org", "CDPT-2024-001", "roster.csv"),
        (B, "成都乙创业基地", "base", "高新区", "b@example.org", "CDJD-2023-007", "roster.csv"),
    ]  # fmt: skip
    assert rows(cli.db, "events", "kind", "occurred_on", "recorded_by", "source") == [
        ("certified", date(2023, 6, 1), "张三", "roster.csv"),
        ("certified", date(2024, 3, 15), "张三", "roster.csv"),
    ]
    assert rows(cli.db, "certifications", "granted_on", "cert_no", "scheme") == [
        (date(2023, 6, 1), "CDJD-2023-007", "current"),
        (date(2024, 3, 15), "CDPT-2024-001", "current"),
    ]


def test_same_roster_twice_changes_nothing(roster: Cli) -> None:
    before = snapshot(roster.db)
    path = roster.file("again.csv", csv_text([ROSTER_HEADER, *ROSTER]))
    result = roster("entities", "import", str(path))
    assert result.code == 0, result.err
    assert result.out.startswith(summary(3, 0, 0, 3))
    assert snapshot(roster.db) == before


def test_changed_fields_are_recorded_as_roster_changed_events(roster: Cli) -> None:
    changed = [list(r) for r in ROSTER]
    changed[0][1] = "成都市甲中小企业综合服务平台"
    changed[0][3] = "青羊区"
    changed[1][6] = "b@example.org；new@example.org"
    path = roster.file("roster-2.csv", csv_text([ROSTER_HEADER, *changed]))
    result = roster("entities", "import", str(path), "--by", "李四")
    assert result.code == 0, result.err
    assert result.out.startswith(summary(3, 0, 2, 1))
    today = legal_today(datetime.now(UTC))
    events = rows(roster.db, "events", "kind", "detail", "occurred_on", "recorded_by", "source")
    assert [e for e in events if e[0] == "roster_changed"] == [
        ("roster_changed", "district: 锦江区 → 青羊区", today, "李四", "roster-2.csv"),
        ("roster_changed", "emails: b@example.org → b@example.org;new@example.org", today, "李四", "roster-2.csv"),
        ("roster_changed", "name: 成都市甲中小企业服务平台 → 成都市甲中小企业综合服务平台", today, "李四", "roster-2.csv"),
    ]  # fmt: skip
    assert ("成都市甲中小企业综合服务平台", "青羊区", "李四") in rows(
        roster.db, "entities", "name", "district", "recorded_by"
    )


def test_a_column_the_file_lacks_is_left_alone_and_an_empty_one_clears(roster: Cli) -> None:
    without_email = [r[:4] for r in ROSTER]
    path = roster.file("no-email.csv", csv_text([ROSTER_HEADER[:4], *without_email]))
    assert roster("entities", "import", str(path)).out.startswith(summary(3, 0, 0, 3))
    emptied = [[*r[:4], ""] for r in ROSTER[:1]]
    path = roster.file("empty-email.csv", csv_text([[*ROSTER_HEADER[:4], "email"], *emptied]))
    assert roster("entities", "import", str(path)).out.startswith(summary(1, 0, 1, 0))
    assert ("", A) in rows(roster.db, "entities", "emails", "credit_code")
    assert ("emails: a@example.org;ops@example.org → （空）",) in rows(roster.db, "events", "detail")


def test_same_addresses_in_another_order_are_no_change(roster: Cli) -> None:
    reordered = [list(r) for r in ROSTER]
    reordered[0][6] = "ops@example.org, a@example.org"
    path = roster.file("reordered.csv", csv_text([ROSTER_HEADER, *reordered]))
    assert roster("entities", "import", str(path)).out.startswith(summary(3, 0, 0, 3))


def test_a_new_certification_date_appends_a_certified_event(roster: Cli) -> None:
    renewed = [list(r) for r in ROSTER]
    renewed[1][4:] = ["2026年6月1日", "CDJD-2026-002", "b@example.org", "2018年办法"]
    path = roster.file("renewed.csv", csv_text([ROSTER_HEADER, *renewed]))
    assert roster("entities", "import", str(path)).out.startswith(summary(3, 0, 1, 2))
    assert rows(roster.db, "certifications", "granted_on", "cert_no", "scheme") == [
        (date(2023, 6, 1), "CDJD-2023-007", "current"),
        (date(2024, 3, 15), "CDPT-2024-001", "current"),
        (date(2026, 6, 1), "CDJD-2026-002", "2018"),
    ]
    assert ("cert_no: CDJD-2023-007 → CDJD-2026-002",) in rows(roster.db, "events", "detail")


def test_roster_from_xlsx_with_date_cells(cli: Cli) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["credit_code", "name", "kind", "district", "certified_on", "cert_no", "email", None])
    ws.append(
        [A, " 成都市甲中小企业服务平台 ", "平台", "锦江区", datetime(2024, 3, 15), "CDPT-2024-001", "a@example.org"]
    )
    ws.append([C, "成都丙服务平台", "platform", "天府新区", None, None, None])
    ws.append([None] * 8)
    path = cli.dir / "roster.xlsx"
    wb.save(path)
    result = cli("entities", "import", str(path))
    assert result.code == 0, result.err
    assert result.out.startswith(summary(2, 2, 0, 0))
    assert rows(cli.db, "entities", "credit_code", "name") == [(C, "成都丙服务平台"), (A, "成都市甲中小企业服务平台")]
    assert rows(cli.db, "certifications", "granted_on") == [(date(2024, 3, 15),)]


def test_dry_run_counts_and_writes_nothing(cli: Cli) -> None:
    before = snapshot(cli.db)
    path = cli.file("roster.csv", csv_text([ROSTER_HEADER, *ROSTER]))
    result = cli("entities", "import", str(path), "--dry-run")
    assert result.code == 0, result.err
    assert result.out.startswith(summary(3, 3, 0, 0))
    assert "试运行" in result.out
    assert snapshot(cli.db) == before


def test_recorded_by_defaults_to_the_os_user(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGNAME", "zhaoliu")
    path = cli.file("roster.csv", csv_text([ROSTER_HEADER, *ROSTER[:1]]))
    assert cli("entities", "import", str(path)).code == 0
    assert rows(cli.db, "events", "recorded_by") == [("zhaoliu",)]
    assert rows(cli.db, "entities", "recorded_by") == [("zhaoliu",)]


def test_import_before_db_upgrade_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "empty.db"}"\n', encoding="utf-8")
    path = tmp_path / "roster.csv"
    path.write_text(csv_text([ROSTER_HEADER, *ROSTER]), encoding="utf-8")
    assert main(["--config", str(config), "entities", "import", str(path)]) == 1
    assert "db upgrade" in capsys.readouterr().err


# --- filings -----------------------------------------------------------------------------------------------

FILINGS_ZH = ["统一社会信用代码", "填报月份", "填报日期"]


def test_gb18030_filings_then_the_same_file_again(roster: Cli) -> None:
    content = csv_text(
        [FILINGS_ZH, [A, "2026-01", "2026/1/30"], [A, "2026-02", "2026/3/2"], [B, "2026-01", "2026-01-31"]]
    )
    path = roster.file("填报.csv", content.encode("gb18030"))
    result = roster("filings", "import", str(path), "--by", "portal")
    assert result.code == 0, result.err
    assert result.out.startswith(summary(3, 3, 0, 0))
    before = snapshot(roster.db)
    assert rows(roster.db, "filings", "period", "filed_on", "source", "recorded_by") == [
        (date(2026, 1, 1), date(2026, 1, 30), "填报.csv", "portal"),
        (date(2026, 1, 1), date(2026, 1, 31), "填报.csv", "portal"),
        (date(2026, 2, 1), date(2026, 3, 2), "填报.csv", "portal"),
    ]
    again = roster("filings", "import", str(path), "--by", "someone else")
    assert again.code == 0, again.err
    assert again.out.startswith(summary(3, 0, 0, 3))
    assert snapshot(roster.db) == before


def test_utf8_bom_filings(roster: Cli) -> None:
    path = roster.file("filings.csv", csv_text([FILINGS_ZH, [A, "2026-01", "2026-01-30"]]).encode("utf-8-sig"))
    assert roster("filings", "import", str(path)).out.startswith(summary(1, 1, 0, 0))


def test_the_earliest_filing_counts(roster: Cli) -> None:
    first = roster.file("first.csv", csv_text([FILINGS_ZH, [A, "2026-04", "2026-04-30"], [A, "2026-04", "2026-05-06"]]))
    assert roster("filings", "import", str(first)).out.startswith(summary(2, 1, 0, 1))
    assert rows(roster.db, "filings", "filed_on", "source") == [(date(2026, 4, 30), "first.csv")]
    earlier = roster.file("earlier.csv", csv_text([FILINGS_ZH, [A, "2026-04", "2026-04-28"]]))
    assert roster("filings", "import", str(earlier)).out.startswith(summary(1, 0, 1, 0))
    later = roster.file("later.csv", csv_text([FILINGS_ZH, [A, "2026-04", "2026-04-29"]]))
    assert roster("filings", "import", str(later)).out.startswith(summary(1, 0, 0, 1))
    assert rows(roster.db, "filings", "filed_on", "source") == [(date(2026, 4, 28), "earlier.csv")]


def test_filings_from_xlsx_typed_cells(roster: Cli) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["credit_code", "period", "filed_on"])
    ws.append([A, datetime(2026, 3, 1), datetime(2026, 3, 31)])  # Excel made a date of "2026-03"
    ws.append([A, "2026-04", "2026/4/30"])
    ws.append([B, 202604, 46142])  # numbers: a month typed as 202604, a date cell formatted as a number
    path = roster.dir / "filings.xlsx"
    wb.save(path)
    result = roster("filings", "import", str(path))
    assert result.code == 0, result.err
    assert rows(roster.db, "filings", "period", "filed_on") == [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 4, 30)),
        (date(2026, 4, 1), date(2026, 4, 30)),
    ]


@pytest.mark.parametrize("name", ["filings.json", "filings.jsonl"])
def test_filings_from_json(roster: Cli, name: str) -> None:
    items = [{"credit_code": A, "period": "2026-01", "filed_on": "2026-01-30"}, {"统一社会信用代码": B, "填报月份": "2026-01", "填报日期": "2026-01-29"}]  # fmt: skip
    import json

    content = json.dumps(items, ensure_ascii=False) if name.endswith(".json") else json_lines(items)
    path = roster.file(name, content)
    result = roster("filings", "import", str(path))
    assert result.code == 0, result.err
    assert result.out.startswith(summary(2, 2, 0, 0))


def test_many_chunks_and_a_late_problem_leave_nothing_behind(roster: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are staged a chunk at a time; a problem after several chunks still leaves the database as it was,
    and the next import on the same connection pool starts clean."""
    monkeypatch.setattr("monitor.importing.filings.CHUNK", 2)
    good = [[A, f"2025-{m:02d}", f"2025-{m:02d}-25"] for m in range(1, 13)]
    bad = roster.file("bad.csv", csv_text([FILINGS_ZH, *good, [UNKNOWN, "2025-01", "2025-01-25"]]))
    ok = roster.file("ok.csv", csv_text([FILINGS_ZH, *good]))
    before = snapshot(roster.db)
    opts = ImportOptions(
        today=date(2026, 11, 24), now=datetime.now(UTC), districts=frozenset(), source="t", recorded_by="t"
    )
    with pytest.raises(ImportFailed) as failed:
        import_file(roster.db, "filings", bad, "bad.csv", opts, dry_run=False)
    assert failed.value.lines == [f"bad.csv:14: 统一社会信用代码: 统一社会信用代码 {UNKNOWN} 不在名册中，请先导入名册 (unknown credit code: import the roster first)"]  # fmt: skip
    assert snapshot(roster.db) == before
    assert import_file(roster.db, "filings", ok, "ok.csv", opts, dry_run=False).added == 12
    assert len(rows(roster.db, "filings", "id")) == 12


# --- events ------------------------------------------------------------------------------------------------


EVENTS = [
    {"credit_code": A, "kind": "测评", "date": "2026-01-10", "result": "不合格", "note": "服务台账不完整\n满意度偏低"},
    {"credit_code": A, "kind": "整改合格", "date": "2026-05-20"},
    {"credit_code": B, "kind": "重大调整", "date": "2026-02-01", "detail": "更名"},
    {"credit_code": B, "kind": "restructuring_reported", "date": "2026-03-15"},
    {"credit_code": B, "kind": "restructuring_reviewed", "date": "2026-04-15", "result": "passed"},
    {"credit_code": C, "kind": "申报", "date": "2026-04-01", "year": 2026},
    {"credit_code": C, "kind": "公示", "date": "2026-06-01"},
    {"credit_code": C, "kind": "认定", "date": "2026-06-10", "cert_no": "CDPT-2026-011", "scheme": "current"},
    {"credit_code": C, "kind": "filing", "date": "2026-07-31", "period": "2026-07"},
    {"kind": "区县报告", "district": "锦江区", "year": 2025, "date": "2026-02-26"},
]


def test_events_file_in_json_and_again(roster: Cli) -> None:
    import json

    # Out of date order on purpose: the restructuring comes after its report in the file.
    items = [EVENTS[3], *EVENTS[:3], *EVENTS[4:]]
    path = roster.file("events.json", json.dumps(items, ensure_ascii=False))
    result = roster("events", "import", str(path), "--by", "王五")
    assert result.code == 0, result.err
    assert result.out.startswith(summary(10, 10, 0, 0))
    got = [r for r in rows(roster.db, "events", "kind", "occurred_on", "result", "detail", "source") if r[0] != "certified" or r[1].year == 2026]  # fmt: skip
    assert got == [
        ("applied", date(2026, 4, 1), "", "2026", "events.json"),
        ("certified", date(2026, 6, 10), "", "", "events.json"),
        ("evaluated", date(2026, 1, 10), "failed", "", "events.json"),
        ("publicized", date(2026, 6, 1), "", "", "events.json"),
        ("rectification_accepted", date(2026, 5, 20), "", "", "events.json"),
        ("restructured", date(2026, 2, 1), "", "rename", "events.json"),
        ("restructuring_reported", date(2026, 3, 15), "", "", "events.json"),
        ("restructuring_reviewed", date(2026, 4, 15), "passed", "", "events.json"),
    ]
    assert ("服务台账不完整\n满意度偏低",) in rows(roster.db, "events", "note")
    assert (date(2026, 6, 10), "CDPT-2026-011") in rows(roster.db, "certifications", "granted_on", "cert_no")
    assert rows(roster.db, "filings", "period", "filed_on") == [(date(2026, 7, 1), date(2026, 7, 31))]
    assert rows(roster.db, "district_reports", "district", "year", "reported_on", "recorded_by") == [
        ("锦江区", 2025, date(2026, 2, 26), "王五")
    ]
    before = snapshot(roster.db)
    again = roster("events", "import", str(path))
    assert again.out.startswith(summary(10, 0, 0, 10))
    assert snapshot(roster.db) == before


def test_district_reports_keep_the_earliest_date(roster: Cli) -> None:
    head = ["kind", "district", "year", "date"]
    first = roster.file("r1.csv", csv_text([head, ["district_report", "高新区", "2025", "2026-02-27"]]))
    assert roster("events", "import", str(first)).out.startswith(summary(1, 1, 0, 0))
    earlier = roster.file("r2.csv", csv_text([head, ["district_report", "高新区", "2025", "2026-02-20"]]))
    assert roster("events", "import", str(earlier)).out.startswith(summary(1, 0, 1, 0))
    assert rows(roster.db, "district_reports", "reported_on", "source") == [(date(2026, 2, 20), "r2.csv")]


# (kind, code, options, prerequisites recorded first, a column of the stored row to check)
RECORD_CASES = [
    ("certified", C, ["--date", "2026-05-01", "--cert-no", "CDPT-2026-020", "--scheme", "2018"], []),
    ("filing", A, ["--date", "2026-05-31", "--period", "2026-05"], []),
    ("restructured", A, ["--date", "2026-05-01", "--detail", "merger"], []),
    ("restructuring_reported", A, ["--date", "2026-06-01"], [["restructured", A, "--date", "2026-05-01", "--detail", "split"]]),
    ("restructuring_reviewed", A, ["--date", "2026-07-01", "--result", "failed"], [["restructured", A, "--date", "2026-05-01", "--detail", "other"]]),
    ("evaluated", B, ["--date", "2026-03-01", "--result", "passed", "--note", "第三方测评"], []),
    ("rectification_accepted", A, ["--date", "2026-08-01"], [["evaluated", A, "--date", "2026-03-01", "--result", "failed"]]),
    ("rectification_rejected", A, ["--date", "2026-08-01"], [["evaluated", A, "--date", "2026-03-01", "--result", "不合格"]]),
    ("misconduct", B, ["--date", "2026-04-01", "--detail", "弄虚作假"], []),
    ("revoked", B, ["--date", "2026-04-02", "--detail", "第二十二条"], []),
    ("applied", C, ["--date", "2026-04-01", "--year", "2026"], []),
    ("applied", C, ["--date", "2026-04-01", "--detail", "2026"], []),
    ("publicized", C, ["--date", "2026-06-01"], []),
    ("district_report", None, ["--date", "2026-02-25", "--district", "武侯区", "--year", "2025"], []),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "code", "options", "before"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_events_record_every_kind(
    roster: Cli, kind: str, code: str | None, options: list[str], before: list[list[str]]
) -> None:
    for prerequisite in before:
        assert roster("events", "record", *prerequisite).code == 0
    args = ["events", "record", kind, *([code] if code else []), *options, "--by", "王五"]
    result = roster(*args)
    assert result.code == 0, result.err
    assert result.out.startswith("已登记 (recorded)")
    if kind == "filing":
        assert rows(roster.db, "filings", "period", "source", "recorded_by") == [(date(2026, 5, 1), "cli", "王五")]
    elif kind == "district_report":
        assert rows(roster.db, "district_reports", "district", "year", "source") == [("武侯区", 2025, "cli")]
    else:
        recorded = [r for r in rows(roster.db, "events", "kind", "recorded_by", "source") if r[1] == "王五"]
        assert recorded == [(kind, "王五", "cli")]
    assert roster(*args).out.startswith("已有相同记录，未改变")
    if kind == "certified":
        assert (date(2026, 5, 1), "CDPT-2026-020", "2018") in rows(
            roster.db, "certifications", "granted_on", "cert_no", "scheme"
        )


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["evaluated", A, "--date", "2026-02-30", "--result", "passed"], "--date: 日期不存在"),
        (["evaluated", A, "--date", "2026-03-01"], "--result: 必填项为空"),
        (["evaluated", UNKNOWN, "--date", "2026-03-01", "--result", "passed"], "CODE: 统一社会信用代码"),
        (["rectification_accepted", B, "--date", "2026-03-01"], "KIND: 此前没有测评不合格记录"),
        (["district_report", "--date", "2026-02-25", "--district", "成都", "--year", "2025"], "--district: 未知区县"),
        (["applied", C, "--date", "2026-04-01", "--year", "26"], "--year: 不是有效年度"),
        (["publicized", C, "--date", "2026-04-01", "--by", "a\nb"], "--by: "),
    ],
)
def test_events_record_refuses_bad_input(roster: Cli, args: list[str], where: str) -> None:
    before = snapshot(roster.db)
    result = roster("events", "record", *args)
    assert result.code == 2, result.out + result.err
    assert where in result.err
    assert snapshot(roster.db) == before


def test_filings_record(roster: Cli) -> None:
    result = roster("filings", "record", A, "--period", "2026-09", "--date", "2026-09-30")
    assert result.code == 0, result.err
    assert rows(roster.db, "filings", "period", "filed_on") == [(date(2026, 9, 1), date(2026, 9, 30))]
    refused = roster("filings", "record", A, "--period", "2026-10", "--date", "2099-10-30")
    assert refused.code == 2
    assert "命令行 (command line): --date: 日期 2099-10-30 晚于今天" in refused.err


def test_filings_dry_run_counts_exactly_and_writes_nothing(roster: Cli) -> None:
    path = roster.file(
        "filings.csv", csv_text([FILINGS_ZH, [A, "2026-01", "2026-01-30"], [A, "2026-01", "2026-01-29"]])
    )
    before = snapshot(roster.db)
    dry = roster("filings", "import", str(path), "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.out.startswith(summary(2, 1, 0, 1))
    assert snapshot(roster.db) == before
    assert roster("filings", "import", str(path)).out.startswith(summary(2, 1, 0, 1))
    assert rows(roster.db, "filings", "filed_on") == [(date(2026, 1, 29),)]
