"""Printing: tables that line up with Chinese text, and JSON with Chinese left readable."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, TextIO


def _default(value: Any) -> Any:
    from enum import Enum

    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=2, default=_default)


def print_json(value: Any, out: TextIO | None = None) -> None:
    (out or sys.stdout).write(dumps(value) + "\n")


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    # tabulate measures width with wcwidth, so 中文 counts as two columns and the columns line up.
    from tabulate import tabulate

    return tabulate(list(rows), headers=list(headers), tablefmt="simple", disable_numparse=True)
