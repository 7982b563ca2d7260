"""What a rule returns: a finding, data only. Rules never send, store or print anything."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from monitor.domain import Audience, RuleId, Severity


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that holds for an entity (or a district, or the Measures themselves) on the as-of date.

    `subject` names what the finding is about, stably across runs (the certification's grant date, the
    restructuring's date, the first month of a streak of missed filings, the year a district report covers);
    with `rule`, `entity` and `stage` it identifies a notification (SPEC section 5).
    `stage` is the latest stage reached (`30d`, `14d`, `3d`, `overdue`, ...); `since` is the day the current
    stage began. `params` carries the values the messages are written from.
    """

    rule: RuleId
    article: int
    severity: Severity
    audiences: tuple[Audience, ...]
    stage: str
    subject: str
    entity: str | None
    entity_name: str | None
    district: str | None
    due: date | None
    days_left: int | None
    since: date
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(rule, entity or district, subject, stage): the part of the outbox key that comes from the finding."""
        return (self.rule.value, self.entity or f"district:{self.district or ''}", self.subject, self.stage)

    @property
    def finding_id(self) -> str:
        """A short stable name for acknowledging the finding: RULE/ENTITY/SUBJECT (no stage)."""
        return f"{self.rule.value}/{self.entity or self.district or '-'}/{self.subject}"

    def message(self, locale: str = "zh_CN") -> str:
        from monitor.rules.messages import render

        return render(self, locale)

    def to_json(self, locale: str = "zh_CN") -> dict[str, Any]:
        return {
            "id": self.finding_id,
            "entity": self.entity,
            "entity_name": self.entity_name,
            "district": self.district,
            "rule": self.rule.value,
            "article": self.article,
            "severity": self.severity.label,
            "stage": self.stage,
            "subject": self.subject,
            "due": self.due.isoformat() if self.due else None,
            "days_left": self.days_left,
            "since": self.since.isoformat(),
            "audiences": [a.value for a in self.audiences],
            "message": self.message(locale),
            "params": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.params.items()},
        }
