"""`applications template FILE.xlsx`: an empty workbook to fill in, one row per application.

Sheet 1 (申报表): Chinese headers that name the conditions each field serves ("注册资金（万元）[A4-1]", which
the importer reads back), drop-down lists for yes/no and the fixed choices, text-formatted code and date
columns. Sheet 2 (填写说明): every field, how to fill it, the conditions and their articles, and Art. 26's
counting rule beside each service figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from monitor.applications.conditions import BY_ID, CONDITIONS, FUNCTION_ZH, STATE_FIELDS
from monitor.applications.fields import APPLICATION_FIELDS, ART7_THIRD_PARTY_ZH, ART26_ZH, AppField, Type
from monitor.domain import Kind

ROWS = 500  # rows that get the drop-down lists

HOW = {
    Type.CODE: "18位统一社会信用代码（文本格式）",
    Type.YEAR: "四位年份，如 2026",
    Type.KIND: "下拉选择：平台 / 基地",
    Type.TEXT: "文本",
    Type.DISTRICT: "下拉选择所属区（市）县",
    Type.DATE: "日期 YYYY-MM-DD",
    Type.YES: "下拉选择：是 / 否（由申报单位或区县核实填写）",
    Type.COUNT: "整数，≥ 0",
    Type.NUMBER: "数字，≥ 0",
    Type.PERCENT: "百分比数字 0-100，如 85 或 85%",
    Type.PARK: "下拉选择：制造业园区 / 楼宇经济园",
}


def header(f: AppField) -> str:
    return f"{f.zh}[{f.serves}]" if f.serves != "主体" else f.zh


def _functions_help() -> str:
    platform = "、".join(f"{n}（{z}）" for n, z in FUNCTION_ZH[Kind.PLATFORM].items())
    base = "、".join(f"{n}（{z}）" for n, z in FUNCTION_ZH[Kind.BASE].items())
    return f"多个用分号 ; 分隔。平台：{platform}；基地：{base}"


def _is_service_figure(f: AppField) -> bool:
    """A count of services the function conditions (Arts. 5, 7) or Art. 4 (6) read: Art. 26 says how."""
    if f.type is not Type.COUNT or f.name in STATE_FIELDS:
        return False
    return f.name.startswith("served_") or any(c.function and f.name in c.fields for c in CONDITIONS)


def _conditions_text(f: AppField) -> str:
    ids = [i for i in f.serves.split() if i in BY_ID]
    return "\n".join(f"{i}：{BY_ID[i].zh}" for i in ids)


def _counting_rule(f: AppField) -> str:
    if not _is_service_figure(f):
        return ""
    base = any(BY_ID[i].article == 7 for i in f.serves.split() if i in BY_ID)
    return ART26_ZH + (ART7_THIRD_PARTY_ZH if base else "")


def write_template(path: Path, districts: Iterable[str]) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "申报表"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    kinds = DataValidation(type="list", formula1='"平台,基地"', allow_blank=True)
    parks = DataValidation(type="list", formula1='"制造业园区,楼宇经济园"', allow_blank=True)
    district_list = DataValidation(type="list", formula1='"' + ",".join(districts) + '"', allow_blank=True)
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
    share = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True)
    for dv, title, prompt in (
        (yes_no, "是/否", "请选择 是 或 否"),
        (kinds, "类型", "平台 或 基地"),
        (parks, "园区类型", "制造业园区 或 楼宇经济园"),
        (district_list, "所属区县", "请选择所属区（市）县"),
        (whole, "整数", "请填写不小于 0 的整数"),
        (share, "百分比", "请填写 0-100 之间的数字"),
    ):
        dv.error = prompt
        dv.errorTitle = title
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
    by_type = {
        Type.YES: yes_no,
        Type.KIND: kinds,
        Type.PARK: parks,
        Type.DISTRICT: district_list,
        Type.COUNT: whole,
        Type.PERCENT: share,
    }
    for col, f in enumerate(APPLICATION_FIELDS, 1):
        letter = get_column_letter(col)
        cell = ws.cell(row=1, column=col, value=header(f))
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        note = "\n".join(
            x
            for x in (
                f.name,
                HOW[f.type] if f.type is not Type.FUNCTIONS else _functions_help(),
                _conditions_text(f),
                _counting_rule(f),
            )
            if x
        )
        cell.comment = Comment(note[:2000], "sme-monitor", width=420, height=240)
        ws.column_dimensions[letter].width = max(12, min(28, len(header(f)) * 2))
        dv = by_type.get(f.type)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{ROWS + 1}")
        if f.type in (Type.CODE, Type.DATE, Type.FUNCTIONS, Type.TEXT):
            for r in range(2, ROWS + 2):
                ws.cell(row=r, column=col).number_format = "@"  # text: Excel must not turn codes into numbers
    ws.freeze_panes = "B2"

    doc = wb.create_sheet("填写说明")
    doc.append(["字段 (field)", "中文表头", "填写方式", "服务的认定条件（条款）", "计数规则（第二十六条）"])
    for cell in doc[1]:
        cell.font, cell.fill = bold, fill
    for f in APPLICATION_FIELDS:
        how = HOW[f.type] if f.type is not Type.FUNCTIONS else _functions_help()
        required = "（必填）" if f.required else ""
        doc.append([f.name, header(f), how + required, _conditions_text(f) or f.serves, _counting_rule(f)])
    doc.append([])
    doc.append(
        [
            "说明",
            "“以上”“不少于”“不低于”均含本数（《民法典》第一千二百五十九条）；注册登记3年以上按申报日期的对应日计算。",
        ]
    )
    doc.append(
        [
            "说明",
            "平台须同时具备第四条各项条件，并满足第五条至少一项服务功能；基地须同时具备第六条各项条件，并具备第七条不少于4种服务功能。",
        ]
    )
    for letter, width in zip("ABCDE", (24, 34, 40, 70, 60), strict=True):
        doc.column_dimensions[letter].width = width
    for row in doc.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)
