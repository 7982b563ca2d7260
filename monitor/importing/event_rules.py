"""What each event kind needs (SPEC sections 3 and 6), and the history it makes sense after.

Kinds, results and details are accepted in English or in the Chinese a clerk would type (测评 / 不合格);
they are stored in English, the values of `monitor.domain`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from monitor.domain import EventKind, Misconduct, Restructuring, Result
from monitor.importing.values import Bad, choices, text, vocabulary
from monitor.storage.bulk import KnownEvent

EVENT_KINDS = choices(
    [
        (EventKind.CERTIFIED.value, ["认定", "认定授牌", "授牌"]),
        (EventKind.FILING.value, ["填报", "月度填报"]),
        (EventKind.RESTRUCTURED.value, ["重大调整", "调整", "重组", "更名重组"]),
        (EventKind.RESTRUCTURING_REPORTED.value, ["调整报告", "重组报告", "报告调整"]),
        (EventKind.RESTRUCTURING_REVIEWED.value, ["调整审核", "重组审核"]),
        (EventKind.EVALUATED.value, ["测评"]),
        (EventKind.RECTIFICATION_ACCEPTED.value, ["整改合格", "整改通过"]),
        (EventKind.RECTIFICATION_REJECTED.value, ["整改不合格", "整改未通过"]),
        (EventKind.MISCONDUCT.value, ["违规", "违法违规行为"]),
        (EventKind.REVOKED.value, ["撤销", "撤销称号"]),
        (EventKind.APPLIED.value, ["申报"]),
        (EventKind.PUBLICIZED.value, ["公示"]),
        (EventKind.DISTRICT_REVIEWED.value, ["区县初审", "初审", "区县推荐"]),
        (EventKind.EXPERT_REVIEWED.value, ["专家评审", "评审"]),
        (EventKind.OBJECTION.value, ["异议", "公示异议"]),
        (EventKind.APPLICATION_REJECTED.value, ["不予认定", "申报未通过", "驳回申报"]),
        (EventKind.DISTRICT_REPORT.value, ["区县报告", "年度报告", "区县年度报告"]),
        (EventKind.ROSTER_CHANGED.value, []),
    ]
)
RESULTS = choices([(Result.PASSED.value, ["合格", "通过"]), (Result.FAILED.value, ["不合格", "未通过"])])
RESTRUCTURINGS = choices(
    [
        (Restructuring.RENAME.value, ["更名"]),
        (Restructuring.MERGER.value, ["合并", "兼并"]),
        (Restructuring.SPLIT.value, ["分立", "拆分"]),
        (Restructuring.OTHER.value, ["其他", "其它"]),
    ]
)
MISCONDUCTS = choices(
    [
        (Misconduct.REFUSED_COOPERATION.value, ["拒不配合"]),
        (Misconduct.FRAUD.value, ["弄虚作假"]),
        (Misconduct.VIOLATION.value, ["违法违规", "其他违法违规", "其它违法违规"]),
    ]
)
# The articles under which a title is revoked: 18 (failed review), 20 (filings), 21 (rectification), 22.
REVOCATION_ARTICLES = ("18", "20", "21", "22")
_CHINESE_ARTICLES = {"十八": "18", "二十": "20", "二十一": "21", "二十二": "22"}

WITH_RESULT = frozenset(
    {EventKind.EVALUATED, EventKind.RESTRUCTURING_REVIEWED, EventKind.DISTRICT_REVIEWED, EventKind.EXPERT_REVIEWED}
)
# The procedure after an application (Arts. 9-10): each names the application's year, default its date's year.
AFTER_APPLICATION = frozenset(
    {
        EventKind.DISTRICT_REVIEWED,
        EventKind.EXPERT_REVIEWED,
        EventKind.OBJECTION,
        EventKind.APPLICATION_REJECTED,
    }
)
# Publicity and certification may name the year of the application they conclude.
WITH_YEAR = AFTER_APPLICATION | {EventKind.PUBLICIZED, EventKind.CERTIFIED}
WITH_DETAIL = {
    EventKind.RESTRUCTURED: (RESTRUCTURINGS, "rename/更名、merger/合并、split/分立 或 other/其他"),
    EventKind.MISCONDUCT: (MISCONDUCTS, "refused_cooperation/拒不配合、fraud/弄虚作假 或 violation/违法违规"),
}
# Events about a title need one granted on or before their date.
NEEDS_TITLE = frozenset(
    {
        EventKind.RESTRUCTURED,
        EventKind.RESTRUCTURING_REPORTED,
        EventKind.RESTRUCTURING_REVIEWED,
        EventKind.EVALUATED,
        EventKind.RECTIFICATION_ACCEPTED,
        EventKind.RECTIFICATION_REJECTED,
        EventKind.REVOKED,
    }
)
NOT_RECORDABLE = {
    EventKind.ROSTER_CHANGED: "名册变更由名册导入自动记录，不能手工录入 (recorded by roster imports only)",
}


def event_kind(cell: Any) -> EventKind | None:
    value = vocabulary(cell, EVENT_KINDS, "事件类型，如 evaluated/测评、restructured/重大调整 (an event kind)")
    return EventKind(value) if value else None


def result(cell: Any) -> str:
    return vocabulary(cell, RESULTS, "passed/合格 或 failed/不合格") or ""


def article(cell: Any) -> str:
    """'20', '第20条', '第二十条', 'Art. 20' -> '20' (one of the revocation articles)."""
    value = text(cell)
    if not value:
        return ""
    folded = re.sub(r"[\s.]", "", value).casefold().removeprefix("article").removeprefix("art")
    m = re.fullmatch(r"第?(\d+|[一二十]+)条?", folded)
    number = None if m is None else _CHINESE_ARTICLES.get(m[1], m[1])
    if number not in REVOCATION_ARTICLES:
        raise Bad(f"应为撤销所依据的条款 18、20、21 或 22 (the article: 18, 20, 21 or 22), 实际为 {value!r}")
    return number


class Firsts:
    """The first date of each fact an event may need before it, for one entity: enough to judge any number
    of its events in constant time each."""

    __slots__ = ("applied", "certified", "failed_evaluation", "restructured")

    def __init__(self) -> None:
        self.certified: date | None = None
        self.applied: date | None = None
        self.failed_evaluation: date | None = None
        self.restructured: date | None = None

    def add(self, e: KnownEvent) -> None:
        if e.kind is EventKind.CERTIFIED:
            self.certified = _earlier(self.certified, e.date)
        elif e.kind is EventKind.APPLIED:
            self.applied = _earlier(self.applied, e.date)
        elif e.kind is EventKind.EVALUATED and e.result == Result.FAILED:
            self.failed_evaluation = _earlier(self.failed_evaluation, e.date)
        elif e.kind is EventKind.RESTRUCTURED:
            self.restructured = _earlier(self.restructured, e.date)

    @classmethod
    def of(cls, history: Iterable[KnownEvent]) -> Firsts:
        firsts = cls()
        for e in history:
            firsts.add(e)
        return firsts


def _earlier(current: date | None, day: date) -> date:
    return day if current is None or day < current else current


def _by(first: date | None, day: date) -> bool:
    return first is not None and first <= day


def sense(kind: EventKind, day: date, firsts: Firsts) -> str | None:
    """Why an event of `kind` on `day` makes no sense after the entity's history (its events in the database
    and in the same file, in any order, summed up in `firsts`); None when it does."""
    if kind in NEEDS_TITLE or kind is EventKind.MISCONDUCT:
        # Fraud in an application is misconduct too (Art. 22): it needs an application or a title.
        applied = kind is EventKind.MISCONDUCT and _by(firsts.applied, day)
        if not applied and not _by(firsts.certified, day):
            if firsts.certified is not None:
                return f"早于该主体首次认定日期 {firsts.certified} (dated before the entity's first certification)"
            return "该主体没有认定记录 (the entity has no certification)"
    if kind in (EventKind.RECTIFICATION_ACCEPTED, EventKind.RECTIFICATION_REJECTED) and not _by(
        firsts.failed_evaluation, day
    ):
        return "此前没有测评不合格记录，无从整改 (no failed evaluation on or before this date)"
    if kind in (EventKind.RESTRUCTURING_REPORTED, EventKind.RESTRUCTURING_REVIEWED) and not _by(
        firsts.restructured, day
    ):
        return "此前没有更名、重组等重大调整记录 (no restructuring on or before this date)"
    if kind in AFTER_APPLICATION and not _by(firsts.applied, day):
        return "此前没有申报记录，请先导入申报或登记 applied 事件 (no application on or before this date)"
    return None
