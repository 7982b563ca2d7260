"""A small city for the console's tests: entities in two districts (锦江区, 青羊区) with open findings,
outbox messages about each, a user of every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from monitor import credit_code, kept
from monitor.accounts import Role
from monitor.config import Settings
from monitor.domain import Entity, Event, EventKind, History, Kind
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from notifications import service
from tests import dbdata
from tests.console_support import add_user

D = date.fromisoformat
TODAY = D("2026-03-02")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def code(n: int, prefix: str = "510104") -> str:
    return credit_code.complete(f"9151{prefix[2:]}MA{n:07d}"[:17])


@dataclass(frozen=True)
class City:
    j_active: str  # 锦江区, files every month
    j_missed: str  # 锦江区, no filings since 2025-10: FILING_MISSED for staff and the district
    q_active: str  # 青羊区
    q_missed: str  # 青羊区, same misses


def _ev(kind: EventKind, when: str, result: str = "", detail: str = "") -> Event:
    return Event(kind=kind, date=D(when), result=result, detail=detail, note="", recorded_by="seed", source="seed")


def seed(db: Database, settings: Settings) -> City:
    c = City(code(1), code(2), code(3, "510105"), code(4, "510105"))
    full = {D(f"2025-{m:02d}-01"): D(f"2025-{m:02d}-20") for m in range(7, 13)}
    full |= {D("2026-01-01"): D("2026-01-20"), D("2026-02-01"): D("2026-02-20")}
    partial = {D(f"2025-{m:02d}-01"): D(f"2025-{m:02d}-20") for m in range(7, 10)}

    def entity(cc: str, name: str, district: str) -> Entity:
        return Entity(cc, name, Kind.PLATFORM, district, (f"e{cc[-4:]}@example.cn",), f"CERT-{cc[-4:]}")

    dbdata.store(
        db,
        [
            History(entity(c.j_active, "锦江按时填报平台", "锦江区"), (_ev(EventKind.CERTIFIED, "2025-06-01"),), full),
            History(entity(c.j_missed, "锦江漏报平台", "锦江区"), (_ev(EventKind.CERTIFIED, "2025-06-01"),), partial),
            History(entity(c.q_active, "青羊按时填报平台", "青羊区"), (_ev(EventKind.CERTIFIED, "2025-06-01"),), full),
            History(entity(c.q_missed, "青羊漏报平台", "青羊区"), (_ev(EventKind.CERTIFIED, "2025-06-01"),), partial),
        ],
    )
    cal = WorkCalendar.load(settings.holidays_file)
    result = kept.current(db, TODAY, cal, settings.rules, settings.districts, today=TODAY)
    service.enqueue(db, result, settings, TODAY, NOW)
    for name, role, district in (
        ("admin1", Role.ADMIN, ""),
        ("staff1", Role.STAFF, ""),
        ("jinjiang", Role.DISTRICT, "锦江区"),
        ("viewer1", Role.VIEWER, ""),
    ):
        add_user(db, name, role, district, settings)
    return c
