"""Applications benchmark: checking 10,000 applications, and the service-figure rule over 100,000 entities
with 12 months of figures (SPEC 9). Pure code, in memory: what the sweep and `applications list` spend on it.

    .venv/bin/python benchmarks/applications.py [--applications 10000] [--entities 100000]

Yardsticks, measured in the same run: for the checks, decoding the same applications' stored JSON
(codec.loads, what reading them costs anyway); for the rule, a plain loop that adds up the same twelve
months of figures per entity (the least any projection must do). Prints seconds, per-item time and the
ratio to the yardstick.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date
from typing import Any

from monitor import legal_time as lt
from monitor.applications import codec
from monitor.applications.evaluate import Verdict, check
from monitor.config import RuleSettings
from monitor.domain import Application, Entity, Event, EventKind, History, Kind
from monitor.rules import service_figures
from monitor.rules.base import RuleInput
from monitor.status import derive

AS_OF = date(2026, 11, 25)
PLATFORM = {
    "registered_on": date(2020, 3, 1),
    "legal_person": True,
    "clean_record": True,
    "registered_capital": 300,
    "fixed_premises": True,
    "sound_finances": True,
    "partner_institutions": 6,
    "external_experts": 12,
    "full_time_staff": 12,
    "qualified_staff": 10,
    "management_system": True,
    "served_3y_ago": 100,
    "served_2y_ago": 120,
    "served_last_year": 150,
    "satisfaction": 92,
    "joins_activities": True,
    "functions": ("policy", "consulting", "training"),
    "policy_system": True,
    "policy_online": 320,
    "policy_offline": 80,
    "consulting_offline": 60,
    "training_capability": True,
    "training_total": 520,
    "training_offline": 210,
}
BASE = {
    "registered_on": date(2019, 6, 1),
    "legal_person": True,
    "clean_record": True,
    "small_micro_last_year": 40,
    "small_micro_now": 45,
    "full_time_staff": 7,
    "mentors": 3,
    "partner_institutions": 4,
    "public_interest_share": 30,
    "park_type": "office",
    "floor_area": 9000,
    "owned_share": 80,
    "leased": False,
    "governance": True,
    "management_system": True,
    "service_ledger": True,
    "functions": ("information", "coaching", "training", "financing", "consulting"),
    "info_system": True,
    "info_offline": 40,
    "info_activities": 4,
    "coaching": 25,
    "training_total": 160,
    "financing": 16,
    "financing_meetings": 2,
    "consulting": 12,
}


def applications(n: int, rng: random.Random) -> list[Application]:
    out = []
    for i in range(n):
        kind = Kind.PLATFORM if i % 2 else Kind.BASE
        values: dict[str, Any] = dict(PLATFORM if kind is Kind.PLATFORM else BASE)
        for name in rng.sample(sorted(values), 3):  # vary a few fields: some unmet, some missing
            v = values[name]
            if isinstance(v, bool) or rng.random() < 0.3:
                values.pop(name)
            elif isinstance(v, int | float):
                values[name] = max(0, v - rng.randint(0, 20))
        out.append(Application(2026, kind, date(2026, 5, 1 + i % 28), values))
    return out


def histories(n: int, rng: random.Random) -> list[History]:
    periods = list(lt.months(date(2025, 12, 1), date(2026, 11, 1)))  # 12 months, of which Jan-Oct count
    out = []
    for i in range(n):
        kind = Kind.PLATFORM if i % 2 else Kind.BASE
        if kind is Kind.PLATFORM:
            functions: tuple[str, ...] = ("policy", "training")
            per = {"policy_system": True, "policy_offline": 8, "training_capability": True}
            per |= {"training_total": 40, "training_offline": 17}
        else:
            functions = ("coaching", "innovation", "training", "consulting")
            per = {"coaching": 2, "tech_meetings": 1, "training_total": 13, "consulting": 1}
        figures = {
            p: {k: (v if isinstance(v, bool) else v + rng.randint(-2, 2)) for k, v in per.items()} for p in periods
        }
        entity = Entity(f"BENCH{i:013d}", f"基准{i}", kind, "锦江区", functions=functions)
        events = (Event(EventKind.CERTIFIED, date(2024, 3, 1 + i % 28), seq=1),)
        filings = {p: lt.last_day_of_month(p) for p in periods}
        out.append(History(entity, events, filings, figures=figures))
    return out


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--entities", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(9)

    apps = applications(args.applications, rng)
    stored = [codec.dumps(a.values) for a in apps]
    ban = (date(2024, 1, 1), date(2027, 1, 1))
    t_check, checks = timed(lambda: [check(a, ban if i % 50 == 0 else None) for i, a in enumerate(apps)])
    t_decode, _ = timed(lambda: [codec.loads(s) for s in stored])
    verdicts = {v: sum(1 for c in checks if c.verdict is v) for v in Verdict}
    print(f"applications checked:   {len(apps):>9,}  {t_check:7.3f} s  {t_check / len(apps) * 1e6:7.1f} µs each")
    print("  verdicts: " + ", ".join(f"{v.value} {n:,}" for v, n in verdicts.items()))
    print(f"  yardstick (decode the stored JSON): {t_decode:7.3f} s  ratio check / decode = {t_check / t_decode:5.2f}")

    hist = histories(args.entities, rng)
    cal = lt.WorkCalendar.load(None)
    settings = RuleSettings()
    inputs = [RuleInput(h, derive(h, AS_OF, cal, settings), AS_OF, cal, settings) for h in hist]
    t_rule, findings = timed(lambda: [f for ri in inputs for f in service_figures.evaluate(ri)])

    def add_up() -> int:
        total = 0
        for h in hist:
            for month in h.figures.values():
                for v in month.values():
                    total += v
        return total

    t_sum, _ = timed(add_up)
    months = sum(len(h.figures) for h in hist)
    print(
        f"service-figure rule:    {len(hist):>9,} entities, {months:,} months of figures  {t_rule:7.3f} s"
        f"  {t_rule / len(hist) * 1e6:7.1f} µs each, {len(findings):,} findings"
    )
    print(f"  yardstick (add up the same figures): {t_sum:7.3f} s  ratio rule / sum = {t_rule / t_sum:5.2f}")


if __name__ == "__main__":
    main()
