"""Readers: encodings, spreadsheet row numbers, headers in English or Chinese, typed XLSX cells, JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from monitor.importing.fields import ENTITY_FIELDS, EVENT_FIELDS, FILING_FIELDS, Field
from monitor.importing.problems import Problems
from monitor.importing.readers import ABSENT, Reader, detect_encoding

CHINESE_FILINGS = "统一社会信用代码,填报月份,填报日期\r\n91510100MA6CA0001X,2026-03,2026/3/31\r\n"


# The filing's own three columns (the optional service-figure columns after them are tested elsewhere).
FILING_COLUMNS = FILING_FIELDS[:3]


def read(
    path: Path, fields: tuple[Field, ...] = FILING_COLUMNS
) -> tuple[list[tuple[int, list[Any]]], list[str], Reader]:
    problems = Problems(path.name)
    reader = Reader(path, fields, problems)
    rows = list(reader)
    return rows, problems.lines(), reader


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")]
)
def test_csv_encodings_are_detected_and_read_alike(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "filings.csv"
    path.write_bytes(CHINESE_FILINGS.encode(encoding))
    assert detect_encoding(path) == expected
    rows, problems, reader = read(path)
    assert problems == []
    assert rows == [(2, ["91510100MA6CA0001X", "2026-03", "2026/3/31"])]
    assert reader.labels == ["统一社会信用代码", "填报月份", "填报日期"]


def test_gb18030_file_is_not_mistaken_for_utf8(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes("名称\r\n成都市中小企业服务中心\r\n".encode("gb18030"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert detect_encoding(path) == "gb18030"


def test_undecodable_csv_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "filings.csv"
    path.write_bytes(b"credit_code,period,filed_on\r\n\xff\xfe\xff,2026-03,2026-03-31\r\n")
    rows, problems, _ = read(path)
    assert rows == []
    assert problems == [
        f"{path.name}:2: 文件 (file): 此行的文字编码无法识别，应为 UTF-8 或 GB18030 (not UTF-8 or GB18030)"
    ]


def test_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "filings.csv"
    path.write_text(
        "\r\n"  # row 1 blank: the header is row 2
        "Credit Code,PERIOD,filed_on,序号\r\n"
        "A,2026-01,2026-01-31,1\r\n"
        ",,,\r\n"  # row 4 blank, skipped but counted
        '"B",2026-02,"2026-02-28",2\r\n'
        'C,2026-03,2026-03-31,"three\r\nlines\r\nlong"\r\n'  # one record over three lines
        "D,2026-04,2026-04-30,4\r\n"
        ",,,\r\n,,,\r\n",  # trailing empty rows, as Excel leaves them
        encoding="utf-8",
    )
    rows, problems, reader = read(path)
    assert problems == []
    assert [(n, cells[0]) for n, cells in rows] == [(3, "A"), (5, "B"), (6, "C"), (7, "D")]
    assert reader.labels == ["Credit Code", "PERIOD", "filed_on"]


def test_short_rows_are_padded_and_extra_columns_ignored(tmp_path: Path) -> None:
    path = tmp_path / "filings.csv"
    path.write_text("credit_code,period,filed_on,,\r\nA,2026-01\r\nB,2026-02,2026-02-28,x,y\r\n", encoding="utf-8")
    rows, problems, _ = read(path)
    assert problems == []
    assert rows == [(2, ["A", "2026-01", None]), (3, ["B", "2026-02", "2026-02-28"])]


def test_missing_required_column_is_reported_on_the_header_row(tmp_path: Path) -> None:
    path = tmp_path / "filings.csv"
    path.write_text("统一社会信用代码,填报月份\r\nA,2026-01\r\n", encoding="utf-8")
    rows, problems, _ = read(path)
    assert rows == []
    assert problems == [f"{path.name}:1: filed_on: 表头缺少必填列：填报日期 / filed_on (required column missing)"]


def test_two_columns_for_one_field(tmp_path: Path) -> None:
    path = tmp_path / "filings.csv"
    path.write_text("credit_code,统一社会信用代码,period,filed_on\r\nA,A,2026-01,2026-01-31\r\n", encoding="utf-8")
    _, problems, _ = read(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path.name}:1: 统一社会信用代码: 与第 1 列重复")


def test_optional_columns_missing_from_the_file_are_absent(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("credit_code,name,kind,district\r\nA,甲,平台,锦江区\r\n", encoding="utf-8")
    rows, problems, _ = read(path, ENTITY_FIELDS)
    assert problems == []
    assert rows[0][1][:4] == ["A", "甲", "平台", "锦江区"]
    assert all(cell is ABSENT for cell in rows[0][1][4:])


@pytest.mark.parametrize(
    ("content", "row", "reason"),
    [("", 1, "文件为空"), ("\r\n,,\r\n", 1, "文件为空"), ("credit_code,period,filed_on\r\n", 2, "没有数据行")],
)
def test_empty_files(tmp_path: Path, content: str, row: int, reason: str) -> None:
    path = tmp_path / "filings.csv"
    path.write_text(content, encoding="utf-8")
    rows, problems, _ = read(path)
    assert rows == []
    assert len(problems) == 1
    assert problems[0].startswith(f"{path.name}:{row}: 文件 (file): ")
    assert reason in problems[0]


def test_xlsx_first_sheet_with_typed_cells(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["统一社会信用代码", "填报月份", "填报日期", None, None])
    ws.append(["A", datetime(2026, 3, 1), datetime(2026, 3, 31), None, None])  # Excel's own dates
    ws.append([None, None, None])  # a blank row keeps its number
    ws.append(["B", "2026-04", "2026/4/30"])
    ws["A12"] = "   "  # trailing whitespace-only cells far below, as Excel leaves them
    other = wb.create_sheet("说明")
    other.append(["credit_code", "period", "filed_on"])
    other.append(["ignored", "2026-01", "2026-01-31"])
    path = tmp_path / "filings.xlsx"
    wb.save(path)
    rows, problems, reader = read(path)
    assert problems == []
    assert rows == [(2, ["A", datetime(2026, 3, 1), datetime(2026, 3, 31)]), (4, ["B", "2026-04", "2026/4/30"])]
    assert reader.rows_read == 2


def test_xlsx_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "filings.xlsx"
    path.write_text("credit_code,period\r\n", encoding="utf-8")
    rows, problems, _ = read(path)
    assert rows == []
    assert problems[0].startswith(f"{path.name}:1: 文件 (file): 无法读取 XLSX 文件")


def test_json_array_rows_are_position_plus_one(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(
        '[{"统一社会信用代码": "A", "事件类型": "测评", "日期": "2026-03-05", "结果": "合格"},\n'
        ' {"credit_code": "B", "kind": "publicized", "date": "2026-03-06", "unknown": 1},\n'
        ' "not an object"]',
        encoding="utf-8",
    )
    rows, problems, reader = read(path, EVENT_FIELDS)
    assert [(n, cells[:4]) for n, cells in rows] == [
        (2, ["A", "测评", "2026-03-05", "合格"]),
        (3, ["B", "publicized", "2026-03-06", ABSENT]),
    ]
    assert reader.labels[:3] == ["统一社会信用代码", "事件类型", "日期"]
    assert len(problems) == 1
    assert problems[0].startswith(f"{path.name}:4: JSON: 每项应为对象")


def test_json_lines_rows_are_line_plus_one(tmp_path: Path) -> None:
    path = tmp_path / "filings.jsonl"
    path.write_text(
        '{"credit_code": "A", "period": "2026-01", "filed_on": "2026-01-31"}\n'
        "\n"
        '{"credit_code": "B", "period": "2026-02", "filed_on": "2026-02-27"}\n'
        '{"credit_code": "C", "period": \n',
        encoding="utf-8",
    )
    rows, problems, _ = read(path)
    assert [(n, cells[0]) for n, cells in rows] == [(2, "A"), (4, "B")]
    assert len(problems) == 1
    assert problems[0].startswith(f"{path.name}:5: JSON: JSON 格式错误")


@pytest.mark.parametrize(
    ("content", "where", "reason"),
    [
        ("", "1: 文件 (file)", "文件为空"),
        ("  []  ", "1: 文件 (file)", "文件为空"),
        ("[{]", "2: JSON", "JSON 格式错误"),  # the item the error is in
        ('[{"kind": "x"},\n {"kind": }]', "3: JSON", "第 2 行"),
        ('[{"kind": "x"} {"kind": "y"}]', "2: JSON", "缺少逗号"),
        ('[{"kind": "x"}] [', "3: JSON", "数组之后"),
    ],
)
def test_json_file_problems(tmp_path: Path, content: str, where: str, reason: str) -> None:
    path = tmp_path / "events.json"
    path.write_text(content, encoding="utf-8")
    _rows, problems, _ = read(path, EVENT_FIELDS)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path.name}:{where}: "), problems
    assert reason in problems[0]


@pytest.mark.parametrize(("name", "reason"), [("roster.xls", "另存为"), ("roster.ods", "不支持的文件类型")])
def test_unsupported_file_types(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    _, problems, _ = read(path, ENTITY_FIELDS)
    assert len(problems) == 1
    assert reason in problems[0]


def test_missing_file(tmp_path: Path) -> None:
    _, problems, _ = read(tmp_path / "nowhere.csv")
    assert problems == ["nowhere.csv:1: 文件 (file): 文件不存在或不是普通文件 (no such file)"]
