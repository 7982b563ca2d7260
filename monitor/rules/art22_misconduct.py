"""Art. 22: refusing to cooperate, fraud or other violations revoke the title, with a three-year ban.

第二十二条 ……拒不配合的，或者有弄虚作假或其它违法违规等行为的，撤销平台、基地称号，且3年内不得再次申报。

An application made during the ban is flagged until it is decided (rejected or certified), SPEC section 9.
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor.domain import RuleId, StageName
from monitor.rules.base import RuleInput, Stage, make
from monitor.rules.finding import Finding
from monitor.status import decided


def evaluate(ri: RuleInput) -> Iterator[Finding]:
    state, as_of = ri.state, ri.as_of
    rev = state.revocation
    if rev is not None and rev.article == 22 and rev.ban_until is not None and as_of <= rev.ban_until:
        yield make(
            RuleId.MISCONDUCT_REVOKED,
            ri,
            as_of,
            Stage(StageName.REVOKED, rev.on),
            rev.on.isoformat(),
            rev.ban_until,
            revoked_on=rev.on,
            ban_until=rev.ban_until,
            misconduct=rev.detail,
        )
    if state.ban_from is None or state.ban_until is None:
        return
    for app in state.applications:
        # Present until the application is decided (rejected or certified), also after the ban has ended.
        if state.ban_from <= app.date <= state.ban_until and decided(state, app) is None:
            yield make(
                RuleId.APPLICATION_DURING_BAN,
                ri,
                as_of,
                Stage(StageName.APPLIED, app.date),
                app.date.isoformat(),
                state.ban_until,
                applied_on=app.date,
                ban_from=state.ban_from,
                ban_until=state.ban_until,
            )
