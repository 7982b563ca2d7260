"""A small registry with every public status, an applicant never certified, a name that is markup, and
private data (e-mails, notes, details, recorders, sources) that must never reach a public page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from monitor import credit_code
from monitor.domain import Entity, Event, EventKind, History, Kind
from monitor.storage.db import Database
from tests import dbdata

D = date.fromisoformat

# Things only staff may see; none of them may appear in any public answer.
SECRETS = (
    "leak-contact@example.cn",
    "second-leak@example.cn",
    "LEAK-NOTE-对外不公开",
    "LEAK-RECORDER",
    "LEAK-SOURCE",
    "refused_cooperation",
    "fraud",
    "rename",
    "rectification",
    "restructuring",
    "第二十二条",
    "第二十一条",
    "第十八条",
)


def code(n: int, district: str = "510104") -> str:
    return credit_code.complete(f"9151{district[2:]}MA{n:07d}"[:17])


@dataclass(frozen=True)
class Seed:
    active: str
    suspended: str
    revoked: str
    expiring: str  # a title whose last valid day is EXPIRES_ON
    base: str
    markup: str
    applicant: str  # never certified: not in the registry


EXPIRES_ON = D("2026-03-02")  # granted 2023-03-02, valid 3 years (Art. 17; legal_time.validity_last_day)


def _ev(kind: EventKind, when: str, result: str = "", detail: str = "") -> Event:
    return Event(
        kind=kind,
        date=D(when),
        result=result,
        detail=detail,
        note="LEAK-NOTE-对外不公开",
        recorded_by="LEAK-RECORDER",
        source="LEAK-SOURCE",
        cert_no="CDSME-2025-001" if kind is EventKind.CERTIFIED else "",
    )


def seed(db: Database) -> Seed:
    s = Seed(
        active=code(1),
        suspended=code(2),
        revoked=code(3),
        expiring=code(4),
        base=code(5, "510108"),
        markup=code(6),
        applicant=code(7),
    )
    emails = ("leak-contact@example.cn", "second-leak@example.cn")

    def entity(c: str, name: str, kind: Kind = Kind.PLATFORM, district: str = "锦江区") -> Entity:
        return Entity(c, name, kind, district, emails, f"CERT-{c[-4:]}")

    monthly = {D(f"2025-{m:02d}-01"): D(f"2025-{m:02d}-20") for m in range(7, 13)}
    monthly |= {D(f"2026-{m:02d}-01"): D(f"2026-{m:02d}-20") for m in range(1, 3)}
    histories = [
        History(entity(s.active, "成都锦江科创服务平台有限公司"), (_ev(EventKind.CERTIFIED, "2025-06-01"),), monthly),
        History(
            entity(s.suspended, "成都蓉城企业服务中心"),
            (
                _ev(EventKind.CERTIFIED, "2025-06-01"),
                _ev(EventKind.RESTRUCTURED, "2026-02-01", detail="rename"),
            ),
            monthly,
        ),
        History(
            entity(s.revoked, "成都天府双创孵化平台"),
            (
                _ev(EventKind.CERTIFIED, "2025-06-01"),
                _ev(EventKind.MISCONDUCT, "2026-01-10", detail="fraud"),
            ),
            monthly,
        ),
        History(entity(s.expiring, "成都锦官城科技服务平台"), (_ev(EventKind.CERTIFIED, "2023-03-02"),), {}),
        History(
            entity(s.base, "成华区小企业创业基地", Kind.BASE, "成华区"),
            (_ev(EventKind.CERTIFIED, "2025-06-01"),),
            monthly,
        ),
        History(
            entity(s.markup, "<script>alert(1)</script>测试平台"), (_ev(EventKind.CERTIFIED, "2025-06-01"),), monthly
        ),
        History(entity(s.applicant, "从未认定的申请单位"), (_ev(EventKind.APPLIED, "2025-05-01", detail="2025"),), {}),
    ]
    dbdata.store(db, histories)
    return s
