"""The vocabulary of the Measures: kinds, event kinds, statuses, severities, audiences, rule IDs.

These values are part of the output contract (SPEC sections 3, 4 and 6): they are stored in the database,
printed in `--json` output and used as outbox keys, so a value here never changes once released.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class Kind(enum.StrEnum):
    PLATFORM = "platform"  # 平台
    BASE = "base"  # 基地

    @property
    def zh(self) -> str:
        return {"platform": "平台", "base": "基地"}[self.value]


class Scheme(enum.StrEnum):
    CURRENT = "current"
    LEGACY_2018 = "2018"  # granted under the 2018 measures; Art. 27 requires re-application


class EventKind(enum.StrEnum):
    CERTIFIED = "certified"
    FILING = "filing"
    RESTRUCTURED = "restructured"
    RESTRUCTURING_REPORTED = "restructuring_reported"
    RESTRUCTURING_REVIEWED = "restructuring_reviewed"
    EVALUATED = "evaluated"
    RECTIFICATION_ACCEPTED = "rectification_accepted"
    RECTIFICATION_REJECTED = "rectification_rejected"
    MISCONDUCT = "misconduct"
    REVOKED = "revoked"
    APPLIED = "applied"
    PUBLICIZED = "publicized"
    DISTRICT_REPORT = "district_report"
    # The procedure of an application (Arts. 9-10), each with the application's year.
    DISTRICT_REVIEWED = "district_reviewed"  # passed: recommended to the city (Art. 9)
    EXPERT_REVIEWED = "expert_reviewed"  # Art. 10
    OBJECTION = "objection"  # raised during the publicity week (Art. 10)
    APPLICATION_REJECTED = "application_rejected"
    # Not in the Measures: a roster import changed a field (name, district, e-mail...). Kept for the timeline.
    ROSTER_CHANGED = "roster_changed"


class Result(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class Restructuring(enum.StrEnum):
    RENAME = "rename"
    MERGER = "merger"
    SPLIT = "split"
    OTHER = "other"


class Misconduct(enum.StrEnum):
    REFUSED_COOPERATION = "refused_cooperation"
    FRAUD = "fraud"
    VIOLATION = "violation"


class Status(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    UNCERTIFIED = "uncertified"


class Severity(enum.IntEnum):
    INFO = 1
    NOTICE = 2
    WARNING = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class Audience(enum.StrEnum):
    ENTITY = "entity"
    STAFF = "staff"
    DISTRICT = "district"
    ADMIN = "admin"


class RuleId(enum.StrEnum):
    FILING_DUE_SOON = "FILING_DUE_SOON"
    FILING_MISSED = "FILING_MISSED"
    FILING_REVOCATION_DUE = "FILING_REVOCATION_DUE"
    RENEWAL_YEAR = "RENEWAL_YEAR"
    CERT_EXPIRING = "CERT_EXPIRING"
    CERT_EXPIRED = "CERT_EXPIRED"
    RESTRUCTURING_SUSPENDED = "RESTRUCTURING_SUSPENDED"
    RESTRUCTURING_REPORT_DUE = "RESTRUCTURING_REPORT_DUE"
    RESTRUCTURING_REPORT_OVERDUE = "RESTRUCTURING_REPORT_OVERDUE"
    RESTRUCTURING_REVIEW_PENDING = "RESTRUCTURING_REVIEW_PENDING"
    RECTIFICATION_DUE = "RECTIFICATION_DUE"
    RECTIFICATION_OVERDUE = "RECTIFICATION_OVERDUE"
    MISCONDUCT_REVOKED = "MISCONDUCT_REVOKED"
    APPLICATION_DURING_BAN = "APPLICATION_DURING_BAN"
    LEGACY_REAPPLY_REQUIRED = "LEGACY_REAPPLY_REQUIRED"
    DISTRICT_REPORT_DUE = "DISTRICT_REPORT_DUE"
    DISTRICT_REPORT_OVERDUE = "DISTRICT_REPORT_OVERDUE"
    REGULATION_EXPIRING = "REGULATION_EXPIRING"
    PUBLICITY_ENDED = "PUBLICITY_ENDED"
    APPLICATION_INELIGIBLE = "APPLICATION_INELIGIBLE"
    DISTRICT_REVIEW_PENDING = "DISTRICT_REVIEW_PENDING"
    SERVICE_BELOW_THRESHOLD = "SERVICE_BELOW_THRESHOLD"


class StageName(enum.StrEnum):
    """The named stages of findings (SPEC section 4). Reminder stages before a deadline are `<n>d` (30d, 7d) and
    a filing streak is `streak-<n>`; those are built from the configured offsets and the streak."""

    START = "start"
    OVERDUE = "overdue"
    DUE = "due"
    SUSPENDED = "suspended"
    REPORTED = "reported"
    YEAR = "year"
    EXPIRED = "expired"
    REVOKED = "revoked"
    APPLIED = "applied"
    ACTIVE = "active"
    ENDED = "ended"
    FEB1 = "feb1"


@dataclass(frozen=True, slots=True)
class Entity:
    credit_code: str
    name: str
    kind: Kind
    district: str
    emails: tuple[str, ...] = ()
    cert_no: str = ""
    functions: tuple[str, ...] = ()  # the service functions it was certified for (roster, optional)


@dataclass(frozen=True, slots=True)
class Application:
    """One application (credit code, year) with the fields it gave (SPEC section 9): dates as dates, yes/no
    as booleans, figures as numbers, `functions` as a tuple; a field left empty is absent."""

    year: int
    kind: Kind
    applied_on: date
    values: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    district: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """One dated fact about an entity. `seq` orders events recorded for the same date."""

    kind: EventKind
    date: date
    seq: int = 0
    result: str = ""
    detail: str = ""
    note: str = ""
    recorded_by: str = ""
    source: str = ""
    # Certification events carry the certificate number and scheme.
    cert_no: str = ""
    scheme: Scheme | None = None


class IncompleteHistory(Exception):
    """A rule needed filings older than the ones it was given (History.filings_from)."""


@dataclass(frozen=True, slots=True)
class History:
    """Everything the rules may know about one entity: the roster row, its events and its monthly filings.

    `filings` maps the first day of a month to the date the earliest filing for it was made.
    """

    entity: Entity
    events: tuple[Event, ...] = ()
    filings: dict[date, date] = field(default_factory=dict)
    # A sweep reads only recent months: filings for periods before `filings_from` are left out. A rule that
    # needs them raises IncompleteHistory and the sweep reads that entity's whole history. None: complete.
    filings_from: date | None = None
    # Applications (oldest first) and the service figures filed with each month's filing (period -> field ->
    # value); only the current year's figures need be given. The rules of SPEC 9 read them.
    applications: tuple[Application, ...] = ()
    figures: Mapping[date, Mapping[str, Any]] = field(default_factory=dict)

    def up_to(self, as_of: date) -> History:
        """The history as it stood at the end of `as_of`: what happened later is not known yet."""
        if (
            all(e.date <= as_of for e in self.events)
            and all(f <= as_of for f in self.filings.values())
            and all(a.applied_on <= as_of for a in self.applications)
        ):
            return self
        return History(
            entity=self.entity,
            events=tuple(e for e in self.events if e.date <= as_of),
            filings={p: f for p, f in self.filings.items() if f <= as_of},
            filings_from=self.filings_from,
            applications=tuple(a for a in self.applications if a.applied_on <= as_of),
            # Figures are kept with their month's filing: not known before it was filed. (A month outside the
            # filings window was read only when filed by then: repository.iter_histories.)
            figures={p: v for p, v in self.figures.items() if self.filings.get(p, date.min) <= as_of},
        )
