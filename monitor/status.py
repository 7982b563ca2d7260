"""An entity's standing on a date: a pure function of its history up to that date.

`derive` folds the events in order into the state of the current title: when it was granted and until when
it is valid, which suspension reasons are open (Art. 18 restructuring, Art. 21 failed evaluation), whether it
was revoked (and the re-application ban, Art. 22), applications and publicity. The rules read this state; so
do `entities show` and the digest. Nothing here reads a clock or a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import Event, EventKind, History, IncompleteHistory, Result, Scheme, Status

# Why a title is suspended; the values appear in `entities show --json` under `reasons`.
REASON_RESTRUCTURING = "restructuring"  # Art. 18
REASON_EVALUATION = "failed_evaluation"  # Art. 21


@dataclass(frozen=True, slots=True)
class Title:
    """One certification: granted on `granted_on`, valid through `last_valid_day` (Art. 17, never moved)."""

    granted_on: date
    last_valid_day: date
    scheme: Scheme
    cert_no: str
    seq: int


@dataclass(frozen=True, slots=True)
class Restructuring:
    """A change of the legal person (Art. 18): suspends the title; report within 3 months; annual review."""

    on: date
    seq: int
    change: str
    report_deadline: date
    reported_on: date | None = None


@dataclass(frozen=True, slots=True)
class Rectification:
    """A failed evaluation (Art. 21): suspends the title; rectify within 6 months."""

    on: date
    seq: int
    deadline: date
    rejected_on: date | None = None


@dataclass(frozen=True, slots=True)
class Revocation:
    article: int
    on: date
    cause: str  # the event kind that revoked the title
    detail: str = ""
    ban_until: date | None = None  # last day on which the entity may not apply again (Art. 22)


@dataclass(frozen=True, slots=True)
class Reason:
    """An open suspension reason, as shown to people."""

    kind: str
    article: int
    since: date
    deadline: date | None
    detail: str = ""


@dataclass
class EntityState:
    """The fold of an entity's events up to `as_of` (mutable while folding, then treated as read-only)."""

    as_of: date
    title: Title | None = None
    revocation: Revocation | None = None
    restructurings: list[Restructuring] = field(default_factory=list)
    rectifications: list[Rectification] = field(default_factory=list)
    ban_until: date | None = None
    ban_from: date | None = None
    applications: list[Event] = field(default_factory=list)
    publicized: list[Event] = field(default_factory=list)
    # district_reviewed, expert_reviewed, objection, application_rejected and certified events, in order
    procedure: list[Event] = field(default_factory=list)
    titles: list[Title] = field(default_factory=list)  # every title ever granted, oldest first
    title_ended_on: dict[int, date] = field(default_factory=dict)  # title seq -> last day held, when revoked

    # Set once the fold is complete (derive); the rules read it many times.
    status: Status = Status.UNCERTIFIED
    # filing_position's last answer and what it was asked with: the Art. 20 rule and the horizon both ask.
    filing_memo: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    def compute_status(self) -> Status:
        if self.title is None:
            return Status.UNCERTIFIED
        if self.revocation is not None:
            return Status.REVOKED
        if self.as_of > self.title.last_valid_day:
            return Status.EXPIRED
        if self.restructurings or self.rectifications:
            return Status.SUSPENDED
        return Status.ACTIVE

    @property
    def holds_title(self) -> bool:
        """Active or suspended: the title still exists, and with it the duty to file monthly (Art. 20)."""
        return self.status in (Status.ACTIVE, Status.SUSPENDED)

    @property
    def reasons(self) -> list[Reason]:
        if not self.holds_title:
            return []
        out = [
            Reason(REASON_RESTRUCTURING, 18, r.on, r.report_deadline if r.reported_on is None else None, r.change)
            for r in self.restructurings
        ]
        out += [Reason(REASON_EVALUATION, 21, r.on, r.deadline) for r in self.rectifications]
        return sorted(out, key=lambda r: r.since)

    def title_spans(self) -> list[tuple[date, date]]:
        """(granted on, last day held) of every title: its last valid day, or the day it was revoked."""
        return [
            (t.granted_on, min(t.last_valid_day, self.title_ended_on.get(t.seq, t.last_valid_day))) for t in self.titles
        ]

    def held_during(self, first: date, last: date) -> bool:
        """Whether some title was held on at least one day between `first` and `last`."""
        return any(granted <= last and end >= first for granted, end in self.title_spans())


def derive(history: History, as_of: date, cal: lt.WorkCalendar, settings: RuleSettings) -> EntityState:
    """Fold the events dated on or before `as_of`, in order, into an `EntityState`."""
    state = EntityState(as_of=as_of)
    for ev in sorted((e for e in history.events if e.date <= as_of), key=lambda e: (e.date, e.seq)):
        _apply(state, ev, cal, settings)
    state.status = state.compute_status()
    return state


def _end_title(state: EntityState, revocation: Revocation) -> None:
    if state.title is None or state.revocation is not None:
        return
    if revocation.on > state.title.last_valid_day:
        return  # already expired: nothing left to revoke
    state.revocation = revocation
    state.title_ended_on[state.title.seq] = revocation.on
    state.restructurings = []
    state.rectifications = []


def _apply(state: EntityState, ev: Event, cal: lt.WorkCalendar, settings: RuleSettings) -> None:
    kind = ev.kind
    live = state.title is not None and state.revocation is None and ev.date <= state.title.last_valid_day
    if kind is EventKind.CERTIFIED:
        # A new certification (a renewal, or a title after re-application) starts afresh: a new validity,
        # and whatever suspended or revoked the old title belongs to the old title.
        state.title = Title(
            granted_on=ev.date,
            last_valid_day=lt.validity_last_day(ev.date, settings.validity_years),
            scheme=ev.scheme or Scheme.CURRENT,
            cert_no=ev.cert_no,
            seq=ev.seq,
        )
        state.titles.append(state.title)
        state.revocation = None
        state.restructurings = []
        state.rectifications = []
    elif kind is EventKind.RESTRUCTURED and live:
        deadline = lt.deadline_after(ev.date, cal, months=settings.restructuring_report_months)
        state.restructurings.append(Restructuring(ev.date, ev.seq, ev.detail, deadline))
    elif kind is EventKind.RESTRUCTURING_REPORTED:
        state.restructurings = [
            replace(r, reported_on=ev.date) if r.reported_on is None else r for r in state.restructurings
        ]
    elif kind is EventKind.RESTRUCTURING_REVIEWED:
        state.restructurings = []
        if ev.result == Result.FAILED and live:
            _end_title(state, Revocation(18, ev.date, kind.value, ev.detail))
    elif kind is EventKind.EVALUATED and live:
        if ev.result == Result.FAILED:
            deadline = lt.deadline_after(ev.date, cal, months=settings.rectification_months)
            state.rectifications.append(Rectification(ev.date, ev.seq, deadline))
        else:
            # A later passed evaluation shows the service meets the standard again (docs/rules.md).
            state.rectifications = []
    elif kind is EventKind.RECTIFICATION_ACCEPTED:
        state.rectifications = []
    elif kind is EventKind.RECTIFICATION_REJECTED:
        state.rectifications = [replace(r, rejected_on=ev.date) for r in state.rectifications]
    elif kind is EventKind.MISCONDUCT:
        _ban(state, ev.date, settings)
        if live:
            _end_title(state, Revocation(22, ev.date, kind.value, ev.detail, state.ban_until))
    elif kind is EventKind.REVOKED:
        article = _article(ev.detail)
        if article == 22 and (state.ban_from is None or state.ban_from > ev.date):
            _ban(state, ev.date, settings)
        if live:
            _end_title(
                state, Revocation(article, ev.date, kind.value, ev.note, state.ban_until if article == 22 else None)
            )
    elif kind is EventKind.APPLIED:
        state.applications.append(ev)
    elif kind is EventKind.PUBLICIZED:
        state.publicized.append(ev)
    if kind in _PROCEDURE:
        state.procedure.append(ev)


_PROCEDURE = frozenset(
    {
        EventKind.DISTRICT_REVIEWED,
        EventKind.EXPERT_REVIEWED,
        EventKind.OBJECTION,
        EventKind.APPLICATION_REJECTED,
        EventKind.CERTIFIED,
    }
)


def event_year(ev: Event) -> int:
    """The application year an event of the procedure belongs to: its `year` (kept in `detail`), else the
    year of its date (SPEC section 9)."""
    text = ev.detail.strip()
    return int(text) if len(text) == 4 and text.isdigit() else ev.date.year


def decided(state: EntityState, application: Event) -> Event | None:
    """The event that decided an application: a rejection for its year, or a certification on or after the
    day it was made (for its year when the certification names one)."""
    year = event_year(application)
    for ev in state.procedure:
        if ev.date < application.date:
            continue
        if ev.kind is EventKind.APPLICATION_REJECTED and event_year(ev) == year:
            return ev
        if ev.kind is EventKind.CERTIFIED and (not ev.detail.strip() or event_year(ev) == year):
            return ev
    return None


def reviewed(state: EntityState, application: Event, kind: EventKind) -> Event | None:
    """The latest review of `kind` (district_reviewed, expert_reviewed) of the application's year."""
    year = event_year(application)
    found = None
    for ev in state.procedure:
        if ev.kind is kind and event_year(ev) == year and ev.date >= application.date:
            found = ev
    return found


def _ban(state: EntityState, on: date, settings: RuleSettings) -> None:
    """Art. 22: no new application for 3 years from the revocation (a later ban runs from its own date)."""
    until = lt.validity_last_day(on, settings.ban_years)
    if state.ban_until is None or until > state.ban_until:
        state.ban_from, state.ban_until = on, until


def _article(detail: str) -> int:
    text = detail.strip().removeprefix("第").removesuffix("条").removeprefix("Art.").strip()
    try:
        return int(text)
    except ValueError:
        return 0


# --- Monthly filings (Art. 20) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilingPosition:
    """Where an entity stands with its monthly filings on `as_of`."""

    first_owed: date | None  # the first month the title owes a filing for
    last_closed: date | None  # the latest owed month whose deadline has passed
    streak: int  # trailing months, up to `last_closed`, not filed as required
    streak_start: date | None  # the first month of that streak
    open_month: date | None  # the owed month whose deadline is the next one to come (>= as_of)
    open_deadline: date | None


def filed_as_required(history: History, period: date, deadline: date, settings: RuleSettings) -> bool:
    filed = history.filings.get(period)
    if filed is None:
        return False
    return filed <= deadline or not settings.late_filing_counts_as_miss


def filing_position(
    history: History, state: EntityState, as_of: date, cal: lt.WorkCalendar, settings: RuleSettings
) -> FilingPosition:
    """The filing obligation starts with the month after certification and lasts while the title is held.
    Memoised on the state: asked again with the same history, day, calendar and settings, the same answer."""
    memo = state.filing_memo
    if memo is not None and memo[0] is history and memo[1] == as_of and memo[2] is cal and memo[3] is settings:
        return memo[4]  # type: ignore[no-any-return]
    pos = _filing_position(history, state, as_of, cal, settings)
    state.filing_memo = (history, as_of, cal, settings, pos)
    return pos


def _filing_position(
    history: History, state: EntityState, as_of: date, cal: lt.WorkCalendar, settings: RuleSettings
) -> FilingPosition:
    if state.title is None or not state.holds_title:
        return FilingPosition(None, None, 0, None, None, None)
    first = lt.add_months(lt.month_of(state.title.granted_on), 1)
    # The open month: the earliest owed month whose deadline has not passed yet. The current month's deadline
    # never has; an earlier month's may not have either (a deadline moved by Art. 203, or a due day in M+1).
    month = lt.month_of(as_of)
    while month > first and lt.filing_deadline(lt.add_months(month, -1), settings.filing_due_day, cal) >= as_of:
        month = lt.add_months(month, -1)
    open_month = max(month, first)
    open_deadline = lt.filing_deadline(open_month, settings.filing_due_day, cal)
    last_closed = lt.add_months(open_month, -1)
    if last_closed < first:
        return FilingPosition(first, None, 0, None, open_month, open_deadline)
    streak_start = None
    period = last_closed
    window = history.filings_from
    while period >= first:
        if window is not None and period < window:
            raise IncompleteHistory(f"the filing streak reaches back before {lt.format_period(window)}")
        if filed_as_required(history, period, lt.filing_deadline(period, settings.filing_due_day, cal), settings):
            break
        streak_start = period
        period = lt.add_months(period, -1)
    streak = lt.months_between(streak_start, last_closed) + 1 if streak_start else 0
    return FilingPosition(first, last_closed, streak, streak_start, open_month, open_deadline)
