"""A realistic demo data set, dated relative to the day it is loaded so that it always shows every rule.

About forty entities across the districts, both kinds, valid credit codes, a year of filings with gaps,
restructurings, failed evaluations, an expiring and an expired title, a 2018-scheme title, a publicity that
ended, and one case of fraud followed by an application during the ban. Three applications (SPEC 9: one
eligible, one not, one incomplete) and a few title holders reporting service figures, one of them below its
function's threshold (at risk at renewal, shown from July).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from monitor import credit_code
from monitor import legal_time as lt
from monitor.applications import codec
from monitor.applications.models import ApplicationRow, FilingFiguresRow
from monitor.config import RuleSettings
from monitor.domain import EventKind, Kind, Scheme
from monitor.storage import repository
from monitor.storage.models import DistrictReportRow, EntityRow, FilingRow

SOURCE = "demo"
RECORDED_BY = "演示数据"

# Administrative division codes used in the credit codes (positions 3-8).
DIVISION = {
    "锦江区": "510104",
    "青羊区": "510105",
    "金牛区": "510106",
    "武侯区": "510107",
    "成华区": "510108",
    "高新区": "510109",
    "龙泉驿区": "510112",
    "青白江区": "510113",
    "新都区": "510114",
    "温江区": "510115",
    "双流区": "510116",
    "郫都区": "510117",
    "新津区": "510118",
    "金堂县": "510121",
    "大邑县": "510129",
    "蒲江县": "510131",
    "都江堰市": "510181",
    "彭州市": "510182",
    "邛崃市": "510183",
    "崇州市": "510184",
    "简阳市": "510185",
    "天府新区": "510192",
    "东部新区": "510193",
}

_PLATFORM_WORDS = [
    "中小企业服务",
    "科技成果转化",
    "工业设计",
    "检验检测",
    "企业管理咨询",
    "知识产权",
    "数字化转型",
    "创业培训",
]
_BASE_WORDS = ["创新创业", "科创孵化", "双创产业", "青年创业", "电子商务产业", "文创产业", "智能制造孵化"]
_PLACES = ["天府", "锦城", "蓉城", "西岭", "都江", "青城", "龙泉", "浣花", "望江", "金沙"]


@dataclass
class DemoEntity:
    name: str
    kind: Kind
    district: str
    email: str
    certified_on: date | None
    scheme: Scheme = Scheme.CURRENT
    cert_no: str = ""
    code: str = ""
    # month index -> None (missed), or days after the month's end it was filed (negative: before)
    skip_months: set[int] = field(default_factory=set)
    late_months: set[int] = field(default_factory=set)
    events: list[tuple[EventKind, date, str, str]] = field(default_factory=list)  # kind, date, result, detail
    functions: tuple[str, ...] = ()  # the service functions certified for (roster)
    figures: dict[str, Any] = field(default_factory=dict)  # the same figures filed with every month's filing
    application: dict[str, Any] | None = None  # fields of this year's application (applied_on = the event)


def _code(district: str, n: int) -> str:
    org = f"MA{n:07d}"
    return credit_code.complete("91" + DIVISION[district] + org[:9])


def build(as_of: date) -> list[DemoEntity]:
    """The demo roster and its story, relative to `as_of` (deterministic for a given date)."""
    rng = random.Random(20261124)
    districts = list(DIVISION)
    this_month = lt.month_of(as_of)
    out: list[DemoEntity] = []

    def add(kind: Kind, certified_on: date | None, **kw: object) -> DemoEntity:
        n = len(out) + 1
        district = str(kw.pop("district", districts[n % len(districts)]))
        place = _PLACES[n % len(_PLACES)]
        if kind is Kind.PLATFORM:
            name = f"成都{place}{_PLATFORM_WORDS[n % len(_PLATFORM_WORDS)]}有限公司"
        else:
            name = f"{district}{place}{_BASE_WORDS[n % len(_BASE_WORDS)]}基地"
        e = DemoEntity(
            name=name,
            kind=kind,
            district=district,
            email=f"contact{n:02d}@demo-{DIVISION[district]}.example.cn",
            certified_on=certified_on,
            cert_no=f"CDSME-{certified_on.year if certified_on else 0}-{n:03d}" if certified_on else "",
            code=_code(district, n),
        )
        for k, v in kw.items():
            setattr(e, k, v)
        out.append(e)
        return e

    def months_ago(k: int, day: int = 15) -> date:
        return lt.add_months(this_month, -k).replace(day=day)

    # Twenty entities in good standing, certified over the last three years.
    good = []
    for i in range(20):
        kind = Kind.PLATFORM if i % 2 == 0 else Kind.BASE
        e = add(kind, months_ago(6 + i, 10 + i % 15))
        if i % 5 == 0:
            e.late_months = {rng.randint(3, 10)}
        good.append(e)
    # Service figures filed with the monthly reports (SPEC 9): two on track, one platform below Art. 5 (1).
    good[2].functions = ("policy", "training")
    good[2].figures = {"policy_system": True, "policy_offline": 12, "training_capability": True}
    good[2].figures |= {"training_total": 45, "training_offline": 20}
    good[3].functions = ("coaching", "innovation", "training", "consulting")
    good[3].figures = {"coaching": 3, "tech_meetings": 1, "training_total": 15, "consulting": 2}
    good[4].functions = ("policy",)
    good[4].figures = {"policy_system": True, "policy_online": 10, "policy_offline": 5}
    # Monthly filings missed: streaks of 1, 2, 3, 5 and 7 months.
    for streak in (1, 2, 3, 5, 7):
        add(Kind.PLATFORM if streak % 2 else Kind.BASE, months_ago(14, 8), skip_months=set(range(1, streak + 1)))
    # Titles reaching the end of their three years: 80, 25 and 5 days from now, and 20 days ago.
    expiring = {}
    for days in (80, 25, 5, -20):
        last = lt.days_after(as_of, days)
        expiring[days] = add(Kind.BASE if days % 2 else Kind.PLATFORM, lt.add_months(last, -36))
    renewing = expiring[80]
    # Restructurings (Art. 18): recent, overdue report, reported and awaiting review, failed review.
    r1 = add(Kind.PLATFORM, months_ago(20, 5))
    r1.events.append((EventKind.RESTRUCTURED, lt.days_before(as_of, 75), "", "rename"))
    r2 = add(Kind.BASE, months_ago(22, 12))
    r2.events.append((EventKind.RESTRUCTURED, lt.days_before(as_of, 130), "", "merger"))
    r3 = add(Kind.PLATFORM, months_ago(18, 20))
    r3.events.append((EventKind.RESTRUCTURED, lt.days_before(as_of, 150), "", "split"))
    r3.events.append((EventKind.RESTRUCTURING_REPORTED, lt.days_before(as_of, 100), "", ""))
    r4 = add(Kind.BASE, months_ago(24, 3))
    r4.events.append((EventKind.RESTRUCTURED, lt.days_before(as_of, 300), "", "rename"))
    r4.events.append((EventKind.RESTRUCTURING_REPORTED, lt.days_before(as_of, 250), "", ""))
    r4.events.append((EventKind.RESTRUCTURING_REVIEWED, lt.days_before(as_of, 60), "failed", ""))
    # Failed evaluations (Art. 21): just now, a month before the deadline, overdue, and rectified.
    for days_ago, fix in ((10, False), (160, False), (200, False), (120, True)):
        e = add(Kind.PLATFORM if days_ago % 20 else Kind.BASE, months_ago(16, 11))
        e.events.append((EventKind.EVALUATED, lt.days_before(as_of, days_ago), "failed", ""))
        if fix:
            e.events.append((EventKind.RECTIFICATION_ACCEPTED, lt.days_before(as_of, 30), "", ""))
    # Misconduct (Art. 22): fraud found, title revoked, then an application during the ban.
    m = add(Kind.BASE, months_ago(26, 9))
    m.events.append((EventKind.MISCONDUCT, lt.days_before(as_of, 200), "", "fraud"))
    m.events.append((EventKind.APPLIED, lt.days_before(as_of, 20), "", str(as_of.year)))
    m.application = _base_application(as_of)  # meets every condition on paper, but applied during the ban
    # A title granted under the 2018 measures (Art. 27).
    add(Kind.PLATFORM, months_ago(30, 1), scheme=Scheme.LEGACY_2018)
    # Publicized a fortnight ago, title not yet granted (Art. 10).
    p = add(Kind.BASE, None)
    p.events.append((EventKind.APPLIED, lt.days_before(as_of, 60), "", str(as_of.year)))
    p.events.append((EventKind.DISTRICT_REVIEWED, lt.days_before(as_of, 45), "passed", str(as_of.year)))
    p.events.append((EventKind.EXPERT_REVIEWED, lt.days_before(as_of, 21), "passed", str(as_of.year)))
    p.events.append((EventKind.PUBLICIZED, lt.days_before(as_of, 14), "", ""))
    p.application = _base_application(as_of)  # eligible
    # The platform whose title ends in 80 days has applied again; its district has not reviewed the application
    # yet and the satisfaction figure is missing (incomplete).
    n = renewing
    n.events.append((EventKind.APPLIED, lt.days_before(as_of, 40), "", str(as_of.year)))
    n.application = _platform_application(as_of) | {"satisfaction": None}
    # Revoked by a staff decision after six missed months (Art. 20).
    rv = add(Kind.PLATFORM, months_ago(28, 17), skip_months=set(range(3, 10)))
    rv.events.append((EventKind.REVOKED, lt.add_months(this_month, -2).replace(day=12), "", "20"))
    return out


def _base_application(as_of: date) -> dict[str, Any]:
    return {
        "registered_on": lt.add_months(as_of, -60),
        "legal_person": True,
        "clean_record": True,
        "small_micro_last_year": 42,
        "small_micro_now": 47,
        "full_time_staff": 8,
        "mentors": 3,
        "partner_institutions": 5,
        "public_interest_share": 35,
        "park_type": "office",
        "floor_area": 12500,
        "owned_share": 100,
        "leased": False,
        "governance": True,
        "management_system": True,
        "service_ledger": True,
        "functions": ("information", "coaching", "training", "financing", "consulting"),
        "info_system": True,
        "info_offline": 64,
        "info_activities": 6,
        "coaching": 38,
        "training_total": 420,
        "financing": 21,
        "financing_meetings": 3,
        "consulting": 16,
    }


def _platform_application(as_of: date) -> dict[str, Any]:
    return {
        "registered_on": lt.add_months(as_of, -50),
        "legal_person": True,
        "clean_record": True,
        "registered_capital": 500,
        "fixed_premises": True,
        "sound_finances": True,
        "partner_institutions": 8,
        "external_experts": 25,
        "full_time_staff": 14,
        "qualified_staff": 12,
        "management_system": True,
        "served_3y_ago": 120,
        "served_2y_ago": 150,
        "served_last_year": 210,
        "satisfaction": 95,
        "joins_activities": True,
        "functions": ("policy", "consulting"),
        "policy_system": True,
        "policy_online": 480,
        "policy_offline": 130,
        "consulting_offline": 66,
    }


def _filings(e: DemoEntity, as_of: date, settings: RuleSettings, cal: lt.WorkCalendar) -> Iterator[tuple[date, date]]:
    """A year of filings (at most), on time except for the entity's skipped and late months."""
    if e.certified_on is None:
        return
    first = lt.add_months(lt.month_of(e.certified_on), 1)
    start = max(first, lt.add_months(lt.month_of(as_of), -12))
    for period in lt.months(start, lt.add_months(lt.month_of(as_of), -1)):
        k = lt.months_between(period, lt.month_of(as_of))
        if k in e.skip_months:
            continue
        deadline = lt.filing_deadline(period, settings.filing_due_day, cal)
        filed = lt.days_after(deadline, 9) if k in e.late_months else lt.days_before(deadline, 3 + k % 7)
        if filed <= as_of:
            yield period, filed


def load(session: Session, as_of: date, now: datetime, settings: RuleSettings, cal: lt.WorkCalendar) -> int:
    """Write the demo data set; returns how many entities were added (0 when it is already there)."""
    entities = build(as_of)
    existing = repository.entity_ids(session, [e.code for e in entities])
    if existing:
        return 0
    for e in entities:
        row = EntityRow(
            credit_code=e.code,
            name=e.name,
            kind=e.kind.value,
            district=e.district,
            emails=e.email,
            cert_no=e.cert_no,
            functions=";".join(e.functions),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        new = repository.NewEvent
        if e.certified_on:
            repository.append_event(
                session,
                row.id,
                new(
                    e.code,
                    EventKind.CERTIFIED,
                    e.certified_on,
                    source=SOURCE,
                    recorded_by=RECORDED_BY,
                    scheme=e.scheme,
                    cert_no=e.cert_no,
                ),
                now,
            )
        for kind, when, result, detail in e.events:
            repository.append_event(
                session,
                row.id,
                new(e.code, kind, when, result=result, detail=detail, source=SOURCE, recorded_by=RECORDED_BY),
                now,
            )
        filings = list(_filings(e, as_of, settings, cal))
        session.add_all(
            FilingRow(entity_id=row.id, period=p, filed_on=f, source=SOURCE, recorded_at=now) for p, f in filings
        )
        if e.figures:
            text = codec.dumps(e.figures)
            session.add_all(
                FilingFiguresRow(entity_id=row.id, period=p, figures=text, source=SOURCE, recorded_at=now)
                for p, _f in filings
            )
        if e.application is not None:
            applied = next(when for kind, when, _r, _d in e.events if kind is EventKind.APPLIED)
            session.add(
                ApplicationRow(
                    entity_id=row.id,
                    year=as_of.year,
                    kind=e.kind.value,
                    applied_on=applied,
                    name=e.name,
                    district=e.district,
                    fields=codec.dumps({k: v for k, v in e.application.items() if v is not None}),
                    recorded_by=RECORDED_BY,
                    source=SOURCE,
                    recorded_at=now,
                    updated_at=now,
                )
            )
    # Most districts have sent last year's report (Art. 21); the ones left out show the reminder.
    year = as_of.year - 1
    for i, district in enumerate(sorted({e.district for e in entities})):
        if i % 4:
            reported = min(as_of, lt.days_before(lt.district_report_deadline(year, cal), i))
            if reported.year == year + 1:
                session.add(
                    DistrictReportRow(
                        district=district,
                        year=year,
                        reported_on=reported,
                        note="",
                        recorded_by=RECORDED_BY,
                        source=SOURCE,
                        recorded_at=now,
                    )
                )
    return len(entities)
