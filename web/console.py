"""What the console's routes share: a page in the layout with the user and the CSRF token, POST routes that
parse their form and run their (blocking) work in a thread, the redirect to /login, and the audit actor of
the request (the user, the client's address, the request's ID: monitor/audit.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from monitor import actor as actors
from web import render as render_module
from web.access import Action, LoginRequired, Scope, current_scope, login_url
from web.context import request_now
from web.i18n import add_texts
from web.render import NavItem, render

add_texts(
    {
        "nav.home": ("工作台", "Dashboard"),
        "nav.entities": ("主体", "Entities"),
        "nav.findings": ("待办事项", "Findings"),
        "nav.imports": ("导入", "Imports"),
        "nav.silences": ("暂停提醒", "Silences"),
        "nav.outbox": ("发件箱", "Outbox"),
        "nav.users": ("用户", "Users"),
        "nav.audit": ("操作记录", "Audit"),
        "nav.login": ("登录", "Log in"),
        "nav.logout": ("退出", "Log out"),
        "nav.user": ("当前用户：{name}（{role}）", "Signed in: {name} ({role})"),
        "role.admin": ("市经信局管理员", "administrator"),
        "role.staff": ("服务中心", "service center"),
        "role.district": ("区县", "district"),
        "role.viewer": ("只读", "viewer"),
    }
)

CONSOLE_PREFIXES = ("/entities", "/findings", "/imports", "/silences", "/outbox", "/digests", "/users", "/audit")


def _console_nav(request: Request, t: Callable[..., str]) -> list[NavItem]:
    found = current_scope(request)
    if found is None:
        return []
    path = request.url.path
    items = [
        ("/", "nav.home", Action.READ),
        ("/entities", "nav.entities", Action.READ),
        ("/findings", "nav.findings", Action.READ),
        ("/imports", "nav.imports", Action.IMPORT),
        ("/silences", "nav.silences", Action.READ),
        ("/outbox", "nav.outbox", Action.READ),
        ("/users", "nav.users", Action.USERS),
        ("/audit", "nav.audit", Action.AUDIT),
    ]
    return [
        NavItem(href, t(key), path == href if href == "/" else path.startswith(href))
        for href, key, action in items
        if found.may(action)
    ]


render_module.NAV_PROVIDERS.append(_console_nav)


def page(
    request: Request,
    scope: Scope | None,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        template,
        {"me": scope, "csrf_token": scope.csrf_token if scope else "", **(context or {})},
        status_code=status_code,
        headers={"cache-control": "no-store"},
    )


def see_other(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


def actor(request: Request, scope: Scope | None, action: str) -> actors.Actor:
    client = request.client.host if request.client else "-"
    who = scope.user.name if scope is not None else "anonymous"
    return actors.Actor(who, client, request.scope.get("request_id", ""), action, request_now(request))


def describe(request: Request, form: FormData | None, keep: tuple[str, ...] = ()) -> str:
    """What a POST asked for, for the audit trail: method, path and the named form fields (never a password
    or a token)."""
    parts = [f"{request.method} {request.url.path}"]
    if form is not None:
        for name in keep:
            value = form.get(name)
            if isinstance(value, str) and value:
                parts.append(f"{name}={value[:200]}")
    return " ".join(parts)


FormHandler = Callable[[Request, FormData], Response]


def post(handler: FormHandler, keep: tuple[str, ...] = ()) -> Callable[[Request], Awaitable[Response]]:
    """A POST route: parse the form, then run `handler(request, form)` in a thread (it does blocking database
    work) with the request's audit actor set."""

    async def endpoint(request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=2000)
        request.scope["request_id"] = uuid.uuid4().hex

        def run() -> Response:
            with actors.acting(actor(request, current_scope(request), describe(request, form, keep))):
                return handler(request, form)

        try:
            return await run_in_threadpool(run)
        finally:
            await form.close()

    return endpoint


async def login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return see_other(login_url(exc.next_path))


def handlers() -> dict[Any, Callable[..., Any]]:
    return {LoginRequired: login_required}
