"""Exports of the console's lists (SPEC 8): `format=csv` (UTF-8 with a BOM, so Excel reads Chinese; a cell
that starts with = + - @ gets a ' before it, against formula injection) and `format=xlsx` (every cell
written as text, never as a formula). The rows are the ones the list shows, with the same filters and scope:
the caller passes what it read through `web.access`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from starlette.requests import Request
from starlette.responses import Response

from web.errors import BadParameter

FORMATS = ("csv", "xlsx")
DANGEROUS = ("=", "+", "-", "@")


def wanted(request: Request) -> str | None:
    """`format=csv|xlsx`, None for the page; anything else is a 400 naming `format`."""
    raw = request.query_params.get("format")
    if raw is None or raw == "" or raw == "html":
        return None
    if raw not in FORMATS:
        raise BadParameter("format", "应为 csv 或 xlsx", "must be csv or xlsx", raw)
    return raw


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def safe_cell(value: Any) -> str:
    cell = text(value)
    # Also after leading whitespace or a tab/CR, where spreadsheet programs still see a formula.
    stripped = cell.lstrip(" \t\r\n")
    if stripped[:1] in DANGEROUS or cell[:1] in ("\t", "\r"):
        return "'" + cell
    return cell


def as_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in headers])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31] or "export"
    for r, row in enumerate([list(headers), *map(list, rows)], start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=text(value))
            cell.data_type = TYPE_STRING  # a text cell, also when it starts with '=': never a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def response(fmt: str, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    filename = f"{name}.{fmt}"
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    if fmt == "csv":
        return Response(
            as_csv(headers, rows),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": disposition, "cache-control": "no-store"},
        )
    return Response(
        as_xlsx(headers, rows, name),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": disposition, "cache-control": "no-store"},
    )
