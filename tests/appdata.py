"""Applications that meet every condition, to vary one field at a time in tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from monitor.domain import Application, Kind

PLATFORM: dict[str, Any] = {
    "registered_on": date(2023, 5, 10),
    "legal_person": True,
    "clean_record": True,
    "registered_capital": 100,
    "fixed_premises": True,
    "sound_finances": True,
    "partner_institutions": 5,
    "external_experts": 0,
    "full_time_staff": 10,
    "qualified_staff": 8,
    "management_system": True,
    "served_3y_ago": 100,
    "served_2y_ago": 101,
    "served_last_year": 102,
    "satisfaction": 90,
    "joins_activities": True,
    "functions": ("policy",),
    "policy_system": True,
    "policy_online": 300,
    "policy_offline": 0,
}
BASE: dict[str, Any] = {
    "registered_on": date(2023, 5, 10),
    "legal_person": True,
    "clean_record": True,
    "small_micro_last_year": 30,
    "small_micro_now": 30,
    "full_time_staff": 5,
    "mentors": 2,
    "partner_institutions": 3,
    "public_interest_share": 20,
    "park_type": "office",
    "floor_area": 8000,
    "owned_share": 70,
    "leased": False,
    "governance": True,
    "management_system": True,
    "service_ledger": True,
    "functions": ("coaching", "innovation", "training", "consulting"),
    "coaching": 20,
    "tech_meetings": 3,
    "training_total": 150,
    "consulting": 10,
}
APPLIED_ON = date(2026, 5, 10)


def app(kind: Kind, applied_on: date = APPLIED_ON, **changes: Any) -> Application:
    values = dict(PLATFORM if kind is Kind.PLATFORM else BASE)
    for k, v in changes.items():
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v
    return Application(year=applied_on.year, kind=kind, applied_on=applied_on, values=values)
