"""Art. 10: the list is publicized for a week; without objection the title is granted.

第十条 市经信局……确定认定名单，并向社会公示一周。对公示无异议的授予……称号，并及时在市经信局门户网站及有关媒体公布。
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor import legal_time as lt
from monitor.domain import RuleId, StageName
from monitor.rules.base import RuleInput, Stage, make
from monitor.rules.finding import Finding


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    if not ri.state.publicized:
        return
    latest = ri.state.publicized[-1]
    title = ri.state.title
    if title is not None and title.granted_on >= latest.date:
        return
    # The week runs from the day after publication (Art. 201) and ends on the same weekday a week later.
    ended = lt.period_end(latest.date, days=ri.settings.publicity_days)
    start = lt.days_after(ended, 1)
    if ri.as_of >= start:
        yield make(
            RuleId.PUBLICITY_ENDED,
            ri,
            ri.as_of,
            Stage(StageName.ENDED, start),
            latest.date.isoformat(),
            None,
            publicized_on=latest.date,
            ended_on=ended,
        )
