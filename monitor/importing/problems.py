"""Problems found in an import file or on the command line, reported as `FILE:ROW: column: reason`.

ROW is what a spreadsheet shows: the header is row 1, the first data row is row 2, blank rows keep their number.
For JSON the row is the item's position + 1 (an array's first item, or a JSON-lines file's first line, is row 2),
so the same data saved from a spreadsheet gives the same numbers. Problems with the command line have no row.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

HEADER_ROW = 1
# How much of a value, a header or a file name a message shows: enough to find it, never a screenful.
SHOWN_CHARS = 200
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` fit for one line of a terminal or a log: control and format characters escaped (a file name with
    a newline or an ANSI escape cannot split or colour the line), cut to `limit` characters with the length."""
    if len(text) > limit:
        text = f"{text[:limit]}…（共 {len(text)} 个字符 / {len(text)} chars）"
    if text.isprintable():
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _ESCAPED_CATEGORIES else ch for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    row: int | None
    seq: int  # the order the columns were checked in, so a row's problems print left to right
    column: str
    reason: str

    def format(self, where: str) -> str:
        if self.row is None:
            return f"{where}: {self.column}: {self.reason}"
        return f"{where}:{self.row}: {self.column}: {self.reason}"


class ImportFailed(Exception):
    """Bad input: nothing was written. `lines` are the problems, each `FILE:ROW: column: reason`."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(f"{len(lines)} 个问题 (problems)")
        self.lines = lines


@dataclass
class Problems:
    """Collects every problem of one file; `raise_if_any` ends the import when there was one."""

    where: str
    items: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.where = shown(self.where, 300)

    def add(self, row: int | None, column: str, reason: str, seq: int = 0) -> None:
        # Columns are headers as the file writes them and reasons quote values: both come from the file.
        self.items.append(Problem(row, seq, shown(column, 80), shown(reason, 2 * SHOWN_CHARS)))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def lines(self) -> list[str]:
        return [p.format(self.where) for p in sorted(self.items, key=_order)]

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportFailed(self.lines())


def _order(p: Problem) -> tuple[int, int]:
    return (-1 if p.row is None else p.row, p.seq)
