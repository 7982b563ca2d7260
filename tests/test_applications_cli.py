"""`applications template|import|list|check`, the procedure's events and service figures, on SQLite and
PostgreSQL through the real command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from openpyxl import Workbook, load_workbook

from monitor.credit_code import complete
from monitor.storage.db import Database
from tests.import_support import A, Cli, csv_text, json_lines, rows, snapshot

NEW = complete("91510104MA6CN0001")  # an applicant not on the roster
OTHER = complete("91510105MA6CN0002")
HEADER = [
    "统一社会信用代码",
    "申报年度",
    "类型",
    "名称",
    "所属区县",
    "申报日期",
    "服务功能",
    "注册登记日期",
    "独立法人",
    "无违法违规失信记录",
    "注册资金（万元）",
    "固定场所和设施",
    "财务状况良好",
    "合作服务机构数",
    "专职服务人员数",
    "大专以上或中级以上职称人数",
    "管理制度健全",
    "前第三年服务企业数",
    "前第二年服务企业数",
    "上一年服务企业数",
    "客户满意度（%）",
    "参加主管部门活动",
    "在线政策服务系统",
    "线上政策服务企业数",
]
GOOD = [NEW, "2026", "平台", "成都新申报平台有限公司", "锦江区", "2026-05-10", "政策服务", "2023-05-10"]
GOOD += ["是", "是", "100", "是", "是", "5", "10", "8", "是", "100", "101", "102", "90%", "是", "是", "300"]


@pytest.fixture
def cli(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    with freeze_time("2026-11-20 02:00:00"):
        yield Cli(db, tmp_path, capsys)


def _import(cli: Cli, name: str, content: str) -> tuple[int, str, str]:
    path = cli.file(name, content)
    r = cli("applications", "import", str(path), "--by", "tester")
    return r.code, r.out, r.err


def test_import_adds_the_applicant_and_one_applied_event(cli: Cli) -> None:
    code, out, err = _import(cli, "apps.csv", csv_text([HEADER, GOOD]))
    assert code == 0, err
    assert "新增 1" in out
    assert rows(cli.db, "entities", "credit_code", "kind") == [(NEW, "platform")]
    assert [r[1:] for r in rows(cli.db, "events", "entity_id", "kind", "detail")] == [("applied", "2026")]
    listed = cli("applications", "list", "--json")
    assert json.loads(listed.out) == [
        {
            "credit_code": NEW,
            "year": 2026,
            "kind": "platform",
            "name": "成都新申报平台有限公司",
            "district": "锦江区",
            "applied_on": "2026-05-10",
            "verdict": "eligible",
        }
    ]
    shown = cli("entities", "show", NEW, "--json")
    assert [t["kind"] for t in json.loads(shown.out)["timeline"]] == ["applied"]


def test_reimport_with_another_date_moves_the_applied_event(cli: Cli) -> None:
    assert _import(cli, "apps.csv", csv_text([HEADER, GOOD]))[0] == 0
    moved = [*GOOD]
    moved[5] = "2026-05-09"  # one day short of three years since registration: A4-1 unmet
    code, out, _ = _import(cli, "apps2.csv", csv_text([HEADER, moved]))
    assert code == 0 and "更新 1" in out
    events = rows(cli.db, "events", "kind", "occurred_on", "detail")
    assert [(k, str(d), y) for k, d, y in events] == [("applied", "2026-05-09", "2026")]
    assert len(rows(cli.db, "applications", "year")) == 1
    checked = json.loads(cli("applications", "check", NEW, "--json").out)
    assert checked["verdict"] == "not_eligible"
    a41 = next(c for c in checked["conditions"] if c["id"] == "A4-1")
    assert a41 == {
        "id": "A4-1",
        "article": 4,
        "item": 1,
        "result": "unmet",
        "value": "2023-05-10",
        "need": a41["need"],
        "text": a41["text"],
    }
    assert "第四条第（一）项" in a41["text"]
    agg = checked["conditions"][-1]
    assert (agg["id"], agg["article"], agg["item"], agg["result"]) == ("A5", 5, None, "met")
    # Same file again: nothing changes.
    assert "未变 1" in _import(cli, "apps3.csv", csv_text([HEADER, moved]))[1]


def test_check_human_view_lists_unmet_first_in_chinese(cli: Cli) -> None:
    row = [*GOOD]
    row[20] = "89"  # satisfaction below 90 %
    assert _import(cli, "apps.csv", csv_text([HEADER, row]))[0] == 0
    r = cli("applications", "check", NEW, "--year", "2026")
    assert r.code == 0
    lines = r.out.splitlines()
    assert "结论：不符合条件（not_eligible）" in r.out
    first = next(line for line in lines if line.startswith("  "))
    assert "不符合 A4-6" in first and "第四条第（六）项" in first
    table = [line for line in lines if line.startswith("A")]
    assert table[0].startswith("A4-6")


def test_incomplete_application_and_exit_zero(cli: Cli) -> None:
    row = [*GOOD]
    row[20] = ""  # satisfaction not given
    assert _import(cli, "apps.csv", csv_text([HEADER, row]))[0] == 0
    r = cli("applications", "check", NEW, "--json")
    assert r.code == 0 and json.loads(r.out)["verdict"] == "incomplete"


def test_dry_run_writes_nothing(cli: Cli) -> None:
    before = snapshot(cli.db)
    path = cli.file("apps.csv", csv_text([HEADER, GOOD]))
    r = cli("applications", "import", str(path), "--dry-run")
    assert r.code == 0 and "试运行" in r.out
    assert snapshot(cli.db) == before


def _refused(cli: Cli, path: Path, expect: list[str]) -> str:
    before = snapshot(cli.db)
    r = cli("applications", "import", str(path))
    assert r.code == 2, r.out + r.err
    problems = [line for line in r.err.splitlines() if line.startswith(f"{path}:")]
    assert [line[len(str(path)) + 1 :].split(": ")[0] + ": " + line.split(": ")[1] for line in problems] == expect
    assert snapshot(cli.db) == before
    return str(r.err)


def test_bad_csv_lists_every_problem_and_writes_nothing(cli: Cli) -> None:
    bad = [*GOOD]
    bad[8] = "也许"  # 独立法人: not yes/no
    unnamed = [OTHER, "2026", "平台", "", "", "2026-05-10", *GOOD[6:]]
    err = _refused(
        cli, cli.file("apps.csv", csv_text([HEADER, GOOD, bad, unnamed])), ["3: 独立法人", "4: 名称", "4: 所属区县"]
    )
    assert "yes/是 或 no/否" in err and "不在名册中" in err


def test_duplicate_application_in_one_file(cli: Cli) -> None:
    _refused(cli, cli.file("apps.csv", csv_text([HEADER, GOOD, GOOD])), ["3: 申报年度"])


def test_bad_xlsx_names_the_spreadsheet_row(cli: Cli) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    ws.append([])
    bad: list[object] = [*GOOD]
    bad[14] = 9.5  # 专职服务人员数: not a whole number
    ws.append(bad)
    path = cli.dir / "apps.xlsx"
    wb.save(path)
    assert "整数" in _refused(cli, path, ["3: 专职服务人员数"])


def test_bad_json_future_date_and_percentage(cli: Cli) -> None:
    item = dict(zip(HEADER, GOOD, strict=True))
    item["申报日期"] = "2026-12-01"  # after today (frozen 2026-11-20)
    item["客户满意度（%）"] = "120"
    path = cli.file("apps.jsonl", json_lines([item]))
    err = _refused(cli, path, ["2: 申报日期", "2: 客户满意度（%）"])
    assert "晚于今天" in err and "0-100" in err


def test_json_array_imports(cli: Cli) -> None:
    item = {"credit_code": NEW, "year": 2026, "kind": "platform", "name": "甲", "district": "锦江区"}
    item |= {"applied_on": "2026-05-10", "functions": ["policy"], "legal_person": True, "satisfaction": 95}
    code, _out, err = _import(cli, "apps.json", json.dumps([item], ensure_ascii=False))
    assert code == 0, err
    assert json.loads(cli("applications", "check", NEW, "--json").out)["verdict"] == "incomplete"


def test_template_reads_back_and_imports(cli: Cli) -> None:
    path = cli.dir / "template.xlsx"
    assert cli("applications", "template", str(path)).code == 0
    wb = load_workbook(path)
    ws = wb["申报表"]
    headers = [c.value for c in ws[1]]
    assert headers[0] == "统一社会信用代码" and "注册资金（万元）[A4-1]" in headers
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"是,否"' in lists and '"平台,基地"' in lists and '"制造业园区,楼宇经济园"' in lists
    yes_no = next(dv for dv in ws.data_validations.dataValidation if dv.formula1 == '"是,否"')
    col = headers.index("独立法人[A4-1 A6-B1]") + 1
    assert any(f"{ws.cell(row=2, column=col).column_letter}2" in str(r) for r in yes_no.sqref.ranges)
    doc = wb["填写说明"]
    explained = {r[0]: r for r in doc.iter_rows(min_row=2, values_only=True) if r and r[0]}
    assert "第二十六条" in explained["policy_online"][4] and "第五条第（一）项" in explained["policy_online"][3]
    assert "第三方" in explained["coaching"][4]
    assert not explained["registered_capital"][4]  # not a count of services
    # Fill one row into the template and import it.
    by_header = {h.split("[")[0]: i for i, h in enumerate(headers, 1)}
    for h, v in zip(HEADER, GOOD, strict=True):
        ws.cell(row=2, column=by_header[h], value=v)
    wb.save(path)
    r = cli("applications", "import", str(path))
    assert r.code == 0, r.err
    assert json.loads(cli("applications", "check", NEW, "--json").out)["verdict"] == "eligible"


def test_procedure_events_need_an_application(cli: Cli) -> None:
    cli.load_roster()
    r = cli("events", "record", "district_reviewed", A, "--date", "2026-06-01", "--result", "passed")
    assert r.code == 2 and "没有申报记录" in r.err
    row = [A, "2026", "平台", "", "", "2026-05-10", *GOOD[6:]]
    assert _import(cli, "apps.csv", csv_text([HEADER, row]))[0] == 0
    for args in (
        ["district_reviewed", A, "--date", "2026-06-01", "--result", "通过"],
        ["expert_reviewed", A, "--date", "2026-07-01", "--result", "passed", "--year", "2026"],
        ["objection", A, "--date", "2026-07-05"],
        ["application_rejected", A, "--date", "2026-07-20"],
    ):
        assert cli("events", "record", *args).code == 0
    timeline = json.loads(cli("entities", "show", A, "--json", "--as-of", "2026-11-20").out)["timeline"]
    procedure = [(t["kind"], t["result"], t["detail"]) for t in timeline if t["kind"] != "certified"]
    assert procedure == [
        ("applied", "", "2026"),
        ("district_reviewed", "passed", "2026"),
        ("expert_reviewed", "passed", "2026"),
        ("objection", "", "2026"),
        ("application_rejected", "", "2026"),
    ]
    bad = cli("events", "record", "expert_reviewed", A, "--date", "2026-07-01")
    assert bad.code == 2 and "--result" in bad.err


def test_filing_figures_are_kept_and_replaced(cli: Cli) -> None:
    cli.load_roster()
    roster = cli.file(
        "functions.csv",
        csv_text(
            [
                ["统一社会信用代码", "名称", "类型", "所属区县", "服务功能"],
                [A, "成都市甲中小企业服务平台", "平台", "锦江区", "政策服务"],
            ]
        ),
    )
    assert cli("entities", "import", str(roster)).code == 0
    assert (A, "policy") in rows(cli.db, "entities", "credit_code", "functions")
    head = ["统一社会信用代码", "填报月份", "填报日期", "在线政策服务系统", "线下政策服务企业数"]
    first = [[A, f"2026-{m:02d}", f"2026-{m:02d}-20", "是", "5"] for m in range(1, 7)]
    path = cli.file("filings.csv", csv_text([head, *first]))
    assert cli("filings", "import", str(path)).code == 0
    found = json.loads(cli("check", "--json", "--as-of", "2026-07-01").out)
    below = [f for f in found if f["rule"] == "SERVICE_BELOW_THRESHOLD" and f["entity"] == A]
    assert [(f["subject"], f["stage"], f["article"]) for f in below] == [("2026-policy", "2026-07", 5)]
    assert "按全年折算60" in below[0]["message"]
    # June uploaded again later, with more offline services: the figures are replaced, the date stays.
    again = cli.file("filings2.csv", csv_text([head, [A, "2026-06", "2026-07-10", "是", "25"]]))
    assert cli("filings", "import", str(again)).code == 0
    june = [r for r in rows(cli.db, "filings", "period", "filed_on") if str(r[0]) == "2026-06-01"]
    assert [str(r[1]) for r in june] == ["2026-06-20"]
    figures = [
        json.loads(r[1]) for r in rows(cli.db, "filing_figures", "period", "figures") if str(r[0]) == "2026-06-01"
    ]
    assert figures == [{"policy_offline": 25, "policy_system": True}]
    found = json.loads(cli("check", "--json", "--as-of", "2026-07-11").out)
    assert not [f for f in found if f["rule"] == "SERVICE_BELOW_THRESHOLD" and f["entity"] == A]
    # Before July nothing is said.
    found = json.loads(cli("check", "--json", "--as-of", "2026-06-30").out)
    assert not [f for f in found if f["rule"] == "SERVICE_BELOW_THRESHOLD"]


def test_bad_figure_in_a_filing(cli: Cli) -> None:
    cli.load_roster()
    head = ["统一社会信用代码", "填报月份", "填报日期", "线下政策服务企业数"]
    path = cli.file("filings.csv", csv_text([head, [A, "2026-01", "2026-01-20", "-3"]]))
    before = snapshot(cli.db)
    r = cli("filings", "import", str(path))
    assert r.code == 2 and f"{path}:2: 线下政策服务企业数: " in r.err
    assert snapshot(cli.db) == before


def test_figures_before_the_sweeps_filing_window_still_count(cli: Cli) -> None:
    cli.load_roster()
    head = ["统一社会信用代码", "填报月份", "填报日期", "在线政策服务系统", "线下政策服务企业数"]
    months = [[A, f"2026-{m:02d}", f"2026-{m:02d}-20", "是", "5"] for m in range(1, 11)]
    roster = cli.file(
        "functions.csv",
        csv_text(
            [
                ["统一社会信用代码", "名称", "类型", "所属区县", "服务功能"],
                [A, "成都市甲中小企业服务平台", "平台", "锦江区", "policy"],
            ]
        ),
    )
    assert cli("entities", "import", str(roster)).code == 0
    assert cli("filings", "import", str(cli.file("f.csv", csv_text([head, *months])))).code == 0
    found = json.loads(cli("check", "--json", "--as-of", "2026-11-05").out)
    below = [f for f in found if f["rule"] == "SERVICE_BELOW_THRESHOLD" and f["entity"] == A]
    # Ten closed months, January included although the sweep reads filings from March only.
    params = below[0]["params"]
    assert (params["so_far"]["policy_offline"], params["projected"]["policy_offline"], params["months"]) == (50, 60, 10)


def test_events_file_with_the_procedure(cli: Cli) -> None:
    assert _import(cli, "apps.csv", csv_text([HEADER, GOOD]))[0] == 0
    good = [
        {"credit_code": NEW, "kind": "区县初审", "date": "2026-06-01", "result": "合格", "year": 2026},
        {"credit_code": NEW, "kind": "publicized", "date": "2026-07-01", "year": 2026},
    ]
    path = cli.file("events.jsonl", json_lines(good))
    assert cli("events", "import", str(path)).code == 0
    shown = json.loads(cli("entities", "show", NEW, "--json").out)
    assert [(t["kind"], t["detail"]) for t in shown["timeline"]] == [
        ("applied", "2026"),
        ("district_reviewed", "2026"),
        ("publicized", "2026"),
    ]
    assert shown["applications"] == [
        {"year": 2026, "kind": "platform", "applied_on": "2026-05-10", "verdict": "eligible", "unmet": []}
    ]
    bad = [
        {"credit_code": NEW, "kind": "expert_reviewed", "date": "2026-06-02", "year": 2026},
        {"credit_code": NEW, "kind": "objection", "date": "2026-06-03", "year": 2019},
    ]
    path = cli.file("bad.jsonl", json_lines(bad))
    before = snapshot(cli.db)
    r = cli("events", "import", str(path))
    assert r.code == 2
    assert f"{path}:2: result: " in r.err and f"{path}:3: year: " in r.err
    assert snapshot(cli.db) == before


def test_application_and_figure_writes_refresh_the_kept_answer(cli: Cli) -> None:
    def rules(*args: str) -> set[tuple[str, str]]:
        r = cli("check", "--json", *args)
        assert r.code == 0, r.err
        return {(f["rule"], f["subject"]) for f in json.loads(r.out)}

    bad = [*GOOD]
    bad[20] = "80"  # satisfaction below 90 %: not eligible
    assert _import(cli, "apps.csv", csv_text([HEADER, bad]))[0] == 0
    assert ("APPLICATION_INELIGIBLE", "2026") in rules()  # today (frozen 2026-11-20): the kept answer
    assert _import(cli, "apps2.csv", csv_text([HEADER, GOOD]))[0] == 0
    assert ("APPLICATION_INELIGIBLE", "2026") not in rules()
    assert cli("check", "--full").code == 0  # the kept answer equals a fresh evaluation
    # Figures replaced for a month already filed (same filing date) re-evaluate the entity too.
    roster = cli.file(
        "r.csv",
        csv_text(
            [
                ["统一社会信用代码", "名称", "类型", "所属区县", "认定日期", "服务功能"],
                [NEW, "成都新申报平台有限公司", "平台", "锦江区", "2025-01-10", "policy"],
            ]
        ),
    )
    assert cli("entities", "import", str(roster)).code == 0
    head = ["统一社会信用代码", "填报月份", "填报日期", "在线政策服务系统", "线下政策服务企业数"]
    low = [[NEW, f"2026-{m:02d}", f"2026-{m:02d}-20", "是", "1"] for m in range(1, 11)]
    assert cli("filings", "import", str(cli.file("f1.csv", csv_text([head, *low])))).code == 0
    assert ("SERVICE_BELOW_THRESHOLD", "2026-policy") in rules()
    high = [[*row[:4], "20"] for row in low]
    assert cli("filings", "import", str(cli.file("f2.csv", csv_text([head, *high])))).code == 0
    assert ("SERVICE_BELOW_THRESHOLD", "2026-policy") not in rules()
    assert cli("check", "--full").code == 0
