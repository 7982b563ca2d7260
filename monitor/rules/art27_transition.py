"""Art. 27: the Measures are valid for five years; titles granted under the 2018 measures must re-apply.

第二十七条 本办法自印发之日起施行，有效期5年。2018年市经信局印发的《成都市中小企业公共服务平台及小企业创业基地认定
管理办法》……已到期废止。已认定的市级平台、基地，按新办法重新申报。
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import RuleId, Scheme, StageName
from monitor.rules.base import RuleInput, Stage, make, stage_before
from monitor.rules.finding import Finding


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    title = ri.state.title
    if title is None or title.scheme is not Scheme.LEGACY_2018 or not ri.state.holds_title:
        return
    if any(ev.date > title.granted_on for ev in ri.state.applications):
        return  # it has re-applied; the decision is the next certification
    since = max(title.granted_on, ri.settings.regulation_issued_on or title.granted_on)
    yield make(
        RuleId.LEGACY_REAPPLY_REQUIRED,
        ri,
        ri.as_of,
        Stage(StageName.ACTIVE, since),
        title.granted_on.isoformat(),
        None,
        granted=title.granted_on,
        expires=title.last_valid_day,
    )


def evaluate_regulation(as_of: date, settings: RuleSettings) -> Iterator[Finding]:
    issued = settings.regulation_issued_on
    if issued is None:
        return
    last = lt.validity_last_day(issued, settings.regulation_validity_years)
    stage = stage_before(as_of, last, (settings.regulation_expiring_days,))
    if stage is None and as_of > last:
        stage = Stage(StageName.EXPIRED, lt.days_after(last, 1))
    if stage:
        yield make(RuleId.REGULATION_EXPIRING, None, as_of, stage, issued.isoformat(), last, issued=issued, last=last)
