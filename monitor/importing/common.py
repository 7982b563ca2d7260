"""What every import shares: its options, its summary and the per-row checker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from monitor.config import ImportLimits
from monitor.importing.problems import Problems
from monitor.importing.readers import ABSENT
from monitor.importing.values import Bad
from monitor.storage.bulk import Stamp

T = TypeVar("T")

REQUIRED = "必填项为空 (required value missing)"
NO_COLUMN = "必填项为空：文件中没有此列或此键 (required value missing: no such column or key)"
CLI = "cli"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Read once by the command line and passed down: nothing below it reads the clock or the user name."""

    today: date  # Asia/Shanghai: a later date has not happened yet
    now: datetime
    districts: frozenset[str]
    source: str  # the file's name (control characters escaped), or 'cli'
    recorded_by: str
    limits: ImportLimits = field(default_factory=ImportLimits)  # config [imports]

    @property
    def stamp(self) -> Stamp:
        return Stamp(source=self.source, recorded_by=self.recorded_by, now=self.now)


@dataclass(frozen=True, slots=True)
class Summary:
    read: int
    added: int
    updated: int
    unchanged: int

    def line(self, dry_run: bool = False) -> str:
        text = (
            f"读取 {self.read} 行，新增 {self.added}，更新 {self.updated}，未变 {self.unchanged} "
            f"(rows read {self.read}, added {self.added}, updated {self.updated}, unchanged {self.unchanged})"
        )
        if dry_run:
            text += "；试运行，未写入数据库 (dry run: nothing written)"
        return text


class RowCheck:
    """Parses the cells of one row, recording a problem per bad cell; `ok` stays True while all were good."""

    __slots__ = ("cells", "labels", "ok", "problems", "row")

    def __init__(self, problems: Problems, row: int | None, cells: Sequence[Any], labels: Sequence[str]) -> None:
        self.problems = problems
        self.row = row
        self.cells = cells
        self.labels = labels
        self.ok = True

    def has(self, i: int) -> bool:
        """Whether the file has column i at all (for a JSON item: the key)."""
        return self.cells[i] is not ABSENT

    def get(self, i: int, parse: Callable[[Any], T], *, required: bool = False) -> T | None:
        cell = self.cells[i]
        absent = cell is ABSENT
        try:
            value = parse(None if absent else cell)
        except Bad as exc:
            self.fail(i, str(exc))
            return None
        if required and (value is None or value == "" or value == ()):
            self.fail(i, NO_COLUMN if absent else REQUIRED)
            return None
        return value

    def fail(self, i: int, reason: str) -> None:
        self.problems.add(self.row, self.labels[i], reason, seq=i)
        self.ok = False

    def not_future(self, i: int, day: date | None, today: date) -> None:
        if day is not None and day > today:
            self.fail(i, f"日期 {day} 晚于今天 {today}，不能登记尚未发生的事 (a date in the future)")
