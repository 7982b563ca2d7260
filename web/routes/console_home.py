"""`/`: the live digest of the user's scope (decisions awaiting staff, deadlines in the next 30 days,
undelivered messages, counts by status), and `/digests/{date}`: the same for another day. A district user's
page counts and lists only its district: everything comes through `web.access.scope` and `web.answers`."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor import legal_time as lt
from monitor.domain import Status
from monitor.rules.catalog import DECISIONS
from web import answers, outbox_scope
from web.access import Action, Scope, scope
from web.console import page, see_other
from web.context import app_state, request_today
from web.errors import BadParameter
from web.i18n import add_texts

DEADLINE_DAYS = 30

add_texts(
    {
        "home.title": ("工作台：今日简报", "Dashboard: today's digest"),
        "home.scope_all": ("范围：全市", "Scope: the whole city"),
        "home.scope_district": ("范围：{district}", "Scope: {district}"),
        "home.counts": ("主体状态统计", "Entities by status"),
        "home.decisions": ("待服务中心决定的事项", "Decisions awaiting staff"),
        "home.deadlines": ("未来 30 天内的截止日期", "Deadlines in the next 30 days"),
        "home.undelivered": ("未送达的消息", "Undelivered messages"),
        "home.none": ("无。", "None."),
        "home.all_findings": ("全部待办事项", "All findings"),
        "home.report": ("登记区县年度报告", "Record a district's annual report"),
        "digest.title": ("{date} 简报", "Digest of {date}"),
        "digest.other": ("查看其他日期", "Another day"),
    }
)


def _summary(request: Request, me: Scope, as_of: date) -> dict[str, object]:
    state, today = app_state(request), request_today(request)
    horizon = lt.days_after(as_of, DEADLINE_DAYS)
    # Only the entities with a decision or a deadline within 30 days are read (the kept findings say which).
    wanted = sa.or_(
        answers.FINDINGS.c.rule.in_([r.value for r in DECISIONS]),
        answers.FINDINGS.c.due.between(as_of, horizon),
    )
    result = answers.scoped_findings(state, me, as_of, today, only=wanted)
    if as_of == today:
        answers.fresh(state, today)
        with state.db.session() as session:
            counts = {s.value: 0 for s in Status} | answers.status_counts(session, me)
    else:
        counts = {s.value: 0 for s in Status}
        for st in result.statuses.values():
            counts[st.status.value] += 1
    decisions = sorted(
        (f for f in result.findings if f.rule in DECISIONS), key=lambda f: (-f.severity, f.due or date.max)
    )
    deadlines = sorted(
        (f for f in result.findings if f.due is not None and as_of <= f.due <= horizon and f.rule not in DECISIONS),
        key=lambda f: f.due or date.max,
    )
    with state.db.session() as session:
        undelivered = outbox_scope.undelivered(session, me, state.settings)
    return {
        "as_of": as_of,
        "counts": counts,
        "total": sum(counts.values()),
        "decisions": decisions,
        "deadlines": deadlines,
        "undelivered": undelivered,
        "warnings": result.warnings,
        "lang_code": "en" if request.query_params.get("lang") == "en" else "zh_CN",
    }


def home(request: Request) -> Response:
    me = scope(request, Action.READ)
    return page(request, me, "console/home.html", {**_summary(request, me, request_today(request)), "digest": False})


def digest_page(request: Request) -> Response:
    me = scope(request, Action.READ)
    raw = request.path_params["day"]
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise BadParameter("date", "应为日期 YYYY-MM-DD", "must be a date YYYY-MM-DD", raw)
    return page(request, me, "console/home.html", {**_summary(request, me, day), "digest": True})


def digest_pick(request: Request) -> Response:
    scope(request, Action.READ)
    day = request.query_params.get("day") or request_today(request).isoformat()
    return see_other(f"/digests/{quote(day, safe='')}")


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"], name="home"),
        Route("/digests", digest_pick, methods=["GET"]),
        Route("/digests/{day}", digest_page, methods=["GET"]),
    ]
