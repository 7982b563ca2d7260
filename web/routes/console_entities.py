"""`/entities` (filters q, status, district, kind; paged; csv/xlsx), `/entities/{code}` (status, reasons,
deadlines, findings with their acknowledgement, timeline, a 24-month filing grid, `?as_of=`), recording an
event (`/entities/{code}/events/new?kind=K`, `POST /entities/{code}/events`) and a district's annual report
(`/reports/new`, `POST /reports`). Every read and write goes through `web.access.scope`."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor.domain import History, Kind, Status
from monitor.storage import repository
from notifications.models import Acknowledgement
from web import answers, export, forms, params
from web.access import Action, Forbidden, Scope, scope
from web.console import page, post, see_other
from web.context import app_state, request_now, request_today
from web.errors import BadParameter, NotFound
from web.i18n import TEXTS, add_texts

PER_PAGE = 50

add_texts(
    {
        "entities.title": ("认定主体", "Entities"),
        "entities.export": ("导出", "Export"),
        "entities.streak": ("连续未按规定填报（月）", "Months not filed as required"),
        "entities.none": ("没有符合条件的主体。", "No entity matches."),
        "status.uncertified": ("未认定", "uncertified"),
        "entity.as_of": ("查看日期", "As of"),
        "entity.as_of_go": ("查看", "Show"),
        "entity.reasons": ("暂停原因", "Reasons"),
        "entity.deadlines": ("截止日期", "Deadlines"),
        "entity.findings": ("待办事项", "Findings"),
        "entity.no_findings": ("当前没有待办事项。", "No open finding."),
        "entity.timeline": ("事件记录", "Timeline"),
        "entity.grid": ("近 24 个月填报情况", "Filings, last 24 months"),
        "entity.record": ("登记事件", "Record an event"),
        "entity.emails": ("联系邮箱", "Contact e-mails"),
        "entity.days_left": ("剩余 {n} 天", "{n} days left"),
        "entity.acked": ("已确认：{by}，{on}（{note}）", "Acknowledged by {by} on {on} ({note})"),
        "grid.filed": ("按时", "on time"),
        "grid.late": ("逾期", "late"),
        "grid.missed": ("未报", "missed"),
        "grid.open": ("待报", "open"),
        "grid.none": ("—", "—"),
        "grid.legend": (
            "按时：按规定填报；逾期：逾期填报（仍计为未按规定填报）；未报：截止日已过未填报；待报：截止日未到；—：无需填报",
            "on time; late (still counts as a miss); missed: deadline passed; open: deadline to come; —: not owed",
        ),
        "reason.restructuring": ("重大调整（第十八条）", "restructuring (Art. 18)"),
        "reason.failed_evaluation": ("测评不合格（第二十一条）", "failed evaluation (Art. 21)"),
        "col.date": ("日期", "Date"),
        "col.kind": ("事件", "Event"),
        "col.result": ("结果", "Result"),
        "col.detail": ("详情", "Detail"),
        "col.note": ("备注", "Note"),
        "col.recorded_by": ("登记人", "Recorded by"),
        "col.source": ("来源", "Source"),
        "col.article": ("条款", "Article"),
        "col.since": ("起始", "Since"),
        "col.deadline": ("截止", "Deadline"),
        "col.rule": ("规则", "Rule"),
        "col.stage": ("阶段", "Stage"),
        "col.message": ("内容", "Message"),
        "col.severity": ("级别", "Severity"),
        "ack.note": ("说明（如：正在处理）", "Note (e.g. being handled)"),
        "ack.submit": ("确认", "Acknowledge"),
        "record.title": ("登记事件：{kind}", "Record an event: {kind}"),
        "record.kind": ("事件类型", "Kind"),
        "record.choose": ("选择事件类型", "Choose the kind"),
        "record.submit": ("登记", "Record"),
        "record.refused": ("未登记：请按提示修改后重新提交。", "Not recorded: correct the fields marked below."),
        "record.done": ("已登记。", "Recorded."),
        "field.date": ("日期", "Date"),
        "field.result": ("结果", "Result"),
        "field.detail": ("详情", "Detail"),
        "field.note": ("备注", "Note"),
        "field.year": ("年度", "Year"),
        "field.district": ("所属区县", "District"),
        "field.cert_no": ("证书编号", "Certificate no."),
        "field.scheme": ("认定依据", "Scheme"),
        "report.title": ("区县年度报告", "A district's annual report"),
        "report.help": (
            "第二十一条：区（市）县主管部门于每年 2 月底前报送上一年度情况。年度为报告所涉年度。",
            "Art. 21: each district reports on the previous year by the end of February; the year is the one covered.",
        ),
    }
)


EVENT_WORDS = {
    "certified": ("认定", "certified"),
    "filing": ("月度填报", "filing"),
    "restructured": ("重大调整", "restructured"),
    "restructuring_reported": ("调整情况报告", "restructuring reported"),
    "restructuring_reviewed": ("调整审核", "restructuring reviewed"),
    "evaluated": ("测评", "evaluated"),
    "rectification_accepted": ("整改合格", "rectification accepted"),
    "rectification_rejected": ("整改不合格", "rectification rejected"),
    "misconduct": ("违法违规行为", "misconduct"),
    "revoked": ("撤销称号", "revoked"),
    "applied": ("申报", "applied"),
    "publicized": ("公示", "publicized"),
    "district_report": ("区县年度报告", "district report"),
    "district_reviewed": ("区县审核推荐", "district review"),
    "expert_reviewed": ("专家评审", "expert review"),
    "objection": ("公示异议", "objection"),
    "application_rejected": ("申报未通过", "application rejected"),
    "roster_changed": ("名册变更", "roster changed"),
}
add_texts({f"event.{k}": v for k, v in EVENT_WORDS.items()})
add_texts(
    {
        "choice.passed": ("合格 / 通过", "passed"),
        "choice.failed": ("不合格 / 未通过", "failed"),
        "choice.current": ("现行办法", "current measures"),
        "choice.2018": ("2018 年办法", "2018 measures"),
        "choice.rename": ("更名", "rename"),
        "choice.merger": ("合并", "merger"),
        "choice.split": ("分立", "split"),
        "choice.other": ("其他", "other"),
        "choice.refused_cooperation": ("拒不配合", "refused cooperation"),
        "choice.fraud": ("弄虚作假", "fraud"),
        "choice.violation": ("违法违规", "violation"),
        "choice.18": ("第十八条", "Art. 18"),
        "choice.20": ("第二十条", "Art. 20"),
        "choice.21": ("第二十一条", "Art. 21"),
        "choice.22": ("第二十二条", "Art. 22"),
    }
)


def _districts(request: Request) -> tuple[str, ...]:
    return tuple(d.name for d in app_state(request).settings.districts)


def _filters(request: Request) -> answers.EntityFilters:
    base = params.registry_filters_any(request, _districts(request))
    return base


def entity_list(request: Request) -> Response:
    me = scope(request, Action.READ)
    f = _filters(request)
    fmt = export.wanted(request)
    state, today = app_state(request), request_today(request)
    answers.fresh(state, today)
    with state.db.session() as session:
        if fmt is not None:
            rows = answers.entity_rows(session, me, f)
            return export.response(
                fmt,
                "entities",
                ["credit_code", "name", "kind", "district", "status", "expires_on", "filing_streak"],
                ((r.credit_code, r.name, r.kind, r.district, r.status, r.expires_on, r.filing_streak) for r in rows),
            )
        page_no = params.integer(request, "page", 1, 1)
        items, total = answers.entity_page(session, me, f, page_no, PER_PAGE)
    districts = [d for d in _districts(request) if me.sees(d)]
    return page(
        request,
        me,
        "console/entities.html",
        {
            "items": items,
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // PER_PAGE)),
            "filters": f,
            "districts": districts,
            "kinds": [k.value for k in Kind],
            "statuses": [s.value for s in Status],
        },
    )


def _as_of(request: Request) -> date:
    raw = params.optional(request, "as_of")
    if raw is None:
        return request_today(request)
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParameter("as_of", "应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD", raw) from None


def _history(request: Request, me: Scope, code: str) -> History:
    with app_state(request).db.session() as session:
        me.entity(session, code)  # 404 outside the scope
        history = repository.load_history(session, code.strip().upper())
    if history is None or isinstance(history, repository.Unreadable):
        raise NotFound("该主体的数据无法读取", "the entity's data cannot be read")
    return history


def entity_page(request: Request) -> Response:
    me = scope(request, Action.READ)
    code = request.path_params["code"]
    as_of = _as_of(request)
    history = _history(request, me, code)
    view = answers.entity_view(app_state(request), history, as_of)
    ids = [f.finding_id for f in view.findings]
    with app_state(request).db.session() as session:
        acks = {
            a.finding_id: a
            for a in session.execute(
                sa.select(Acknowledgement).where(Acknowledgement.finding_id.in_(ids)).order_by(Acknowledgement.id)
            ).scalars()
        }
    return page(
        request,
        me,
        "console/entity.html",
        {
            "e": history.entity,
            "view": view,
            "as_of": as_of,
            "today": request_today(request),
            "acks": acks,
            "kinds": me.record_kinds(),
            "lang_code": "en" if request.query_params.get("lang") == "en" else "zh_CN",
            "known_texts": TEXTS,
        },
    )


def _event_form(
    request: Request,
    me: Scope,
    code: str | None,
    kind: str,
    values: dict[str, str],
    outcome: forms.Outcome | None = None,
    status_code: int = 200,
) -> Response:
    entity = None
    if code is not None:
        with app_state(request).db.session() as session:
            entity = me.entity(session, code)
    fields = forms.KIND_FIELDS.get(kind, ())
    districts = [d for d in _districts(request) if me.sees(d)]
    return page(
        request,
        me,
        "console/event_form.html",
        {
            "entity": entity,
            "kind": kind,
            "kinds": [k for k in me.record_kinds() if k != "district_report"] if code else [],
            "fields": fields,
            "values": values,
            "outcome": outcome or forms.Outcome(),
            "choices": {**forms.CHOICES, "detail": forms.DETAIL_CHOICES.get(kind, ())},
            "districts": districts,
            "today": request_today(request).isoformat(),
        },
        status_code=status_code,
    )


def event_new(request: Request) -> Response:
    me = scope(request, Action.RECORD)
    code = request.path_params["code"]
    kind = params.optional(request, "kind") or ""
    if kind and not me.may_record(kind):
        raise Forbidden()
    return _event_form(request, me, code, kind, {"date": request_today(request).isoformat()})


def _submit(request: Request, form: FormData, code: str | None) -> Response:
    me = scope(request, Action.RECORD, form)
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    kind = values.get("kind", "")
    if code is not None:
        with app_state(request).db.session() as session:
            entity = me.entity(session, code)  # 404 outside the scope, before anything else
        values["credit_code"] = entity.credit_code
        values.pop("district", None)
    else:  # /reports: a district's annual report, and nothing else (no credit code)
        if kind != "district_report":
            raise Forbidden()
        values.pop("credit_code", None)
        if me.district is not None:
            if values.get("district") and values["district"] != me.district:
                raise Forbidden()
            values["district"] = me.district
    if kind and not me.may_record(kind):
        raise Forbidden()
    if code is not None and kind == "district_report":
        raise Forbidden()
    state = app_state(request)
    outcome = forms.record(
        state.db,
        values,
        today=request_today(request),
        now=request_now(request),
        districts=frozenset(_districts(request)),
        recorded_by=me.user.name,
    )
    if outcome.summary is None:
        return _event_form(request, me, code, kind, values, outcome, status_code=422)
    if code is None:
        return see_other(f"/reports/new?done=1&district={values.get('district', '')}")
    return see_other(f"/entities/{values['credit_code']}?recorded={kind}")


def event_submit(request: Request, form: FormData) -> Response:
    return _submit(request, form, request.path_params["code"])


def report_new(request: Request) -> Response:
    me = scope(request, Action.RECORD)
    if not me.may_record("district_report"):
        raise Forbidden()
    values = {"date": request_today(request).isoformat(), "year": str(request_today(request).year - 1)}
    if me.district:
        values["district"] = me.district
    return _event_form(request, me, None, "district_report", values)


def report_submit(request: Request, form: FormData) -> Response:
    return _submit(request, form, None)


def routes() -> list[BaseRoute]:
    keep = ("kind", "date", "result", "detail", "district", "year")
    return [
        Route("/entities", entity_list, methods=["GET"]),
        Route("/entities/{code}", entity_page, methods=["GET"]),
        Route("/entities/{code}/events/new", event_new, methods=["GET"]),
        Route("/entities/{code}/events", post(event_submit, keep=keep), methods=["POST"]),
        Route("/reports/new", report_new, methods=["GET"]),
        Route("/reports", post(report_submit, keep=keep), methods=["POST"]),
    ]
