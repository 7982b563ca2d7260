"""Helpers to write rule cases as short tables."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from monitor import credit_code
from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import Entity, Event, EventKind, History, Kind, RuleId, Scheme, Status
from monitor.rules import evaluate_entity
from monitor.rules.finding import Finding

D = date.fromisoformat
CODE = credit_code.complete("91510104MA0000999")
ENTITY = Entity(CODE, "成都测试服务平台有限公司", Kind.PLATFORM, "锦江区", ("test@example.cn",), "CDSME-T-1")
ABSENT = None


def ev(kind: EventKind, when: str, result: str = "", detail: str = "", scheme: Scheme | None = None) -> Event:
    return Event(kind=kind, date=D(when), result=result, detail=detail, scheme=scheme)


def cert(when: str, scheme: Scheme | None = None) -> Event:
    return ev(EventKind.CERTIFIED, when, scheme=scheme)


def filed(*pairs: tuple[str, str]) -> dict[date, date]:
    return {lt.parse_period(p): D(f) for p, f in pairs}


def monthly(first: str, last: str, day: int = 20) -> dict[date, date]:
    """On-time filings (on day `day` of the month itself) for every month from `first` to `last`."""
    return {p: p.replace(day=day) for p in lt.months(lt.parse_period(first), lt.parse_period(last))}


@dataclass
class Case:
    id: str
    events: list[Event]
    as_of: str
    expect: dict[RuleId, tuple[str, int | None] | None]
    filings: dict[date, date] = field(default_factory=dict)
    status: Status | None = None
    settings: RuleSettings = field(default_factory=RuleSettings)

    def history(self) -> History:
        events = tuple(replace(e, seq=i) for i, e in enumerate(self.events, 1))
        return History(ENTITY, events, dict(self.filings))


def findings_by_rule(findings: list[Finding]) -> dict[RuleId, Finding]:
    out: dict[RuleId, Finding] = {}
    for f in findings:
        assert f.rule not in out, f"two findings of {f.rule} in one case: {f} / {out[f.rule]}"
        out[f.rule] = f
    return out


def run(case: Case, cal: lt.WorkCalendar) -> None:
    """The case's findings are exactly `expect`'s: every rule listed with its (stage, days_left), and no other
    (a rule listed as ABSENT documents a finding the case is about not being there)."""
    report = evaluate_entity(case.history(), D(case.as_of), cal, case.settings)
    got = findings_by_rule(report.findings)
    wanted = {rule: want for rule, want in case.expect.items() if want is not ABSENT}
    found = {r: (f.stage, f.days_left) for r, f in got.items()}
    unexpected = sorted(str(r) for r in found.keys() - wanted.keys())
    missing = sorted(str(r) for r in wanted.keys() - found.keys())
    assert found == wanted, f"{case.id}: unexpected {unexpected}, missing {missing}, found {found}"
    if case.status is not None:
        assert report.state.status is case.status
