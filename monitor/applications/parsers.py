"""Cells of an application or a filing's service figures: yes/no, counts, numbers, percentages, park types."""

from __future__ import annotations

from typing import Any

from monitor.importing import values

YES = values.choices(
    [
        ("yes", ["是", "有", "y", "true", "1", "具备", "符合"]),
        ("no", ["否", "无", "n", "false", "0", "不具备", "不符合"]),
    ]
)
PARKS = values.choices([("manufacturing", ["制造业园区", "制造业"]), ("office", ["楼宇经济园", "楼宇", "楼宇经济"])])


def yes_no(cell: Any) -> bool | None:
    if isinstance(cell, bool):
        return cell
    word = values.vocabulary(cell, YES, "yes/是 或 no/否")
    return None if word is None else word == "yes"


def _number(cell: Any) -> float | None:
    if isinstance(cell, bool):
        raise values.Bad(f"应为数字，实际为逻辑值 (expected a number): {cell!r}")
    if isinstance(cell, int | float):
        n = float(cell)
    else:
        text = values.text(cell).replace(",", "").replace("，", "")
        if not text:
            return None
        try:
            n = float(text)
        except ValueError:
            raise values.Bad(f"应为数字 (not a number): {text!r}") from None
    if n < 0 or n != n:
        raise values.Bad(f"不能为负数 (must not be negative): {cell!r}")
    return n


def _tidy(n: float) -> int | float:
    return int(n) if n.is_integer() else n


def count(cell: Any) -> int | None:
    n = _number(cell)
    if n is None:
        return None
    if not n.is_integer():
        raise values.Bad(f"应为整数 (a whole number): {cell!r}")
    return int(n)


def number(cell: Any) -> int | float | None:
    n = _number(cell)
    return None if n is None else _tidy(n)


def percent(cell: Any) -> int | float | None:
    if isinstance(cell, str) and cell.strip().endswith(("%", "％")):
        cell = cell.strip()[:-1]
    n = _number(cell)
    if n is None:
        return None
    if n > 100:
        raise values.Bad(f"百分比应在 0-100 之间，如 85 或 85% (a percentage 0-100): {cell!r}")
    return _tidy(n)


def park(cell: Any) -> str | None:
    return values.vocabulary(cell, PARKS, "manufacturing/制造业园区 或 office/楼宇经济园")
