"""`sme-monitor entities|filings|events import FILE`, `events record KIND CODE` and `filings record CODE`."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from monitor.cli.context import Context, UsageError
from monitor.cli.groups import group

if TYPE_CHECKING:  # monitor.importing (SQLAlchemy, openpyxl on use) is imported by the handlers
    from monitor.importing import ImportOptions, Summary

EXIT_OK, EXIT_BAD_INPUT = 0, 2
COMMAND_LINE = "命令行 (command line)"
SOURCE_MAX = 300

HELP = {
    "entities": "导入名册：按统一社会信用代码新增或更新 (upsert the roster)",
    "filings": "导入月度填报记录 (import monthly filings)",
    "events": "导入事件记录，含区县年度报告 (import events, district reports included)",
}
# How the command line names each field of an events file, for messages in the same FILE: column: form.
EVENT_OPTIONS = {
    "credit_code": "CODE",
    "kind": "KIND",
    "date": "--date",
    "result": "--result",
    "detail": "--detail",
    "note": "--note",
    "district": "--district",
    "year": "--year",
    "period": "--period",
    "cert_no": "--cert-no",
    "scheme": "--scheme",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for what, help_text in HELP.items():
        p = group(sub, what).add_parser("import", help=help_text, description=help_text)
        p.add_argument("file", metavar="FILE", help="CSV (UTF-8 或 GB18030)、XLSX（第一个工作表）或 JSON / JSON lines")
        p.add_argument("--dry-run", action="store_true", help="只检查并统计，不写入 (check and count, write nothing)")
        _by(p)
        p.set_defaults(handler=run_import, what=what)

    rec = group(sub, "events").add_parser(
        "record",
        help="登记一条事件 (record one event)",
        description="登记一条事件；区县年度报告：events record district_report --district D --year Y --date DATE",
    )
    rec.add_argument("kind", metavar="KIND", help="certified, restructured, evaluated, revoked, district_report ...")
    rec.add_argument("code", metavar="CODE", nargs="?", help="统一社会信用代码 (not for district_report)")
    rec.add_argument("--date", required=True, help="发生日期 YYYY-MM-DD")
    rec.add_argument("--result", help="passed|failed（evaluated, restructuring_reviewed）")
    rec.add_argument(
        "--detail", help="rename|merger|split|other; refused_cooperation|fraud|violation; 条款 18|20|21|22"
    )
    rec.add_argument("--note", help="备注")
    rec.add_argument("--district", help="所属区县（district_report）")
    rec.add_argument("--year", help="年度：区县报告所涉年度，或申报年度（applied）")
    rec.add_argument("--period", help="填报月份 YYYY-MM（filing）")
    rec.add_argument("--cert-no", dest="cert_no", help="证书编号（certified）")
    rec.add_argument("--scheme", help="认定依据 current|2018（certified）")
    rec.add_argument("--dry-run", action="store_true", help="只检查，不写入 (check only)")
    _by(rec)
    rec.set_defaults(handler=record_event)

    fil = group(sub, "filings").add_parser("record", help="登记一条月度填报 (record one monthly filing)")
    fil.add_argument("code", metavar="CODE", help="统一社会信用代码")
    fil.add_argument("--period", required=True, help="填报月份 YYYY-MM")
    fil.add_argument("--date", required=True, help="填报日期 YYYY-MM-DD")
    fil.add_argument("--dry-run", action="store_true", help="只检查，不写入 (check only)")
    _by(fil)
    fil.set_defaults(handler=record_filing)


def _by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", metavar="NAME", help="登记人 (recorded by; default: the operating-system user)")


def _options(ctx: Context, source: str) -> ImportOptions:
    from monitor.importing import ImportOptions
    from monitor.importing.problems import shown
    from monitor.importing.values import Bad, plain_text

    by = ctx.args.by
    if by is None:
        try:
            by = getpass.getuser()
        except Exception:  # no user name in this environment (some containers)
            by = "unknown"
    try:
        by = plain_text(by, max_len=100)
    except Bad as exc:
        raise UsageError(f"--by: {exc}") from None
    if not by:
        raise UsageError("--by: 登记人不能为空 (the name must not be empty)")
    return ImportOptions(
        today=ctx.today,
        now=ctx.now,
        districts=frozenset(d.name for d in ctx.settings.districts),
        # A file name may hold a newline or terminal escapes: stored and shown escaped, never raw.
        source=shown(source, SOURCE_MAX // 2)[:SOURCE_MAX],
        recorded_by=by,
        limits=ctx.settings.imports,
    )


def _report(run: Callable[[], Summary]) -> tuple[int, Summary | None]:
    from monitor.importing import ImportFailed

    try:
        summary = run()
    except ImportFailed as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        print(
            f"sme-monitor: 共 {len(exc.lines)} 个问题，未写入任何数据 ({len(exc.lines)} problems: nothing was written)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT, None
    return EXIT_OK, summary


def run_import(ctx: Context) -> int:
    from pathlib import Path

    from monitor.importing import import_file

    path = Path(ctx.args.file)
    opts = _options(ctx, path.name)
    db = ctx.checked_db()
    dry_run = ctx.args.dry_run
    status, summary = _report(lambda: import_file(db, ctx.args.what, path, ctx.args.file, opts, dry_run=dry_run))
    if summary is not None:
        print(summary.line(dry_run))
    return status


def _recorded(summary: Summary, what: str, dry_run: bool) -> str:
    if summary.added:
        text = f"已登记 (recorded): {what}"
    elif summary.updated:
        text = f"已更新为更早的日期 (moved to the earlier date): {what}"
    else:
        text = f"已有相同记录，未改变 (already recorded, nothing changed): {what}"
    return text + ("；试运行，未写入 (dry run)" if dry_run else "")


def record_event(ctx: Context) -> int:
    from monitor.importing import CLI, import_rows
    from monitor.importing.fields import EVENT_FIELDS

    a = ctx.args
    given = {
        "credit_code": a.code,
        "kind": a.kind,
        "date": a.date,
        "result": a.result,
        "detail": a.detail,
        "note": a.note,
        "district": a.district,
        "year": a.year,
        "period": a.period,
        "cert_no": a.cert_no,
        "scheme": a.scheme,
    }
    cells = [given[f.name] for f in EVENT_FIELDS]
    labels = [EVENT_OPTIONS[f.name] for f in EVENT_FIELDS]
    opts = _options(ctx, CLI)
    db = ctx.checked_db()
    status, summary = _report(
        lambda: import_rows(db, "events", [(None, cells)], labels, COMMAND_LINE, opts, dry_run=a.dry_run)
    )
    if summary is not None:
        subject = a.code or f"{a.district} {a.year}"
        print(_recorded(summary, f"{a.kind} {subject} {a.date}", a.dry_run))
    return status


def record_filing(ctx: Context) -> int:
    from monitor.importing import CLI, import_rows

    a = ctx.args
    cells = [a.code, a.period, a.date]
    labels = ["CODE", "--period", "--date"]
    opts = _options(ctx, CLI)
    db = ctx.checked_db()
    status, summary = _report(
        lambda: import_rows(db, "filings", [(None, cells)], labels, COMMAND_LINE, opts, dry_run=a.dry_run)
    )
    if summary is not None:
        print(_recorded(summary, f"filing {a.code} {a.period} {a.date}", a.dry_run))
    return status
