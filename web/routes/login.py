"""`GET /login`, `POST /login`, `POST /logout` (SPEC 8). `GET /logout` only shows a button: a GET changes
nothing.

The login form's CSRF token: `GET /login` sets a random token in a cookie and the same in the form; `POST
/login` without both, equal, answers 403 (a session's own token protects every later POST). Five failures for
one name within 15 minutes lock that name for 15 minutes (monitor/accounts.py); the page says until when.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor import accounts
from monitor.legal_time import LEGAL_TZ
from web.access import SESSION_COOKIE, Forbidden, current_scope, safe_next
from web.console import page, post, see_other
from web.context import app_state, request_now
from web.i18n import add_texts

LOGIN_COOKIE = "sme_login"

add_texts(
    {
        "login.title": ("控制台登录", "Console login"),
        "login.username": ("用户名", "User name"),
        "login.password": ("密码", "Password"),
        "login.submit": ("登录", "Log in"),
        "login.failed": ("用户名或密码错误。", "Wrong user name or password."),
        "login.locked": (
            "该用户名 15 分钟内登录失败已达 5 次，已锁定至 {until}（北京时间），请稍后再试。",
            "Five failed logins for this name within 15 minutes: it is locked until {until} (Beijing time).",
        ),
        "login.blocked": (
            "来自本地址的失败登录过多，请 15 分钟后再试。",
            "Too many failed logins from this address; try again in 15 minutes.",
        ),
        "login.registry": ("公众查询请访问认定名单", "The public registry needs no login"),
        "logout.title": ("退出登录", "Log out"),
        "logout.confirm": ("确定退出控制台？", "Log out of the console?"),
    }
)


def _secure(request: Request) -> bool:
    return app_state(request).settings.web.public_url.startswith("https://")


def _login_page(request: Request, next_path: str, status: int = 200, **extra: object) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if len(token) < 20:
        token = secrets.token_urlsafe(32)
    response = page(
        request,
        None,
        "console/login.html",
        {"next": next_path, "login_token": token, "error": None, "username": "", **extra},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="lax", secure=_secure(request)
    )
    return response


def login_form(request: Request) -> Response:
    if current_scope(request) is not None:
        return see_other(safe_next(request.query_params.get("next")))
    return _login_page(request, safe_next(request.query_params.get("next")))


def _client(request: Request) -> str:
    return request.client.host if request.client else "-"


def login_submit(request: Request, form: FormData) -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE)
    given = form.get("csrf_token")
    if cookie is None or not isinstance(given, str) or not accounts.same_token(given, cookie):
        raise Forbidden()
    name = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_path = safe_next(str(form.get("next") or ""))
    state, now = app_state(request), request_now(request)
    with state.db.session() as session:
        result = accounts.authenticate(session, name, password, _client(request), now)
        if result.user is not None:
            token, _opened = accounts.open_session(
                session, result.user, _client(request), now, state.settings.web.session_hours
            )
    if result.user is None:
        error = "login.failed"
        fields: dict[str, object] = {}
        if result.locked_until is not None:
            error = "login.locked"
            fields = {"until": result.locked_until.astimezone(LEGAL_TZ).strftime("%Y-%m-%d %H:%M")}
        elif result.address_blocked:
            error = "login.blocked"
        status = 429 if error != "login.failed" else 401
        return _login_page(request, next_path, status, error=error, error_fields=fields, username=name)
    response = see_other(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=state.settings.web.session_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def logout_page(request: Request) -> Response:
    """A GET changes nothing: it shows the button that logs out."""
    found = current_scope(request)
    if found is None:
        return see_other("/login")
    return page(request, found, "console/logout.html")


def logout_submit(request: Request, form: FormData) -> Response:
    found = current_scope(request)
    given = form.get("csrf_token")
    if found is None or not isinstance(given, str) or not accounts.same_token(given, found.csrf_token):
        raise Forbidden()
    with app_state(request).db.session() as session:
        accounts.end_session(session, found.session_id, request_now(request))
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login_form, methods=["GET"], name="login"),
        Route("/login", post(login_submit, keep=("username",)), methods=["POST"]),
        Route("/logout", logout_page, methods=["GET"], name="logout"),
        Route("/logout", post(logout_submit), methods=["POST"]),
    ]
