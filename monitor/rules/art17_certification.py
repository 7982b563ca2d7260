"""Art. 17: a title is valid for three years; it may be applied for again in the year it expires.

第十七条 平台、基地认定有效期为三年，有效期满当年可再次申报。
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from monitor import legal_time as lt
from monitor.domain import RuleId, StageName, Status
from monitor.rules.base import RuleInput, Stage, make, stage_before
from monitor.rules.finding import Finding


def _applied_for_renewal(ri: RuleInput, expiry_year: int) -> bool:
    """An application made in the expiry year (or earlier, after the title was granted) counts as applying."""
    title = ri.state.title
    assert title is not None
    for ev in ri.state.applications:
        if ev.date > title.granted_on and (ev.date.year >= expiry_year or ev.detail.strip() == str(expiry_year)):
            return True
    return False


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    title, status, as_of = ri.state.title, ri.state.status, ri.as_of
    if title is None or status is Status.REVOKED:
        return
    last = title.last_valid_day
    subject = title.granted_on.isoformat()
    params: dict[str, Any] = {"expires": last, "granted": title.granted_on}
    applied = _applied_for_renewal(ri, last.year)
    jan1 = date(last.year, 1, 1)
    if not applied and jan1 <= as_of <= date(last.year, 12, 31):
        yield make(RuleId.RENEWAL_YEAR, ri, as_of, Stage(StageName.YEAR, jan1), subject, last, **params)
    if status is Status.EXPIRED:
        first_day = lt.days_after(last, 1)
        if as_of <= lt.days_after(last, ri.settings.cert_expired_days):
            yield make(RuleId.CERT_EXPIRED, ri, as_of, Stage(StageName.EXPIRED, first_day), subject, last, **params)
        return
    if not applied:
        stage = stage_before(as_of, last, ri.settings.cert_expiring_days)
        if stage:
            yield make(RuleId.CERT_EXPIRING, ri, as_of, stage, subject, last, **params)
