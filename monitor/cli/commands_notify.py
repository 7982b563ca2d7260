"""`sme-monitor notify`, `outbox list|retry`, `digest`, `ack` and `silence`: the notification commands."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from typing import TYPE_CHECKING

from monitor import credit_code
from monitor.cli.context import Context, UsageError, parse_date
from monitor.cli.groups import group
from monitor.cli.output import print_json, table

if TYPE_CHECKING:  # notifications (SQLAlchemy, Jinja2, aiosmtplib, requests) is imported by the handlers
    from notifications import service

log = logging.getLogger(__name__)
# notifications.models.MessageStatus, named here so the parser is built without the models (a test checks).
MESSAGE_STATES = ("pending", "sending", "sent", "failed")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("notify", help="enqueue the findings' messages and deliver the outbox")
    p.add_argument("--as-of", type=parse_date, metavar="DATE", help="evaluate as if today were DATE")
    p.add_argument("--dry-run", action="store_true", help="print what would be enqueued; write and send nothing")
    p.set_defaults(handler=notify_command)

    box = group(sub, "outbox")
    ls = box.add_parser("list", help="list outbox messages, newest first")
    ls.add_argument("--status", choices=MESSAGE_STATES, help="only messages in this state")
    ls.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(handler=outbox_list)
    rt = box.add_parser(
        "retry", help="send undelivered messages (all, or the IDs given) now, whatever backoff they wait out"
    )
    rt.add_argument("ids", nargs="*", type=int, metavar="ID")
    rt.set_defaults(handler=outbox_retry)

    dg = sub.add_parser("digest", help="build (and send) the daily digest")
    dg.add_argument("--as-of", type=parse_date, metavar="DATE", help="the digest of DATE")
    dg.add_argument("--send", action="store_true", help="enqueue it for the administrators and deliver")
    dg.add_argument("--output", metavar="FILE", help="write the HTML digest to FILE (open it in a browser)")
    dg.set_defaults(handler=digest_command)

    ack = sub.add_parser(
        "ack",
        help="acknowledge a finding (stops its 7-day repeats until its stage changes); `ack list` lists them",
        description="sme-monitor ack RULE/ENTITY/SUBJECT --by NAME [--note TEXT]  |  sme-monitor ack list",
    )
    ack.add_argument("finding", metavar="FINDING|list", help="the finding's ID (RULE/ENTITY/SUBJECT), or `list`")
    ack.add_argument("--by", default="", help="who takes it in hand")
    ack.add_argument("--note", default="", help='e.g. "being handled"')
    ack.add_argument("--as-of", type=parse_date, metavar="DATE", help="date of the acknowledgement (default today)")
    ack.add_argument("--json", action="store_true", help="`ack list`: print JSON")
    ack.set_defaults(handler=ack_command)

    sil = sub.add_parser(
        "silence",
        help="hold an entity's reminders for a dated span; `silence list`, `silence lift ID`",
        description=(
            "sme-monitor silence CODE --until DATE --reason TEXT [--from DATE] [--by NAME]  |  "
            "sme-monitor silence list [--all]  |  sme-monitor silence lift ID --by NAME"
        ),
    )
    sil.add_argument("target", metavar="CODE|list|lift", help="an entity's credit code, `list` or `lift`")
    sil.add_argument("silence_id", nargs="?", type=int, metavar="ID", help="`lift`: the silence to end")
    sil.add_argument("--until", type=parse_date, metavar="DATE", help="last day reminders are held")
    sil.add_argument("--from", dest="starts", type=parse_date, metavar="DATE", help="first day (default today)")
    sil.add_argument("--reason", default="", help="why (e.g. a dispute being decided)")
    sil.add_argument("--by", default="", help="who decided it")
    sil.add_argument("--all", action="store_true", help="`list`: also past and lifted silences")
    sil.add_argument("--as-of", type=parse_date, metavar="DATE", help="date the command counts as today")
    sil.add_argument("--json", action="store_true", help="`list`: print JSON")
    sil.set_defaults(handler=silence_command)


def worker_id() -> str:
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


# --- notify ------------------------------------------------------------------------------------------------


def notify_command(ctx: Context) -> int:
    from monitor import kept
    from notifications import service

    as_of, settings = ctx.as_of(), ctx.settings
    db = ctx.checked_db()
    result = kept.current(db, as_of, ctx.calendar, settings.rules, settings.districts, today=ctx.today)
    for w in result.warnings:
        log.warning("%s", w)
    report = service.enqueue(db, result, settings, as_of, ctx.now, dry_run=ctx.args.dry_run)
    print_enqueue(report)
    if ctx.args.dry_run:
        print("（试运行：未写入发件箱，未发送 / dry run: nothing written, nothing sent）")
        return 0
    done = service.deliver(db, settings, ctx.now, worker_id())
    print(
        f"发送：{done.sent} 封成功，{done.retrying} 封稍后重试，{done.failed} 封失败 "
        f"(delivered {done.sent}, retrying {done.retrying}, failed {done.failed})"
    )
    if settings.mail.backend == "file" and done.sent:
        print(f"邮件文件目录 (mail files)：{settings.mail.directory}")
    return 1 if done.failed else 0


def print_enqueue(report: service.EnqueueReport) -> None:
    rows = [(m.kind.value, m.channel.value, m.recipient, len(m.items), m.subject or "") for m in report.messages]
    verb = "将写入" if report.dry_run else "已写入"
    print(
        f"{report.as_of.isoformat()}：{verb}发件箱 {len(report.messages)} 封消息（{report.new_items} 项通知，其中重复提醒 {report.repeats} 项）；"
        f"已通知过 {report.already} 项"
    )
    if rows:
        headers = ["类型", "渠道", "收件人", "事项数"] + (["主题"] if report.dry_run else [])
        print(table([r if report.dry_run else r[:4] for r in rows], headers))
    for fid in report.held:
        print(f"暂停提醒中，未发送 (held by a silence)：{fid}")
    for line in report.problems:
        print(f"注意：{line}")


# --- outbox ------------------------------------------------------------------------------------------------


def outbox_list(ctx: Context) -> int:
    from notifications import outbox
    from notifications.models import MessageStatus

    db = ctx.checked_db()
    status = MessageStatus(ctx.args.status) if ctx.args.status else None
    with db.session() as session:
        rows = outbox.listing(session, status=status, limit=ctx.args.limit)
        counts = outbox.counts(session)
    if ctx.args.json:
        print_json(
            [
                {
                    "id": r.id,
                    "kind": r.kind,
                    "channel": r.channel,
                    "recipient": r.recipient,
                    "subject": r.subject,
                    "as_of": r.as_of,
                    "status": r.status,
                    "attempts": r.attempts,
                    "last_error": r.last_error,
                    "created_at": r.created_at,
                    "sent_at": r.sent_at,
                    "message_id": r.message_id,
                }
                for r in rows
            ]
        )
        return 0
    print(
        table(
            (
                (
                    r.id,
                    r.status,
                    r.kind,
                    r.recipient,
                    r.as_of.isoformat(),
                    r.attempts,
                    _cut(r.subject, 40),
                    _cut(r.last_error, 40),
                )
                for r in rows
            ),
            ["编号", "状态", "类型", "收件人", "日期", "尝试", "主题", "最近错误"],
        )
    )
    print(
        "合计 (totals)：" + "，".join(f"{k} {v}" for k, v in sorted(counts.items())) if counts else "发件箱为空 (empty)"
    )
    return 0


def _cut(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def outbox_retry(ctx: Context) -> int:
    from notifications import outbox, service

    db = ctx.checked_db()
    with db.session() as session:
        ids = outbox.retry(session, ctx.args.ids, ctx.now)
    missing = sorted(set(ctx.args.ids) - set(ids))
    if missing:
        print(
            f"以下编号不是未送达的消息，未处理 (not undelivered messages): {', '.join(map(str, missing))}",
            file=sys.stderr,
        )
    print(f"已重新排队 {len(ids)} 封 (requeued)")
    done = service.deliver(db, ctx.settings, ctx.now, worker_id())
    print(f"发送：{done.sent} 封成功，{done.retrying} 封稍后重试，{done.failed} 封失败")
    if missing and not ids:
        return 2
    return 1 if done.failed else 0


# --- digest ------------------------------------------------------------------------------------------------


def digest_command(ctx: Context) -> int:
    from notifications import digest, service

    as_of, settings = ctx.as_of(), ctx.settings
    db = ctx.checked_db()
    built = digest.build(db, settings, ctx.calendar, as_of, ctx.now)
    if ctx.args.output:
        from pathlib import Path

        path = Path(ctx.args.output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(built.html, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: 无法写入 (cannot write): {exc.strerror}") from None
        print(f"简报已写入 (digest written)：{path}")
    elif not ctx.args.send:
        print(built.text)
    if ctx.args.send:
        report = digest.send_digest(db, settings, ctx.calendar, as_of, ctx.now)
        if report.already:
            print(f"{as_of} 的简报此前已发给 (already sent to)：{', '.join(report.already)}")
        done = service.deliver(db, settings, ctx.now, worker_id())
        print(f"简报已写入发件箱 {len(report.enqueued)} 封；发送 {done.sent} 封，失败 {done.failed} 封")
        return 1 if done.failed else 0
    return 0


# --- ack ---------------------------------------------------------------------------------------------------


def _finding_stage(ctx: Context, finding_id: str, as_of: date) -> str:
    from monitor import kept
    from monitor.domain import RuleId
    from notifications import controls

    parts = finding_id.split("/")
    if len(parts) != 3 or parts[0] not in RuleId.__members__:
        raise UsageError(f"{finding_id!r} 不是事项编号 RULE/ENTITY/SUBJECT (e.g. FILING_MISSED/<credit code>/2026-01)")
    db = ctx.checked_db()
    result = kept.current(db, as_of, ctx.calendar, ctx.settings.rules, ctx.settings.districts, today=ctx.today)
    current = next((f.stage for f in result.findings if f.finding_id == finding_id), None)
    with db.session() as session:
        if current is None:
            current = controls.latest_stage(session, finding_id)
    if current is None:
        raise UsageError(f"{as_of} 没有事项 {finding_id}（也从未通知过） (no such finding)")
    return current


def ack_command(ctx: Context) -> int:
    from notifications import controls

    if ctx.args.finding == "list":
        db = ctx.checked_db()
        with db.session() as session:
            acks = controls.list_acks(session)
        if ctx.args.json:
            print_json(
                [
                    {
                        "id": a.id,
                        "finding": a.finding_id,
                        "stage": a.stage,
                        "by": a.acked_by,
                        "note": a.note,
                        "on": a.acked_on,
                    }
                    for a in acks
                ]
            )
        else:
            print(
                table(
                    ((a.id, a.finding_id, a.stage, a.acked_by, a.acked_on.isoformat(), a.note) for a in acks),
                    ["编号", "事项", "阶段", "确认人", "日期", "说明"],
                )
            )
        return 0
    if not ctx.args.by.strip():
        raise UsageError("ack 需要 --by NAME（确认人） (who acknowledges)")
    as_of = ctx.as_of()
    stage = _finding_stage(ctx, ctx.args.finding, as_of)
    with ctx.checked_db().session() as session:
        try:
            controls.acknowledge(session, ctx.args.finding, stage, ctx.args.by, ctx.args.note, as_of, ctx.now)
        except controls.ControlError as exc:
            raise UsageError(str(exc)) from None
    print(f"已确认 {ctx.args.finding}（阶段 {stage}）：至阶段变化前不再重复提醒 (acknowledged at stage {stage})")
    return 0


# --- silence -----------------------------------------------------------------------------------------------


def silence_command(ctx: Context) -> int:
    from sqlalchemy import select

    from monitor.storage.models import EntityRow
    from notifications import controls

    a = ctx.args
    as_of = ctx.as_of()
    if a.target == "list":
        with ctx.checked_db().session() as session:
            rows = controls.list_silences(session, as_of=None if a.all else as_of)
        if a.json:
            print_json(
                [
                    {
                        "id": r.id,
                        "credit_code": r.credit_code,
                        "from": r.starts_on,
                        "until": r.ends_on,
                        "reason": r.reason,
                        "by": r.created_by,
                        "lifted_on": r.lifted_on,
                        "lifted_by": r.lifted_by,
                    }
                    for r in rows
                ]
            )
        else:
            print(
                table(
                    (
                        (
                            r.id,
                            r.credit_code,
                            r.starts_on.isoformat(),
                            r.ends_on.isoformat(),
                            r.reason,
                            r.created_by,
                            r.lifted_on.isoformat() if r.lifted_on else "",
                        )
                        for r in rows
                    ),
                    ["编号", "统一社会信用代码", "开始", "截止", "原因", "决定人", "解除日期"],
                )
            )
        return 0
    if a.target == "lift":
        if a.silence_id is None:
            raise UsageError("silence lift 需要编号 ID (which silence)")
        with ctx.checked_db().session() as session:
            try:
                controls.lift_silence(session, a.silence_id, a.by or "", as_of)
            except controls.ControlError as exc:
                raise UsageError(str(exc)) from None
        print(f"已解除暂停提醒 {a.silence_id}（自 {as_of} 起） (lifted)")
        return 0
    code = a.target.strip().upper()
    problem = credit_code.problem(code)
    if problem:
        raise UsageError(f"{a.target!r}: {problem}")
    if a.until is None:
        raise UsageError("silence 需要 --until DATE（暂停提醒的最后一日） (last day)")
    with ctx.checked_db().session() as session:
        if session.execute(select(EntityRow.id).where(EntityRow.credit_code == code)).first() is None:
            raise UsageError(f"{code}: 名册中没有该主体 (not in the roster)")
        try:
            row = controls.add_silence(session, code, a.starts or as_of, a.until, a.reason, a.by, ctx.now)
        except controls.ControlError as exc:
            raise UsageError(str(exc)) from None
        sid = row.id
    print(f"已暂停 {code} 的提醒：{(a.starts or as_of).isoformat()} 至 {a.until.isoformat()}（编号 {sid}） (silenced)")
    return 0
