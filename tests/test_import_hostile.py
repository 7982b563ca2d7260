"""Hostile or odd import files are refused fast, in bounded memory and with a short error: exit 2,
`FILE:ROW: column: reason`, at most 100 kB on stderr, nothing written (issue 11, item 5).

Each file is made in tmp_path; the size limits are set small through `[imports]` so the tests stay quick, and
one slow test runs the worst files against the real defaults in a subprocess that reports its peak memory."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from monitor import config
from monitor.storage.db import Database
from monitor.storage.models import EventRow
from tests.import_support import CODES, Cli, csv_text, snapshot

FILINGS_HEAD = ["credit_code", "period", "filed_on"]
ROSTER_HEAD = ["credit_code", "name", "kind", "district", "certified_on", "cert_no", "email"]
MAX_STDERR = 100_000


@pytest.fixture
def cli(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    db = Database(sqlite_url)
    db.upgrade()
    runner = Cli(db, tmp_path, capsys)
    runner.load_roster()
    yield runner
    db.dispose()


def limits(cli: Cli, **values: int) -> None:
    with cli.config.open("a", encoding="utf-8") as fh:
        fh.write("[imports]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))


def refused(cli: Cli, what: str, path: Path, *expected: str, seconds: float = 10) -> list[str]:
    """Import `path`; assert exit 2, every line of the problems as `expected` ("ROW: column" prefixes, in
    order), a short stderr, nothing written, and that it took less than `seconds`."""
    before = snapshot(cli.db)
    started = time.perf_counter()
    result = cli(what, "import", str(path))
    took = time.perf_counter() - started
    assert result.code == 2, result.err[:2000]
    assert len(result.err.encode()) <= MAX_STDERR
    lines = [line for line in result.err.splitlines() if line.startswith(f"{path}:")]
    assert [line.split(": ")[0] + ": " + line.split(": ")[1] for line in lines] == [f"{path}:{e}" for e in expected], (
        result.err[:2000]
    )
    assert result.out == ""
    assert snapshot(cli.db) == before
    assert took < seconds, f"{took:.1f} s"
    return lines


def workbook_bytes(rows: list[list[str]], edit: Callable[[str, bytes], bytes] | None = None) -> bytes:
    """An XLSX written by openpyxl, with each part passed through `edit` (name, bytes) -> bytes."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    saved, out = io.BytesIO(), io.BytesIO()
    wb.save(saved)
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, edit(info.filename, data) if edit else data)
    return out.getvalue()


def workbook(path: Path, rows: list[list[str]], edit: Callable[[str, bytes], bytes] | None = None) -> Path:
    path.write_bytes(workbook_bytes(rows, edit))
    return path


# --- JSON nesting -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["events.json", "events.jsonl"])
def test_json_nested_10000_deep_is_refused_without_recursion_error(cli: Cli, name: str) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    code = CODES["A"]
    item = f'{{"credit_code": "{code}", "kind": "publicized", "date": "2026-03-01", "note": {deep}}}'
    ok = f'{{"credit_code": "{code}", "kind": "publicized", "date": "2026-03-02"}}'
    content = f"[{ok}, {item}]" if name.endswith(".json") else f"{ok}\n{item}\n"
    lines = refused(cli, "events", cli.file(name, content), "3: JSON")
    assert "imports.max_depth = 64" in lines[0] and "Recursion" not in lines[0]


def test_json_nesting_limit_is_configurable(cli: Cli) -> None:
    limits(cli, max_depth=3)
    item = {"credit_code": CODES["A"], "kind": "publicized", "date": "2026-03-01", "note": [[["deep"]]]}
    refused(cli, "events", cli.file("events.json", json.dumps([item])), "2: JSON")


# --- cell and value length ----------------------------------------------------------------------------------


def test_long_csv_cell_is_refused_at_its_row(cli: Cli) -> None:
    limits(cli, max_cell_chars=100)
    rows = [FILINGS_HEAD, [CODES["A"], "2026-01", "2026-01-30"], [CODES["A"], "2026-02" + "x" * 500, "2026-02-27"]]
    lines = refused(cli, "filings", cli.file("filings.csv", csv_text(rows)), "3: 文件 (file)")
    assert "imports.max_cell_chars = 100" in lines[0]


def test_long_json_value_is_refused_and_not_echoed(cli: Cli) -> None:
    limits(cli, max_cell_chars=1000)
    item = {"credit_code": CODES["A"], "kind": "publicized", "date": "2026-03-01", "note": "备" * 50_000}
    lines = refused(cli, "events", cli.file("events.json", json.dumps([item], ensure_ascii=False)), "2: note")
    assert "长 50000 个字符" in lines[0] and "备备备" not in lines[0]


def test_values_in_messages_are_cut_to_a_readable_length(cli: Cli) -> None:
    # 9,000 characters is under the cell limit, so the date parser sees it and quotes it: cut, with its length.
    rows = [FILINGS_HEAD, [CODES["A"], "2026-01", "2026-01-3" + "0" * 9_000]]
    lines = refused(cli, "filings", cli.file("filings.csv", csv_text(rows)), "2: filed_on")
    assert len(lines[0]) < 600 and "个字符" in lines[0]


def test_long_xlsx_cell_is_refused_at_its_row(cli: Cli) -> None:
    limits(cli, max_cell_chars=100)
    path = workbook(cli.dir / "filings.xlsx", [FILINGS_HEAD, [CODES["A"], "2026-01", "y" * 1_000]])
    refused(cli, "filings", path, "2: filed_on")


# --- XLSX parts and dimensions ------------------------------------------------------------------------------


def _shared_strings(size: int) -> Callable[[str, bytes], bytes]:
    """Turns the sheet's first data cell into shared string 0, `size` characters long."""

    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/worksheets/sheet1.xml":
            start = data.index(b'<c r="A2"')
            end = data.index(b"</c>", start) + 4
            return data[:start] + b'<c r="A2" t="s"><v>0</v></c>' + data[end:]
        if name == "[Content_Types].xml":
            return data.replace(
                b"</Types>",
                b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
            )
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
            )
        return data

    return edit


def shared_string_workbook(path: Path, size: int) -> Path:
    """A workbook whose cell A2 is shared string 0, `size` characters of "a". The zip is written by hand from
    deflate blocks made once (a full flush resets the compressor, so each MiB compresses to the same bytes):
    a 1 GiB string takes a second to make, not the half minute deflating it would."""
    data = workbook_bytes([FILINGS_HEAD, [CODES["A"], "2026-01", "2026-01-30"]], _shared_strings(size))
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        entries = [_deflated(info.filename, [src.read(info)]) for info in src.infolist()]
    mib = b"a" * (1 << 20)
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
    tail = b"</t></si></sst>"
    pieces = [head, *([mib] * (size >> 20)), b"a" * (size & ((1 << 20) - 1)), tail]
    entries.append(_deflated("xl/sharedStrings.xml", pieces))
    _write_zip(path, entries)
    return path


_Entry = tuple[str, list[bytes], int, int]  # name, deflated pieces, CRC-32, size unpacked


def _deflated(name: str, pieces: list[bytes]) -> _Entry:
    out: list[bytes] = []
    crc, size, made = 0, 0, {}
    for piece in pieces:
        crc, size = zlib.crc32(piece, crc), size + len(piece)
        if piece not in made:
            c = zlib.compressobj(1, zlib.DEFLATED, -15)
            made[piece] = c.compress(piece) + c.flush(zlib.Z_FULL_FLUSH)
        out.append(made[piece])
    out.append(zlib.compressobj(1, zlib.DEFLATED, -15).flush())  # the final (empty) block
    return name, out, crc, size


def _write_zip(path: Path, entries: list[_Entry]) -> None:
    central = []
    with path.open("wb") as fh:
        for name, pieces, crc, size in entries:
            raw, packed, offset = name.encode(), sum(map(len, pieces)), fh.tell()
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, packed, size, len(raw), 0) + raw)
            for piece in pieces:
                fh.write(piece)
            central.append(
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    20,
                    20,
                    0,
                    8,
                    0,
                    0,
                    crc,
                    packed,
                    size,
                    len(raw),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + raw
            )
        start = fh.tell()
        for record in central:
            fh.write(record)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), fh.tell() - start, start, 0))


def test_xlsx_shared_strings_past_the_size_limit_are_refused_unread(cli: Cli) -> None:
    limits(cli, max_file_mb=1)
    path = shared_string_workbook(cli.dir / "filings.xlsx", 3 << 20)
    assert path.stat().st_size < 100_000  # a small file that unpacks to 3 MB
    lines = refused(cli, "filings", path, "1: 文件 (file)", seconds=3)
    assert "xl/sharedStrings.xml" in lines[0] and "imports.max_file_mb = 1" in lines[0]


def test_xlsx_long_shared_string_is_refused(cli: Cli) -> None:
    limits(cli, max_cell_chars=1000)
    path = shared_string_workbook(cli.dir / "filings.xlsx", 5_000)
    lines = refused(cli, "filings", path, "1: 文件 (file)")
    assert "共享字符串第 1 项" in lines[0]


def test_a_well_formed_shared_string_workbook_imports(cli: Cli) -> None:
    # The same construction with a legal value: the refusals above are about the limits, not the file's shape.
    path = shared_string_workbook(cli.dir / "filings.xlsx", 10)
    result = cli("filings", "import", str(path), "--dry-run")
    assert result.code == 2 and "credit_code" in result.err  # "aaaaaaaaaa" is not a credit code, but was read


def test_xlsx_declaring_67_million_rows_is_refused_fast(cli: Cli) -> None:
    def declare(name: str, data: bytes) -> bytes:
        return data.replace(b'<dimension ref="A1:C2"', b'<dimension ref="A1:C67108864"')

    path = workbook(cli.dir / "filings.xlsx", [FILINGS_HEAD, [CODES["A"], "2026-01", "2026-01-30"]], declare)
    lines = refused(cli, "filings", path, "1: 文件 (file)", seconds=3)
    assert "67108864" in lines[0]


def test_xlsx_with_a_row_past_excels_last_is_refused(cli: Cli) -> None:
    def far(name: str, data: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return data
        for col in "ABC":
            data = data.replace(f'r="{col}2"'.encode(), f'r="{col}67108864"'.encode())
        return data.replace(b'<row r="2"', b'<row r="67108864"')

    path = workbook(cli.dir / "filings.xlsx", [FILINGS_HEAD, [CODES["A"], "2026-01", "2026-01-30"]], far)
    refused(cli, "filings", path, "1048577: 文件 (file)")


# --- rows and size ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["filings.csv", "filings.jsonl"])
def test_rows_past_max_rows_are_refused(cli: Cli, name: str) -> None:
    limits(cli, max_rows=5)
    data = [[CODES["A"], f"2025-{m:02d}", f"2025-{m:02d}-20"] for m in range(1, 8)]
    if name.endswith(".csv"):
        content = csv_text([FILINGS_HEAD, *data])
    else:
        content = "".join(json.dumps(dict(zip(FILINGS_HEAD, row, strict=True))) + "\n" for row in data)
    lines = refused(cli, "filings", cli.file(name, content), "7: 文件 (file)")
    assert "imports.max_rows = 5" in lines[0]


def test_file_past_max_file_mb_is_refused_unread(cli: Cli) -> None:
    limits(cli, max_file_mb=1)
    row = csv_text([[CODES["A"], "2026-01", "2026-01-30"]])
    path = cli.file("filings.csv", csv_text([FILINGS_HEAD]) + row * ((1 << 20) // len(row) + 10))
    lines = refused(cli, "filings", path, "1: 文件 (file)")
    assert "imports.max_file_mb = 1" in lines[0]


# --- encodings, file names, addresses -----------------------------------------------------------------------


def test_gb18030_csv_with_one_utf8_row_is_refused_at_that_row(cli: Cli) -> None:
    head = "统一社会信用代码,名称,类型,所属区县,认定日期,证书编号,联系邮箱\r\n".encode("gb18030")
    good = f"{CODES['A']},成都市甲中小企业服务平台,平台,锦江区,2024-03-15,,\r\n".encode("gb18030")
    utf8 = f"{CODES['B']},成都乙创业基地,基地,高新区,2023-06-01,,\r\n".encode()
    more = f"{CODES['C']},成都丙服务平台,平台,天府新区,,,\r\n".encode("gb18030")
    lines = refused(cli, "entities", cli.file("roster.csv", head + good + utf8 + more), "3: 文件 (file)")
    assert "mixed encodings" in lines[0] and "UTF-8" in lines[0]


def test_utf8_csv_with_one_gb18030_row_is_refused_at_that_row(cli: Cli) -> None:
    head = "统一社会信用代码,名称,类型,所属区县,认定日期,证书编号,联系邮箱\r\n".encode()
    good = f"{CODES['A']},成都市甲中小企业服务平台,平台,锦江区,2024-03-15,,\r\n".encode()
    gb = f"{CODES['B']},成都乙创业基地,基地,高新区,2023-06-01,,\r\n".encode("gb18030")
    lines = refused(cli, "entities", cli.file("roster.csv", head + gb + good), "2: 文件 (file)")
    assert "mixed encodings" in lines[0] and "GB18030" in lines[0]


def test_control_characters_in_a_file_name_are_escaped_when_shown_and_stored(cli: Cli) -> None:
    name = "events\n\x1b[31mred\u202e.csv"
    path = cli.file(name, "credit_code,kind,date\r\n" + f"{CODES['A']},publicized,2099-03-01\r\n")
    result = cli("events", "import", str(path))
    assert result.code == 2
    assert "\x1b" not in result.err and "\u202e" not in result.err
    problems = [line for line in result.err.splitlines() if "2: date" in line]
    assert len(problems) == 1 and problems[0].startswith(str(cli.dir) + "/events\\x0a\\x1b[31mred\\u202e.csv:2: ")
    path.write_text("credit_code,kind,date\r\n" + f"{CODES['A']},publicized,2026-03-01\r\n", encoding="utf-8")
    assert cli("events", "import", str(path)).code == 0
    with cli.db.session() as s:
        sources = set(s.execute(sa.select(EventRow.source).where(EventRow.kind == "publicized")).scalars())
    assert sources == {"events\\x0a\\x1b[31mred\\u202e.csv"}


def test_email_address_longer_than_254_characters_is_refused(cli: Cli) -> None:
    long_address = "a" * 250 + "@example.org"
    rows = [ROSTER_HEAD, [CODES["A"], "甲", "平台", "锦江区", "2024-03-15", "", long_address]]
    lines = refused(cli, "entities", cli.file("roster.csv", csv_text(rows)), "2: email")
    assert "254" in lines[0]
    assert not config.is_email(long_address) and config.is_email("a" * 242 + "@example.org")


def test_config_refuses_an_email_address_longer_than_254_characters(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[recipients]\nstaff = ["{"s" * 250}@example.org"]\n', encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"recipients\.staff"):
        config.load(path, environ={})


# --- the real defaults, measured ----------------------------------------------------------------------------

PROBE = """
import resource, sys, time
from pathlib import Path
from monitor.importing import fields
from monitor.importing.problems import Problems
from monitor.importing.readers import Reader
for arg in sys.argv[1:]:
    name, kind = arg.rsplit("=", 1)
    problems = Problems(name)
    started = time.perf_counter()
    rows = sum(1 for _ in Reader(Path(name), getattr(fields, kind), problems))
    took = time.perf_counter() - started
    text = "\\n".join(problems.lines())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{took:.3f}\\t{peak}\\t{len(text.encode())}\\t{rows}\\t{text[:300]!r}")
"""


@pytest.mark.slow
def test_the_issues_hostile_files_with_the_real_defaults(tmp_path: Path) -> None:
    """The files of the fault campaign, against the defaults, read in one subprocess: each refused within 60 s,
    with at most 100 kB of problems, the process's peak memory under 1 GiB (Linux counts the parent's memory
    at fork in the child's peak, so this is an upper bound)."""
    gib = 1 << 30
    deep, value = tmp_path / "deep.json", tmp_path / "value.csv"
    deep.write_text("[" + "[" * 10_000 + "]" * 10_000 + "]", encoding="utf-8")
    with value.open("w", encoding="utf-8") as fh:
        fh.write("credit_code,period,filed_on\r\n" + CODES["A"] + ",2026-01,")
        fh.write("9" * (50 << 20))
        fh.write("\r\n")
    declared = workbook(
        tmp_path / "dim.xlsx",
        [FILINGS_HEAD, [CODES["A"], "2026-01", "2026-01-30"]],
        lambda _name, data: data.replace(b'<dimension ref="A1:C2"', b'<dimension ref="A1:C67108864"'),
    )
    files = {
        "1 GiB shared string": (shared_string_workbook(tmp_path / "ss.xlsx", gib), "FILING_FIELDS"),
        "67M declared rows": (declared, "FILING_FIELDS"),
        "10,000-deep JSON": (deep, "EVENT_FIELDS"),
        "50 MB value": (value, "FILING_FIELDS"),
    }
    args = [f"{path}={kind}" for path, kind in files.values()]
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert len(lines) == len(files), out.stderr
    for (label, (path, _kind)), line in zip(files.items(), lines, strict=True):
        took, peak, err_bytes, rows, text = line.split("\t")
        assert float(took) < 60 and int(peak) < gib and int(err_bytes) <= MAX_STDERR, (label, line)
        assert rows == "0" and f"{path}:" in text, (label, line)
