"""Console test helpers: users with each role, a logged-in `requests.Session` per user, the CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import requests

from monitor import accounts
from monitor.accounts import Role
from monitor.config import Settings
from monitor.storage.db import Database
from tests.web_support import LiveServer

PASSWORD = "correct horse battery"
DISTRICTS = frozenset({"锦江区", "青羊区", "武侯区", "高新区"})
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(db: Database, name: str, role: Role, district: str = "", settings: Settings | None = None) -> None:
    known = frozenset(d.name for d in settings.districts) if settings else DISTRICTS
    with db.session() as session:
        accounts.add_user(session, name, role, district, PASSWORD, datetime.now(UTC), known)


def csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token in the page"
    return found.group(1)


class Browser:
    """A user's cookie jar against the live server (no redirects followed)."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = requests.Session()
        self.token = ""

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.http.get(self.server.url + path, timeout=20, allow_redirects=False, **kwargs)  # type: ignore[arg-type]

    def post(
        self, path: str, data: dict[str, str] | None = None, *, token: bool = True, **kwargs: object
    ) -> requests.Response:
        body = dict(data or {})
        if token:
            body.setdefault("csrf_token", self.token)
        return self.http.post(self.server.url + path, data=body, timeout=30, allow_redirects=False, **kwargs)  # type: ignore[arg-type]

    def login(self, name: str, password: str = PASSWORD, next_path: str = "/") -> requests.Response:
        form = self.get("/login")
        assert form.status_code == 200
        answer = self.http.post(
            self.server.url + "/login",
            data={"username": name, "password": password, "csrf_token": csrf(form.text), "next": next_path},
            timeout=20,
            allow_redirects=False,
        )
        if answer.status_code == 303:
            page = self.get("/logout")
            self.token = csrf(page.text)
        return answer


def logged_in(server: LiveServer, name: str) -> Browser:
    b = Browser(server)
    answer = b.login(name)
    assert answer.status_code == 303, answer.text[:500]
    return b
