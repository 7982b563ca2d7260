"""`sme-monitor check`: evaluate every rule on a date and print the findings; writes nothing."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from typing import TYPE_CHECKING

from monitor.cli.context import Context, parse_date
from monitor.cli.output import print_json, table

if TYPE_CHECKING:  # the rules, the kept answer and the sweep (SQLAlchemy) are imported by the handler
    from sqlalchemy.orm import Session

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
    check.add_argument(
        "--full", action="store_true", help="evaluate every entity afresh, ignoring the kept answer, and compare"
    )
    check.set_defaults(handler=check_command)


def urgency(f: Finding) -> tuple[int, int, str, str]:
    """Most urgent first: severity, then the nearest (or longest overdue) deadline."""
    return (-f.severity, f.days_left if f.days_left is not None else 10**6, f.entity or f.district or "", f.rule)


def check_command(ctx: Context) -> int:
    from monitor import kept
    from monitor.sweep import run_sweep

    as_of = ctx.as_of()
    db = ctx.checked_db()
    rules, districts = ctx.settings.rules, ctx.settings.districts
    disagree = 0
    if getattr(ctx.args, "full", False):  # the demo calls this with its own options
        with db.session() as session:
            result = run_sweep(session, as_of, ctx.calendar, rules, districts, label="全量检查 (check --full)")
            disagree = compare_with_kept(session, result, ctx)
    else:
        result = kept.current(db, as_of, ctx.calendar, rules, districts, today=ctx.today)
    findings = sorted(result.findings, key=urgency)
    for w in result.warnings:
        log.warning("%s", w)
    for err in result.errors:
        log.error("entity %s skipped: %s", err.credit_code, err.error)
    if ctx.args.json:
        print_json([f.to_json(ctx.settings.locale) for f in findings])
    else:
        print_findings(result, findings, ctx.settings.locale, messages=ctx.args.messages)
    return 1 if disagree else 0


def _signature(findings: list[Finding]) -> list[str]:
    """A finding as JSON text without `days_left`: equal findings give equal text, however dates were made."""
    import json

    return sorted(
        json.dumps([f.rule.value, f.subject, f.stage, f.due, f.since, dict(f.params)], default=str, sort_keys=True)
        for f in findings
    )


def compare_with_kept(session: Session, fresh: SweepResult, ctx: Context) -> int:
    """`check --full`: the kept answers valid for the day, entity by entity, against the fresh evaluation.
    Logs each disagreement and a summary line; returns how many entities disagree."""
    from monitor import kept

    fp = kept.fingerprint(ctx.settings.rules, ctx.calendar)
    valid = kept.valid_codes(session, fresh.as_of, fp)
    if not valid:
        log.info("check --full: no kept answer holds for %s; nothing to compare", fresh.as_of)
        return 0
    stored = kept.read(session, fresh.as_of, codes=valid)
    mine: dict[str, list[Finding]] = {}
    theirs: dict[str, list[Finding]] = {}
    for f in fresh.findings:
        if f.entity in valid:
            mine.setdefault(f.entity, []).append(f)
    for f in stored.findings:
        theirs.setdefault(f.entity or "", []).append(f)
    bad = 0
    for code in sorted(valid):
        if fresh.statuses.get(code) != stored.statuses.get(code) or _signature(mine.get(code, [])) != _signature(
            theirs.get(code, [])
        ):
            bad += 1
            log.error("check --full: the kept answer for %s differs from a fresh evaluation", code)
    if bad:
        log.error("check --full: %d of %d kept answers differ from a fresh evaluation", bad, len(valid))
    else:
        log.info("check --full: the kept answer agrees with a fresh evaluation for all %d entities", len(valid))
    return bad


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
