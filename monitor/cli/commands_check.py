"""`sme-monitor check`: evaluate every rule on a date and print the findings; writes nothing."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from typing import TYPE_CHECKING

from monitor.cli.context import Context, parse_date
from monitor.cli.output import print_json, table

if TYPE_CHECKING:  # the rules and the sweep (SQLAlchemy) are imported by the handler
    from monitor.rules.finding import Finding
    from monitor.sweep import SweepResult

log = logging.getLogger(__name__)

# By monitor.domain.Severity value (an IntEnum looks its members up alike): the parser is built without it.
SEVERITY_ZH = {4: "严重", 3: "警告", 2: "提醒", 1: "信息"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser("check", help="evaluate every rule and print the findings (changes nothing)")
    check.add_argument("--as-of", type=parse_date, metavar="DATE", help="evaluate as if today were DATE")
    check.add_argument("--json", action="store_true", help="print a JSON array of findings")
    check.add_argument("--messages", action="store_true", help="print each finding's full message")
    check.set_defaults(handler=check_command)


def urgency(f: Finding) -> tuple[int, int, str, str]:
    """Most urgent first: severity, then the nearest (or longest overdue) deadline."""
    return (-f.severity, f.days_left if f.days_left is not None else 10**6, f.entity or f.district or "", f.rule)


def check_command(ctx: Context) -> int:
    from monitor.sweep import run_sweep

    as_of = ctx.as_of()
    db = ctx.checked_db()
    with db.session() as session:
        result = run_sweep(
            session, as_of, ctx.calendar, ctx.settings.rules, ctx.settings.districts, label="检查 (check)"
        )
    findings = sorted(result.findings, key=urgency)
    for w in result.warnings:
        log.warning("%s", w)
    for err in result.errors:
        log.error("entity %s skipped: %s", err.credit_code, err.error)
    if ctx.args.json:
        print_json([f.to_json(ctx.settings.locale) for f in findings])
        return 0
    print_findings(result, findings, ctx.settings.locale, messages=ctx.args.messages)
    return 0


def print_findings(result: SweepResult, findings: list[Finding], locale: str, *, messages: bool = False) -> None:
    from monitor.domain import Severity

    out = sys.stdout
    print(f"合规监测结果（截至 {result.as_of.isoformat()}）", file=out)
    for sev in sorted(Severity, reverse=True):
        group = [f for f in findings if f.severity == sev]
        if not group:
            continue
        print(f"\n【{SEVERITY_ZH[sev]} {sev.label}】{len(group)} 项", file=out)
        rows = (
            (
                f.rule.value,
                f"第{f.article}条",
                f.entity_name or f.district or "《办法》",
                f.district or "",
                f.stage,
                f.due.isoformat() if f.due else "",
                "" if f.days_left is None else f.days_left,
            )
            for f in group
        )
        print(table(rows, ["规则", "条款", "主体", "区县", "阶段", "截止日期", "剩余天数"]), file=out)
        if messages:
            for f in group:
                print(f"  - {f.message(locale)}", file=out)
    counts = Counter(f.severity for f in findings)
    summary = "，".join(f"{SEVERITY_ZH[s]} {counts[s]}" for s in sorted(Severity, reverse=True))
    print(f"\n共 {len(findings)} 项发现（{summary}）；检查主体 {len(result.statuses)} 个", file=out)
    for w in result.warnings:
        print(f"注意：{w}", file=out)
    for err in result.errors:
        print(f"错误：主体 {err.credit_code} 未能检查：{err.error}", file=out)
