"""Arts. 5, 7 and 17: a title holder's service figures, projected to the year, below the function's threshold.

第十七条 平台、基地认定有效期为三年，有效期满当年可再次申报。 A title holder must meet Art. 5 (a platform: the
functions it was certified for) or Art. 7 (a base: four functions) again when it re-applies; from July
(`rules.service_check_from_month`) the monitor warns when the year so far, projected to the full year, falls
short. The stage is the month, so each function is notified at most once a month.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor import legal_time as lt
from monitor.applications.conditions import FUNCTIONS_NEEDED, Result
from monitor.applications.evaluate import condition_words
from monitor.applications.figures import standing
from monitor.domain import Kind, RuleId
from monitor.rules.base import RuleInput, Stage, make
from monitor.rules.catalog import CATALOG, RuleMeta
from monitor.rules.finding import Finding


def certified_functions(ri: RuleInput) -> tuple[str, ...]:
    """The roster's functions, else the latest application's claims."""
    if ri.history.entity.functions:
        return ri.history.entity.functions
    for app in reversed(ri.history.applications):
        claimed = app.values.get("functions")
        if claimed:
            return tuple(claimed)
    return ()


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    state, as_of = ri.state, ri.as_of
    if state.title is None or not state.holds_title or as_of.month < ri.settings.service_check_from_month:
        return
    kind = ri.history.entity.kind
    functions = certified_functions(ri)
    if not functions:
        return
    year = standing(kind, functions, ri.history.figures, as_of, state.title.granted_on)
    if year is None:
        return
    month = lt.month_of(as_of)
    stage = Stage(lt.format_period(month), month)
    article = 5 if kind is Kind.PLATFORM else 7
    base = CATALOG[RuleId.SERVICE_BELOW_THRESHOLD]
    meta = RuleMeta(article, base.severity, base.audiences)
    period = f"{lt.format_period(year.first_month)}..{lt.format_period(year.last_month)}"
    for f in year.functions:
        if f.result is not Result.UNMET:
            continue
        yield make(
            RuleId.SERVICE_BELOW_THRESHOLD,
            ri,
            as_of,
            stage,
            f"{year.year}-{f.function}",
            None,
            meta=meta,
            function=f.function,
            condition=f.condition.id,
            where=condition_words(f.condition.id, "zh_CN")[2],
            so_far=f.so_far,
            projected=f.projected,
            need_zh=condition_words(f.condition.id, "zh_CN")[0],
            need_en=condition_words(f.condition.id, "en")[0],
            months=year.closed,
            period=period,
        )
    needed = FUNCTIONS_NEEDED[kind]
    if kind is Kind.BASE and year.on_track < needed:
        yield make(
            RuleId.SERVICE_BELOW_THRESHOLD,
            ri,
            as_of,
            stage,
            f"{year.year}-A7",
            None,
            meta=meta,
            function="",
            condition="A7",
            on_track=year.on_track,
            on_track_names=[f.function for f in year.functions if f.result is Result.MET],
            needed=needed,
            months=year.closed,
            period=period,
        )
