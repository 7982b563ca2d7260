"""The procedure's findings (Arts. 9, 10, 22) and the service-figure rule before and after July.

Time is frozen on a day far from the as-of dates: the rules must read only the date they are given.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from freezegun import freeze_time

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import Application, Entity, Event, EventKind, History, Kind, RuleId
from monitor.rules import evaluate_entity
from monitor.rules.finding import Finding
from tests.appdata import app
from tests.rulecases import ENTITY, cert, ev

K, R = EventKind, RuleId
D = date.fromisoformat
SETTINGS = RuleSettings()


@pytest.fixture(scope="module")
def cal() -> lt.WorkCalendar:
    return lt.WorkCalendar.load(None)


def _findings(
    events: list[Event],
    as_of: str,
    cal: lt.WorkCalendar,
    applications: tuple[Application, ...] = (),
    entity: Entity = ENTITY,
    figures: dict[date, dict[str, Any]] | None = None,
    filings: dict[date, date] | None = None,
    settings: RuleSettings = SETTINGS,
) -> dict[tuple[RuleId, str], Finding]:
    history = History(
        entity,
        tuple(replace(e, seq=i) for i, e in enumerate(events, 1)),
        filings or {},
        applications=applications,
        figures=figures or {},
    )
    with freeze_time("2031-01-01"):
        report = evaluate_entity(history, D(as_of), cal, settings)
    return {(f.rule, f.subject): f for f in report.findings}


APPLIED = [ev(K.APPLIED, "2026-05-10", detail="2026")]


def test_district_review_pending_after_30_days(cal: lt.WorkCalendar) -> None:
    # Applied 2026-05-10: the 30 days end on 2026-06-09 (a Tuesday); pending from 2026-06-10.
    assert (R.DISTRICT_REVIEW_PENDING, "2026") not in _findings(APPLIED, "2026-06-09", cal)
    f = _findings(APPLIED, "2026-06-10", cal)[(R.DISTRICT_REVIEW_PENDING, "2026")]
    assert (f.stage, f.due, f.article, [a.value for a in f.audiences]) == ("overdue", D("2026-06-09"), 9, ["district"])
    assert "第九条" in f.message() and "初审" in f.message()


def test_district_review_clears_it(cal: lt.WorkCalendar) -> None:
    events = [*APPLIED, ev(K.DISTRICT_REVIEWED, "2026-06-20", result="passed", detail="2026")]
    assert (R.DISTRICT_REVIEW_PENDING, "2026") in _findings(events, "2026-06-19", cal)
    assert (R.DISTRICT_REVIEW_PENDING, "2026") not in _findings(events, "2026-06-20", cal)


def test_a_review_for_another_year_does_not_count(cal: lt.WorkCalendar) -> None:
    events = [*APPLIED, ev(K.DISTRICT_REVIEWED, "2026-06-01", result="passed", detail="2025")]
    assert (R.DISTRICT_REVIEW_PENDING, "2026") in _findings(events, "2026-07-01", cal)


def test_application_ineligible_until_decided(cal: lt.WorkCalendar) -> None:
    bad = (app(Kind.PLATFORM, satisfaction=80),)
    f = _findings(APPLIED, "2026-05-10", cal, bad)[(R.APPLICATION_INELIGIBLE, "2026")]
    assert (f.article, f.severity.label, [a.value for a in f.audiences]) == (4, "info", ["district", "staff"])
    assert f.params["unmet"] == ["A4-6"] and "第四条第（六）项" in f.message()
    rejected = [*APPLIED, ev(K.APPLICATION_REJECTED, "2026-09-01", detail="2026")]
    assert (R.APPLICATION_INELIGIBLE, "2026") in _findings(rejected, "2026-08-31", cal, bad)
    assert (R.APPLICATION_INELIGIBLE, "2026") not in _findings(rejected, "2026-09-01", cal, bad)


def test_base_ineligible_cites_article_6(cal: lt.WorkCalendar) -> None:
    base = replace(ENTITY, kind=Kind.BASE)
    f = _findings(APPLIED, "2026-05-10", cal, (app(Kind.BASE, mentors=1),), entity=base)
    assert f[(R.APPLICATION_INELIGIBLE, "2026")].article == 6


def test_eligible_and_incomplete_applications_are_not_findings(cal: lt.WorkCalendar) -> None:
    got = _findings(APPLIED, "2026-05-10", cal, (app(Kind.PLATFORM),))
    assert (R.APPLICATION_INELIGIBLE, "2026") not in got
    got = _findings(APPLIED, "2026-05-10", cal, (app(Kind.PLATFORM, satisfaction=None),))
    assert (R.APPLICATION_INELIGIBLE, "2026") not in got


# Fraud on 2023-05-09: ban through 2026-05-09.
BANNED = [cert("2022-03-01"), ev(K.MISCONDUCT, "2023-05-09", detail="fraud")]


def test_application_during_ban_lasts_until_decided(cal: lt.WorkCalendar) -> None:
    events = [*BANNED, ev(K.APPLIED, "2026-05-09", detail="2026"), ev(K.APPLICATION_REJECTED, "2026-08-01")]
    applications = (app(Kind.PLATFORM, applied_on=D("2026-05-09"), registered_on=D("2020-01-01")),)
    # The ban ended on 2026-05-09, the application stays flagged until it is rejected.
    during = _findings(events, "2026-07-31", cal, applications)
    assert during[(R.APPLICATION_DURING_BAN, "2026-05-09")].stage == "applied"
    # And the application is not eligible (A4-7): the ban ran on the day it was made.
    assert during[(R.APPLICATION_INELIGIBLE, "2026")].params["unmet"] == ["A4-7"]
    after = _findings(events, "2026-08-01", cal, applications)
    assert (R.APPLICATION_DURING_BAN, "2026-05-09") not in after
    assert (R.APPLICATION_INELIGIBLE, "2026") not in after


def test_application_the_day_after_the_ban_is_not_flagged(cal: lt.WorkCalendar) -> None:
    events = [*BANNED, ev(K.APPLIED, "2026-05-10", detail="2026")]
    got = _findings(events, "2026-05-10", cal, (app(Kind.PLATFORM),))
    assert (R.APPLICATION_DURING_BAN, "2026-05-10") not in got
    assert (R.APPLICATION_INELIGIBLE, "2026") not in got


def test_certification_decides_the_application(cal: lt.WorkCalendar) -> None:
    events = [*BANNED, ev(K.APPLIED, "2026-05-01", detail="2026"), cert("2026-12-01")]
    assert (R.APPLICATION_DURING_BAN, "2026-05-01") in _findings(events, "2026-11-30", cal)
    assert (R.APPLICATION_DURING_BAN, "2026-05-01") not in _findings(events, "2026-12-01", cal)


# --- Service figures ---------------------------------------------------------------------------------

PLATFORM_TITLE = [cert("2025-03-01")]
PLATFORM = replace(ENTITY, functions=("policy", "training"))


def _months(first: str, last: str, **fig: Any) -> tuple[dict[date, dict[str, Any]], dict[date, date]]:
    periods = list(lt.months(lt.parse_period(first), lt.parse_period(last)))
    return {p: dict(fig) for p in periods}, {p: lt.last_day_of_month(p) for p in periods}


def test_service_rule_is_silent_before_july(cal: lt.WorkCalendar) -> None:
    figures, filings = _months("2026-01", "2026-05", policy_system=True, policy_online=1, training_total=1)
    got = _findings(PLATFORM_TITLE, "2026-06-30", cal, entity=PLATFORM, figures=figures, filings=filings)
    assert not [k for k in got if k[0] is R.SERVICE_BELOW_THRESHOLD]


def test_service_rule_from_july_projects_the_year(cal: lt.WorkCalendar) -> None:
    # Six closed months: policy offline 49 so far -> 98 projected < 100; online 0. Training 250 -> 500: on track.
    figures, filings = _months("2026-01", "2026-06", policy_system=True, training_capability=True)
    for i, p in enumerate(sorted(figures)):
        figures[p].update(policy_offline=9 if i else 4, training_total=41 if i else 45, training_offline=20)
    got = _findings(PLATFORM_TITLE, "2026-07-01", cal, entity=PLATFORM, figures=figures, filings=filings)
    f = got[(R.SERVICE_BELOW_THRESHOLD, "2026-policy")]
    assert (f.stage, f.article, f.params["months"]) == ("2026-07", 5, 6)
    assert f.params["so_far"]["policy_offline"] == 49 and f.params["projected"]["policy_offline"] == 98
    assert "第十七条" in f.message() and "按全年折算98" in f.message()
    assert (R.SERVICE_BELOW_THRESHOLD, "2026-training") not in got
    # Just enough: 50 offline in six months projects to exactly 100.
    first = min(figures)
    figures[first]["policy_offline"] = 5
    got = _findings(PLATFORM_TITLE, "2026-07-01", cal, entity=PLATFORM, figures=figures, filings=filings)
    assert (R.SERVICE_BELOW_THRESHOLD, "2026-policy") not in got


def test_service_rule_stage_is_the_month(cal: lt.WorkCalendar) -> None:
    figures, filings = _months("2026-01", "2026-07", policy_system=True, policy_offline=1)
    entity = replace(ENTITY, functions=("policy",))
    july = _findings(PLATFORM_TITLE, "2026-07-31", cal, entity=entity, figures=figures, filings=filings)
    aug = _findings(PLATFORM_TITLE, "2026-08-01", cal, entity=entity, figures=figures, filings=filings)
    assert july[(R.SERVICE_BELOW_THRESHOLD, "2026-policy")].stage == "2026-07"
    assert aug[(R.SERVICE_BELOW_THRESHOLD, "2026-policy")].stage == "2026-08"
    # The month from which the rule runs is configurable.
    later = _findings(
        PLATFORM_TITLE,
        "2026-08-01",
        cal,
        entity=entity,
        figures=figures,
        filings=filings,
        settings=replace(SETTINGS, service_check_from_month=9),
    )
    assert (R.SERVICE_BELOW_THRESHOLD, "2026-policy") not in later


def test_figures_not_yet_filed_are_not_known(cal: lt.WorkCalendar) -> None:
    figures, filings = _months("2026-01", "2026-06", policy_system=True, policy_offline=20)
    filings = {p: D("2026-07-02") for p in filings}  # all filed on 2 July
    entity = replace(ENTITY, functions=("policy",))
    assert not _findings(PLATFORM_TITLE, "2026-07-01", cal, entity=entity, figures=figures, filings=filings).keys() & {
        (R.SERVICE_BELOW_THRESHOLD, "2026-policy")
    }


def test_base_with_fewer_than_four_functions_on_track(cal: lt.WorkCalendar) -> None:
    base = replace(ENTITY, kind=Kind.BASE, functions=("coaching", "innovation", "training", "consulting"))
    figures, filings = _months("2026-01", "2026-06", coaching=2, tech_meetings=1, training_total=13, consulting=1)
    got = _findings(PLATFORM_TITLE, "2026-07-01", cal, entity=base, figures=figures, filings=filings)
    # coaching 12 -> 24, meetings 6 -> 12, training 78 -> 156 on track; consulting 6 -> 12 on track. All four.
    assert not [k for k in got if k[0] is R.SERVICE_BELOW_THRESHOLD]
    figures = {p: {**v, "coaching": 1} for p, v in figures.items()}  # 6 -> 12 < 20
    got = _findings(PLATFORM_TITLE, "2026-07-01", cal, entity=base, figures=figures, filings=filings)
    assert got[(R.SERVICE_BELOW_THRESHOLD, "2026-coaching")].article == 7
    agg = got[(R.SERVICE_BELOW_THRESHOLD, "2026-A7")]
    assert agg.params["on_track"] == 3 and "不足《办法》第七条规定的4种" in agg.message()


def test_no_figures_at_all_is_no_finding(cal: lt.WorkCalendar) -> None:
    got = _findings(PLATFORM_TITLE, "2026-09-01", cal, entity=PLATFORM)
    assert not [k for k in got if k[0] is R.SERVICE_BELOW_THRESHOLD]


def test_functions_fall_back_to_the_latest_application(cal: lt.WorkCalendar) -> None:
    figures, filings = _months("2026-01", "2026-06", policy_system=True, policy_offline=1)
    applications = (app(Kind.PLATFORM, applied_on=D("2025-02-01")),)  # claims policy
    got = _findings(PLATFORM_TITLE, "2026-07-01", cal, applications, figures=figures, filings=filings)
    assert (R.SERVICE_BELOW_THRESHOLD, "2026-policy") in got
