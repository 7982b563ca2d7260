"""`/findings` (+ `POST /findings/ack`, one or many), `/silences` (preview, `POST /silences`, `POST
/silences/{id}/lift`) and `/outbox` (filter, view as sent, `POST /outbox/{id}/retry`, `POST /outbox/retry`).

Routes stay thin: the writes are `notifications.controls` (acknowledge, add_silence, lift_silence) and
`notifications.outbox.retry` + `notifications.service.deliver`, as on the command line; the author is always
the logged-in user. Every read and write goes through `web.access.scope`.
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
from datetime import date
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.domain import Audience, RuleId, Severity
from monitor.rules.finding import Finding
from monitor.storage.models import EntityRow
from notifications import controls, outbox, service
from notifications.models import Acknowledgement, Channel, MessageStatus, Silence
from web import answers, export, outbox_scope, params
from web.access import Action, Scope, scope
from web.console import page, post, see_other
from web.context import app_state, request_now, request_today
from web.errors import BadParameter, NotFound
from web.i18n import add_texts

PER_PAGE = 50
NOTE_MAX = 500

add_texts(
    {
        "findings.title": ("待办事项", "Findings"),
        "findings.rule": ("规则", "Rule"),
        "findings.severity": ("最低级别", "Minimum severity"),
        "findings.select": ("选择", "Select"),
        "findings.bulk": ("确认所选事项", "Acknowledge the selected"),
        "findings.acked": ("已确认 {n} 项。", "{n} acknowledged."),
        "findings.refused": ("未确认任何事项：", "Nothing acknowledged:"),
        "findings.unknown": ("{id}：当前没有该事项（也从未通知过）", "{id}: no such finding now (never notified)"),
        "findings.not_yours": ("{id}：不在您的范围内", "{id}: not in your scope"),
        "findings.none_selected": ("请至少选择一项", "select at least one finding"),
        "silences.title": ("暂停提醒", "Silences"),
        "silences.new": ("新建暂停提醒", "New silence"),
        "silences.code": ("统一社会信用代码", "Credit code"),
        "silences.from": ("开始日期", "From"),
        "silences.until": ("结束日期（必填）", "Until (required)"),
        "silences.reason": ("原因（必填，如：争议处理中）", "Reason (required, e.g. a dispute being decided)"),
        "silences.preview": ("预览", "Preview"),
        "silences.save": ("保存暂停提醒", "Save the silence"),
        "silences.holds": (
            "该暂停提醒将暂停以下提醒（发给主体的）：",
            "This silence would hold back these reminders (to the entity):",
        ),
        "silences.holds_none": ("目前没有会被暂停的提醒。", "No reminder would be held back now."),
        "silences.lift": ("解除", "Lift"),
        "silences.all": ("含已结束和已解除的", "Include ended and lifted"),
        "silences.by": ("设置人", "By"),
        "silences.lifted": ("解除", "Lifted"),
        "silences.required": ("必填项为空 (required value missing)", "required value missing"),
        "outbox.title": ("发件箱", "Outbox"),
        "outbox.status": ("状态", "Status"),
        "outbox.recipient": ("收件人", "Recipient"),
        "outbox.subject": ("主题", "Subject"),
        "outbox.error": ("最近错误", "Last error"),
        "outbox.attempts": ("尝试次数", "Attempts"),
        "outbox.kind": ("类型", "Kind"),
        "outbox.retry": ("立即重发", "Retry now"),
        "outbox.retry_all": ("立即重发全部未送达消息", "Retry every undelivered message now"),
        "outbox.retried": (
            "已重新发送：成功 {sent}，稍后重试 {retrying}，失败 {failed}。",
            "Retried: sent {sent}, retrying {retrying}, failed {failed}.",
        ),
        "outbox.as_sent": ("发送内容", "As sent"),
        "outbox.headers": ("信头", "Headers"),
        "outbox.attachments": ("附件", "Attachments"),
        "outbox.s.pending": ("待发送", "pending"),
        "outbox.s.sending": ("发送中", "sending"),
        "outbox.s.sent": ("已发送", "sent"),
        "outbox.s.failed": ("发送失败", "failed"),
    }
)


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh_CN"


# --- findings --------------------------------------------------------------------------------------------


def _finding_filters(request: Request) -> tuple[RuleId | None, Severity | None, str | None, str]:
    rule_raw = params.optional(request, "rule")
    if rule_raw is not None and rule_raw not in RuleId.__members__:
        raise BadParameter("rule", "不是规则编号", "is not a rule ID", rule_raw)
    sev_raw = params.optional(request, "severity")
    labels = {s.label: s for s in Severity}
    if sev_raw is not None and sev_raw not in labels:
        raise BadParameter("severity", f"应为 {' | '.join(labels)}", f"must be {' | '.join(labels)}", sev_raw)
    district = params.optional(request, "district")
    known = {d.name for d in app_state(request).settings.districts}
    if district is not None and district not in known:
        raise BadParameter("district", "不是成都市的区（市）县", "is not one of Chengdu's districts", district)
    q = (params.optional(request, "q") or "")[:100]
    return (RuleId[rule_raw] if rule_raw else None, labels[sev_raw] if sev_raw else None, district, q)


def _matching(findings: list[Finding], request: Request) -> list[Finding]:
    rule, severity, district, q = _finding_filters(request)
    out = [
        f
        for f in findings
        if (rule is None or f.rule is rule)
        and (severity is None or f.severity >= severity)
        and (district is None or f.district == district)
        and (not q or q in (f.entity or "") or q in (f.entity_name or ""))
    ]
    return sorted(out, key=lambda f: (-f.severity, f.due or date.max, f.finding_id))


def _acks(session: Any, ids: list[str]) -> dict[str, Acknowledgement]:
    out: dict[str, Acknowledgement] = {}
    for i in range(0, len(ids), 900):
        for a in session.execute(
            sa.select(Acknowledgement)
            .where(Acknowledgement.finding_id.in_(ids[i : i + 900]))
            .order_by(Acknowledgement.id)
        ).scalars():
            out[a.finding_id] = a
    return out


def findings_page(
    request: Request, me: Scope, *, status_code: int = 200, problems: list[str] | None = None
) -> Response:
    state, today = app_state(request), request_today(request)
    result = answers.scoped_findings(state, me, today, today)
    rows = _matching(result.findings, request)
    fmt = export.wanted(request)
    lang = _lang(request)
    if fmt is not None:
        return export.response(
            fmt,
            "findings",
            ["id", "rule", "article", "severity", "stage", "entity", "entity_name", "district", "due", "message"],
            (
                (
                    f.finding_id,
                    f.rule.value,
                    f.article,
                    f.severity.label,
                    f.stage,
                    f.entity,
                    f.entity_name,
                    f.district,
                    f.due,
                    f.message(lang),
                )
                for f in rows
            ),
        )
    page_no = params.integer(request, "page", 1, 1)
    shown = rows[(page_no - 1) * PER_PAGE : page_no * PER_PAGE]
    with state.db.session() as session:
        acks = _acks(session, [f.finding_id for f in shown])
    rule, severity, district, q = _finding_filters(request)
    return page(
        request,
        me,
        "console/findings.html",
        {
            "rows": shown,
            "total": len(rows),
            "page_no": page_no,
            "pages": max(1, -(-len(rows) // PER_PAGE)),
            "acks": acks,
            "rules": [r.value for r in RuleId],
            "severities": [s.label for s in Severity],
            "districts": [d.name for d in state.settings.districts if me.sees(d.name)],
            "f_rule": rule.value if rule else "",
            "f_severity": severity.label if severity else "",
            "f_district": district or "",
            "f_q": q,
            "problems": problems or [],
            "acked": request.query_params.get("acked"),
            "lang_code": lang,
        },
        status_code=status_code,
    )


def findings_list(request: Request) -> Response:
    return findings_page(request, scope(request, Action.READ))


def _district_of(session: Any, entity: str) -> str | None:
    row = session.execute(sa.select(EntityRow.district).where(EntityRow.credit_code == entity)).first()
    return row[0] if row else None


def ack_submit(request: Request, form: FormData) -> Response:
    """One finding or several (bulk): each is checked (it exists now or was notified, the user may read it);
    one refused item and nothing is written."""
    me = scope(request, Action.ACK, form)
    state, today, now = app_state(request), request_today(request), request_now(request)
    ids = [v.strip() for v in form.getlist("finding") if isinstance(v, str) and v.strip()]
    note = str(form.get("note") or "").strip()[:NOTE_MAX]
    t_lang = _lang(request)
    from web.i18n import text

    if not ids:
        return findings_page(request, me, status_code=422, problems=[text(t_lang, "findings.none_selected")])
    result = answers.scoped_findings(state, me, today, today)
    present = {f.finding_id: f.stage for f in result.findings}
    problems: list[str] = []
    stages: dict[str, str] = {}
    with state.db.session() as session:
        for fid in dict.fromkeys(ids):
            parts = fid.split("/")
            if len(parts) != 3 or parts[0] not in RuleId.__members__:
                problems.append(text(t_lang, "findings.unknown", id=fid))
                continue
            entity = parts[1]
            district = (
                _district_of(session, entity) if entity not in {d.name for d in state.settings.districts} else entity
            )
            if district is None or not me.sees(district):
                problems.append(text(t_lang, "findings.not_yours", id=fid))
                continue
            stage = present.get(fid) or controls.latest_stage(session, fid)
            if stage is None:
                problems.append(text(t_lang, "findings.unknown", id=fid))
                continue
            stages[fid] = stage
    if problems:
        return findings_page(request, me, status_code=422, problems=problems)
    with state.db.session() as session:
        for fid, stage in stages.items():
            controls.acknowledge(session, fid, stage, me.user.name, note, today, now)
    back = str(form.get("next") or "")
    if back.startswith("/entities/") and "//" not in back:
        return see_other(back)
    return see_other(f"/findings?acked={len(stages)}")


# --- silences --------------------------------------------------------------------------------------------


def _held(request: Request, me: Scope, code: str) -> list[Finding]:
    state, today = app_state(request), request_today(request)
    result = answers.scoped_findings(state, me, today, today)
    return [f for f in result.findings if f.entity == code and Audience.ENTITY in f.audiences]


def _date_field(value: str, name: str, errors: dict[str, str]) -> date | None:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = f"不是有效日期 YYYY-MM-DD (not a date): {value!r}"
        return None


def _silences_page(
    request: Request, me: Scope, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    state, today = app_state(request), request_today(request)
    show_all = request.query_params.get("all") == "1"
    with state.db.session() as session:
        rows = controls.list_silences(session, as_of=None if show_all else today, limit=1000)
        codes = {r.credit_code for r in rows}
        districts = (
            dict(
                session.execute(
                    sa.select(EntityRow.credit_code, EntityRow.district).where(EntityRow.credit_code.in_(codes))
                ).tuples()
            )
            if codes
            else {}
        )
    rows = [r for r in rows if me.sees(districts.get(r.credit_code))]
    fmt = export.wanted(request)
    if fmt is not None:
        return export.response(
            fmt,
            "silences",
            ["id", "credit_code", "from", "until", "reason", "by", "lifted_on", "lifted_by"],
            (
                (r.id, r.credit_code, r.starts_on, r.ends_on, r.reason, r.created_by, r.lifted_on, r.lifted_by)
                for r in rows
            ),
        )
    preview = None
    code = values.get("credit_code", "").strip().upper()
    if code and "credit_code" not in errors:
        with state.db.session() as session:
            me.entity(session, code)  # 404 outside the scope
        preview = _held(request, me, code)
    return page(
        request,
        me,
        "console/silences.html",
        {
            "rows": rows,
            "values": {"from": today.isoformat(), **values},
            "errors": errors,
            "preview": preview,
            "show_all": show_all,
            "today": today,
            "lang_code": _lang(request),
        },
        status_code=status_code,
    )


def silences_list(request: Request) -> Response:
    me = scope(request, Action.READ)
    values = {
        k: request.query_params.get(k, "")
        for k in ("credit_code", "from", "until", "reason")
        if request.query_params.get(k)
    }
    return _silences_page(request, me, values, {})


def silence_create(request: Request, form: FormData) -> Response:
    me = scope(request, Action.SILENCE, form)
    state, today, now = app_state(request), request_today(request), request_now(request)
    values = {k: str(form.get(k) or "").strip() for k in ("credit_code", "from", "until", "reason")}
    errors: dict[str, str] = {}
    code = values["credit_code"].upper()
    if not code:
        errors["credit_code"] = "必填项为空 (required value missing)"
    else:
        with state.db.session() as session:
            me.entity(session, code)
    starts = _date_field(values["from"], "from", errors) if values["from"] else today
    until = _date_field(values["until"], "until", errors) if values["until"] else None
    if not values["until"]:
        errors["until"] = "必填项为空 (required value missing)"
    if not values["reason"]:
        errors["reason"] = "必填项为空：请写明暂停提醒的原因 (required: why)"
    if starts and until and until < starts:
        errors["until"] = f"{until} 早于开始日期 {starts} (the span ends before it starts)"
    if errors or starts is None or until is None:
        return _silences_page(request, me, values, errors, status_code=422)
    with state.db.session() as session:
        try:
            controls.add_silence(session, code, starts, until, values["reason"], me.user.name, now)
        except controls.ControlError as exc:
            errors["reason"] = str(exc)
    if errors:
        return _silences_page(request, me, values, errors, status_code=422)
    return see_other("/silences")


def silence_lift(request: Request, form: FormData) -> Response:
    me = scope(request, Action.SILENCE, form)
    state, today = app_state(request), request_today(request)
    try:
        silence_id = int(request.path_params["id"])
    except ValueError:
        raise NotFound() from None
    with state.db.session() as session:
        row = session.get(Silence, silence_id)
        if row is None:
            raise NotFound()
        me.entity(session, row.credit_code)
        try:
            controls.lift_silence(session, silence_id, me.user.name, today)
        except controls.ControlError as exc:
            raise BadParameter("id", str(exc), str(exc)) from None
    return see_other("/silences")


# --- outbox ----------------------------------------------------------------------------------------------


def _status_filter(request: Request) -> MessageStatus | None:
    raw = params.optional(request, "status")
    values = [s.value for s in MessageStatus]
    if raw is not None and raw not in values:
        raise BadParameter("status", f"应为 {' | '.join(values)}", f"must be {' | '.join(values)}", raw)
    return MessageStatus(raw) if raw else None


def outbox_list(request: Request) -> Response:
    me = scope(request, Action.READ)
    state = app_state(request)
    status = _status_filter(request)
    fmt = export.wanted(request)
    page_no = params.integer(request, "page", 1, 1)
    with state.db.session() as session:
        rows, total = outbox_scope.listing(session, me, state.settings, status, page_no, None if fmt else PER_PAGE)
    if fmt is not None:
        return export.response(
            fmt,
            "outbox",
            ["id", "status", "kind", "recipient", "subject", "as_of", "attempts", "last_error", "sent_at"],
            (
                (m.id, m.status, m.kind, m.recipient, m.subject, m.as_of, m.attempts, m.last_error, m.sent_at)
                for m in rows
            ),
        )
    return page(
        request,
        me,
        "console/outbox.html",
        {
            "rows": rows,
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // PER_PAGE)),
            "statuses": [s.value for s in MessageStatus],
            "f_status": status.value if status else "",
            "retried": request.query_params.get("retried"),
        },
    )


def _as_sent(content: bytes, channel: str) -> dict[str, Any]:
    """The stored bytes as they were sent: an e-mail's headers, its text part and attachment names; a robot
    message's JSON document as it is."""
    if channel != Channel.EMAIL.value:
        return {"headers": [], "text": content.decode("utf-8", "replace"), "attachments": []}
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    headers = [(k, str(v)) for k, v in msg.items()]
    body = msg.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    attachments = [part.get_filename() or "" for part in msg.iter_attachments()]
    return {"headers": headers, "text": text, "attachments": attachments}


def outbox_message(request: Request) -> Response:
    me = scope(request, Action.READ)
    state = app_state(request)
    try:
        message_id = int(request.path_params["id"])
    except ValueError:
        raise NotFound() from None
    with state.db.session() as session:
        m = outbox_scope.get(session, me, state.settings, message_id)
    if m is None:
        raise NotFound()
    return page(request, me, "console/outbox_message.html", {"m": m, "sent": _as_sent(m.content, m.channel)})


def _worker() -> str:
    return f"console:{socket.gethostname()}:{os.getpid()}"


def _retry(request: Request, me: Scope, ids: list[int]) -> Response:
    state, now = app_state(request), request_now(request)
    with state.db.session() as session:
        visible = {m.id for m in outbox_scope.undelivered(session, me, state.settings, limit=100000)}
        wanted = [i for i in ids if i in visible] if ids else sorted(visible)
        if ids and not wanted:
            raise NotFound()
        outbox.retry(session, wanted, now)
    done = service.deliver(state.db, state.settings, now, _worker())
    return see_other(f"/outbox?retried={done.sent}-{done.retrying}-{done.failed}")


def retry_one(request: Request, form: FormData) -> Response:
    me = scope(request, Action.RETRY, form)
    try:
        message_id = int(request.path_params["id"])
    except ValueError:
        raise NotFound() from None
    return _retry(request, me, [message_id])


def retry_all(request: Request, form: FormData) -> Response:
    me = scope(request, Action.RETRY, form)
    return _retry(request, me, [])


def routes() -> list[BaseRoute]:
    return [
        Route("/findings", findings_list, methods=["GET"]),
        Route("/findings/ack", post(ack_submit, keep=("finding", "note")), methods=["POST"]),
        Route("/silences", silences_list, methods=["GET"]),
        Route("/silences", post(silence_create, keep=("credit_code", "from", "until", "reason")), methods=["POST"]),
        Route("/silences/{id}/lift", post(silence_lift), methods=["POST"]),
        Route("/outbox", outbox_list, methods=["GET"]),
        Route("/outbox/retry", post(retry_all), methods=["POST"]),
        Route("/outbox/{id}", outbox_message, methods=["GET"]),
        Route("/outbox/{id}/retry", post(retry_one), methods=["POST"]),
    ]
