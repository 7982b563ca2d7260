"""Hypothesis strategies for random entity histories, shared by the kept-answer property tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from monitor import legal_time as lt
from monitor.domain import Event, EventKind, History, Kind, Misconduct, Restructuring, Result, Scheme
from monitor.rules import EntityReport
from tests.appdata import app
from tests.rulecases import ENTITY

FIRST = date(2022, 1, 1)
LAST = date(2027, 12, 31)
days = st.integers(min_value=0, max_value=(LAST - FIRST).days).map(lambda n: FIRST + timedelta(days=n))

_KINDS = [
    (EventKind.CERTIFIED, st.just(""), st.sampled_from(["", Scheme.LEGACY_2018.value])),
    (EventKind.RESTRUCTURED, st.just(""), st.sampled_from([r.value for r in Restructuring])),
    (EventKind.RESTRUCTURING_REPORTED, st.just(""), st.just("")),
    (EventKind.RESTRUCTURING_REVIEWED, st.sampled_from([r.value for r in Result]), st.just("")),
    (EventKind.EVALUATED, st.sampled_from([r.value for r in Result]), st.just("")),
    (EventKind.RECTIFICATION_ACCEPTED, st.just(""), st.just("")),
    (EventKind.RECTIFICATION_REJECTED, st.just(""), st.just("")),
    (EventKind.MISCONDUCT, st.just(""), st.sampled_from([m.value for m in Misconduct])),
    (EventKind.REVOKED, st.just(""), st.sampled_from(["20", "21", "22"])),
    (EventKind.APPLIED, st.just(""), st.just("")),
    (EventKind.PUBLICIZED, st.just(""), st.just("")),
    (EventKind.DISTRICT_REVIEWED, st.sampled_from([r.value for r in Result]), st.just("")),
    (EventKind.EXPERT_REVIEWED, st.sampled_from([r.value for r in Result]), st.just("")),
    (EventKind.OBJECTION, st.just(""), st.just("")),
    (EventKind.APPLICATION_REJECTED, st.just(""), st.just("")),
]


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    """Most histories start with a certification, and most later events follow it within its three years:
    the rules that matter need a title."""
    out: list[Event] = []
    start = draw(days)
    if draw(st.integers(min_value=0, max_value=9)) > 0:
        out.append(Event(EventKind.CERTIFIED, start, scheme=draw(st.sampled_from([None, None, Scheme.LEGACY_2018]))))
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        kind, result, detail = draw(st.sampled_from(_KINDS))
        d = start + timedelta(days=draw(st.integers(min_value=-60, max_value=1200)))
        extra = draw(detail)
        if kind is EventKind.CERTIFIED:
            out.append(Event(kind, d, scheme=Scheme(extra) if extra else None))
        else:
            out.append(Event(kind, d, result=draw(result), detail=extra))
    out.sort(key=lambda e: e.date)
    return [
        Event(e.kind, e.date, seq=i, result=e.result, detail=e.detail, scheme=e.scheme) for i, e in enumerate(out, 1)
    ]


@st.composite
def filings(draw: st.DrawFn) -> dict[date, date]:
    """Monthly filings: each month on time, late, or missing."""
    out: dict[date, date] = {}
    for period in lt.months(date(2022, 1, 1), date(2027, 12, 1)):
        choice = draw(st.sampled_from(["on_time", "on_time", "on_time", "late", "missing"]))
        if choice == "on_time":
            out[period] = period.replace(day=draw(st.integers(min_value=1, max_value=28)))
        elif choice == "late":
            out[period] = lt.add_months(period, 1).replace(day=draw(st.integers(min_value=2, max_value=28)))
    return out


@st.composite
def histories(draw: st.DrawFn) -> History:
    """Also, for the rules of SPEC 9: an application's data with some `applied` events (its satisfaction on
    either side of 90 %), and service figures with some months' filings for an entity naming its functions."""
    evs = tuple(draw(events()))
    filed = draw(filings())
    applications = tuple(
        app(Kind.PLATFORM, applied_on=e.date, satisfaction=draw(st.sampled_from([85, 95, None])))
        for e in evs
        if e.kind is EventKind.APPLIED and draw(st.booleans())
    )
    entity, figures = ENTITY, {}
    if draw(st.booleans()):
        entity = replace(ENTITY, functions=("policy", "training"))
        offline = draw(st.integers(min_value=0, max_value=20))
        figures = {p: {"policy_system": True, "policy_offline": offline} for p in filed if draw(st.booleans())}
    return History(entity, evs, filed, applications=applications, figures=figures)


def signature(report: EntityReport) -> tuple[Any, ...]:
    """What the kept answer must reproduce: everything but the counts of days derived when read."""
    st_ = report.state
    findings = sorted(
        (
            f.rule.value,
            f.subject,
            f.stage,
            f.due,
            f.since,
            f.severity,
            f.district,
            tuple(sorted(map(str, f.params.items()))),
        )
        for f in report.findings
    )
    title = st_.title
    return (st_.status, tuple(st_.reasons), title.last_valid_day if title else None, tuple(findings))


@st.composite
def history_and_day(draw: st.DrawFn) -> tuple[History, date]:
    """A history and an as-of date, the date often near one of the history's own thresholds (an expiry, a
    deadline, the end of a ban), where a missed change point would show."""
    history = draw(histories())
    anchors = [e.date for e in history.events]
    for e in history.events:
        last = lt.validity_last_day(e.date, 3)  # an expiry or the end of a ban
        anchors += [last, last + timedelta(days=91), lt.add_months(e.date, 3), lt.add_months(e.date, 6)]
        anchors += [e.date + timedelta(days=30)]  # an application's district review deadline (Art. 9)
    if not anchors or draw(st.integers(min_value=0, max_value=3)) == 0:
        return history, draw(days)
    anchor = draw(st.sampled_from(anchors))
    return history, anchor + timedelta(days=draw(st.integers(min_value=-100, max_value=10)))
