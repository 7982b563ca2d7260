"""The public registry and its API (SPEC 8) on SQLite and PostgreSQL, through the real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from monitor import registry
from monitor.storage.db import Database
from tests.conftest import PG_ENV, postgres_url
from tests.registry_data import EXPIRES_ON, SECRETS, Seed, seed
from tests.web_support import LiveServer, live_server, shanghai


@pytest.fixture
def site(db: Database) -> Iterator[tuple[LiveServer, Seed]]:
    """A server of its own, for a test that writes or moves the clock."""
    s = seed(db)
    with live_server(db, shanghai(2026, 3, 10, 10, 0)) as live:
        yield live, s


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, Seed]]:
    """One server per backend for the tests that only read (the suite stays quick)."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('registry') / 'monitor.db'}"
    else:
        base = postgres_url()
        if not base:
            pytest.skip(f"{PG_ENV} is not set")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    database = Database(url)
    database.upgrade()
    try:
        s = seed(database)
        with live_server(database, shanghai(2026, 3, 10, 10, 0)) as live:
            yield live, s
    finally:
        database.dispose()
        if schema:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def api(server: LiveServer, query: str = "") -> dict[str, Any]:
    answer = server.get(f"/api/v1/registry{query}")
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def codes(page: dict[str, Any]) -> set[str]:
    return {item["credit_code"] for item in page["items"]}


def test_items_have_exactly_the_public_fields_and_no_applicant(shared: tuple[LiveServer, Seed]) -> None:
    server, s = shared
    page = api(server)
    assert page["total"] == 6 and page["page"] == 1 and page["per_page"] == 20
    assert s.applicant not in codes(page)
    for item in page["items"]:
        assert list(item) == list(registry.FIELDS)
    by_code = {i["credit_code"]: i for i in page["items"]}
    assert by_code[s.active] == {
        "credit_code": s.active,
        "name": "成都锦江科创服务平台有限公司",
        "kind": "platform",
        "district": "锦江区",
        "cert_no": f"CERT-{s.active[-4:]}",
        "certified_on": "2025-06-01",
        "expires_on": "2028-06-01",
        "status": "active",
    }
    statuses = {code: item["status"] for code, item in by_code.items()}
    assert statuses[s.suspended] == "suspended" and statuses[s.revoked] == "revoked"
    assert statuses[s.expiring] == "expired"
    # A revoked title still shows its own last valid day.
    assert by_code[s.revoked]["expires_on"] == "2028-06-01"


def test_search_by_name_fragment_code_and_filters(shared: tuple[LiveServer, Seed]) -> None:
    server, s = shared
    assert codes(api(server, "?q=锦江")) == {s.active}  # two characters: below what a trigram index serves
    assert codes(api(server, "?q=锦")) == {s.active, s.expiring}
    assert codes(api(server, "?q=锦官")) == {s.expiring}
    assert codes(api(server, "?q=Sc")) == {s.markup}  # a Latin pair in a name, any case
    assert codes(api(server, "?q=科创服务")) == {s.active}
    assert codes(api(server, "?q=科技服务平台")) == {s.expiring}
    assert codes(api(server, f"?q={s.base[:8].lower()}")) == {s.base}  # a code prefix, lower case
    assert codes(api(server, f"?q={s.revoked[-6:].lower()}")) == {s.revoked}  # inside the code
    assert codes(api(server, "?district=成华区")) == {s.base}
    assert codes(api(server, "?kind=base")) == {s.base}
    assert codes(api(server, "?status=suspended")) == {s.suspended}
    assert codes(api(server, "?q=成都&status=active&kind=platform")) == {s.active}
    assert codes(api(server, "?q=从未认定")) == set()
    assert codes(api(server, "?q=100%25")) == set()  # LIKE wildcards are literal
    assert codes(api(server, "?q=_")) == set()


def test_paging_and_a_page_past_the_last(shared: tuple[LiveServer, Seed]) -> None:
    server, _ = shared
    first, second = api(server, "?per_page=4"), api(server, "?per_page=4&page=2")
    assert len(first["items"]) == 4 and len(second["items"]) == 2
    assert not codes(first) & codes(second)
    assert api(server, "?per_page=4&page=9") == {"items": [], "total": 6, "page": 9, "per_page": 4}
    assert api(server, "?per_page=100")["per_page"] == 100
    # With a search the page's rows carry the count; past the last page it is counted on its own.
    found = api(server, "?q=成都&per_page=2")
    assert found["total"] >= 3 and len(found["items"]) == 2
    assert api(server, "?q=成都&per_page=2&page=2")["total"] == found["total"]
    assert api(server, "?q=成都&per_page=2&page=50") == {
        "items": [],
        "total": found["total"],
        "page": 50,
        "per_page": 2,
    }
    assert api(server, "?q=从未认定&page=3")["total"] == 0


@pytest.mark.parametrize(
    "query, param",
    [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=abc", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("district=北京市", "district"),
        ("kind=company", "kind"),
        ("status=uncertified", "status"),
        ("status=ACTIVE", "status"),
        ("q=" + "x" * 101, "q"),
    ],
)
def test_bad_parameters_are_400_naming_them(shared: tuple[LiveServer, Seed], query: str, param: str) -> None:
    server, _ = shared
    answer = server.get(f"/api/v1/registry?{query}")
    assert answer.status_code == 400
    body = answer.json()
    assert list(body) == ["error"] and body["error"].startswith(f"{param}: ")
    if param != "per_page":  # the page has no per_page: 50 a page
        page = server.get(f"/registry?{query}")
        assert page.status_code == 400 and f"{param}: " in page.text


def test_entity_page_and_api_and_404s(shared: tuple[LiveServer, Seed]) -> None:
    server, s = shared
    item = server.get(f"/api/v1/registry/{s.base.lower()}")
    assert item.status_code == 200 and item.json()["name"] == "成华区小企业创业基地"
    page = server.get(f"/registry/{s.base}")
    assert page.status_code == 200 and "成华区小企业创业基地" in page.text and "有效" in page.text
    assert "active" in server.get(f"/registry/{s.base}?lang=en").text
    for unknown in (s.applicant, "915101040000000000", "nonsense"):
        answer = server.get(f"/api/v1/registry/{unknown}")
        assert answer.status_code == 404 and list(answer.json()) == ["error"]
        assert server.get(f"/registry/{unknown}").status_code == 404


def test_list_page_searches_without_javascript(shared: tuple[LiveServer, Seed]) -> None:
    server, s = shared
    page = server.get("/registry", params={"q": "锦江", "status": "active"})
    assert page.status_code == 200
    assert "共 1 条" in page.text and f'href="/registry/{s.active}"' in page.text
    assert '<form class="search" method="get" action="/registry"' in page.text
    assert 'value="锦江"' in page.text and '<option value="active" selected>' in page.text
    assert "<script" not in page.text.replace("&lt;script", "")
    en = server.get("/registry", params={"q": "锦江", "lang": "en"})
    assert "1 found" in en.text and f'href="/registry/{s.active}?lang=en"' in en.text
    # The row's kind and status in the page's language (looked up once a page).
    assert "<td>平台</td>" in page.text and '<td class="status-active">有效</td>' in page.text
    assert "<td>platform</td>" in en.text and '<td class="status-active">active</td>' in en.text


def test_fifty_a_page_with_links_to_the_next(db: Database) -> None:
    from monitor.domain import Entity, EventKind, History, Kind
    from tests import dbdata
    from tests.registry_data import _ev, code

    dbdata.store(
        db,
        [
            History(
                Entity(code(100 + i), f"测试平台{i:03d}", Kind.PLATFORM, "锦江区"),
                (_ev(EventKind.CERTIFIED, "2025-06-01"),),
            )
            for i in range(51)
        ],
    )
    with live_server(db, shanghai(2026, 3, 10, 10, 0)) as server:
        first = server.get("/registry")
        assert (
            first.text.count("<tr>") == 51
            and "第 1 / 2 页" in first.text
            and 'rel="next" href="/registry?page=2"' in first.text
        )
        second = server.get("/registry?page=2")
        assert second.text.count("<tr>") == 2 and 'rel="prev"' in second.text


def test_names_are_escaped(shared: tuple[LiveServer, Seed]) -> None:
    server, s = shared
    for path in ("/registry", "/registry?q=script", f"/registry/{s.markup}"):
        body = server.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;测试平台" in body, path
        assert "<script>alert(1)" not in body, path
    assert api(server, "?q=<script>")["items"][0]["name"] == "<script>alert(1)</script>测试平台"


def test_no_private_field_in_any_public_answer(shared: tuple[LiveServer, Seed]) -> None:
    server, s = shared
    paths = ["/registry", "/registry?lang=en", "/api/v1/registry?per_page=100", "/api/openapi.json"]
    for c in (s.active, s.suspended, s.revoked, s.expiring, s.base, s.markup, s.applicant):
        paths += [f"/registry/{c}", f"/registry/{c}?lang=en", f"/api/v1/registry/{c}"]
    paths += [f"/registry?status={st}" for st in ("active", "suspended", "revoked", "expired")]
    for path in paths:
        body = server.get(path).text
        for secret in SECRETS:
            assert secret not in body, (path, secret)
        assert "从未认定的申请单位" not in body, path


def test_status_is_right_for_today_at_any_hour_without_a_sweep(site: tuple[LiveServer, Seed]) -> None:
    server, s = site
    last_day = EXPIRES_ON
    server.clock.now = shanghai(last_day.year, last_day.month, last_day.day, 23, 59)
    assert server.get(f"/api/v1/registry/{s.expiring}").json()["status"] == "active"
    assert "有效" in server.get(f"/registry/{s.expiring}").text
    next_day = last_day + timedelta(days=1)
    # 00:05 in Beijing is still the previous day in UTC and in the host's timezone.
    server.clock.now = shanghai(next_day.year, next_day.month, next_day.day, 0, 5)
    item = server.get(f"/api/v1/registry/{s.expiring}").json()
    assert item["status"] == "expired" and item["expires_on"] == last_day.isoformat()
    assert "到期" in server.get(f"/registry/{s.expiring}").text
    assert s.expiring in codes(api(server, "?status=expired"))


def test_every_page_carries_the_csp(shared: tuple[LiveServer, Seed]) -> None:
    server, s = shared
    for path in ("/registry", f"/registry/{s.active}", "/registry/nope", "/registry?page=0", "/api/v1/registry"):
        answer = server.get(path)
        csp = answer.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp, path


def test_search_index_follows_roster_writes(site: tuple[LiveServer, Seed]) -> None:
    server, s = site
    with server.db.session() as session:
        session.execute(
            sa.text("UPDATE entities SET name = :n WHERE credit_code = :c"),
            {"n": "成都青羊数字经济服务平台", "c": s.active},
        )
    assert codes(api(server, "?q=数字经济")) == {s.active}
    assert codes(api(server, "?q=科创服务")) == set()


def test_openapi_describes_every_parameter_and_answer(shared: tuple[LiveServer, Seed]) -> None:
    server, _ = shared
    doc = server.get("/api/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    search = doc["paths"]["/api/v1/registry"]["get"]
    by_name = {p["name"]: p["schema"] for p in search["parameters"]}
    assert set(by_name) == {"q", "district", "kind", "status", "page", "per_page"}
    assert all("type" in schema for schema in by_name.values())
    assert by_name["per_page"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert by_name["page"]["minimum"] == 1 and by_name["q"]["maxLength"] == registry.MAX_Q
    assert by_name["status"]["enum"] == ["active", "suspended", "revoked", "expired"]
    assert "锦江区" in by_name["district"]["enum"] and len(by_name["district"]["enum"]) == 23
    assert set(search["responses"]) == {"200", "400"}
    entity = doc["paths"]["/api/v1/registry/{credit_code}"]["get"]
    assert set(entity["responses"]) == {"200", "404"}
    for answer in (*search["responses"].values(), *entity["responses"].values()):
        assert "$ref" in answer["content"]["application/json"]["schema"]
    item = doc["components"]["schemas"]["Item"]
    assert item["required"] == list(registry.FIELDS) and item["additionalProperties"] is False


def test_a_new_event_shows_on_the_next_request(site: tuple[LiveServer, Seed]) -> None:
    from datetime import UTC, date, datetime

    from monitor.domain import EventKind
    from monitor.storage import repository
    from monitor.storage.models import EntityRow

    server, s = site
    assert server.get(f"/api/v1/registry/{s.active}").json()["status"] == "active"  # the kept answer is filled
    with server.db.session() as session:
        entity_id = session.execute(sa.select(EntityRow.id).where(EntityRow.credit_code == s.active)).scalar_one()
        event = repository.NewEvent(s.active, EventKind.MISCONDUCT, date(2026, 3, 9), detail="fraud")
        repository.append_event(session, entity_id, event, datetime(2026, 3, 9, 2, tzinfo=UTC))
    assert server.get(f"/api/v1/registry/{s.active}").json()["status"] == "revoked"
    assert s.active in codes(api(server, "?status=revoked"))
