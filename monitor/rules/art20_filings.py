"""Art. 20: monthly filings on the portal; six consecutive misses cost the title.

第二十条 平台、基地应每月登录"成都市银企校院对接服务平台网站"填报服务工作情况。连续6次未按规定填报的平台、基地，
将撤销平台、基地称号。
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from monitor import legal_time as lt
from monitor.domain import RuleId, StageName
from monitor.rules.base import RuleInput, Stage, make, stage_before
from monitor.rules.catalog import filing_missed_meta
from monitor.rules.finding import Finding
from monitor.status import filing_position


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    if not ri.state.holds_title:
        return
    s, as_of = ri.settings, ri.as_of
    pos = filing_position(ri.history, ri.state, as_of, ri.cal, s)
    if pos.open_month is not None and pos.open_deadline is not None and pos.open_month not in ri.history.filings:
        stage = stage_before(as_of, pos.open_deadline, s.filing_reminder_days)
        if stage:
            yield make(
                RuleId.FILING_DUE_SOON,
                ri,
                as_of,
                stage,
                lt.format_period(pos.open_month),
                pos.open_deadline,
                period=lt.format_period(pos.open_month),
            )
    if not pos.streak or pos.streak_start is None or pos.last_closed is None:
        return
    missed = [lt.format_period(p) for p in lt.months(pos.streak_start, pos.last_closed)]
    late = [p for p in missed if lt.parse_period(p) in ri.history.filings]
    common: dict[str, Any] = {
        "streak": pos.streak,
        "first_month": missed[0],
        "last_month": missed[-1],
        "late_months": late,
        "next_period": lt.format_period(pos.open_month) if pos.open_month else None,
        "next_due": pos.open_deadline,
        "limit": s.filing_revocation_streak,
    }
    subject = missed[0]
    if pos.streak >= s.filing_revocation_streak:
        # Due from the day after the deadline of the month that made the streak reach the limit.
        nth = lt.add_months(pos.streak_start, s.filing_revocation_streak - 1)
        due = lt.filing_deadline(nth, s.filing_due_day, ri.cal)
        yield make(
            RuleId.FILING_REVOCATION_DUE, ri, as_of, Stage(StageName.DUE, lt.days_after(due, 1)), subject, due, **common
        )
        return
    due = lt.filing_deadline(pos.last_closed, s.filing_due_day, ri.cal)
    yield make(
        RuleId.FILING_MISSED,
        ri,
        as_of,
        Stage(f"streak-{pos.streak}", lt.days_after(due, 1)),
        subject,
        due,
        meta=filing_missed_meta(pos.streak),
        final=pos.streak == s.filing_revocation_streak - 1,
        **common,
    )
