"""Each condition of Arts. 4-7 on its boundary: the value just enough is met, the value just short is not.

"以上" and "不少于" include the number itself (Civil Code Art. 1259); three years are counted with Art. 202's
corresponding day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from monitor.applications.conditions import CONDITIONS, Result
from monitor.applications.evaluate import Verdict, check
from monitor.domain import Kind
from tests.appdata import app

P, B = Kind.PLATFORM, Kind.BASE
ALL_BASE = ("information", "coaching", "innovation", "training", "marketing", "financing", "consulting", "professional")
PLATFORM_ALL = ("policy", "consulting", "training", "technical")
BASE_FIGS: dict[str, Any] = {
    "functions": ALL_BASE,
    "info_system": True,
    "info_offline": 30,
    "info_activities": 3,
    "expos": 1,
    "leader_matchmaking": 1,
    "financing": 15,
    "financing_meetings": 2,
    "professional": 10,
}
PLAT_FIGS: dict[str, Any] = {
    "functions": PLATFORM_ALL,
    "consulting_offline": 50,
    "matchmaking_activities": 0,
    "training_capability": True,
    "training_total": 500,
    "training_offline": 200,
    "quality_certified": True,
    "technical_offline": 50,
}

# (condition, kind, just enough, just short)
BOUNDARIES: list[tuple[str, Kind, dict[str, Any], dict[str, Any]]] = [
    ("A4-1", P, {"registered_on": date(2023, 5, 10)}, {"registered_on": date(2023, 5, 11)}),
    ("A4-1", P, {"registered_capital": 100}, {"registered_capital": 99.99}),
    ("A4-1", P, {"legal_person": True}, {"legal_person": False}),
    ("A4-1", P, {"functions": ("technical",)}, {"functions": ()}),
    ("A4-2", P, {"sound_finances": True}, {"sound_finances": False}),
    ("A4-3", P, {"partner_institutions": 5}, {"partner_institutions": 4, "external_experts": 9}),
    (
        "A4-3",
        P,
        {"partner_institutions": 0, "external_experts": 10},
        {"partner_institutions": 0, "external_experts": 9},
    ),
    ("A4-4", P, {"full_time_staff": 10, "qualified_staff": 8}, {"full_time_staff": 9, "qualified_staff": 9}),
    ("A4-4", P, {"full_time_staff": 15, "qualified_staff": 12}, {"full_time_staff": 15, "qualified_staff": 11}),
    ("A4-5", P, {"management_system": True}, {"management_system": False}),
    ("A4-6", P, {"served_2y_ago": 101}, {"served_2y_ago": 100}),
    ("A4-6", P, {"satisfaction": 90}, {"satisfaction": 89.9}),
    ("A4-6", P, {"joins_activities": True}, {"joins_activities": False}),
    ("A4-7", P, {"clean_record": True}, {"clean_record": False}),
    ("A5-1", P, {"policy_online": 0, "policy_offline": 100}, {"policy_online": 299, "policy_offline": 99}),
    ("A5-1", P, {"policy_system": True}, {"policy_system": False}),
    ("A5-2", P, {**PLAT_FIGS, "consulting_offline": 50}, {**PLAT_FIGS, "consulting_offline": 49}),
    (
        "A5-2",
        P,
        {**PLAT_FIGS, "consulting_offline": 0, "matchmaking_activities": 5},
        {**PLAT_FIGS, "consulting_offline": 0, "matchmaking_activities": 4},
    ),
    ("A5-3", P, {**PLAT_FIGS, "training_offline": 200}, {**PLAT_FIGS, "training_offline": 199}),
    ("A5-3", P, {**PLAT_FIGS, "training_total": 500}, {**PLAT_FIGS, "training_total": 499}),
    ("A5-4", P, {**PLAT_FIGS, "technical_offline": 50}, {**PLAT_FIGS, "technical_offline": 49}),
    ("A5-4", P, {**PLAT_FIGS, "quality_certified": True}, {**PLAT_FIGS, "quality_certified": False}),
    ("A6-B1", B, {"registered_on": date(2023, 5, 10)}, {"registered_on": date(2023, 5, 11)}),
    ("A6-B2", B, {"clean_record": True}, {"clean_record": False}),
    ("A6-B3", B, {"small_micro_last_year": 30}, {"small_micro_last_year": 29}),
    ("A6-B3", B, {"small_micro_now": 30}, {"small_micro_now": 29}),
    ("A6-B4", B, {"full_time_staff": 5}, {"full_time_staff": 4}),
    ("A6-B4", B, {"mentors": 2}, {"mentors": 1}),
    ("A6-B4", B, {"partner_institutions": 3}, {"partner_institutions": 2}),
    ("A6-B5", B, {"public_interest_share": 20}, {"public_interest_share": 19.9}),
    ("A6-O1", B, {"floor_area": 8000}, {"floor_area": 7999}),
    (
        "A6-O1",
        B,
        {"park_type": "manufacturing", "floor_area": 60000},
        {"park_type": "manufacturing", "floor_area": 59999},
    ),
    ("A6-O1", B, {"owned_share": 70}, {"owned_share": 69}),
    ("A6-O1", B, {"owned_share": 10, "leased": True}, {"owned_share": 10, "leased": False}),
    ("A6-O2", B, {"governance": True}, {"governance": False}),
    ("A6-O3", B, {"service_ledger": True}, {"service_ledger": False}),
    ("A7-1", B, {**BASE_FIGS, "info_offline": 30}, {**BASE_FIGS, "info_offline": 29}),
    ("A7-1", B, {**BASE_FIGS, "info_activities": 3}, {**BASE_FIGS, "info_activities": 2}),
    ("A7-2", B, {"coaching": 20}, {"coaching": 19}),
    ("A7-3", B, {"tech_meetings": 3}, {"tech_meetings": 2}),
    ("A7-4", B, {"training_total": 150}, {"training_total": 149}),
    ("A7-5", B, {**BASE_FIGS, "expos": 1}, {**BASE_FIGS, "expos": 0}),
    ("A7-5", B, {**BASE_FIGS, "leader_matchmaking": 1}, {**BASE_FIGS, "leader_matchmaking": 0}),
    ("A7-6", B, {**BASE_FIGS, "financing": 15}, {**BASE_FIGS, "financing": 14}),
    ("A7-6", B, {**BASE_FIGS, "financing_meetings": 2}, {**BASE_FIGS, "financing_meetings": 1}),
    ("A7-7", B, {"consulting": 10}, {"consulting": 9}),
    ("A7-8", B, {**BASE_FIGS, "professional": 10}, {**BASE_FIGS, "professional": 9}),
]


def _result(condition: str, kind: Kind, changes: dict[str, Any]) -> Result:
    c = check(app(kind, **changes))
    return next(r.result for r in c.conditions if r.id == condition)


@pytest.mark.parametrize(
    ("condition", "kind", "enough", "short"), BOUNDARIES, ids=[f"{b[0]}-{i}" for i, b in enumerate(BOUNDARIES)]
)
def test_condition_boundary(condition: str, kind: Kind, enough: dict[str, Any], short: dict[str, Any]) -> None:
    assert _result(condition, kind, enough) is Result.MET
    assert _result(condition, kind, short) is Result.UNMET


def test_every_condition_has_a_boundary_row() -> None:
    assert {c.id for c in CONDITIONS} == {b[0] for b in BOUNDARIES}


@pytest.mark.parametrize(
    ("registered", "applied", "met"),
    [
        (date(2020, 2, 29), date(2023, 2, 28), True),  # no 29 February in 2023: the month's last day (Art. 202)
        (date(2020, 2, 29), date(2023, 2, 27), False),
        (date(2023, 8, 31), date(2026, 8, 31), True),
        (date(2023, 8, 31), date(2026, 8, 30), False),
    ],
)
def test_three_years_by_the_corresponding_day(registered: date, applied: date, met: bool) -> None:
    c = check(app(P, applied_on=applied, registered_on=registered))
    result = next(r.result for r in c.conditions if r.id == "A4-1")
    assert result is (Result.MET if met else Result.UNMET)


def test_eligible_platform_and_base() -> None:
    assert check(app(P)).verdict is Verdict.ELIGIBLE
    assert check(app(B)).verdict is Verdict.ELIGIBLE


def test_one_unmet_basic_condition_is_not_eligible_even_with_unknowns() -> None:
    c = check(app(P, clean_record=False, satisfaction=None))
    assert c.verdict is Verdict.NOT_ELIGIBLE
    assert [r.id for r in c.unmet] == ["A4-7"]


def test_unknown_field_is_incomplete_with_null_value() -> None:
    c = check(app(P, satisfaction=None))
    assert c.verdict is Verdict.INCOMPLETE
    a46 = next(r for r in c.conditions if r.id == "A4-6")
    assert a46.result is Result.UNKNOWN and a46.value is None


def test_base_with_three_functions_cannot_reach_four() -> None:
    # Three claimed, all met: four cannot be reached, so A7 is unmet, not incomplete.
    c = check(app(B, functions=("coaching", "innovation", "training")))
    agg = c.conditions[-1]
    assert (agg.id, agg.result, agg.value, agg.item) == ("A7", Result.UNMET, 3, None)
    assert c.verdict is Verdict.NOT_ELIGIBLE


def test_base_aggregate_unknown_when_unknown_functions_could_make_four() -> None:
    c = check(app(B, consulting=None))  # three met, one unknown
    assert c.conditions[-1].result is Result.UNKNOWN and c.verdict is Verdict.INCOMPLETE


def test_base_aggregate_unmet_when_unknowns_are_too_few() -> None:
    # Two met, one unmet, one unknown: at most three could be met.
    c = check(app(B, tech_meetings=2, consulting=None, training_total=149, coaching=20))
    assert c.conditions[-1].result is Result.UNMET and c.verdict is Verdict.NOT_ELIGIBLE


def test_platform_one_function_met_is_enough() -> None:
    c = check(app(P, **{**PLAT_FIGS, "consulting_offline": 1, "training_total": 1, "technical_offline": 1}))
    assert c.conditions[-1].result is Result.MET and c.conditions[-1].value == 1
    assert c.verdict is Verdict.ELIGIBLE


def test_only_claimed_functions_are_listed() -> None:
    ids = [r.id for r in check(app(B)).conditions]
    assert ids == [
        "A6-B1",
        "A6-B2",
        "A6-B3",
        "A6-B4",
        "A6-B5",
        "A6-O1",
        "A6-O2",
        "A6-O3",
        "A7-2",
        "A7-3",
        "A7-4",
        "A7-7",
        "A7",
    ]


def test_application_during_a_ban_is_not_eligible() -> None:
    ban = (date(2024, 6, 1), date(2027, 6, 1))
    c = check(app(P), ban=ban)
    assert c.verdict is Verdict.NOT_ELIGIBLE
    a47 = next(r for r in c.conditions if r.id == "A4-7")
    assert a47.result is Result.UNMET and a47.value == date(2027, 6, 1)
    # The day after the ban's last day the application may be made.
    assert check(app(P, applied_on=date(2027, 6, 2)), ban=ban).verdict is Verdict.ELIGIBLE
    b = check(app(B), ban=ban)
    assert next(r for r in b.conditions if r.id == "A6-B2").result is Result.UNMET


def test_texts_cite_the_article() -> None:
    c = check(app(B))
    assert all("第六条" in r.text or "第七条" in r.text for r in c.conditions)
    en = check(app(B), locale="en")
    assert all("Art. " in r.text for r in en.conditions)
    assert (
        next(r for r in c.conditions if r.id == "A6-B3").need
        == "上年末入驻小微企业数 ≥ 30家；目前入驻小微企业数 ≥ 30家"
    )
