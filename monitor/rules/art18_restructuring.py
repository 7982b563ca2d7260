"""Art. 18: a restructured legal person is suspended, must report within three months, and is reviewed.

第十八条 平台、基地的法人主体发生更名、重组等重大调整的，自发生调整情况之日起暂停平台、基地称号。法人主体应当在
发生调整情况三个月内向区（市）县工业和信息化主管部门报告……对评审合格的准予在原有效期内继续使用平台、基地称号。
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
    for r in ri.state.restructurings:
        subject = r.on.isoformat()
        params: dict[str, Any] = {"changed_on": r.on, "change": r.change, "report_due": r.report_deadline}
        yield make(RuleId.RESTRUCTURING_SUSPENDED, ri, as_of, Stage(StageName.SUSPENDED, r.on), subject, None, **params)
        if r.reported_on is not None:
            stage = Stage(StageName.REPORTED, r.reported_on)
            yield make(
                RuleId.RESTRUCTURING_REVIEW_PENDING,
                ri,
                as_of,
                stage,
                subject,
                None,
                reported_on=r.reported_on,
                **params,
            )
            continue
        late = overdue(as_of, r.report_deadline)
        if late:
            yield make(RuleId.RESTRUCTURING_REPORT_OVERDUE, ri, as_of, late, subject, r.report_deadline, **params)
            continue
        due_stage = stage_before(as_of, r.report_deadline, ri.settings.restructuring_report_days)
        if due_stage:
            yield make(RuleId.RESTRUCTURING_REPORT_DUE, ri, as_of, due_stage, subject, r.report_deadline, **params)
