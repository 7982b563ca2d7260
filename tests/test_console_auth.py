"""Console accounts over HTTP: login and logout, CSRF, the lockout, `next`, cookies, session ends."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from monitor import accounts
from monitor.accounts import Role
from monitor.storage.db import Database
from tests.console_support import PASSWORD, Browser, add_user, csrf, logged_in
from tests.web_support import LiveServer, live_server, shanghai


@pytest.fixture
def server(db: Database) -> Iterator[LiveServer]:
    add_user(db, "staff1", Role.STAFF)
    with live_server(db, shanghai(2026, 3, 2, 9, 0)) as live:
        yield live


def test_console_pages_send_an_anonymous_visitor_to_login_with_next(server: LiveServer) -> None:
    answer = server.get("/entities?status=suspended")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fentities%3Fstatus%3Dsuspended"


def test_login_sets_an_httponly_lax_session_cookie_and_follows_next(server: LiveServer) -> None:
    b = Browser(server)
    answer = b.login("staff1", next_path="/entities")
    assert answer.status_code == 303 and answer.headers["location"] == "/entities"
    cookie = answer.headers["set-cookie"]
    assert "sme_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # base_url is http here
    assert b.get("/entities").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/x", "javascript:alert(1)"]
)
def test_next_is_followed_only_to_a_path_of_this_site(server: LiveServer, target: str) -> None:
    answer = Browser(server).login("staff1", next_path=target)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_post_login_without_the_token_get_login_issued_is_403(server: LiveServer) -> None:
    plain = requests.post(
        server.url + "/login", data={"username": "staff1", "password": PASSWORD}, timeout=10, allow_redirects=False
    )
    assert plain.status_code == 403
    b = Browser(server)
    form = b.get("/login")
    forged = b.http.post(
        server.url + "/login",
        data={"username": "staff1", "password": PASSWORD, "csrf_token": csrf(form.text) + "x"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403 and "sme_session" not in forged.headers.get("set-cookie", "")


def test_a_post_without_the_session_csrf_token_is_403_and_changes_nothing(server: LiveServer) -> None:
    b = logged_in(server, "staff1")
    assert b.post("/logout", token=False).status_code == 403
    assert b.get("/entities").status_code == 200  # still logged in
    assert b.post("/logout", {"csrf_token": "nope"}, token=False).status_code == 403


def test_get_logout_does_not_log_out_post_logout_does_and_the_old_cookie_is_dead(server: LiveServer) -> None:
    b = logged_in(server, "staff1")
    saved = b.http.cookies["sme_session"]
    assert b.get("/logout").status_code == 200
    assert b.get("/entities").status_code == 200
    assert b.post("/logout").status_code == 303
    replay = requests.get(server.url + "/entities", cookies={"sme_session": saved}, timeout=10, allow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


def test_disabling_a_user_ends_the_session(server: LiveServer, db: Database) -> None:
    b = logged_in(server, "staff1")
    with db.session() as session:
        accounts.disable(session, "staff1", server.clock.now)
    assert b.get("/entities").status_code == 303
    assert Browser(server).login("staff1").status_code == 401


def test_a_session_ends_after_session_hours(server: LiveServer) -> None:
    b = logged_in(server, "staff1")
    server.clock.now += timedelta(hours=server.settings.web.session_hours, seconds=1)
    assert b.get("/entities").status_code == 303


def test_five_failures_within_15_minutes_lock_the_name_for_15_minutes(server: LiveServer) -> None:
    b = Browser(server)
    for _ in range(4):
        assert b.login("staff1", "wrong password").status_code == 401
        server.clock.now += timedelta(minutes=3)
    fifth = b.login("staff1", "wrong password")
    assert fifth.status_code == 429 and "已锁定至 2026-03-02 09:27" in fifth.text
    # Locked: even the right password is refused, and the page says so.
    server.clock.now += timedelta(minutes=14)
    locked = b.login("staff1")
    assert locked.status_code == 429 and "锁定" in locked.text
    server.clock.now += timedelta(minutes=1, seconds=1)
    assert b.login("staff1").status_code == 303


def test_failures_spread_over_more_than_15_minutes_do_not_lock(server: LiveServer) -> None:
    b = Browser(server)
    for _ in range(6):
        assert b.login("staff1", "wrong password").status_code == 401
        server.clock.now += timedelta(minutes=4)
    assert b.login("staff1").status_code == 303


def test_thirty_failures_from_one_address_on_several_names_are_not_refused(server: LiveServer) -> None:
    b = Browser(server)
    for i in range(30):
        assert b.login(f"nobody{i % 10}-{i}", "wrong password").status_code == 401
    assert b.login("staff1").status_code == 303


def test_no_password_or_token_is_logged(server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        b = logged_in(server, "staff1")
        session_token = b.http.cookies["sme_session"]
        b.get("/entities?token=x")
        b.post("/logout")
    text = caplog.text
    assert PASSWORD not in text
    assert b.token not in text and session_token not in text


def test_cookies_are_secure_when_base_url_is_https(db: Database) -> None:
    from dataclasses import replace

    from monitor import config

    add_user(db, "staff2", Role.STAFF)
    settings = config.load(environ={})
    settings = replace(settings, web=replace(settings.web, base_url="https://console.example.gov.cn"))
    with live_server(db, shanghai(2026, 3, 2, 9, 0), settings) as live:
        b = Browser(live)
        form = b.get("/login")
        assert "Secure" in form.headers["set-cookie"] and "HttpOnly" in form.headers["set-cookie"]
        # requests keeps Secure cookies for https only: send the login token by hand over plain HTTP.
        answer = requests.post(
            live.url + "/login",
            data={"username": "staff2", "password": PASSWORD, "csrf_token": csrf(form.text)},
            cookies={"sme_login": form.cookies["sme_login"]},
            timeout=10,
            allow_redirects=False,
        )
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert "sme_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
