"""Art. 21 (second paragraph): a failed evaluation suspends the title; rectify within six months or lose it.

第二十一条 ……对测评不合格的平台、基地情况反馈区（市）县工业和信息化主管部门，并暂停平台、基地称号。
区（市）县工业和信息化主管部门应指导测评不合格的平台、基地6个月内完成整改，未按规定完成整改的将撤销平台、基地称号。
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from monitor.domain import RuleId, StageName
from monitor.rules.base import RuleInput, Stage, make, overdue, stage_before
from monitor.rules.finding import Finding


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    if not ri.state.holds_title:
        return
    as_of = ri.as_of
    for r in ri.state.rectifications:
        subject = r.on.isoformat()
        params: dict[str, Any] = {"evaluated_on": r.on, "rejected_on": r.rejected_on}
        late = overdue(as_of, r.deadline)
        if late:
            yield make(RuleId.RECTIFICATION_OVERDUE, ri, as_of, late, subject, r.deadline, **params)
            continue
        stage = stage_before(as_of, r.deadline, ri.settings.rectification_days) or Stage(StageName.START, r.on)
        yield make(RuleId.RECTIFICATION_DUE, ri, as_of, stage, subject, r.deadline, **params)
