"""What the CLI and the daemon call: `enqueue` a sweep's findings, `deliver` the outbox.

enqueue: route every finding (routing.py), drop the keys already in the outbox, hold silenced entities'
reminders, add the seven-day repeats of unresolved critical findings that nobody acknowledged at their stage,
group what is left into messages (one reminder per entity finding and address; one staff alert per address
and run; one notice per district address and run), render them and write messages and items in one
transaction, before anything is sent. Two daemons enqueueing the same run collide on the unique keys; the
loser's transaction is rolled back and planned again, and then finds nothing new.

deliver: claim due messages a batch at a time under a lease, hand each batch to its channel, record the
outcome (outbox.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor import legal_time
from monitor.config import Settings
from monitor.domain import Audience, Entity, Severity
from monitor.rules.finding import Finding
from monitor.storage.db import Database
from notifications import compose, controls, outbox
from notifications.channels import Channel as ChannelImpl
from notifications.channels import DeliveryError, Outgoing, for_settings
from notifications.models import Channel, MessageKind, OutboxItem, OutboxMessage, pending
from notifications.routing import Route, Unroutable, routes

log = logging.getLogger(__name__)

ENQUEUE_TRIES = 3

ItemKey = tuple[str, str, str, str, str, str]  # rule, entity, subject, stage, audience, recipient


class SweepLike(Protocol):
    """What enqueue needs of monitor.sweep.SweepResult."""

    @property
    def findings(self) -> Sequence[Finding]: ...

    @property
    def entities(self) -> Mapping[str, Entity]: ...


@dataclass(frozen=True)
class PlannedMessage:
    kind: MessageKind
    channel: Channel
    audience: Audience
    recipient: str
    key: str
    items: tuple[tuple[Finding, int], ...]  # (finding, repeat number: 0 = first notice of its stage)
    district: str = ""
    subject: str = ""

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for f, n in self.items if n == 0)

    @property
    def repeats(self) -> tuple[Finding, ...]:
        return tuple(f for f, n in self.items if n > 0)


@dataclass
class EnqueueReport:
    as_of: date
    dry_run: bool = False
    messages: list[PlannedMessage] = field(default_factory=list)
    new_items: int = 0
    repeats: int = 0
    already: int = 0  # routes whose key was already in the outbox
    held: list[str] = field(default_factory=list)  # finding ids whose entity reminders a silence holds
    acked: list[str] = field(default_factory=list)  # finding ids whose repeat an acknowledgement stopped
    unroutable: Unroutable = field(default_factory=Unroutable)

    @property
    def problems(self) -> list[str]:
        return self.unroutable.lines()

    def count(self, kind: MessageKind) -> int:
        return sum(1 for m in self.messages if m.kind is kind)


def item_key(route: Route) -> ItemKey:
    rule, entity, subject, stage = route.finding.key
    return (rule, entity, subject, stage, route.audience.value, route.recipient)


def _digest(parts: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(parts)).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class _Seen:
    repeat: int
    as_of: date


def _existing(session: Session, entity_keys: Iterable[str]) -> dict[ItemKey, _Seen]:
    """For each item key already enqueued about these entities: its highest repeat and that repeat's date."""
    i = OutboxItem
    wanted = sorted(set(entity_keys))
    out: dict[ItemKey, _Seen] = {}
    for n in range(0, len(wanted), 900):
        rows = session.execute(
            select(i.rule, i.entity, i.subject, i.stage, i.audience, i.recipient, i.repeat, i.as_of).where(
                i.entity.in_(wanted[n : n + 900])
            )
        )
        for rule, entity, subject, stage, audience, recipient, repeat, as_of in rows:
            key = (rule, entity, subject, stage, audience, recipient)
            seen = out.get(key)
            if seen is None or repeat > seen.repeat:
                out[key] = _Seen(repeat, as_of)
    return out


def plan(session: Session, sweep: SweepLike, settings: Settings, as_of: date) -> EnqueueReport:
    """What enqueue would write, from the outbox as it stands; writes nothing."""
    report = EnqueueReport(as_of=as_of)
    all_routes, report.unroutable = routes(sweep.findings, sweep.entities, settings)
    existing = _existing(session, {f.key[1] for f in sweep.findings})
    silenced = controls.silenced_codes(session, as_of)
    acks = controls.acked_stages(session, {r.finding.finding_id for r in all_routes})
    repeat_days = settings.notifications.repeat_critical_days

    # (route, repeat number) for every item to write
    chosen: list[tuple[Route, int]] = []
    planned_keys: set[ItemKey] = set()
    for route in all_routes:
        key = item_key(route)
        if key in planned_keys:
            continue
        planned_keys.add(key)
        f = route.finding
        seen = existing.get(key)
        if seen is None:
            if route.audience is Audience.ENTITY and f.entity in silenced:
                report.held.append(f.finding_id)
                continue
            chosen.append((route, 0))
            continue
        report.already += 1
        due_again = legal_time.days_after(seen.as_of, repeat_days) <= as_of
        if route.audience is Audience.STAFF and f.severity >= Severity.CRITICAL and due_again:
            if f.stage in acks.get(f.finding_id, set()):
                report.acked.append(f.finding_id)
                continue
            chosen.append((route, seen.repeat + 1))
    report.held = sorted(set(report.held))
    report.acked = sorted(set(report.acked))
    report.messages = _group(chosen, sweep.entities, as_of)
    report.new_items = len(chosen)
    report.repeats = sum(1 for _, n in chosen if n > 0)
    return report


def _group(chosen: Sequence[tuple[Route, int]], entities: Mapping[str, Entity], as_of: date) -> list[PlannedMessage]:
    messages: list[PlannedMessage] = []
    staff: dict[tuple[str, Channel], list[tuple[Route, int]]] = defaultdict(list)
    district: dict[tuple[str, str], list[tuple[Route, int]]] = defaultdict(list)
    for route, repeat in chosen:
        f = route.finding
        if route.audience is Audience.ENTITY:
            key = "reminder|" + "|".join(item_key(route))
            messages.append(
                PlannedMessage(MessageKind.REMINDER, route.channel, route.audience, route.recipient, key, ((f, 0),))
            )
        elif route.audience is Audience.STAFF:
            staff[(route.recipient, route.channel)].append((route, repeat))
        elif route.audience is Audience.DISTRICT:
            owner = entities.get(f.entity) if f.entity else None
            name = f.district or (owner.district if owner else "")
            district[(name, route.recipient)].append((route, repeat))
    for (recipient, channel), group in staff.items():
        ident = _digest(f"{'|'.join(item_key(r))}|{n}" for r, n in group)
        messages.append(
            PlannedMessage(
                MessageKind.ALERT,
                channel,
                Audience.STAFF,
                recipient,
                f"alert|{as_of.isoformat()}|{recipient}|{ident}",
                tuple((r.finding, n) for r, n in group),
            )
        )
    for (name, recipient), group in district.items():
        ident = _digest(f"{'|'.join(item_key(r))}|{n}" for r, n in group)
        messages.append(
            PlannedMessage(
                MessageKind.NOTICE,
                Channel.EMAIL,
                Audience.DISTRICT,
                recipient,
                f"notice|{name}|{as_of.isoformat()}|{recipient}|{ident}",
                tuple((r.finding, n) for r, n in group),
                district=name,
            )
        )
    return messages


def _compose(
    msg: PlannedMessage, entities: Mapping[str, Entity], settings: Settings, as_of: date, now: datetime
) -> compose.Composed:
    if msg.kind is MessageKind.REMINDER:
        f = msg.findings[0]
        entity = entities.get(f.entity) if f.entity else None
        return compose.entity_reminder(settings, msg.key, msg.recipient, f, entity, as_of, now)
    if msg.kind is MessageKind.ALERT and msg.channel is Channel.WEBHOOK:
        return compose.staff_webhook(settings, msg.key, msg.findings, msg.repeats, as_of)
    if msg.kind is MessageKind.ALERT:
        return compose.staff_alert(settings, msg.key, msg.recipient, msg.findings, msg.repeats, as_of, now)
    return compose.district_notice(settings, msg.key, msg.recipient, msg.district, msg.findings, as_of, now)


def _write(session: Session, report: EnqueueReport, sweep: SweepLike, settings: Settings, now: datetime) -> None:
    as_of = report.as_of
    for planned in report.messages:
        composed = _compose(planned, sweep.entities, settings, as_of, now)
        row = OutboxMessage(
            **pending(
                key=planned.key,
                kind=planned.kind,
                channel=planned.channel,
                audience=planned.audience.value,
                recipient=planned.recipient,
                subject=composed.subject,
                as_of=as_of,
                message_id=composed.message_id,
                content=composed.content,
                now=now,
            )
        )
        session.add(row)
        session.flush()
        for f, repeat in planned.items:
            rule, entity, subject, stage = f.key
            session.add(
                OutboxItem(
                    message_id=row.id,
                    rule=rule,
                    entity=entity,
                    subject=subject,
                    stage=stage,
                    audience=planned.audience.value,
                    recipient=planned.recipient,
                    repeat=repeat,
                    finding_id=f.finding_id,
                    severity=f.severity.label,
                    as_of=as_of,
                    created_at=now,
                )
            )
    session.flush()


def enqueue(
    db: Database, sweep: SweepLike, settings: Settings, as_of: date, now: datetime, *, dry_run: bool = False
) -> EnqueueReport:
    """Write the outbox rows for a sweep's findings (nothing when `dry_run`); returns what was (to be) written."""
    for attempt in range(1, ENQUEUE_TRIES + 1):
        try:
            with db.session() as session:
                report = plan(session, sweep, settings, as_of)
                report.dry_run = dry_run
                if dry_run:
                    report.messages = [
                        replace(m, subject=_compose(m, sweep.entities, settings, as_of, now).subject)
                        for m in report.messages
                    ]
                    session.rollback()
                    return report
                _write(session, report, sweep, settings, now)
        except IntegrityError:
            # Another process enqueued some of the same keys first; plan again against what it wrote.
            if attempt == ENQUEUE_TRIES:
                raise
            log.info("enqueue for %s collided with another writer; planning again", as_of)
            continue
        log.info(
            "enqueued %d messages (%d items, %d repeats) for %s; %d already in the outbox",
            len(report.messages),
            report.new_items,
            report.repeats,
            as_of,
            report.already,
        )
        for line in report.problems:
            log.warning("%s", line)
        return report
    raise AssertionError("unreachable")


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost_lease: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def _send(channel: ChannelImpl, kind: str, messages: list[Outgoing], now: datetime) -> list[DeliveryError | None]:
    """The channel's results; a channel that raises anything but a result (a bug, an unforeseen library error)
    fails the batch transiently, so its rows are recorded and retried with backoff, never left `sending`."""
    try:
        return channel.send_batch(messages, now)
    except Exception as exc:
        log.exception("outbox: channel %s raised instead of returning results", kind)
        error = DeliveryError(f"channel {kind} raised {type(exc).__name__}: {str(exc)[:200]}")
        return [error for _ in messages]


def deliver(
    db: Database,
    settings: Settings,
    now: datetime,
    worker_id: str,
    *,
    channels: Mapping[Channel, ChannelImpl] | None = None,
    clock: Callable[[], datetime] | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """Deliver due outbox messages until none is left (or `limit` were claimed).

    `now` is the time of the call; a long-running caller may pass `clock` (the daemon's own reading of the
    time) so each batch's lease and backoff count from when that batch runs.
    """
    own = channels is None
    chans: Mapping[Channel, Any] = for_settings(settings) if channels is None else channels
    n = settings.notifications
    report = DeliveryReport()
    try:
        while limit is None or report.claimed < limit:
            t = clock() if clock else now
            size = n.batch_size if limit is None else min(n.batch_size, limit - report.claimed)
            batch = outbox.claim(db, worker_id, t, n.lease_seconds, size)
            if not batch:
                break
            report.batches += 1
            report.claimed += len(batch)
            results: list[tuple[outbox.Claimed, DeliveryError | None]] = []
            by_channel: dict[str, list[outbox.Claimed]] = defaultdict(list)
            for c in batch:
                by_channel[c.channel].append(c)
            for kind, claimed in by_channel.items():
                channel = chans.get(Channel(kind))
                if channel is None:
                    errs: list[DeliveryError | None] = [
                        DeliveryError(f"channel {kind} is not configured", permanent=True) for _ in claimed
                    ]
                else:
                    errs = _send(channel, kind, [c.message for c in claimed], t)
                results += list(zip(claimed, errs, strict=True))
            outcome = outbox.record(
                db, results, clock() if clock else t, max_attempts=n.max_attempts, backoff_seconds=n.backoff_seconds
            )
            report.sent += outcome.sent
            report.retrying += outcome.retrying
            report.failed += outcome.failed
            report.lost_lease += outcome.lost_lease
            report.errors += [f"#{c.message.id} {c.message.recipient}: {e}" for c, e in results if e is not None]
    finally:
        if own:
            for channel in chans.values():
                channel.close()
    if report.claimed:
        log.info(
            "outbox: %d claimed, %d sent, %d to retry, %d failed",
            report.claimed,
            report.sent,
            report.retrying,
            report.failed,
        )
    return report
