"""`sme-monitor applications template|import|list|check` (SPEC section 9)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.cli import commands_import
from monitor.cli.context import Context, UsageError, parse_date
from monitor.cli.groups import group
from monitor.cli.output import print_json, table

if TYPE_CHECKING:  # the applications package (SQLAlchemy, openpyxl) is imported by the handlers
    from monitor.applications.evaluate import ConditionResult
    from monitor.applications.service import Checked

# By result value: unmet first, then unknown, then met.
RESULT_ZH = {"met": "符合", "unmet": "不符合", "unknown": "未知（未填）"}
ORDER = {"unmet": 0, "unknown": 1, "met": 2}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = group(sub, "applications")
    t = g.add_parser("template", help="生成申报表模板 XLSX (write an empty application workbook)")
    t.add_argument("file", metavar="FILE.xlsx")
    t.set_defaults(handler=template_command)

    i = g.add_parser("import", help="导入申报材料 (import applications: CSV, XLSX or JSON)")
    i.add_argument("file", metavar="FILE", help="CSV (UTF-8 或 GB18030)、XLSX（第一个工作表）或 JSON / JSON lines")
    i.add_argument("--dry-run", action="store_true", help="只检查并统计，不写入 (check and count, write nothing)")
    i.add_argument("--by", metavar="NAME", help="登记人 (recorded by; default: the operating-system user)")
    i.set_defaults(handler=import_command)

    ls = g.add_parser("list", help="列出申报及其结论 (list applications and their verdicts)")
    ls.add_argument("--year", help="申报年度")
    ls.add_argument("--as-of", type=parse_date, metavar="DATE", help="按该日已知的禁止申报期判断")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=list_command)

    c = g.add_parser("check", help="逐项核对申报条件 (check an application against Arts. 4-7)")
    c.add_argument("code", metavar="CODE", help="统一社会信用代码")
    c.add_argument("--year", help="申报年度（默认最近一次申报）")
    c.add_argument("--as-of", type=parse_date, metavar="DATE", help="按该日已知的禁止申报期判断")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=check_command)


def template_command(ctx: Context) -> int:
    from monitor.applications.template import write_template

    path = Path(ctx.args.file)
    if path.suffix.lower() != ".xlsx":
        raise UsageError(f"{ctx.args.file}: 模板应保存为 .xlsx (the template is an .xlsx file)")
    write_template(path, [d.name for d in ctx.settings.districts])
    print(f"已生成申报表模板 (template written): {path}")
    return 0


def import_command(ctx: Context) -> int:
    from monitor.importing import import_file

    path = Path(ctx.args.file)
    opts = commands_import._options(ctx, path.name)
    db = ctx.checked_db()
    dry_run = ctx.args.dry_run
    status, summary = commands_import._report(
        lambda: import_file(db, "applications", path, ctx.args.file, opts, dry_run=dry_run)
    )
    if summary is not None:
        print(summary.line(dry_run))
    return status


def _year(ctx: Context) -> int | None:
    from monitor.importing.values import Bad, year_cell

    try:
        return year_cell(ctx.args.year) if ctx.args.year else None
    except Bad as exc:
        raise UsageError(f"--year: {exc}") from None


def _load(ctx: Context, codes: list[str] | None) -> list[Checked]:
    from monitor.applications.service import checked

    db = ctx.checked_db()
    with db.session() as session:
        return checked(
            session,
            ctx.as_of(),
            ctx.calendar,
            ctx.settings.rules,
            codes=codes,
            year=_year(ctx),
            locale=ctx.settings.locale,
        )


def list_command(ctx: Context) -> int:
    rows = _load(ctx, None)
    rows.sort(key=lambda c: (-c.application.year, c.entity.district, c.entity.credit_code))
    out = [
        {
            "credit_code": c.entity.credit_code,
            "year": c.application.year,
            "kind": c.application.kind.value,
            "name": c.entity.name,
            "district": c.entity.district,
            "applied_on": c.application.applied_on,
            "verdict": c.check.verdict.value,
        }
        for c in rows
    ]
    if ctx.args.json:
        print_json(out)
        return 0
    if not out:
        print("没有申报记录 (no applications)")
        return 0
    print(
        table(
            (
                (
                    o["year"],
                    o["credit_code"],
                    o["name"],
                    c.application.kind.zh,
                    o["district"],
                    o["applied_on"],
                    c.check.verdict.zh,
                )
                for o, c in zip(out, rows, strict=True)
            ),
            ["年度", "统一社会信用代码", "名称", "类型", "区县", "申报日期", "结论"],
        )
    )
    return 0


def check_command(ctx: Context) -> int:
    from monitor.importing.values import Bad, credit

    try:
        code = credit(ctx.args.code)
    except Bad as exc:
        raise UsageError(f"CODE: {exc}") from None
    rows = _load(ctx, [code])
    if not rows:
        year = f" {ctx.args.year} 年度" if ctx.args.year else ""
        raise UsageError(f"{code}: 没有{year}申报记录 (no application)")
    c = max(rows, key=lambda r: r.application.year)  # without --year: the latest application
    if ctx.args.json:
        print_json(check_json(c))
        return 0
    _print_check(c, ctx.settings.locale)
    return 0


def check_json(c: Checked) -> dict[str, Any]:
    return {
        "credit_code": c.entity.credit_code,
        "year": c.application.year,
        "kind": c.application.kind.value,
        "verdict": c.check.verdict.value,
        "conditions": [r.to_json() for r in c.check.conditions],
    }


def _value(r: ConditionResult) -> str:
    from monitor.rules.messages import fmt_date

    v = r.value
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "是" if v else "否"
    return fmt_date(v, "zh_CN") if hasattr(v, "isoformat") else str(v)


def _print_check(c: Checked, locale: str) -> None:
    from monitor.rules.messages import fmt_date

    a, check = c.application, c.check
    print(
        f"{c.entity.name}（{c.entity.credit_code}）{a.year}年度申报{a.kind.zh}，申报日期 {fmt_date(a.applied_on, 'zh_CN')}"
    )
    print(f"结论：{check.verdict.zh}（{check.verdict.value}）\n")
    ordered = sorted(check.conditions, key=lambda r: ORDER[r.result.value])  # unmet first, then unknown, then met
    for r in ordered:
        if r.result.value != "met":
            print(f"  {RESULT_ZH[r.result.value]} {r.id}：{r.text}")
    print()
    print(_table(ordered))


def _table(ordered: list[ConditionResult]) -> str:
    return table(
        ((r.id, r.where, RESULT_ZH[r.result.value], _value(r), r.need) for r in ordered),
        ["条件", "条款", "结果", "实际", "要求"],
    )
