"""Every row of SPEC 8's role table over HTTP: allowed answers 200 (or the form's 303) with its effect;
forbidden answers 403 (another district's entity 404) and changes nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor import config
from monitor.storage.console_models import UserRow
from monitor.storage.db import Database
from monitor.storage.models import EventRow
from notifications.models import Acknowledgement, MessageStatus, OutboxItem, OutboxMessage, Silence
from tests.console_data import NOW, City, seed
from tests.console_support import Browser, logged_in
from tests.web_support import LiveServer, live_server

USERS = ("admin1", "staff1", "jinjiang", "viewer1")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, City, dict[str, Browser]]]:
    """One SQLite server for the module (the matrix does not depend on the backend; test_console_auth and
    test_console_pages run on both)."""
    path = tmp_path_factory.mktemp("access")
    db = Database(f"sqlite:///{path / 'monitor.db'}")
    db.upgrade()
    settings = config.load(environ={})
    settings = replace(
        settings,
        recipients=replace(
            settings.recipients, districts={"锦江区": ("jinjiang@example.org",), "青羊区": ("qy@example.org",)}
        ),
        mail=replace(settings.mail, directory=path / "mail"),
    )
    city = seed(db, settings)
    with live_server(db, NOW, settings) as server:
        yield server, city, {name: logged_in(server, name) for name in USERS}
    db.dispose()


def count(db: Database, model: type, *where: sa.ColumnElement[bool]) -> int:
    with db.session() as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one())


def events_of(db: Database, code: str, kind: str) -> int:
    from monitor.storage.models import EntityRow

    return count(
        db,
        EventRow,
        EventRow.kind == kind,
        EventRow.entity_id.in_(sa.select(EntityRow.id).where(EntityRow.credit_code == code)),
    )


# --- row 1: read entities, findings, outbox, digests: all / all / own district only / all ----------------


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("path", ["/", "/entities", "/findings", "/outbox", "/digests/2026-03-02", "/silences"])
def test_every_role_reads_the_lists(world: tuple[LiveServer, City, dict[str, Browser]], user: str, path: str) -> None:
    _server, _city, users = world
    assert users[user].get(path).status_code == 200


@pytest.mark.parametrize("user", ["admin1", "staff1", "viewer1"])
def test_city_roles_read_every_district(world: tuple[LiveServer, City, dict[str, Browser]], user: str) -> None:
    _server, city, users = world
    b = users[user]
    listing = b.get("/entities").text
    assert city.j_active in listing and city.q_active in listing
    assert b.get(f"/entities/{city.q_missed}").status_code == 200
    assert city.q_missed in b.get("/findings").text


def test_a_district_user_reads_only_its_district_everywhere(world: tuple[LiveServer, City, dict[str, Browser]]) -> None:
    _server, city, users = world
    b = users["jinjiang"]
    assert b.get(f"/entities/{city.j_missed}").status_code == 200
    # Another district's entity answers 404, as if unknown: page, form, export.
    assert b.get(f"/entities/{city.q_missed}").status_code == 404
    assert b.get(f"/entities/{city.q_missed}/events/new?kind=evaluated").status_code == 404
    for path in (
        "/entities",
        "/entities?format=csv",
        "/findings",
        "/findings?format=csv",
        "/outbox",
        "/outbox?format=csv",
        "/",
        "/digests/2026-03-02",
    ):
        body = b.get(path).content.decode("utf-8")
        assert city.q_active not in body and city.q_missed not in body and "青羊" not in body.replace("青羊区", ""), (
            path
        )
        if path.startswith("/entities"):
            assert city.j_active in body, path
    # Filtering on another district gives nothing, not the other district.
    other = b.get("/entities?district=青羊区").text
    assert city.q_active not in other and 'id="count">共 0 条' in other
    # The home page counts only its district: two entities, both active.
    home = b.get("/").text
    assert 'id="count-active">2<' in home
    assert 'id="count-active">4<' in users["admin1"].get("/").text


def test_a_district_users_outbox_holds_only_its_district(world: tuple[LiveServer, City, dict[str, Browser]]) -> None:
    server, city, users = world
    with server.db.session() as session:
        q_ids = set(
            session.execute(sa.select(OutboxItem.message_id).where(OutboxItem.entity == city.q_missed)).scalars()
        )
        j_ids = set(
            session.execute(sa.select(OutboxItem.message_id).where(OutboxItem.entity == city.j_missed)).scalars()
        )
    only_q = q_ids - j_ids
    only_j = j_ids - q_ids
    assert only_q and only_j
    b = users["jinjiang"]
    for mid in only_q:
        assert b.get(f"/outbox/{mid}").status_code == 404
    shown = [mid for mid in only_j if b.get(f"/outbox/{mid}").status_code == 200]
    assert shown  # its entities' reminders at least
    assert users["staff1"].get(f"/outbox/{next(iter(only_q))}").status_code == 200


# --- row 2: record events -------------------------------------------------------------------------------


def record(b: Browser, code: str, kind: str, **fields: str) -> int:
    return b.post(f"/entities/{code}/events", {"kind": kind, "date": "2026-03-01", **fields}).status_code


def test_admin_records_every_kind_revoked_too(world: tuple[LiveServer, City, dict[str, Browser]]) -> None:
    server, city, users = world
    assert record(users["admin1"], city.q_missed, "evaluated", result="passed") == 303
    assert record(users["admin1"], city.q_missed, "revoked", detail="20") == 303
    assert events_of(server.db, city.q_missed, "revoked") == 1


def test_staff_records_every_kind_but_revoked(world: tuple[LiveServer, City, dict[str, Browser]]) -> None:
    server, city, users = world
    before = events_of(server.db, city.j_active, "revoked")
    assert record(users["staff1"], city.j_active, "revoked", detail="20") == 403
    assert users["staff1"].get(f"/entities/{city.j_active}/events/new?kind=revoked").status_code == 403
    assert events_of(server.db, city.j_active, "revoked") == before
    assert record(users["staff1"], city.j_active, "evaluated", result="passed") == 303
    assert record(users["staff1"], city.j_active, "misconduct", detail="fraud") == 303
    assert events_of(server.db, city.j_active, "misconduct") == 1


def test_district_records_its_kinds_for_its_own_district_only(
    world: tuple[LiveServer, City, dict[str, Browser]],
) -> None:
    server, city, users = world
    b = users["jinjiang"]
    assert record(b, city.j_missed, "restructuring_reported") in (303, 422)
    assert record(b, city.j_missed, "evaluated", result="passed") == 303
    assert events_of(server.db, city.j_missed, "evaluated") == 1
    # Another district's entity: 404, nothing written.
    before = events_of(server.db, city.q_active, "evaluated")
    assert record(b, city.q_active, "evaluated", result="failed") == 404
    assert events_of(server.db, city.q_active, "evaluated") == before
    # A kind outside its list: 403, nothing written.
    for kind, extra in (("misconduct", {"detail": "fraud"}), ("revoked", {"detail": "20"}), ("certified", {})):
        had = events_of(server.db, city.j_active, kind)
        assert record(b, city.j_active, kind, **extra) == 403
        assert events_of(server.db, city.j_active, kind) == had
    # /reports takes a district's report only: not an event about another district's entity.
    smuggled = {"kind": "evaluated", "date": "2026-03-01", "result": "failed", "credit_code": city.q_active}
    assert b.post("/reports", smuggled).status_code == 403
    assert events_of(server.db, city.q_active, "evaluated") == before
    # Its own annual report: yes, for its district only.
    assert b.post("/reports", {"kind": "district_report", "date": "2026-02-20", "year": "2025"}).status_code == 303
    assert (
        b.post(
            "/reports", {"kind": "district_report", "date": "2026-02-20", "year": "2025", "district": "青羊区"}
        ).status_code
        == 403
    )


def test_viewer_records_nothing(world: tuple[LiveServer, City, dict[str, Browser]]) -> None:
    server, city, users = world
    before = events_of(server.db, city.j_active, "evaluated")
    assert record(users["viewer1"], city.j_active, "evaluated", result="failed") == 403
    assert users["viewer1"].get(f"/entities/{city.j_active}/events/new?kind=evaluated").status_code == 403
    assert (
        users["viewer1"]
        .post("/reports", {"kind": "district_report", "date": "2026-02-20", "year": "2025", "district": "锦江区"})
        .status_code
        == 403
    )
    assert events_of(server.db, city.j_active, "evaluated") == before


# --- row 3: imports, acknowledge, silence, outbox retry: yes / yes / no / no ----------------------------


def _upload(b: Browser, name: str, body: str) -> int:
    files = {"file": (name, io.BytesIO(body.encode("utf-8")), "text/csv")}
    answer = b.http.post(
        b.server.url + "/imports",
        data={"kind": "filings", "csrf_token": b.token},
        files=files,
        timeout=30,
        allow_redirects=False,
    )
    return answer.status_code


@pytest.mark.parametrize("user", ["jinjiang", "viewer1"])
def test_district_and_viewer_may_not_import_ack_silence_or_retry(
    world: tuple[LiveServer, City, dict[str, Browser]], user: str, tmp_path: Path
) -> None:
    server, city, users = world
    b = users[user]
    before = (
        count(server.db, Acknowledgement),
        count(server.db, Silence),
        count(server.db, OutboxMessage, OutboxMessage.status == MessageStatus.FAILED.value),
    )
    assert b.get("/imports").status_code == 403
    assert _upload(b, "f.csv", f"credit_code,period,filed_on\n{city.j_missed},2026-01,2026-02-25\n") == 403
    assert (
        b.post("/findings/ack", {"finding": f"FILING_MISSED/{city.j_missed}/2025-10", "note": "x"}).status_code == 403
    )
    assert b.post("/silences", {"credit_code": city.j_missed, "until": "2026-04-01", "reason": "x"}).status_code == 403
    assert b.post("/outbox/retry").status_code == 403
    assert b.post("/outbox/1/retry").status_code == 403
    after = (
        count(server.db, Acknowledgement),
        count(server.db, Silence),
        count(server.db, OutboxMessage, OutboxMessage.status == MessageStatus.FAILED.value),
    )
    assert after == before


@pytest.mark.parametrize("user", ["admin1", "staff1"])
def test_admin_and_staff_import_ack_silence_and_retry(
    world: tuple[LiveServer, City, dict[str, Browser]], user: str
) -> None:
    server, city, users = world
    b = users[user]
    assert b.get("/imports").status_code == 200
    assert _upload(b, "f.csv", f"credit_code,period,filed_on\n{city.j_missed},2025-10,2025-10-20\n") == 200
    findings = b.get("/findings?rule=FILING_MISSED").text
    fid = next(
        line.split('value="')[1].split('"')[0]
        for line in findings.splitlines()
        if 'name="finding" value="FILING_MISSED/' in line
    )
    acks = count(server.db, Acknowledgement)
    assert b.post("/findings/ack", {"finding": fid, "note": f"handled by {user}"}).status_code == 303
    assert count(server.db, Acknowledgement) == acks + 1
    with server.db.session() as session:
        assert (
            session.execute(sa.select(Acknowledgement.acked_by).order_by(Acknowledgement.id.desc())).scalars().first()
            == user
        )
    silences = count(server.db, Silence)
    assert (
        b.post("/silences", {"credit_code": city.q_missed, "until": "2026-04-01", "reason": "争议处理中"}).status_code
        == 303
    )
    assert count(server.db, Silence) == silences + 1
    with server.db.session() as session:
        mid = session.execute(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)).scalars().first()
        session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == mid)
            .values(status=MessageStatus.FAILED.value, last_error="550 test")
        )
    assert b.post(f"/outbox/{mid}/retry").status_code == 303
    with server.db.session() as session:
        assert session.get(OutboxMessage, mid).status == MessageStatus.SENT.value  # type: ignore[union-attr]


# --- row 4: users, audit: admin only -------------------------------------------------------------------


@pytest.mark.parametrize("user", ["staff1", "jinjiang", "viewer1"])
def test_only_admins_see_users_and_audit(world: tuple[LiveServer, City, dict[str, Browser]], user: str) -> None:
    server, _city, users = world
    b = users[user]
    assert b.get("/users").status_code == 403
    assert b.get("/audit").status_code == 403
    assert b.get("/audit?format=csv").status_code == 403
    before = count(server.db, UserRow)
    assert b.post("/users", {"name": "intruder", "role": "admin", "password": "longenough1"}).status_code == 403
    assert b.post("/users/admin1/disable").status_code == 403
    assert count(server.db, UserRow) == before


def test_admin_sees_users_and_audit_and_adds_a_user(world: tuple[LiveServer, City, dict[str, Browser]]) -> None:
    server, _city, users = world
    b = users["admin1"]
    assert b.get("/users").status_code == 200
    audit = b.get("/audit")
    assert audit.status_code == 200 and "admin1" in audit.text
    assert b.post("/users", {"name": "newstaff", "role": "staff", "password": "longenough1"}).status_code == 303
    assert count(server.db, UserRow, UserRow.name == "newstaff") == 1
