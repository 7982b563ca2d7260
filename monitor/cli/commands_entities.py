"""`sme-monitor entities list|show`: the roster with each entity's computed status."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING, Any

from monitor.cli.context import Context, UsageError, parse_date
from monitor.cli.groups import group
from monitor.cli.output import print_json, table

if TYPE_CHECKING:  # the rules and the database side (SQLAlchemy) are imported by the handlers
    from monitor.status import Reason
    from monitor.sweep import EntityStatus

# By monitor.domain.Status value (a StrEnum looks its members up alike), so the parser is built without the
# domain module; a test checks that every status is here.
STATUS_ZH = {
    "active": "有效",
    "suspended": "暂停",
    "revoked": "撤销",
    "expired": "期满",
    "uncertified": "未认定",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    entities = group(sub, "entities")
    ls = entities.add_parser("list", help="the roster with each entity's status on a date")
    ls.add_argument("--status", choices=list(STATUS_ZH), help="only entities with this status")
    ls.add_argument("--district", help="only entities of this district")
    ls.add_argument("--as-of", type=parse_date, metavar="DATE", help="evaluate as if today were DATE")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(handler=list_entities)
    show = entities.add_parser("show", help="one entity: status, reasons, deadlines, timeline")
    show.add_argument("code", metavar="CODE", help="unified social credit code")
    show.add_argument("--as-of", type=parse_date, metavar="DATE", help="evaluate as if today were DATE")
    show.add_argument("--json", action="store_true", help="print a JSON object")
    show.set_defaults(handler=show_entity)


def reason_json(r: Reason) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "article": r.article,
        "since": r.since.isoformat(),
        "deadline": r.deadline.isoformat() if r.deadline else None,
        "detail": r.detail,
    }


def _summary(code: str, st: EntityStatus, entity: Any) -> dict[str, Any]:
    return {
        "credit_code": code,
        "name": entity.name,
        "kind": entity.kind.value,
        "district": entity.district,
        "status": st.status.value,
        "reasons": [reason_json(r) for r in st.reasons],
        "expires_on": st.expires_on.isoformat() if st.expires_on else None,
        "filing_streak": st.filing_streak,
    }


def list_entities(ctx: Context) -> int:
    from monitor import kept

    args = ctx.args
    known = {d.name for d in ctx.settings.districts}
    if args.district and args.district not in known:
        raise UsageError(f"--district: 未知区县 (unknown district): {args.district!r}")
    as_of = ctx.as_of()
    db = ctx.checked_db()
    result = kept.current(db, as_of, ctx.calendar, ctx.settings.rules, today=ctx.today)
    rows = [
        _summary(code, st, result.entities[code])
        for code, st in result.statuses.items()
        if (not args.status or st.status.value == args.status)
        and (not args.district or result.entities[code].district == args.district)
    ]
    if args.json:
        print_json(rows)
        return 0
    print(
        table(
            (
                (
                    r["credit_code"],
                    r["name"],
                    "平台" if r["kind"] == "platform" else "基地",
                    r["district"],
                    STATUS_ZH[r["status"]],
                    r["expires_on"] or "",
                    r["filing_streak"] or "",
                )
                for r in rows
            ),
            ["统一社会信用代码", "名称", "类型", "区县", "状态", "有效期至", "连续未填报"],
        )
    )
    print(f"\n共 {len(rows)} 个主体（{as_of.isoformat()}）")
    return 0


def show_entity(ctx: Context) -> int:
    from monitor import legal_time as lt
    from monitor.applications.evaluate import check as check_application
    from monitor.rules import evaluate_entity
    from monitor.status import filed_as_required, filing_position
    from monitor.storage import repository

    code = ctx.args.code.strip().upper()
    as_of = ctx.as_of()
    settings = ctx.settings.rules
    db = ctx.checked_db()
    with db.session() as session:
        history = repository.load_history(session, code)
    if history is None:
        raise UsageError(f"未找到统一社会信用代码为 {code} 的主体 (no such entity)")
    if isinstance(history, repository.Unreadable):
        print(f"sme-monitor: 主体 {code} 的数据无法读取 (stored data unreadable): {history.error}", file=sys.stderr)
        return 1
    report = evaluate_entity(history, as_of, ctx.calendar, settings)
    state = report.state
    known = history.up_to(as_of)
    pos = filing_position(known, state, as_of, ctx.calendar, settings)
    e = history.entity
    timeline: list[dict[str, Any]] = [
        {
            "date": ev.date.isoformat(),
            "kind": ev.kind.value,
            "result": ev.result,
            "detail": ev.detail,
            "note": ev.note,
            "recorded_by": ev.recorded_by,
            "source": ev.source,
        }
        for ev in known.events
    ]
    filings = []
    for period, filed in sorted(known.filings.items()):
        deadline = lt.filing_deadline(period, settings.filing_due_day, ctx.calendar)
        on_time = filed_as_required(known, period, deadline, settings)
        filings.append(
            {
                "period": lt.format_period(period),
                "filed_on": filed.isoformat(),
                "deadline": deadline,
                "on_time": on_time,
                "figures": dict(known.figures.get(period, {})),
            }
        )
    ban = (state.ban_from, state.ban_until) if state.ban_from and state.ban_until else None
    applications = []
    for app in known.applications:
        result = check_application(app, ban, ctx.settings.locale)
        applications.append(
            {
                "year": app.year,
                "kind": app.kind.value,
                "applied_on": app.applied_on,
                "verdict": result.verdict.value,
                "unmet": [c.id for c in result.unmet],
            }
        )
    findings = sorted(report.findings, key=lambda f: (-f.severity, f.days_left if f.days_left is not None else 10**6))
    out = {
        "credit_code": e.credit_code,
        "name": e.name,
        "kind": e.kind.value,
        "district": e.district,
        "emails": list(e.emails),
        "cert_no": state.title.cert_no if state.title and state.title.cert_no else e.cert_no,
        "as_of": as_of,
        "status": state.status.value,
        "reasons": [reason_json(r) for r in state.reasons],
        "certified_on": state.title.granted_on if state.title else None,
        "expires_on": state.title.last_valid_day if state.title else None,
        "scheme": state.title.scheme.value if state.title else None,
        "revocation": (
            {
                "article": state.revocation.article,
                "on": state.revocation.on,
                "ban_until": state.revocation.ban_until,
            }
            if state.revocation
            else None
        ),
        "ban_until": state.ban_until,
        "filing_streak": pos.streak,
        "next_filing": (
            {"period": lt.format_period(pos.open_month), "deadline": pos.open_deadline} if pos.open_month else None
        ),
        "deadlines": [
            {"rule": f.rule.value, "due": f.due, "days_left": f.days_left}
            for f in findings
            if f.due is not None and f.days_left is not None and f.days_left >= 0
        ],
        "findings": [f.to_json(ctx.settings.locale) for f in findings],
        "timeline": timeline,
        "filings": filings,
        "functions": list(e.functions),
        "applications": applications,
    }
    if ctx.args.json:
        print_json(out)
        return 0
    _print_entity(out, ctx)
    return 0


def _d(value: Any) -> str:
    from monitor.rules.messages import fmt_date

    return fmt_date(value, "zh_CN") if isinstance(value, date) else (value or "—")


def _print_entity(o: dict[str, Any], ctx: Context) -> None:
    from monitor.applications.evaluate import Verdict

    status = STATUS_ZH[o["status"]]
    print(f"{o['name']}（{o['credit_code']}）")
    print(
        f"  类型：{'平台' if o['kind'] == 'platform' else '基地'}    区县：{o['district']}    证书编号：{o['cert_no'] or '—'}"
    )
    print(f"  状态（{_d(o['as_of'])}）：{status}")
    for r in o["reasons"]:
        what = "法人主体重大调整（第十八条）" if r["article"] == 18 else "测评不合格（第二十一条）"
        deadline = f"，期限 {r['deadline']}" if r["deadline"] else ""
        print(f"    暂停原因：{what}，自 {r['since']}{deadline}")
    if o["revocation"]:
        rv = o["revocation"]
        ban = f"，{_d(rv['ban_until'])}前不得再次申报" if rv["ban_until"] else ""
        print(f"    撤销：依据第{rv['article']}条，{_d(rv['on'])}{ban}")
    print(f"  认定日期：{_d(o['certified_on'])}    有效期至：{_d(o['expires_on'])}")
    print(f"  连续未按规定填报：{o['filing_streak']} 个月", end="")
    if o["next_filing"]:
        print(f"    下一期：{o['next_filing']['period']}，截止 {_d(o['next_filing']['deadline'])}")
    else:
        print()
    if o["findings"]:
        print("\n  监测发现：")
        for f in o["findings"]:
            print(f"  - [{f['severity']}] {f['rule']}（{f['stage']}）：{f['message']}")
    print("\n  事件记录：")
    print(
        table(
            ((t["date"], t["kind"], t["result"], t["detail"], t["note"], t["recorded_by"]) for t in o["timeline"]),
            ["日期", "事件", "结果", "详情", "备注", "记录人"],
        )
    )
    for a in o["applications"]:
        unmet = f"，未满足：{'、'.join(a['unmet'])}" if a["unmet"] else ""
        verdict = Verdict(a["verdict"]).zh
        print(f"\n  {a['year']}年度申报（{_d(a['applied_on'])}）：{verdict}{unmet}（详见 applications check）")
    if o["filings"]:
        late = [f["period"] for f in o["filings"] if not f["on_time"]]
        print(f"\n  月度填报：{len(o['filings'])} 期" + (f"，其中逾期填报：{'、'.join(late)}" if late else ""))
