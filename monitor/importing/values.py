"""Turning one cell into a value, or a reason it cannot be one (Chinese, with the English in parentheses).

Cells come as text (CSV, JSON), or typed from a spreadsheet: a date cell is a datetime, a number is an int or
a float (a year typed in Excel arrives as 2025.0). Each parser raises `Bad(reason)`; parsers of values that
repeat across many rows (dates, months, credit codes) are cached.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from monitor import credit_code
from monitor.config import MAX_EMAIL_LEN, is_email
from monitor.domain import Kind, Scheme


class Bad(ValueError):
    """The cell's value is wrong; str(exc) says why."""


def text(cell: Any) -> str:
    """The cell as text, stripped; '' when empty."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool):
        raise Bad(f"应为文本，实际为逻辑值 (expected text, got a boolean): {cell!r}")
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        if cell.is_integer() and abs(cell) < 2**53:
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, datetime | date):
        raise Bad(f"应为文本，实际为日期 (expected text, got a date): {cell:%Y-%m-%d}")
    raise Bad(f"应为文本 (expected text), 实际为 {cell!r:.40}")


_CONTROL_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def plain_text(cell: Any, *, max_len: int, allow_breaks: bool = False) -> str:
    """Text without control characters (a line break in a name is refused; notes may have them)."""
    value = text(cell)
    for ch in value:
        if ch in "\n\t" and allow_breaks:
            continue
        if unicodedata.category(ch) in _CONTROL_CATEGORIES:
            what = "换行" if ch in "\r\n\u2028\u2029" else "控制字符"
            raise Bad(f"含{what} U+{ord(ch):04X}，不允许 (control characters such as line breaks are not allowed)")
    if len(value) > max_len:
        raise Bad(f"长度 {len(value)} 超过上限 {max_len} 个字符 (too long)")
    return value


@lru_cache(maxsize=65536)
def code(value: str) -> str:
    """A credit code, upper-cased; Bad if it fails the GB 32100 check."""
    upper = value.upper()
    why = credit_code.problem(upper)
    if why is not None:
        raise Bad(f"{why} (not a valid unified social credit code)")
    return upper


def credit(cell: Any) -> str:
    if isinstance(cell, float):
        # Excel turns an all-digit code into a number and loses its last digits.
        raise Bad(
            "单元格为数字格式，代码可能已失真，请将该列设为文本格式 (the cell is a number: format the column as text)"
        )
    value = text(cell)
    return code(value) if value else ""


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_PERIOD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")
_COMPACT_PERIOD = re.compile(r"(\d{4})(\d{2})")
# Excel stores dates as day counts from 1899-12-30; accept the counts of 1954..2119 as dates.
_SERIAL_RANGE = (20000, 80000)


@lru_cache(maxsize=65536)
def date_text(value: str) -> date:
    m = _DATE.fullmatch(value) or _COMPACT_DATE.fullmatch(value)
    if m is None:
        raise Bad(f"不是有效日期，应为 YYYY-MM-DD (not a date): {value!r}")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise Bad(f"日期不存在 (no such date): {value!r}") from None


def date_cell(cell: Any) -> date | None:
    """A date from text ('2026-03-05', '2026/3/5', '2026年3月5日') or a spreadsheet date cell; None when empty."""
    if isinstance(cell, str):
        value = cell.strip()
        return date_text(value) if value else None
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, int | float) and not isinstance(cell, bool) and _SERIAL_RANGE[0] <= cell < _SERIAL_RANGE[1]:
        from openpyxl.utils.datetime import from_excel

        serial: datetime = from_excel(int(cell))
        return serial.date()
    raise Bad(f"不是有效日期，应为 YYYY-MM-DD (not a date): {cell!r:.40}")


@lru_cache(maxsize=4096)
def period_text(value: str) -> date:
    m = _PERIOD.fullmatch(value) or _COMPACT_PERIOD.fullmatch(value)
    if m is None:
        raise Bad(f"不是有效月份，应为 YYYY-MM (not a month): {value!r}")
    year, month = int(m[1]), int(m[2])
    if not 1 <= month <= 12 or year < 1:
        raise Bad(f"月份不存在 (no such month): {value!r}")
    return date(year, month, 1)


def period_cell(cell: Any) -> date | None:
    """A month as its first day, from 'YYYY-MM' (also '2026/3', '2026年3月'); Excel turns a typed '2026-03'
    into the date 2026-03-01, which is taken as that month."""
    if isinstance(cell, str):
        value = cell.strip()
        return period_text(value) if value else None
    if cell is None:
        return None
    if isinstance(cell, int) and not isinstance(cell, bool):
        return period_text(str(cell))  # 202603 typed into a number cell
    if isinstance(cell, datetime | date):
        if cell.day != 1:
            raise Bad(f"应为月份 YYYY-MM，实际为日期 (a month, not a day): {cell:%Y-%m-%d}")
        return date(cell.year, cell.month, 1)
    raise Bad(f"不是有效月份，应为 YYYY-MM (not a month): {cell!r:.40}")


def year_cell(cell: Any) -> int | None:
    value = text(cell)
    if not value:
        return None
    if not re.fullmatch(r"\d{4}", value):
        raise Bad(f"不是有效年度，应为四位年份如 2025 (not a year): {value!r}")
    return int(value)


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def vocabulary(cell: Any, choices: dict[str, str], expected: str) -> str | None:
    """One of a fixed set of words (English or Chinese); None when empty."""
    value = text(cell)
    if not value:
        return None
    found = choices.get(_fold(value))
    if found is None:
        raise Bad(f"应为 {expected}，实际为 {value!r} (not one of the accepted values)")
    return found


def choices(pairs: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """{alias: canonical} from (canonical, aliases) pairs, aliases folded as `vocabulary` folds input."""
    out: dict[str, str] = {}
    for canonical, aliases in pairs:
        for alias in (canonical, *aliases):
            out[_fold(alias)] = canonical
    return out


KINDS = choices(
    [
        (Kind.PLATFORM.value, ["平台", "公共服务平台", "中小企业公共服务平台"]),
        (Kind.BASE.value, ["基地", "创业基地", "小企业创业基地"]),
    ]
)
SCHEMES = choices(
    [
        (Scheme.CURRENT.value, ["现行", "现行办法", "新办法", "本办法"]),
        (Scheme.LEGACY_2018.value, ["2018年办法", "2018办法", "旧办法", "成经信函〔2018〕348号", "legacy"]),
    ]
)


def kind(cell: Any) -> Kind | None:
    value = vocabulary(cell, KINDS, "platform/平台 或 base/基地")
    return Kind(value) if value else None


def scheme(cell: Any) -> Scheme | None:
    value = vocabulary(cell, SCHEMES, "current/现行 或 2018/2018年办法")
    return Scheme(value) if value else None


_EMAIL_SPLIT = re.compile(r"[;；,，、\s]+")


def emails(cell: Any) -> tuple[str, ...]:
    """Addresses separated by ';' (also '；', ',' or spaces), or a JSON list of them; duplicates dropped."""
    parts = [text(c) for c in cell] if isinstance(cell, list) else _EMAIL_SPLIT.split(text(cell))
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        if len(part) > MAX_EMAIL_LEN:
            raise Bad(
                f"电子邮箱地址长 {len(part)} 个字符，超过上限 {MAX_EMAIL_LEN} (an address is at most 254 characters)"
            )
        if not is_email(part):
            raise Bad(f"不是有效的电子邮箱地址 (not an e-mail address): {part!r}")
        if part not in out:
            out.append(part)
    return tuple(out)


# Service functions (SPEC section 9), in English or as the Measures name them.
_FUNCTION_WORDS = {
    Kind.PLATFORM: choices(
        [
            ("policy", ["政策服务", "政策"]),
            ("consulting", ["咨询服务", "咨询"]),
            ("training", ["培训服务", "培训"]),
            ("technical", ["技术服务", "技术"]),
        ]
    ),
    Kind.BASE: choices(
        [
            ("information", ["信息服务", "信息"]),
            ("coaching", ["创业辅导"]),
            ("innovation", ["创新支持"]),
            ("training", ["人员培训", "培训"]),
            ("marketing", ["市场营销"]),
            ("financing", ["投融资服务", "投融资"]),
            ("consulting", ["管理咨询"]),
            ("professional", ["专业服务"]),
        ]
    ),
}
_FUNCTION_SPLIT = re.compile(r"[;；,，、\s]+")


def functions(cell: Any, kind: Kind) -> tuple[str, ...]:
    """Functions separated by ';' (also '；', ',', '、'), or a JSON list; in the Measures' order, no repeats."""
    parts = [text(c) for c in cell] if isinstance(cell, list) else _FUNCTION_SPLIT.split(text(cell))
    words = _FUNCTION_WORDS[kind]
    names = ", ".join(dict.fromkeys(words.values()))
    found: set[str] = set()
    for part in parts:
        if not part:
            continue
        name = words.get(_fold(part))
        if name is None:
            raise Bad(
                f"{kind.zh}的服务功能应为 {names} 之一，实际为 {part!r} (not a service function of a {kind.value})"
            )
        found.add(name)
    return tuple(n for n in dict.fromkeys(words.values()) if n in found)
