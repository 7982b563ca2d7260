"""`/users` (list, add, disable) and `/audit` (the audit trail; filter, page, export): administrators only.
The same `monitor.accounts` functions as `sme-monitor users`."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor import accounts
from monitor.accounts import AccountError, Role
from monitor.storage.console_models import AuditRow
from web import export, params
from web.access import Action, Scope, scope
from web.console import page, post, see_other
from web.context import app_state, request_now
from web.errors import NotFound
from web.i18n import add_texts

PER_PAGE = 100

add_texts(
    {
        "users.title": ("控制台用户", "Console users"),
        "users.name": ("用户名", "Name"),
        "users.role": ("角色", "Role"),
        "users.district": ("区县（区县用户）", "District (district users)"),
        "users.password": ("初始密码（至少 8 个字符）", "Initial password (8 characters or more)"),
        "users.add": ("添加用户", "Add the user"),
        "users.disable": ("停用", "Disable"),
        "users.disabled": ("已停用", "disabled"),
        "users.enabled": ("启用", "enabled"),
        "users.state": ("状态", "State"),
        "audit.title": ("操作记录", "Audit trail"),
        "audit.at": ("时间（UTC）", "When (UTC)"),
        "audit.actor": ("操作人", "Who"),
        "audit.origin": ("来源地址", "From"),
        "audit.request": ("请求编号", "Request"),
        "audit.action": ("操作", "What was asked"),
        "audit.changes": ("写入的数据表", "Tables written"),
        "audit.help": (
            "所有写入（控制台、命令行、后台服务）均记录于此，不可删除。",
            "Every write (console, command line, daemon) is recorded here and never deleted.",
        ),
    }
)


def _users_page(
    request: Request, me: Scope, error: str = "", values: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    state = app_state(request)
    with state.db.session() as session:
        rows = accounts.list_users(session)
    fmt = export.wanted(request)
    if fmt is not None:
        return export.response(
            fmt,
            "users",
            ["name", "role", "district", "disabled", "created_at"],
            ((r.name, r.role, r.district, r.disabled, r.created_at) for r in rows),
        )
    return page(
        request,
        me,
        "console/users.html",
        {
            "rows": rows,
            "roles": [r.value for r in Role],
            "districts": [d.name for d in state.settings.districts],
            "error": error,
            "values": values or {},
        },
        status_code=status_code,
    )


def users_list(request: Request) -> Response:
    return _users_page(request, scope(request, Action.USERS))


def users_add(request: Request, form: FormData) -> Response:
    me = scope(request, Action.USERS, form)
    state = app_state(request)
    values = {k: str(form.get(k) or "").strip() for k in ("name", "role", "district")}
    password = str(form.get("password") or "")
    try:
        role = Role(values["role"])
        with state.db.session() as session:
            accounts.add_user(
                session,
                values["name"],
                role,
                values["district"] if role is Role.DISTRICT else "",
                password,
                request_now(request),
                frozenset(d.name for d in state.settings.districts),
            )
    except ValueError:
        return _users_page(request, me, f"role: {values['role']!r}", values, 422)
    except AccountError as exc:
        return _users_page(request, me, str(exc), values, 422)
    return see_other("/users")


def users_disable(request: Request, form: FormData) -> Response:
    scope(request, Action.USERS, form)
    with app_state(request).db.session() as session:
        try:
            accounts.disable(session, request.path_params["name"], request_now(request))
        except AccountError:
            raise NotFound() from None
    return see_other("/users")


def audit_list(request: Request) -> Response:
    me = scope(request, Action.AUDIT)
    actor = params.optional(request, "actor")
    q = (params.optional(request, "q") or "")[:100]
    where: list[sa.ColumnElement[bool]] = []
    if actor:
        where.append(AuditRow.actor == actor)
    if q:
        where.append(AuditRow.action.contains(q, autoescape=True))
    fmt = export.wanted(request)
    page_no = params.integer(request, "page", 1, 1)
    with app_state(request).db.session() as session:
        total = session.execute(sa.select(sa.func.count()).select_from(AuditRow).where(*where)).scalar_one()
        query = sa.select(AuditRow).where(*where).order_by(AuditRow.id.desc())
        if fmt is None:
            query = query.limit(PER_PAGE).offset((page_no - 1) * PER_PAGE)
        rows = list(session.execute(query).scalars())
    if fmt is not None:
        return export.response(
            fmt,
            "audit",
            ["id", "at", "actor", "origin", "request_id", "action", "changes"],
            ((r.id, r.at, r.actor, r.origin, r.request_id, r.action, r.changes) for r in rows),
        )
    return page(
        request,
        me,
        "console/audit.html",
        {
            "rows": rows,
            "total": int(total),
            "page_no": page_no,
            "pages": max(1, -(-int(total) // PER_PAGE)),
            "f_actor": actor or "",
            "f_q": q,
        },
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/users", users_list, methods=["GET"]),
        Route("/users", post(users_add, keep=("name", "role", "district")), methods=["POST"]),
        Route("/users/{name}/disable", post(users_disable), methods=["POST"]),
        Route("/audit", audit_list, methods=["GET"]),
    ]
