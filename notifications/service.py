"""What the CLI and the daemon call: `enqueue` a sweep's findings, `deliver` the outbox.

enqueue: route every finding (routing.py), drop the keys already in the outbox, hold silenced entities'
reminders, add the seven-day repeats of unresolved critical findings that nobody acknowledged at their stage,
group what is left into messages (one reminder per entity finding and address; one staff alert per address
and run; one notice per district address and run), render them and write messages and items in one
transactions of WRITE_CHUNK messages (composed beforehand, outside the write lock), before anything is sent.
Two daemons enqueueing the same run collide on the unique keys; the loser's chunk is rolled back and what is
left planned again.

deliver: claim due messages a batch at a time under a lease (renewed while the batch is in hand), hand each
batch to its channel, record each message's outcome as soon as the channel has answered (outbox.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor import legal_time
from monitor.config import Settings
from monitor.domain import Audience, Entity, Severity
from monitor.rules.finding import Finding
from monitor.storage.db import Database
from notifications import compose, controls, outbox
from notifications.channels import Channel as ChannelImpl
from notifications.channels import DeliveryError, for_settings
from notifications.models import Channel, MessageKind, OutboxItem, OutboxMessage, pending
from notifications.routing import Route, Unroutable, routes

log = logging.getLogger(__name__)

ENQUEUE_TRIES = 3
WRITE_CHUNK = 25  # messages (with their items) per write transaction

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


def _write(
    session: Session, chunk: Sequence[tuple[PlannedMessage, compose.Composed]], as_of: date, now: datetime
) -> None:
    for planned, composed in chunk:
        values = pending(
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
        message_id = session.execute(insert(OutboxMessage).values(**values).returning(OutboxMessage.id)).scalar_one()
        items = []
        for f, repeat in planned.items:
            rule, entity, subject, stage = f.key
            items.append(
                {
                    "message_id": message_id,
                    "rule": rule,
                    "entity": entity,
                    "subject": subject,
                    "stage": stage,
                    "audience": planned.audience.value,
                    "recipient": planned.recipient,
                    "repeat": repeat,
                    "finding_id": f.finding_id,
                    "severity": f.severity.label,
                    "as_of": as_of,
                    "created_at": now,
                }
            )
        # A staff alert may carry thousands of items: one executemany, not an ORM object each.
        if items:
            session.execute(insert(OutboxItem), items)


def enqueue(
    db: Database, sweep: SweepLike, settings: Settings, as_of: date, now: datetime, *, dry_run: bool = False
) -> EnqueueReport:
    """Write the outbox rows for a sweep's findings (nothing when `dry_run`); returns what was (to be) written.

    The plan is read, and every message composed, outside any write transaction; the messages are then
    written WRITE_CHUNK at a time, each with its items, in short transactions, so no other writer (an
    operator's command, the web console) waits on the rendering of thousands of messages. Every message is
    written before anything is sent. A chunk that collides with another process's enqueue is rolled back and
    what is left planned again.
    """
    written: list[PlannedMessage] = []
    new_items = repeats = 0
    first: EnqueueReport | None = None
    for attempt in range(1, ENQUEUE_TRIES + 1):
        with db.session() as session:
            report = plan(session, sweep, settings, as_of)
        first = first or report
        report.dry_run = dry_run
        if dry_run:
            report.messages = [
                replace(m, subject=_compose(m, sweep.entities, settings, as_of, now).subject) for m in report.messages
            ]
            return report
        composed = [(m, _compose(m, sweep.entities, settings, as_of, now)) for m in report.messages]
        try:
            for n in range(0, len(composed), WRITE_CHUNK):
                chunk = composed[n : n + WRITE_CHUNK]
                with db.session() as session:
                    _write(session, chunk, as_of, now)
                written += [m for m, _ in chunk]
                new_items += sum(len(m.items) for m, _ in chunk)
                repeats += sum(len(m.repeats) for m, _ in chunk)
        except IntegrityError:
            # Another process enqueued some of the same keys first; plan again against what it wrote.
            if attempt == ENQUEUE_TRIES:
                raise
            log.info("enqueue for %s collided with another writer; planning again", as_of)
            continue
        report.messages = written
        report.new_items, report.repeats, report.already = new_items, repeats, first.already
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


class _LeaseKeeper:
    """Renews a claim's lease every third of it while its batch is in hand, from a thread of its own, so a
    short lease (a dead worker's messages are taken over soon) never runs out under a live one."""

    def __init__(self, db: Database, token: str, lease_seconds: int, now: Callable[[], datetime]) -> None:
        self.db, self.token, self.lease_seconds, self.now = db, token, lease_seconds, now
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(max(self.lease_seconds / 3, 0.2)):
            try:
                outbox.renew(self.db, self.token, self.now(), self.lease_seconds)
            except Exception:
                log.exception("could not renew the outbox lease %s", self.token)


def _send(
    channel: ChannelImpl | None, kind: str, claimed: Sequence[outbox.Claimed], t: datetime
) -> Iterator[DeliveryError | None]:
    """The channel's results one by one; a channel that is missing or breaks gives an error for the rest."""
    if channel is None:
        yield from (DeliveryError(f"channel {kind} is not configured", permanent=True) for _ in claimed)
        return
    done = 0
    try:
        for err in channel.send_each([c.message for c in claimed], t):
            done += 1
            yield err
    except Exception as exc:
        # Not a DeliveryError: a bug or an unexpected library error. Transient, so it is retried (and
        # fails for good after retry_days) instead of leaving the messages `sending` for ever.
        log.exception("channel %s broke", kind)
        error = DeliveryError(f"channel {kind} failed: {type(exc).__name__}: {exc}")
        yield from (error for _ in claimed[done:])


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
    time) so each batch's lease and backoff count from when that batch runs. Without a clock, time moves on
    from `now` by the monotonic clock for leases and outcomes.

    Each message's outcome is written as soon as its channel has answered, in a transaction of its own, so a
    crash leaves at most the message in flight to be sent again; the batch's lease is renewed while it is in
    hand.
    """
    own = channels is None
    chans: Mapping[Channel, Any] = for_settings(settings) if channels is None else channels
    n = settings.notifications
    policy = outbox.RetryPolicy.of(n)
    started = time.monotonic()

    def current() -> datetime:
        return clock() if clock else now + timedelta(seconds=time.monotonic() - started)

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
            by_channel: dict[str, list[outbox.Claimed]] = defaultdict(list)
            for c in batch:
                by_channel[c.channel].append(c)
            with _LeaseKeeper(db, batch[0].token, n.lease_seconds, current):
                for kind, claimed in by_channel.items():
                    channel = chans.get(Channel(kind))
                    for c, err in zip(claimed, _send(channel, kind, claimed, t), strict=True):
                        outcome = outbox.record(db, [(c, err)], current(), policy)
                        report.sent += outcome.sent
                        report.retrying += outcome.retrying
                        report.failed += outcome.failed
                        report.lost_lease += outcome.lost_lease
                        if err is not None:
                            report.errors.append(f"#{c.message.id} {c.message.recipient}: {err}")
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
