"""Reading import files row by row: CSV (UTF-8, UTF-8 with BOM or GB18030), XLSX (first sheet) and JSON.

A reader yields `(row, cells)`, `cells` aligned with the file kind's fields: ABSENT where the file has no such
column (or a JSON item no such key), else the raw value (text, number, date...). Rows are streamed; nothing
holds the whole file except a JSON array, which the json module can only parse whole.
"""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from monitor.importing.fields import Field, alias_table, normalize
from monitor.importing.problems import HEADER_ROW, Problems

FILE = "文件 (file)"
CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class Reader:
    """The rows of one file. Problems with the file as a whole (encoding, header) go to `problems`, and then
    no row is yielded. `labels[i]` is how the file names field i (its header as written), for messages."""

    def __init__(self, path: Path, fields: Sequence[Field], problems: Problems) -> None:
        self.path = path
        self.fields = tuple(fields)
        self.problems = problems
        self.labels = [f.name for f in self.fields]
        self.rows_read = 0

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        path = self.path
        if not path.is_file():
            self.problems.add(HEADER_ROW, FILE, "文件不存在或不是普通文件 (no such file)")
            return
        suffix = path.suffix.lower()
        if suffix in CSV_SUFFIXES:
            rows = self._csv()
        elif suffix in XLSX_SUFFIXES:
            rows = self._xlsx()
        elif suffix in JSON_SUFFIXES:
            rows = self._json()
        elif suffix == ".xls":
            self.problems.add(HEADER_ROW, FILE, "不支持旧版 .xls 格式，请另存为 .xlsx 或 CSV (save as .xlsx or CSV)")
            return
        else:
            self.problems.add(
                HEADER_ROW, FILE, f"不支持的文件类型 {suffix or '(无扩展名)'}，应为 .csv、.xlsx、.json 或 .jsonl"
            )
            return
        for row in rows:
            self.rows_read += 1
            yield row
        if self.rows_read == 0 and not self.problems:
            self.problems.add(HEADER_ROW + 1, FILE, "文件没有数据行 (the file has no data rows)")

    # --- tables (CSV, XLSX) --------------------------------------------------------------------------------

    def _table(self, records: Iterable[tuple[int, Sequence[Any]]]) -> Iterator[tuple[int, list[Any]]]:
        records = iter(records)
        number, header = next(((n, r) for n, r in records if not _blank(r)), (0, None))
        if header is None:
            self.problems.add(HEADER_ROW, FILE, "文件为空 (the file is empty)")
            return
        index = self._map_header(number, header)
        if self.problems:
            return
        width = max(index) + 1
        for number, record in records:
            if _blank(record):
                continue
            if len(record) < width:
                record = list(record) + [None] * (width - len(record))
            yield number, [record[i] if i >= 0 else ABSENT for i in index]

    def _map_header(self, row: int, header: Sequence[Any]) -> list[int]:
        aliases = alias_table(self.fields)
        index = [-1] * len(self.fields)
        for col, cell in enumerate(header):
            if cell is None or not str(cell).strip():
                continue
            i = aliases.get(normalize(cell))
            if i is None:
                continue  # extra columns (序号, 备注2...) are left alone
            if index[i] >= 0:
                self.problems.add(
                    row, str(cell).strip(), f"与第 {index[i] + 1} 列重复，均为{self.fields[i].label} (duplicate column)"
                )
                continue
            index[i] = col
            self.labels[i] = str(cell).strip()
        for i, f in enumerate(self.fields):
            if f.required and index[i] < 0:
                self.problems.add(row, f.name, f"表头缺少必填列：{f.label} (required column missing)", seq=i)
        return index

    def _csv(self) -> Iterator[tuple[int, list[Any]]]:
        encoding = detect_encoding(self.path)
        if encoding is None:
            self.problems.add(HEADER_ROW, FILE, "无法识别的文件编码，应为 UTF-8 或 GB18030 (not UTF-8 or GB18030)")
            return
        with self.path.open(encoding=encoding, newline="") as fh:
            records = _numbered_csv(csv.reader(fh), self.problems)
            yield from self._table(records)

    def _xlsx(self) -> Iterator[tuple[int, list[Any]]]:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            wb = load_workbook(self.path, read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            self.problems.add(HEADER_ROW, FILE, f"无法读取 XLSX 文件 (cannot read the workbook): {exc}")
            return
        try:
            if not wb.worksheets:
                self.problems.add(HEADER_ROW, FILE, "工作簿没有工作表 (the workbook has no sheet)")
                return
            sheet = wb.worksheets[0]
            # Some writers store a wrong sheet size; reading without it finds every row that is there.
            sheet.reset_dimensions()
            yield from self._table(enumerate(sheet.iter_rows(min_row=1, values_only=True), 1))
        finally:
            wb.close()

    # --- JSON ----------------------------------------------------------------------------------------------

    def _json(self) -> Iterator[tuple[int, list[Any]]]:
        try:
            with self.path.open(encoding="utf-8-sig") as fh:
                head = fh.read(4096).lstrip()
                fh.seek(0)
                if not head:
                    self.problems.add(HEADER_ROW, FILE, "文件为空 (the file is empty)")
                    return
                if head.startswith("["):
                    try:
                        items = json.load(fh)
                    except json.JSONDecodeError as exc:
                        self.problems.add(
                            HEADER_ROW,
                            FILE,
                            f"JSON 格式错误，第 {exc.lineno} 行第 {exc.colno} 列 (invalid JSON): {exc.msg}",
                        )
                        return
                    if not items:
                        self.problems.add(HEADER_ROW, FILE, "文件为空 (the JSON array is empty)")
                        return
                    yield from self._objects((i + 1, item) for i, item in enumerate(items, 1))
                else:
                    yield from self._objects(self._json_lines(fh))
        except UnicodeDecodeError:
            self.problems.add(HEADER_ROW, FILE, "JSON 文件应为 UTF-8 编码 (JSON must be UTF-8)")

    def _json_lines(self, lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield number + 1, json.loads(line)
            except json.JSONDecodeError as exc:
                self.problems.add(number + 1, "JSON", f"JSON 格式错误，第 {exc.colno} 列 (invalid JSON): {exc.msg}")

    def _objects(self, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, list[Any]]]:
        aliases = alias_table(self.fields)
        seen: dict[str, int] = {}
        for row, item in items:
            if not isinstance(item, dict):
                self.problems.add(
                    row, "JSON", f"每项应为对象 {{...}} (each item must be an object), 实际为 {item!r:.40}"
                )
                continue
            cells: list[Any] = [ABSENT] * len(self.fields)
            for key, value in item.items():
                i = seen.get(key)
                if i is None:
                    i = seen[key] = aliases.get(normalize(key), -1)
                    if i >= 0 and self.labels[i] == self.fields[i].name:
                        self.labels[i] = key
                if i < 0:
                    continue
                if cells[i] is not ABSENT:
                    self.problems.add(row, key, f"与另一键重复，均为{self.fields[i].label} (duplicate key)")
                cells[i] = value
            yield row, cells


def _blank(record: Sequence[Any]) -> bool:
    return not any(cell is not None and (not isinstance(cell, str) or cell.strip()) for cell in record)


def _numbered_csv(reader: Iterator[list[str]], problems: Problems) -> Iterator[tuple[int, list[str]]]:
    # Numbered by record, not by line: a quoted cell with a line break is still one spreadsheet row.
    number = 0
    try:
        for number, record in enumerate(reader, 1):  # the count is read after an error
            yield number, record
    except csv.Error as exc:
        problems.add(number + 1, FILE, f"CSV 格式错误 (malformed CSV): {exc}")


def detect_encoding(path: Path) -> str | None:
    """'utf-8-sig' (UTF-8 with or without a BOM) if the whole file decodes strictly as UTF-8, else 'gb18030' if it
    decodes as that (Excel on a Chinese Windows saves CSV so), else None. Decoded in chunks: any size works."""
    for encoding, name in (("utf-8", "utf-8-sig"), ("gb18030", "gb18030")):
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return name
    return None
