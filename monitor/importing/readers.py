"""Reading import files row by row: CSV (UTF-8, UTF-8 with BOM or GB18030), XLSX (first sheet) and JSON.

A reader yields `(row, cells)`, `cells` aligned with the file kind's fields: ABSENT where the file has no such
column (or a JSON item no such key), else the raw value (text, number, date...). Rows are streamed; nothing
holds the whole file except a JSON array's text, whose items are decoded one at a time.

Hostile or odd files are refused fast and in bounded memory (`ImportLimits`, config `[imports]`): the file's
size, an XLSX part's unpacked size, its declared dimensions and shared strings (inspected in the zip and
stream-parsed before openpyxl loads anything), the rows per file, a cell's length, JSON nesting, and a CSV whose
lines mix encodings (refused at the first line that differs from the file's first non-ASCII line).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from monitor.config import ImportLimits
from monitor.importing.fields import Field, alias_table, normalize
from monitor.importing.problems import HEADER_ROW, Problems

FILE = "文件 (file)"
CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
# Excel's own limit: a sheet has at most 1,048,576 rows; a workbook that says otherwise is not one.
XLSX_MAX_ROWS = 1_048_576


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class Reader:
    """The rows of one file. Problems with the file as a whole (encoding, header) go to `problems`, and then
    no row is yielded. `labels[i]` is how the file names field i (its header as written), for messages."""

    def __init__(
        self, path: Path, fields: Sequence[Field], problems: Problems, limits: ImportLimits | None = None
    ) -> None:
        self.path = path
        self.fields = tuple(fields)
        self.problems = problems
        self.limits = limits or ImportLimits()
        self.labels = [f.name for f in self.fields]
        self.rows_read = 0

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        path = self.path
        if not path.is_file():
            self.problems.add(HEADER_ROW, FILE, "文件不存在或不是普通文件 (no such file)")
            return
        size = path.stat().st_size
        if size > self.limits.max_file_bytes:
            self.problems.add(
                HEADER_ROW,
                FILE,
                f"文件大小 {_mb(size)}，超过上限 imports.max_file_mb = {self.limits.max_file_mb} MB (file too large)",
            )
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
        limit = self.limits.max_rows
        # csv's field_size_limit already holds a CSV's cells to max_cell_chars; XLSX and JSON are checked here.
        check_cells = suffix not in CSV_SUFFIXES
        for row in rows:
            if self.rows_read >= limit:
                self.problems.add(
                    row[0], FILE, f"数据行超过上限 imports.max_rows = {limit} (too many rows): 请分成几个文件导入"
                )
                return
            if check_cells and self._too_long(row):
                continue
            self.rows_read += 1
            yield row
        if self.rows_read == 0 and not self.problems:
            self.problems.add(HEADER_ROW + 1, FILE, "文件没有数据行 (the file has no data rows)")

    def _too_long(self, row: tuple[int, list[Any]]) -> bool:
        """Whether a cell of the row is longer than imports.max_cell_chars (recorded; the row is not yielded)."""
        limit, bad = self.limits.max_cell_chars, False
        for i, cell in enumerate(row[1]):
            if isinstance(cell, str):
                if len(cell) <= limit:
                    continue
                longest = len(cell)
            elif isinstance(cell, list):
                longest = max((len(v) for v in cell if isinstance(v, str)), default=0)
                if longest <= limit:
                    continue
            else:
                continue
            self.problems.add(row[0], self.labels[i], _long_cell(longest, limit), seq=i)
            bad = True
        return bad

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
        limit = self.limits.max_cell_chars
        # A physical line may hold many cells, but not a screenful of them: this bounds what one read holds.
        max_line = max(1 << 20, 64 * 4 * limit)
        saved = csv.field_size_limit(limit)  # csv stops at the first longer cell instead of reading it whole
        try:
            with self.path.open("rb") as fh:
                lines = _decoded_lines(fh, max_line)
                records = _numbered_csv(csv.reader(lines), self.problems, limit)
                yield from self._table(records)
        finally:
            csv.field_size_limit(saved)

    def _xlsx(self) -> Iterator[tuple[int, list[Any]]]:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            refusal = inspect_workbook(self.path, self.limits)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            self.problems.add(HEADER_ROW, FILE, f"无法读取 XLSX 文件 (cannot read the workbook): {exc}")
            return
        if refusal:
            self.problems.add(HEADER_ROW, FILE, refusal)
            return
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
            yield from self._table(self._sheet_rows(sheet.iter_rows(min_row=1, values_only=True)))
        finally:
            wb.close()

    def _sheet_rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[tuple[int, Sequence[Any]]]:
        # openpyxl fills the gaps between the rows a sheet has with empty ones: stop at Excel's last row.
        for number, record in enumerate(rows, 1):
            if number > XLSX_MAX_ROWS:
                self.problems.add(number, FILE, f"工作表超过 Excel 的最大行数 {XLSX_MAX_ROWS} (not a valid sheet)")
                return
            yield number, record

    # --- JSON ----------------------------------------------------------------------------------------------

    def _json(self) -> Iterator[tuple[int, Any]]:
        try:
            with self.path.open(encoding="utf-8-sig") as fh:
                head = fh.read(4096).lstrip()
                fh.seek(0)
                if not head:
                    self.problems.add(HEADER_ROW, FILE, "文件为空 (the file is empty)")
                    return
                if head.startswith("["):
                    yield from self._objects(self._json_array(fh.read()))
                else:
                    yield from self._objects(self._json_lines(fh))
        except UnicodeDecodeError:
            self.problems.add(HEADER_ROW, FILE, "JSON 文件应为 UTF-8 编码 (JSON must be UTF-8)")

    def _json_array(self, text: str) -> Iterator[tuple[int, Any]]:
        """The items of a JSON array, decoded one at a time (row = position + 1)."""
        decoder = json.JSONDecoder()
        pos = _JSON_SPACE.match(text).end() + 1  # type: ignore[union-attr]  # the text starts with "["
        row = HEADER_ROW
        while True:
            pos = _JSON_SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith("]", pos):
                if row == HEADER_ROW:
                    self.problems.add(HEADER_ROW, FILE, "文件为空 (the JSON array is empty)")
                elif text[pos + 1 :].strip():
                    self._bad_json(row + 1, text, pos + 1, "数组之后还有内容 (extra data after the array)")
                return
            row += 1
            try:
                item, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                self._bad_json(row, text, exc.pos, exc.msg)
                return
            except RecursionError:
                self.problems.add(row, "JSON", _too_deep(self.limits.max_depth))
                return
            if _depth(item) > self.limits.max_depth:
                self.problems.add(row, "JSON", _too_deep(self.limits.max_depth))
                return
            yield row, item
            pos = _JSON_SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith(",", pos):
                pos += 1
            elif not text.startswith("]", pos):
                self._bad_json(row, text, pos, "缺少逗号或 ] (expecting ',' or ']')")
                return

    def _bad_json(self, row: int, text: str, pos: int, msg: str) -> None:
        line = text.count("\n", 0, pos) + 1
        column = pos - text.rfind("\n", 0, pos)
        self.problems.add(row, "JSON", f"JSON 格式错误，第 {line} 行第 {column} 列 (invalid JSON): {msg}")

    def _json_lines(self, lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                self.problems.add(number + 1, "JSON", f"JSON 格式错误，第 {exc.colno} 列 (invalid JSON): {exc.msg}")
                continue
            except RecursionError:
                item = _TOO_DEEP
            if item is _TOO_DEEP or _depth(item) > self.limits.max_depth:
                self.problems.add(number + 1, "JSON", _too_deep(self.limits.max_depth))
                return
            yield number + 1, item

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


def _numbered_csv(
    reader: Iterator[list[str]], problems: Problems, max_cell_chars: int
) -> Iterator[tuple[int, list[str]]]:
    # Numbered by record, not by line: a quoted cell with a line break is still one spreadsheet row.
    number = 0
    try:
        for number, record in enumerate(reader, 1):  # the count is read after an error
            yield number, record
    except _LineProblem as exc:
        problems.add(number + 1, FILE, str(exc))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            problems.add(number + 1, FILE, _long_cell(None, max_cell_chars))
        else:
            problems.add(number + 1, FILE, f"CSV 格式错误 (malformed CSV): {exc}")


class _LineProblem(Exception):
    """A CSV line that cannot be read as text; the reader names its row."""


UTF8, GB18030 = "utf-8", "gb18030"
_BOM = b"\xef\xbb\xbf"


_BLOCK = 1 << 20


def _decoded_lines(fh: IO[bytes], max_line: int) -> Iterator[str]:
    """The file's lines as text, as a file opened with newline="" gives them. The encoding is the first
    non-ASCII line's (UTF-8, else GB18030, as Excel on a Chinese Windows saves CSV); a later line in another
    encoding, or in none, is refused where it is: a file pasted together from two exports would otherwise import
    the other half as mojibake. Read in blocks of whole lines: ASCII and UTF-8 blocks are decoded at once, only
    GB18030 (where a UTF-8 line would decode too, as mojibake) and failing blocks line by line."""
    # chain pulls the lines of each block in C: no Python frame per line on the common path.
    return itertools.chain.from_iterable(_blocks(fh, max_line))


def _blocks(fh: IO[bytes], max_line: int) -> Iterator[Iterator[str]]:
    decoder = _LineDecoder()
    pending = b""
    first = True
    while True:
        block = fh.read(_BLOCK)
        data = pending + block
        cut = data.rfind(b"\n") + 1 if block else len(data)
        if block and cut == 0:
            if len(data) > max_line:
                raise _LineProblem(f"此行超过 {max_line} 字节 (line too long): 请检查文件是否为表格导出的 CSV")
            pending = data
            continue
        chunk, pending = data[:cut], data[cut:]
        if first and chunk:
            first = False
            if chunk.startswith(_BOM):
                chunk, decoder.encoding = chunk[len(_BOM) :], UTF8
        if chunk:
            text = decoder.whole(chunk)
            yield decoder.lines(chunk) if text is None else io.StringIO(text, newline="")
        if not block:
            return


class _LineDecoder:
    def __init__(self) -> None:
        self.encoding: str | None = None

    def whole(self, chunk: bytes) -> str | None:
        """The block decoded at once, when it is ASCII or (in a UTF-8 file) UTF-8; else None."""
        if chunk.isascii():
            return chunk.decode("ascii")
        if self.encoding in (None, UTF8):
            try:
                text = chunk.decode(UTF8)
            except UnicodeDecodeError:
                return None
            self.encoding = UTF8
            return text
        return None

    def lines(self, chunk: bytes) -> Iterator[str]:
        # bytes.splitlines breaks at \n, \r and \r\n only, as newline="" does; no GB18030 byte is one of them.
        for raw in chunk.splitlines(keepends=True):
            yield self._line(raw)

    def _line(self, raw: bytes) -> str:
        if raw.isascii():
            return raw.decode("ascii")
        found = _line_encoding(raw)
        if found is None:
            raise _LineProblem("此行的文字编码无法识别，应为 UTF-8 或 GB18030 (not UTF-8 or GB18030)")
        if self.encoding is None:
            self.encoding = found
        elif found != self.encoding:
            raise _LineProblem(
                f"此行为 {found.upper()} 编码，而文件前文为 {self.encoding.upper()} 编码 (mixed encodings): "
                "请将整个文件另存为同一种编码"
            )
        return raw.decode(self.encoding)


def _line_encoding(raw: bytes) -> str | None:
    for encoding in (UTF8, GB18030):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def detect_encoding(path: Path) -> str | None:
    """The encoding the CSV reader uses for the file: 'utf-8-sig' (UTF-8, with or without a BOM) or 'gb18030', as
    its first non-ASCII line decodes; None if that line decodes as neither. ASCII throughout is 'utf-8-sig'."""
    with path.open("rb") as fh:
        for raw in fh:
            if raw.startswith(_BOM):
                return "utf-8-sig"
            if not raw.isascii():
                found = _line_encoding(raw)
                return None if found is None else "utf-8-sig" if found == UTF8 else found
    return "utf-8-sig"


_TOO_DEEP = object()
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _depth(value: Any) -> int:
    """How deeply a decoded JSON value nests (a scalar is 0, [] is 1), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            level += 1
            deepest = max(deepest, level)
            stack.extend((child, level) for child in node if isinstance(child, dict | list))
    return deepest


def _too_deep(limit: int) -> str:
    return f"JSON 嵌套超过 imports.max_depth = {limit} 层 (nested too deeply)"


def _long_cell(length: int | None, limit: int) -> str:
    size = f"长 {length} 个字符，" if length is not None else ""
    return f"单元格{size}超过上限 imports.max_cell_chars = {limit} (cell too long)"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def inspect_workbook(path: Path, limits: ImportLimits) -> str | None:
    """Why the workbook at `path` is refused before openpyxl loads it, or None: a part that unpacks past
    imports.max_file_mb (a 1 MB file can hold a 1 GiB shared string), a sheet that declares more rows than the
    limits allow, or a shared string longer than imports.max_cell_chars. Reads the zip directory, the start of
    each sheet and the shared strings as a stream: memory stays small whatever the file says."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        for info in infos:
            if info.file_size > limits.max_file_bytes:
                return (
                    f"工作簿内 {info.filename} 解压后为 {_mb(info.file_size)}，超过上限 imports.max_file_mb = "
                    f"{limits.max_file_mb} MB (a part of the workbook is too large)"
                )
        max_rows = min(limits.max_rows + HEADER_ROW, XLSX_MAX_ROWS)
        for info in infos:
            name = info.filename.lower()
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                with zf.open(info) as fh:
                    declared = _declared_rows(fh.read(8192))
                if declared is not None and declared > max_rows:
                    return (
                        f"工作表 {info.filename} 声明 {declared} 行，超过上限 {max_rows} 行（imports.max_rows，"
                        f"Excel 最多 {XLSX_MAX_ROWS} 行）(the sheet declares too many rows)"
                    )
            elif name.endswith("sharedstrings.xml"):
                with zf.open(info) as fh:
                    index = _long_shared_string(fh, limits.max_cell_chars)
                if index is not None:
                    return (
                        f"共享字符串第 {index + 1} 项超过上限 imports.max_cell_chars = {limits.max_cell_chars} 个字符 "
                        "(a cell is too long)"
                    )
    return None


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*\bref=\"[A-Z]*\d*:?[A-Z]*(\d+)\"")


def _declared_rows(head: bytes) -> int | None:
    """The last row of the sheet's <dimension ref="A1:H67108864"/>, which comes before the sheet's data."""
    m = _DIMENSION.search(head)
    return int(m[1]) if m else None


class _Stop(Exception):
    pass


def _long_shared_string(fh: IO[bytes], limit: int) -> int | None:
    """The index of the first shared string (<si>) longer than `limit` characters, or None. expat hands the
    text over in pieces, so a string of any length is counted, never held."""
    parser = expat.ParserCreate()
    parser.buffer_text = False
    state = {"index": -1, "length": 0, "in_text": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "si":
            state["index"] += 1
            state["length"] = 0
        elif local == "t":
            state["in_text"] += 1

    def end(name: str) -> None:
        if name.rpartition(":")[2] == "t":
            state["in_text"] -= 1

    def text(data: str) -> None:
        if state["in_text"]:
            state["length"] += len(data)
            if state["length"] > limit:
                raise _Stop

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        while chunk := fh.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Stop:
        return state["index"]
    except expat.ExpatError as exc:
        raise ValueError(f"sharedStrings.xml: {exc}") from None
    return None
