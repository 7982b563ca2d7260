"""The check of one application against Arts. 4-7: pure (no I/O, no clock), the same answer every time.

`check(application, ban)` gives each condition met/unmet/unknown with its value and need, the aggregate
(A5: a platform meets at least one claimed function; A7: a base at least four) and the verdict:
`eligible` when every basic condition and the aggregate are met; `not_eligible` when one of them is unmet, or
when the aggregate cannot be met even if every unknown function were met; `incomplete` otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from monitor.applications.conditions import (
    AGGREGATE_TEXT,
    BY_ID,
    FUNCTIONS,
    FUNCTIONS_NEEDED,
    Condition,
    Context,
    Result,
    basic_conditions,
    function_condition,
)
from monitor.domain import Application, Kind


class Verdict(enum.StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    INCOMPLETE = "incomplete"

    @property
    def zh(self) -> str:
        return {"eligible": "符合条件", "not_eligible": "不符合条件", "incomplete": "材料不全，待补充"}[self.value]


@dataclass(frozen=True, slots=True)
class ConditionResult:
    id: str
    article: int
    item: int | None
    result: Result
    value: Any
    need: str
    text: str  # the condition, citing its article (zh_CN or en)
    where: str  # 第四条第（一）项

    def to_json(self) -> dict[str, Any]:
        value = self.value.isoformat() if isinstance(self.value, date) else self.value
        return {
            "id": self.id,
            "article": self.article,
            "item": self.item,
            "result": self.result.value,
            "value": value,
            "need": self.need,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Check:
    kind: Kind
    conditions: tuple[ConditionResult, ...]
    verdict: Verdict

    @property
    def unmet(self) -> tuple[ConditionResult, ...]:
        return tuple(c for c in self.conditions if c.result is Result.UNMET)


@cache
def condition_words(condition_id: str, locale: str) -> tuple[str, str, str]:
    """(need, text, where) of a condition: the same for every application, built once."""
    c = BY_ID[condition_id]
    return c.test.need(locale), c.zh if locale == "zh_CN" else c.en, c.where_zh


def _one(c: Condition, values: Mapping[str, Any], ctx: Context, locale: str) -> ConditionResult:
    outcome = c.test.check(values, ctx)
    need, text, where = condition_words(c.id, locale)
    return ConditionResult(
        id=c.id,
        article=c.article,
        item=c.item,
        result=outcome.result,
        value=outcome.value if outcome.result is not Result.UNKNOWN else None,
        need=need,
        text=text,
        where=where,
    )


def claimed_functions(kind: Kind, values: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The claimed functions of this kind, in the Measures' order; None when the field is empty."""
    claimed = values.get("functions")
    if claimed is None:
        return None
    return tuple(f for f in FUNCTIONS[kind] if f in claimed)


def aggregate(kind: Kind, results: list[ConditionResult], known: bool, locale: str) -> ConditionResult:
    """A5 / A7: met when at least k claimed functions are met; unmet when even every unknown one could not
    make k; unknown otherwise (also when the functions claimed are not given)."""
    k = FUNCTIONS_NEEDED[kind]
    met = sum(1 for r in results if r.result is Result.MET)
    unknown = sum(1 for r in results if r.result is Result.UNKNOWN)
    if not known:
        result = Result.UNKNOWN
    elif met >= k:
        result = Result.MET
    elif met + unknown < k:
        result = Result.UNMET
    else:
        result = Result.UNKNOWN
    article = 5 if kind is Kind.PLATFORM else 7
    zh, en = AGGREGATE_TEXT[kind]
    unit = "项" if locale == "zh_CN" else " functions met" if k > 1 else " function met"
    return ConditionResult(
        id=f"A{article}",
        article=article,
        item=None,
        result=result,
        value=met if known else None,
        need=f"≥ {k}{unit}",
        text=zh if locale == "zh_CN" else en,
        where=f"第{'五' if article == 5 else '七'}条",
    )


def check(app: Application, ban: tuple[date, date] | None = None, locale: str = "zh_CN") -> Check:
    """Every condition for `app` (its kind's basic conditions, the claimed functions, the aggregate)."""
    ctx = Context(ban=ban)
    values = dict(app.values)
    values["applied_on"] = app.applied_on
    basic = [_one(c, values, ctx, locale) for c in basic_conditions(app.kind)]
    claimed = claimed_functions(app.kind, values)
    functions = [_one(function_condition(app.kind, f), values, ctx, locale) for f in claimed or ()]
    agg = aggregate(app.kind, functions, claimed is not None, locale)
    decisive = [*basic, agg]
    if all(r.result is Result.MET for r in decisive):
        verdict = Verdict.ELIGIBLE
    elif any(r.result is Result.UNMET for r in decisive):
        verdict = Verdict.NOT_ELIGIBLE
    else:
        verdict = Verdict.INCOMPLETE
    return Check(app.kind, (*basic, *functions, agg), verdict)
