"""The console's pages on both backends: recording through the form, refused forms, imports (dry run then
apply), exports (BOM, formula escaping, text cells), escaping, silences with their preview, acknowledging
from the entity page, a message as sent, the audit trail."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from monitor import config
from monitor.storage.console_models import AuditRow
from monitor.storage.db import Database
from monitor.storage.models import EntityRow, EventRow, FilingRow
from notifications.models import Acknowledgement, OutboxMessage, Silence
from tests.console_data import NOW, City, seed
from tests.console_support import Browser, logged_in
from tests.web_support import LiveServer, live_server


@pytest.fixture
def world(db: Database, tmp_path: Path) -> Iterator[tuple[LiveServer, City]]:
    settings = config.load(environ={})
    settings = replace(settings, mail=replace(settings.mail, directory=tmp_path / "mail"))
    city = seed(db, settings)
    with live_server(db, NOW, settings) as server:
        yield server, city


def count(db: Database, model: type, *where: sa.ColumnElement[bool]) -> int:
    with db.session() as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one())


def test_a_failed_evaluation_recorded_through_the_form_suspends_the_entity(world: tuple[LiveServer, City]) -> None:
    server, city = world
    b = logged_in(server, "staff1")
    page = b.get(f"/entities/{city.j_active}")
    assert 'id="status" class="status-active">有效<' in page.text
    form = b.get(f"/entities/{city.j_active}/events/new?kind=evaluated")
    assert form.status_code == 200 and 'for="f-result"' in form.text
    answer = b.post(
        f"/entities/{city.j_active}/events", {"kind": "evaluated", "date": "2026-03-01", "result": "failed"}
    )
    assert answer.status_code == 303
    page = b.get(f"/entities/{city.j_active}")
    assert 'id="status" class="status-suspended">暂停<' in page.text
    assert "RECTIFICATION_DUE" in page.text
    with server.db.session() as session:
        by = session.execute(sa.select(EventRow.recorded_by, EventRow.source).where(EventRow.kind == "evaluated")).one()
        audit = (
            session.execute(sa.select(AuditRow).where(AuditRow.actor == "staff1", AuditRow.action.contains("/events")))
            .scalars()
            .all()
        )
    assert tuple(by) == ("staff1", "console")
    assert audit and "events +" in audit[0].changes and audit[0].origin == "127.0.0.1" and audit[0].request_id
    # The list agrees at once (the write marked the kept answer stale).
    assert "status-suspended" in b.get(f"/entities?q={city.j_active}").text


def test_a_refused_form_shows_the_import_message_beside_the_field_and_writes_nothing(
    world: tuple[LiveServer, City],
) -> None:
    server, city = world
    b = logged_in(server, "staff1")
    before = count(server.db, EventRow)
    answer = b.post(f"/entities/{city.j_active}/events", {"kind": "evaluated", "date": "2026-03-09", "result": ""})
    assert answer.status_code == 422
    assert 'id="err-date"' in answer.text and 'id="err-result"' in answer.text
    assert 'aria-invalid="true" aria-describedby="err-result"' in answer.text
    assert count(server.db, EventRow) == before


def _upload(b: Browser, kind: str, name: str, body: str) -> str:
    files = {"file": (name, io.BytesIO(body.encode("utf-8")), "text/csv")}
    answer = b.http.post(b.server.url + "/imports", data={"kind": kind, "csrf_token": b.token}, files=files, timeout=30)
    return f"{answer.status_code}\n{answer.text}"


def test_an_upload_with_a_bad_row_lists_file_row_column_reason_and_writes_nothing(
    world: tuple[LiveServer, City],
) -> None:
    server, city = world
    b = logged_in(server, "staff1")
    before = count(server.db, FilingRow)
    body = f"credit_code,period,filed_on\n{city.j_missed},2025-10,2025-10-20\n{city.j_missed},2025-13,2025-11-20\n"
    answer = _upload(b, "filings", "十月填报.csv", body)
    assert answer.startswith("422")
    assert "十月填报.csv:3: period:" in answer
    assert 'id="apply"' not in answer
    assert count(server.db, FilingRow) == before


def test_an_upload_is_checked_first_then_applied_with_one_button(world: tuple[LiveServer, City]) -> None:
    server, city = world
    b = logged_in(server, "staff1")
    before = count(server.db, FilingRow)
    body = f"credit_code,period,filed_on\n{city.j_missed},2025-10,2025-10-20\n{city.j_missed},2025-11,2025-11-20\n"
    answer = _upload(b, "filings", "filings.csv", body)
    assert answer.startswith("200") and "试运行" in answer and 'id="apply"' in answer
    assert count(server.db, FilingRow) == before  # the dry run wrote nothing
    token = answer.split('name="upload" value="')[1].split('"')[0]
    applied = b.post("/imports/apply", {"upload": token})
    assert applied.status_code == 200 and 'id="import-done"' in applied.text
    assert count(server.db, FilingRow) == before + 2
    assert b.post("/imports/apply", {"upload": token}).status_code == 404  # once
    # Another user's session cannot apply someone's upload.
    other = _upload(b, "filings", "again.csv", body)
    token2 = other.split('name="upload" value="')[1].split('"')[0]
    assert logged_in(server, "admin1").post("/imports/apply", {"upload": token2}).status_code == 404


def test_exports_have_a_bom_escape_formulas_and_write_text_cells(world: tuple[LiveServer, City]) -> None:
    server, city = world
    with server.db.session() as session:
        session.execute(
            sa.update(EntityRow).where(EntityRow.credit_code == city.j_active).values(name='=HYPERLINK("http://x","y")')
        )
        session.execute(sa.update(EntityRow).where(EntityRow.credit_code == city.j_missed).values(name="@SUM(1)"))
    b = logged_in(server, "staff1")
    answer = b.get("/entities?format=csv&district=锦江区")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    names = {r[0]: r[1] for r in rows[1:]}
    assert names[city.j_active] == '\'=HYPERLINK("http://x","y")'
    assert names[city.j_missed] == "'@SUM(1)"
    assert len(rows) == 3  # the header and the two entities of the filter
    xlsx = b.get("/entities?format=xlsx&district=锦江区")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type == "s" for c in cells)
    assert '=HYPERLINK("http://x","y")' in [c.value for c in cells]
    for path in ("/findings?format=csv", "/outbox?format=csv", "/silences?format=csv"):
        assert b.get(path).content.startswith(b"\xef\xbb\xbf"), path
    assert b.get("/entities?format=pdf").status_code == 400


def test_markup_in_data_is_escaped(world: tuple[LiveServer, City]) -> None:
    server, city = world
    with server.db.session() as session:
        session.execute(
            sa.update(EntityRow).where(EntityRow.credit_code == city.j_active).values(name="<script>alert(1)</script>")
        )
    b = logged_in(server, "staff1")
    for path in ("/entities", f"/entities/{city.j_active}"):
        text = b.get(path).text
        assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text


def test_a_silence_previews_what_it_holds_needs_until_and_reason_and_lifts(world: tuple[LiveServer, City]) -> None:
    server, city = world
    b = logged_in(server, "staff1")
    preview = b.get(f"/silences?credit_code={city.j_missed}&until=2026-04-30&reason=争议")
    assert preview.status_code == 200 and 'id="held"' in preview.text
    assert f"FILING_MISSED/{city.j_missed}/" in preview.text
    assert count(server.db, Silence) == 0  # a preview is a GET: nothing saved
    refused = b.post("/silences", {"credit_code": city.j_missed, "until": "", "reason": ""})
    assert refused.status_code == 422 and 'id="err-until"' in refused.text and 'id="err-reason"' in refused.text
    assert count(server.db, Silence) == 0
    assert (
        b.post("/silences", {"credit_code": city.j_missed, "until": "2026-04-30", "reason": "争议处理中"}).status_code
        == 303
    )
    with server.db.session() as session:
        row = session.execute(sa.select(Silence)).scalar_one()
    assert (row.created_by, row.starts_on.isoformat()) == ("staff1", "2026-03-02")  # from = today by default
    assert b.post(f"/silences/{row.id}/lift").status_code == 303
    with server.db.session() as session:
        lifted = session.get(Silence, row.id)
        assert lifted is not None and lifted.lifted_by == "staff1"


def test_acknowledging_from_the_entity_page_records_the_user(world: tuple[LiveServer, City]) -> None:
    server, city = world
    b = logged_in(server, "staff1")
    page = b.get(f"/entities/{city.j_missed}").text
    assert 'action="/findings/ack"' in page
    fid = page.split('name="finding" value="')[1].split('"')[0]
    assert (
        b.post("/findings/ack", {"finding": fid, "note": "正在处理", "next": f"/entities/{city.j_missed}"}).status_code
        == 303
    )
    with server.db.session() as session:
        ack = session.execute(sa.select(Acknowledgement)).scalar_one()
    assert (ack.finding_id, ack.acked_by, ack.note) == (fid, "staff1", "正在处理")
    assert "已确认：staff1" in b.get(f"/entities/{city.j_missed}").text
    # A bulk acknowledgement with one unknown item writes nothing.
    bad = b.post("/findings/ack", {"finding": "FILING_MISSED/NOPE/2025-10", "note": "x"})
    assert bad.status_code == 422 and count(server.db, Acknowledgement) == 1


def test_a_message_is_shown_as_sent(world: tuple[LiveServer, City]) -> None:
    server, _city = world
    b = logged_in(server, "staff1")
    with server.db.session() as session:
        m = session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().first()
        assert m is not None
        mid, subject = m.id, m.subject
    page = b.get(f"/outbox/{mid}")
    assert page.status_code == 200 and subject in page.text and "Message-ID" in page.text
    assert b.get("/outbox/999999").status_code == 404


def test_entity_list_rows_link_and_speak_the_pages_language(world: tuple[LiveServer, City]) -> None:
    server, city = world
    b = logged_in(server, "staff1")
    zh = b.get("/entities", params={"q": "锦江按时"}).text
    assert f'href="/entities/{city.j_active}"' in zh
    assert "<td>平台</td>" in zh and '<td class="status-active">有效</td>' in zh
    en = b.get("/entities", params={"q": "锦江按时", "lang": "en"}).text
    assert f'href="/entities/{city.j_active}?lang=en"' in en
    assert "<td>platform</td>" in en and '<td class="status-active">active</td>' in en
