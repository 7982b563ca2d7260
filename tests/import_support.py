"""Helpers for the import tests: run the real command line against the test database, snapshot the tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.credit_code import ALPHABET, complete
from monitor.storage.db import Database
from monitor.storage.models import Base

# Valid codes for the roster, one valid code that is not on it, and one with a wrong check character.
A = complete("91510100MA6CA0001")
B = complete("91510100MA6CB0002")
C = complete("52510100MJ0C00003")
UNKNOWN = complete("91510100MA6CY0009")
WRONG_CHECK = A[:17] + ALPHABET[(ALPHABET.index(A[17]) + 1) % len(ALPHABET)]
CODES = {"A": A, "B": B, "C": C, "U": UNKNOWN, "X": WRONG_CHECK}

ROSTER_HEADER = ["统一社会信用代码", "名称", "类型", "所属区县", "认定日期", "证书编号", "联系邮箱", "认定依据"]
ROSTER = [
    [
        A,
        "成都市甲中小企业服务平台",
        "平台",
        "锦江区",
        "2024-03-15",
        "CDPT-2024-001",
        "a@example.org; ops@example.org",
        "",
    ],
    [B, "成都乙创业基地", "基地", "高新区", "2023/6/1", "CDJD-2023-007", "b@example.org", "现行"],
    [C, "成都丙服务平台（申报中）", "platform", "天府新区", "", "", "", ""],
]


@dataclass
class Outcome:
    code: int
    out: str
    err: str


class Cli:
    def __init__(self, db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.dir = tmp_path
        self.capsys = capsys
        self.config = tmp_path / "monitor.toml"
        self.config.write_text(f'[database]\nurl = "{db.url}"\n', encoding="utf-8")

    def __call__(self, *args: str) -> Outcome:
        self.capsys.readouterr()
        code = main(["--config", str(self.config), *args])
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.dir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def load_roster(self) -> None:
        path = self.file("base-roster.csv", csv_text([ROSTER_HEADER, *ROSTER]))
        result = self("entities", "import", str(path), "--by", "setup")
        assert result.code == 0, result.err


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def json_lines(items: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def snapshot(db: Database) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table, as text: equal snapshots mean nothing was written."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted(tuple(str(v) for v in row) for row in conn.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def rows(db: Database, sql_table: str, *columns: str) -> list[tuple[Any, ...]]:
    table = Base.metadata.tables[sql_table]
    with db.engine.connect() as conn:
        query = select(*(table.c[c] for c in columns)).order_by(*(table.c[c] for c in columns))
        return [tuple(r) for r in conn.execute(query)]
