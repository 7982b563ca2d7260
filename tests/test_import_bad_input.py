"""Bad input, one test per case: exit status 2, `FILE:ROW: column` in the message, and nothing written.

Each case imports a file against a database holding the base roster (tests/import_support.py: A and B
certified, C an applicant) and an event history for A; a case's `expect` lists the `ROW: column` of every
problem the file has, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook

from monitor.storage.db import Database
from tests.import_support import CODES, Cli, csv_text, json_lines, snapshot

ROSTER_HEAD = "credit_code,name,kind,district,certified_on,cert_no,email\r\n"
FILINGS_HEAD = "credit_code,period,filed_on\r\n"
EVENTS_HEAD = "credit_code,kind,date,result,detail,note,district,year\r\n"


@dataclass(frozen=True)
class Case:
    id: str
    what: str  # entities | filings | events
    name: str
    content: str | bytes
    expect: tuple[str, ...]  # "ROW: column" of each problem, in order
    reason: str = ""  # a word the first problem's reason must contain


def _fill(text: str) -> str:
    for key, code in CODES.items():
        text = text.replace("{" + key + "}", code)
    return text


CASES = [
    Case("wrong check character", "entities", "roster.csv",
         ROSTER_HEAD + "{A},甲,平台,锦江区,2024-03-15,,\r\n{X},乙,基地,高新区,,,\r\n", ("3: credit_code",), "校验位"),
    Case("unknown district", "entities", "roster.csv",
         ROSTER_HEAD + "{A},甲,平台,锦江县,2024-03-15,,\r\n", ("2: district",), "未知区县"),
    Case("no such date", "entities", "roster.csv",
         ROSTER_HEAD + "{A},甲,平台,锦江区,2026-02-30,,\r\n", ("2: certified_on",), "日期不存在"),
    Case("future certification", "entities", "roster.csv",
         ROSTER_HEAD + "{A},甲,平台,锦江区,2099-01-01,,\r\n", ("2: certified_on",), "晚于今天"),
    Case("name with a line break", "entities", "roster.csv",
         ROSTER_HEAD + '{A},"成都市甲\r\n服务平台",平台,锦江区,2024-03-15,,\r\n', ("2: name",), "换行"),
    Case("duplicate credit code", "entities", "roster.csv",
         ROSTER_HEAD + "{A},甲,平台,锦江区,,,\r\n{B},乙,基地,高新区,,,\r\n{A},甲二,平台,锦江区,,,\r\n",
         ("4: credit_code",), "与第 2 行"),
    Case("bad e-mail address", "entities", "roster.csv",
         ROSTER_HEAD + "{A},甲,平台,锦江区,,,a@example.org;someone\r\n", ("2: email",), "电子邮箱"),
    Case("unknown kind", "entities", "roster.csv", ROSTER_HEAD + "{A},甲,园区,锦江区,,,\r\n", ("2: kind",), "platform"),
    Case("required value missing", "entities", "roster.csv", ROSTER_HEAD + "{A},,平台,锦江区,,,\r\n", ("2: name",), "必填"),
    Case("empty file", "entities", "roster.csv", "", ("1: 文件 (file)",), "文件为空"),
    Case("header only", "entities", "roster.csv", ROSTER_HEAD, ("2: 文件 (file)",), "没有数据行"),
    Case("header missing a required column", "filings", "filings.csv",
         "credit_code,period\r\n{A},2026-01\r\n", ("1: filed_on",), "必填列"),
    Case("period 2026-13", "filings", "filings.csv", FILINGS_HEAD + "{A},2026-13,2026-10-31\r\n", ("2: period",), "月份"),
    Case("unknown credit code in filings", "filings", "filings.csv",
         FILINGS_HEAD + "{A},2026-01,2026-01-30\r\n{U},2026-01,2026-01-30\r\n", ("3: credit_code",), "不在名册中"),
    Case("future filing date", "filings", "filings.csv",
         FILINGS_HEAD + "{A},2026-01,2026-01-30\r\n{A},2099-01,2099-01-30\r\n", ("3: filed_on",), "晚于今天"),
    Case("filed before the month began", "filings", "filings.csv",
         FILINGS_HEAD + "{A},2026-05,2026-04-20\r\n", ("2: filed_on",), "早于所填月份"),
    Case("every problem is listed", "filings", "filings.csv",
         FILINGS_HEAD + "{X},2026-13,2026-02-30\r\n{A},2026-01,2026-01-30\r\n{U},2026-02,\r\n",
         ("2: credit_code", "2: period", "2: filed_on", "4: credit_code", "4: filed_on")),
    Case("undecodable bytes", "filings", "filings.csv",
         (FILINGS_HEAD + "{A},2026-01,").encode() + b"\xff\xff\r\n", ("2: 文件 (file)",), "编码"),
    Case("unknown credit code in events", "events", "events.csv",
         EVENTS_HEAD + "{U},publicized,2026-03-01,,,,,\r\n", ("2: credit_code",), "不在名册中"),
    Case("rectification without a failed evaluation", "events", "events.csv",
         EVENTS_HEAD + "{B},rectification_accepted,2026-06-01,,,,,\r\n", ("2: kind",), "测评不合格"),
    Case("rectification dated before the failed evaluation", "events", "events.csv",
         EVENTS_HEAD + "{B},整改合格,2026-02-01,,,,,\r\n{B},测评,2026-03-01,不合格,,,,\r\n", ("2: kind",), "测评不合格"),
    Case("restructuring reported without a restructuring", "events", "events.csv",
         EVENTS_HEAD + "{B},restructuring_reported,2026-06-01,,,,,\r\n", ("2: kind",), "重大调整"),
    Case("evaluated before the first certification", "events", "events.csv",
         EVENTS_HEAD + "{A},evaluated,2023-01-10,passed,,,,\r\n", ("2: kind",), "首次认定"),
    Case("event for an entity never certified", "events", "events.csv",
         EVENTS_HEAD + "{C},revoked,2026-01-10,,22,,,\r\n", ("2: kind",), "没有认定记录"),
    Case("evaluation without a result", "events", "events.csv",
         EVENTS_HEAD + "{A},evaluated,2026-03-01,,,,,\r\n", ("2: result",), "必填"),
    Case("result on a kind that takes none", "events", "events.csv",
         EVENTS_HEAD + "{A},publicized,2026-03-01,passed,,,,\r\n", ("2: result",), "不填结果"),
    Case("restructuring of an unknown sort", "events", "events.csv",
         EVENTS_HEAD + "{A},restructured,2026-03-01,,搬家,,,\r\n", ("2: detail",), "rename"),
    Case("misconduct without its kind", "events", "events.csv",
         EVENTS_HEAD + "{A},misconduct,2026-03-01,,,,,\r\n", ("2: detail",), "必填"),
    Case("revocation under another article", "events", "events.csv",
         EVENTS_HEAD + "{A},revoked,2026-03-01,,19,,,\r\n", ("2: detail",), "18、20、21 或 22"),
    Case("application without a year", "events", "events.csv",
         EVENTS_HEAD + "{C},applied,2026-03-01,,,,,\r\n", ("2: detail",), "必填"),
    Case("unknown event kind", "events", "events.csv", EVENTS_HEAD + "{A},audited,2026-03-01,,,,,\r\n", ("2: kind",)),
    Case("roster change by hand", "events", "events.csv",
         EVENTS_HEAD + "{A},roster_changed,2026-03-01,,,,,\r\n", ("2: kind",), "名册导入"),
    Case("future event", "events", "events.csv", EVENTS_HEAD + "{A},publicized,2099-03-01,,,,,\r\n", ("2: date",)),
    Case("district report for an unknown district and a later year", "events", "events.csv",
         EVENTS_HEAD + ",district_report,2026-02-20,,,,锦江县,2027\r\n", ("2: district", "2: year")),
    Case("district report with a credit code and no year", "events", "events.csv",
         EVENTS_HEAD + "{A},district_report,2026-02-20,,,,锦江区,\r\n", ("2: credit_code", "2: year")),
    Case("JSON lines, line numbers plus one", "events", "events.jsonl",
         json_lines([{"credit_code": "{A}", "kind": "publicized", "date": "2026-03-01"}, {"kind": "evaluated"}]),
         ("3: credit_code", "3: date", "3: result")),
    Case("JSON item that is not an object", "events", "events.json",
         '[{"credit_code": "{A}", "kind": "publicized", "date": "2026-03-01"}, ["{A}"]]', ("3: JSON",)),
]  # fmt: skip


@pytest.fixture
def cli(db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    runner = Cli(db, tmp_path, capsys)
    runner.load_roster()
    history = runner.file("history.csv", _fill(EVENTS_HEAD + "{A},evaluated,2025-09-01,failed,,,,\r\n"))
    assert runner("events", "import", str(history)).code == 0
    yield runner


def _assert_refused(cli: Cli, path: Path, args: list[str], expect: tuple[str, ...], reason: str) -> None:
    before = snapshot(cli.db)
    result = cli(*args)
    assert result.code == 2, result.out + result.err
    problems = [line for line in result.err.splitlines() if line.startswith(f"{path}:")]
    assert [line[len(f"{path}:") :].split(": ", 2)[0] + ": " + line.split(": ", 2)[1] for line in problems] == [
        e for e in expect
    ], result.err
    if reason:
        assert reason in problems[0]
    assert f"共 {len(expect)} 个问题，未写入任何数据" in result.err
    assert result.out == ""
    assert snapshot(cli.db) == before


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file_is_refused_whole(cli: Cli, case: Case) -> None:
    content = (
        _fill(case.content)
        if isinstance(case.content, str)
        else _fill(case.content.decode("latin-1")).encode("latin-1")
    )
    path = cli.file(case.name, content)
    _assert_refused(cli, path, [case.what, "import", str(path)], case.expect, case.reason)


def test_bad_file_is_refused_on_a_dry_run_too(cli: Cli) -> None:
    path = cli.file("filings.csv", _fill(FILINGS_HEAD + "{A},2026-13,2026-01-30\r\n"))
    _assert_refused(cli, path, ["filings", "import", str(path), "--dry-run"], ("2: period",), "月份")


def test_xlsx_problem_names_the_spreadsheet_row_and_the_header_as_written(cli: Cli) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["统一社会信用代码", "填报月份", "填报日期"])
    ws.append([CODES["A"], "2026-01", "2026/1/30"])
    ws.append([])
    ws.append([CODES["A"], "2026-02", "2026/2/30"])
    path = cli.dir / "filings.xlsx"
    wb.save(path)
    _assert_refused(cli, path, ["filings", "import", str(path)], ("4: 填报日期",), "日期不存在")


def test_gb18030_problem_keeps_the_chinese_header(cli: Cli) -> None:
    content = csv_text([["统一社会信用代码", "填报月份", "填报日期"], [CODES["U"], "2026-01", "2026-01-30"]])
    path = cli.file("filings.csv", content.encode("gb18030"))
    _assert_refused(cli, path, ["filings", "import", str(path)], ("2: 统一社会信用代码",), "不在名册中")
