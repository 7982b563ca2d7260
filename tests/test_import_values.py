"""Cell parsing, one case per row: what a clerk types (or Excel stores) and what it becomes."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from monitor.domain import EventKind, Kind, Scheme
from monitor.importing import values
from monitor.importing.event_rules import Firsts, article, event_kind, result, sense
from monitor.importing.values import Bad
from monitor.storage.bulk import KnownEvent


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-03-05", date(2026, 3, 5)),
        ("2026/3/5", date(2026, 3, 5)),
        (" 2026-3-5 ", date(2026, 3, 5)),
        ("2026.03.05", date(2026, 3, 5)),
        ("2026年3月5日", date(2026, 3, 5)),
        ("20260305", date(2026, 3, 5)),
        ("2026/3/5 0:00", date(2026, 3, 5)),  # Excel's CSV export of a date cell
        ("2024-02-29", date(2024, 2, 29)),
        (datetime(2026, 3, 5, 0, 0), date(2026, 3, 5)),  # an XLSX date cell
        (date(2026, 3, 5), date(2026, 3, 5)),
        (46086, date(2026, 3, 5)),  # an Excel serial number in a cell formatted as a number
        ("", None),
        (None, None),
    ],
)
def test_dates_accepted(cell: object, expected: date | None) -> None:
    assert values.date_cell(cell) == expected


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2026-02-30", "日期不存在"),
        ("2025-02-29", "日期不存在"),
        ("2026-13-01", "日期不存在"),
        ("05/03/2026", "不是有效日期"),
        ("2026-03", "不是有效日期"),
        ("明天", "不是有效日期"),
        ("2026/3/5 14:30", "不是有效日期"),  # a time of day means the column holds something else
        (3.5, "不是有效日期"),
        (True, "不是有效日期"),
    ],
)
def test_dates_refused(cell: object, reason: str) -> None:
    with pytest.raises(Bad, match=reason):
        values.date_cell(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-03", date(2026, 3, 1)),
        ("2026-3", date(2026, 3, 1)),
        ("2026/03", date(2026, 3, 1)),
        ("2026年3月", date(2026, 3, 1)),
        ("202603", date(2026, 3, 1)),
        (datetime(2026, 3, 1), date(2026, 3, 1)),  # Excel turned a typed "2026-03" into a date
        (202603, date(2026, 3, 1)),  # typed into a number cell
    ],
)
def test_periods_accepted(cell: object, expected: date) -> None:
    assert values.period_cell(cell) == expected


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2026-13", "月份不存在"),
        ("2026-00", "月份不存在"),
        ("2026-03-05", "不是有效月份"),
        ("March 2026", "不是有效月份"),
        (datetime(2026, 3, 5), "应为月份"),
    ],
)
def test_periods_refused(cell: object, reason: str) -> None:
    with pytest.raises(Bad, match=reason):
        values.period_cell(cell)


def test_credit_code_upper_cased_and_checked() -> None:
    assert values.credit(f" {_valid().lower()} ") == _valid()


def _valid() -> str:
    from monitor.credit_code import complete

    return complete("91510100MA6CA0001")


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("91510100MA6CA0001", "应为18位"),
        ("91510100MA6CA0001I", "非法字符"),  # I, O, S, V, Z are not in the alphabet
        (9.15101e17, "数字格式"),  # Excel made a number of an all-digit code
    ],
)
def test_credit_code_refused(cell: object, reason: str) -> None:
    with pytest.raises(Bad, match=reason):
        values.credit(cell)


def test_wrong_check_character_names_the_right_one() -> None:
    good = _valid()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(Bad, match=f"应为 {good[17]}"):
        values.credit(bad)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("a@example.org", ("a@example.org",)),
        ("a@example.org; b@example.org", ("a@example.org", "b@example.org")),
        ("a@example.org；b@example.org", ("a@example.org", "b@example.org")),
        ("a@example.org,b@example.org,", ("a@example.org", "b@example.org")),
        ("a@example.org;a@example.org", ("a@example.org",)),
        (["a@example.org", "b@example.org"], ("a@example.org", "b@example.org")),
        ("", ()),
    ],
)
def test_emails(cell: object, expected: tuple[str, ...]) -> None:
    assert values.emails(cell) == expected


@pytest.mark.parametrize("cell", ["a@example", "a.example.org", "a@b@example.org", "张三@example.org"])
def test_bad_emails(cell: str) -> None:
    with pytest.raises(Bad, match="电子邮箱"):
        values.emails(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("平台", Kind.PLATFORM), ("Platform", Kind.PLATFORM), ("基地", Kind.BASE), ("小企业创业基地", Kind.BASE)],
)
def test_kinds(cell: str, expected: Kind) -> None:
    assert values.kind(cell) is expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2018", Scheme.LEGACY_2018),
        (2018, Scheme.LEGACY_2018),
        ("2018年办法", Scheme.LEGACY_2018),
        ("现行", Scheme.CURRENT),
    ],
)
def test_schemes(cell: object, expected: Scheme) -> None:
    assert values.scheme(cell) is expected


@pytest.mark.parametrize("cell", ["成都市\n某平台", "某\r平台", "某\u2028平台", "某\x00平台", "某\u200b平台"])
def test_control_characters_refused_in_names(cell: str) -> None:
    with pytest.raises(Bad, match="不允许"):
        values.plain_text(cell, max_len=200)


def test_line_breaks_allowed_in_notes_only() -> None:
    assert values.plain_text("第一行\n第二行", max_len=100, allow_breaks=True) == "第一行\n第二行"


def test_year_from_a_spreadsheet_float() -> None:
    assert values.year_cell(2025.0) == 2025


@pytest.mark.parametrize(
    ("cell", "expected"), [("20", "20"), ("第20条", "20"), ("第二十一条", "21"), ("Art. 22", "22"), (18, "18")]
)
def test_revocation_articles(cell: object, expected: str) -> None:
    assert article(cell) == expected


@pytest.mark.parametrize("cell", ["19", "第十九条", "23", "第二条"])
def test_other_articles_refused(cell: str) -> None:
    with pytest.raises(Bad, match="18、20、21 或 22"):
        article(cell)


def test_chinese_event_words() -> None:
    assert event_kind("测评") == "evaluated"
    assert result("不合格") == "failed"
    assert event_kind("District_Report") == "district_report"


D = date(2026, 3, 1)
CERT = KnownEvent(EventKind.CERTIFIED, D, "", "")
FAILED = KnownEvent(EventKind.EVALUATED, D, "failed", "")
PASSED = KnownEvent(EventKind.EVALUATED, D, "passed", "")
APPLIED = KnownEvent(EventKind.APPLIED, D, "", "2026")
RESTRUCTURED = KnownEvent(EventKind.RESTRUCTURED, D, "", "rename")


@pytest.mark.parametrize(
    ("kind", "day", "history", "reason"),
    [
        (EventKind.EVALUATED, D, [CERT], None),  # the same day as the title is fine
        (EventKind.EVALUATED, date(2026, 2, 28), [CERT], "早于该主体首次认定日期 2026-03-01"),
        (EventKind.REVOKED, D, [], "没有认定记录"),
        (EventKind.MISCONDUCT, D, [APPLIED], None),  # fraud in an application
        (EventKind.MISCONDUCT, D, [], "没有认定记录"),
        (EventKind.RECTIFICATION_ACCEPTED, D, [CERT, FAILED], None),
        (EventKind.RECTIFICATION_REJECTED, D, [CERT, PASSED], "测评不合格"),
        (EventKind.RECTIFICATION_ACCEPTED, date(2026, 2, 1), [KnownEvent(EventKind.CERTIFIED, date(2025, 1, 1), "", ""), FAILED], "测评不合格"),
        (EventKind.RESTRUCTURING_REPORTED, D, [CERT, RESTRUCTURED], None),
        (EventKind.RESTRUCTURING_REVIEWED, D, [CERT], "重大调整"),
        (EventKind.PUBLICIZED, D, [], None),
        (EventKind.APPLIED, D, [], None),
        (EventKind.CERTIFIED, D, [], None),
    ],
)  # fmt: skip
def test_event_sense(kind: EventKind, day: date, history: list[KnownEvent], reason: str | None) -> None:
    why = sense(kind, day, Firsts.of(history))
    if reason is None:
        assert why is None
    else:
        assert why is not None and reason in why
