"""The outbox over SQLite and PostgreSQL: keyed once, grouped per run, repeated every 7 days until acknowledged,
held by silences, claimed by one worker at a time, recovered after a worker dies, never deleted."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from monitor.domain import RuleId
from monitor.storage.db import Database
from notifications import controls, outbox, service
from notifications.channels import DeliveryError, FileChannel, Outgoing
from notifications.models import Channel, MessageKind, MessageStatus, OutboxItem, OutboxMessage, pending
from tests import notify_support as ns

CRITICAL_IDS = {f"{RuleId.MISCONDUCT_REVOKED}/{ns.C}/2026-03-10", f"{RuleId.RESTRUCTURING_SUSPENDED}/{ns.B}/2026-03-02"}


def _messages(db: Database) -> list[OutboxMessage]:
    with db.session() as s:
        return list(s.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def _items(db: Database) -> list[OutboxItem]:
    with db.session() as s:
        return list(s.execute(sa.select(OutboxItem).order_by(OutboxItem.id)).scalars())


def test_routing_groups_staff_and_district_per_run_and_reports_missing_addresses(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    report = service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))

    kinds = Counter((m.kind, m.recipient) for m in report.messages)
    # one staff alert per staff address for the whole run, carrying both critical findings
    assert kinds[(MessageKind.ALERT, ns.STAFF[0])] == 1 and kinds[(MessageKind.ALERT, ns.STAFF[1])] == 1
    alert = next(m for m in report.messages if m.kind is MessageKind.ALERT)
    assert {f.finding_id for f in alert.findings} == CRITICAL_IDS
    # one notice for 锦江区 (the fraud plus the district's own overdue report); 青羊区 has no address: reported
    notices = [m for m in report.messages if m.kind is MessageKind.NOTICE]
    assert [(m.district, m.recipient) for m in notices] == [("锦江区", "jinjiang@gov.example.cn")]
    assert {f.rule for f in notices[0].findings} == {RuleId.MISCONDUCT_REVOKED, RuleId.DISTRICT_REPORT_OVERDUE}
    assert any("青羊区" in line for line in report.problems)
    # entity reminders: one per finding and address
    reminders = Counter(m.recipient for m in report.messages if m.kind is MessageKind.REMINDER)
    assert reminders == {
        "a@ent-a.example.cn": 1,
        "b@ent-b.example.cn": 2,  # the suspension and the filing due
        "c@ent-c.example.cn": 1,
        "e@ent-e.example.cn": 1,
    }
    # admin-audience findings go to the digest, never to a separate message
    assert not any(m.audience.value == "admin" for m in report.messages)
    # rows were written before anything was sent
    rows = _messages(db)
    assert len(rows) == len(report.messages) and {r.status for r in rows} == {MessageStatus.PENDING.value}
    assert len(_items(db)) == report.new_items


def test_the_same_run_again_and_a_later_day_in_the_same_stage_enqueue_nothing(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    first = service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
    assert first.messages
    again = service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF, 10))
    assert again.messages == [] and again.already == first.new_items
    later = ns.AS_OF + timedelta(days=2)  # still the 5d stage of March's filing; no new stage anywhere
    result = ns.sweep(db, settings, later)
    assert {f.stage for f in result.findings if f.rule is RuleId.FILING_DUE_SOON} == {"5d"}
    assert service.enqueue(db, result, settings, later, ns.at(later)).messages == []
    assert len(_messages(db)) == len(first.messages)


def test_a_new_stage_is_a_new_key(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
    day = date(2026, 3, 30)  # the 1d stage of March's filing
    report = service.enqueue(db, ns.sweep(db, settings, day), settings, day, ns.at(day))
    assert {(m.kind, m.findings[0].stage) for m in report.messages} == {(MessageKind.REMINDER, "1d")}
    # C's title is revoked: it owes no filing
    assert sorted(m.recipient for m in report.messages) == [
        "a@ent-a.example.cn",
        "b@ent-b.example.cn",
        "e@ent-e.example.cn",
    ]


def test_critical_findings_repeat_to_staff_every_7_days_until_acknowledged(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))

    day6 = ns.AS_OF + timedelta(days=6)
    assert service.enqueue(db, ns.sweep(db, settings, day6), settings, day6, ns.at(day6)).repeats == 0

    day7 = ns.AS_OF + timedelta(days=7)
    report = service.enqueue(db, ns.sweep(db, settings, day7), settings, day7, ns.at(day7))
    repeated = [m for m in report.messages if m.kind is MessageKind.ALERT and m.channel is Channel.EMAIL]
    assert len(repeated) == 2  # one per staff address, both findings in it
    assert {f.finding_id for f in repeated[0].repeats} == CRITICAL_IDS and repeated[0].findings == ()
    assert report.repeats == 4
    # only staff hears it again; the entity and the district do not
    assert {m.audience.value for m in report.messages} == {"staff"}

    # acknowledging one stops its repeats at this stage; the other keeps coming every 7 days
    fraud = f"{RuleId.MISCONDUCT_REVOKED}/{ns.C}/2026-03-10"
    with db.session() as s:
        stage = controls.latest_stage(s, fraud)
        assert stage == "revoked"
        controls.acknowledge(s, fraud, stage, "王科长", "已移交执法", day7, ns.at(day7))
    day14 = ns.AS_OF + timedelta(days=14)
    report = service.enqueue(db, ns.sweep(db, settings, day14), settings, day14, ns.at(day14))
    assert {f.finding_id for m in report.messages for f in m.repeats} == CRITICAL_IDS - {fraud}
    assert report.acked == [fraud]
    repeats = sorted(i.repeat for i in _items(db) if i.finding_id != fraud and i.audience == "staff")
    assert repeats == [0, 0, 1, 1, 2, 2]


def test_a_silence_holds_reminders_for_its_span_then_they_go_out(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    with db.session() as s:
        controls.add_silence(s, ns.A, ns.AS_OF, date(2026, 3, 28), "异议复核中", "李四", ns.at(ns.AS_OF))
    report = service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
    assert "a@ent-a.example.cn" not in {m.recipient for m in report.messages}
    assert report.held == [f"{RuleId.FILING_DUE_SOON}/{ns.A}/2026-03"]
    # staff still hear about everything else, and the silence is listed
    assert any(m.kind is MessageKind.ALERT for m in report.messages)
    with db.session() as s:
        assert [x.credit_code for x in controls.list_silences(s, as_of=ns.AS_OF)] == [ns.A]
    day = date(2026, 3, 29)  # the silence has ended; the finding (still at 5d) now goes out once
    report = service.enqueue(db, ns.sweep(db, settings, day), settings, day, ns.at(day))
    assert [m.recipient for m in report.messages] == ["a@ent-a.example.cn"]
    assert report.held == []


def test_lifting_a_silence_is_recorded_not_deleted(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        row = controls.add_silence(s, ns.A, ns.AS_OF, date(2026, 6, 30), "争议", "李四", ns.at(ns.AS_OF))
        silence_id = row.id
    with db.session() as s:
        controls.lift_silence(s, silence_id, "张三", date(2026, 4, 2))
    with db.session() as s:
        assert controls.silenced_codes(s, date(2026, 4, 1)) == {ns.A}
        assert controls.silenced_codes(s, date(2026, 4, 2)) == set()
        assert len(controls.list_silences(s)) == 1


def test_dry_run_writes_nothing(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    report = service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF), dry_run=True)
    assert report.messages and all(m.subject.startswith("【") for m in report.messages)
    assert _messages(db) == [] and _items(db) == []


def test_delivery_writes_eml_files_and_marks_sent(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    report = service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
    done = service.deliver(db, settings, ns.at(ns.AS_OF), "worker-1")
    assert done.sent == len(report.messages) and done.failed == 0
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == len(report.messages)
    assert not list((tmp_path / "mail").glob(".*.tmp"))
    to = Counter(str(ns.parse(f.read_bytes())["To"]) for f in files)
    assert to["b@ent-b.example.cn"] == 2 and to[ns.STAFF[0]] == 1
    assert {m.status for m in _messages(db)} == {MessageStatus.SENT.value}
    # nothing left to deliver; a second pass sends nothing
    assert service.deliver(db, settings, ns.at(ns.AS_OF), "worker-1").claimed == 0


def _fill(db: Database, n: int, now_day: date = ns.AS_OF) -> None:
    now = ns.at(now_day)
    with db.session() as s:
        s.add_all(
            OutboxMessage(
                **pending(
                    key=f"test|{i}",
                    kind=MessageKind.REMINDER,
                    channel=Channel.EMAIL,
                    audience="entity",
                    recipient=f"r{i}@example.cn",
                    subject=f"s{i}",
                    as_of=now_day,
                    message_id=f"<{i}@example.org>",
                    content=b"Subject: x\r\n\r\nbody\r\n",
                    now=now,
                )
            )
            for i in range(n)
        )


def test_two_workers_never_claim_the_same_message(db: Database) -> None:
    _fill(db, 300)
    now = ns.at(ns.AS_OF)
    got: dict[str, list[int]] = {"w1": [], "w2": [], "w3": []}
    barrier = threading.Barrier(3)

    def work(name: str) -> None:
        barrier.wait()
        while batch := outbox.claim(db, name, now, 300, 25):
            got[name] += [c.message.id for c in batch]

    threads = [threading.Thread(target=work, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for part in got.values() for i in part]
    assert len(ids) == 300 and len(set(ids)) == 300


def test_a_dead_workers_messages_are_taken_after_the_lease(db: Database, tmp_path: Path) -> None:
    _fill(db, 5)
    now = ns.at(ns.AS_OF)
    dead = outbox.claim(db, "dead-worker", now, 300, 10)  # claimed, never recorded
    assert len(dead) == 5
    assert outbox.claim(db, "other", now + timedelta(seconds=299), 300, 10) == []
    settings = ns.make_settings(tmp_path)
    later = now + timedelta(seconds=301)
    report = service.deliver(db, settings, later, "other", channels={Channel.EMAIL: FileChannel(tmp_path / "out")})
    assert report.sent == 5
    rows = _messages(db)
    assert {r.status for r in rows} == {MessageStatus.SENT.value} and {r.attempts for r in rows} == {2}
    # the dead worker's late result changes nothing: its lease token no longer holds the rows
    late = outbox.record(db, [(c, None) for c in dead], later, outbox.RetryPolicy())
    assert late.sent == 0 and late.lost_lease == 5


def test_retry_puts_failed_messages_back_without_deleting_anything(db: Database, tmp_path: Path) -> None:
    _fill(db, 3)
    now = ns.at(ns.AS_OF)
    with db.session() as s:
        s.execute(sa.update(OutboxMessage).values(status=MessageStatus.FAILED.value, attempts=6, last_error="550"))
    with db.session() as s:
        assert outbox.retry(s, [2], now) == [2]
        assert outbox.counts(s) == {"failed": 2, "pending": 1}
        assert outbox.retry(s, [], now) == [1, 2, 3]  # every undelivered one: 2 is pending now
        assert outbox.counts(s) == {"pending": 3}
    assert len(_messages(db)) == 3


def test_retry_without_ids_also_ends_a_backoff(db: Database, tmp_path: Path) -> None:
    _fill(db, 3)
    now = ns.at(ns.AS_OF)
    later = now + timedelta(minutes=25)
    with db.session() as s:
        s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == 1).values(next_attempt_at=later, attempts=5))
        s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == 3).values(status=MessageStatus.SENT.value))
    assert [c.message.id for c in outbox.claim(db, "w", now, 30, 10)] == [2]
    with db.session() as s:
        assert outbox.retry(s, [], now) == [1]
    assert [c.message.id for c in outbox.claim(db, "w", now, 30, 10)] == [1]


def test_a_webhook_message_without_a_configured_channel_fails_permanently(db: Database, tmp_path: Path) -> None:
    ns.load(db)
    settings = ns.make_settings(tmp_path)
    settings = replace(settings, webhook=replace(settings.webhook, kind="json", url="http://127.0.0.1:9/x"))
    report = service.enqueue(db, ns.sweep(db, settings), settings, ns.AS_OF, ns.at(ns.AS_OF))
    hooks = [m for m in report.messages if m.channel is Channel.WEBHOOK]
    assert len(hooks) == 1 and hooks[0].recipient == "webhook:json"
    done = service.deliver(db, settings, ns.at(ns.AS_OF), "w", channels={Channel.EMAIL: FileChannel(tmp_path / "mail")})
    assert done.failed == 1 and done.sent == len(report.messages) - 1


class _Watching(FileChannel):
    """A file channel that, before writing each message, reads how many of the batch are recorded as sent."""

    def __init__(self, db: Database, directory: Path, *, delay: float = 0.0, broken_at: int | None = None) -> None:
        super().__init__(directory)
        self.db = db
        self.delay = delay
        self.broken_at = broken_at
        self.sent_before: list[int] = []

    def send_each(self, messages: Sequence[Outgoing], now: datetime) -> Iterator[DeliveryError | None]:
        for i, msg in enumerate(messages):
            with self.db.session() as s:
                self.sent_before.append(
                    s.execute(sa.select(sa.func.count()).where(OutboxMessage.status == "sent")).scalar_one()
                )
            if i == self.broken_at:
                raise KeyError("a bug in the channel")
            time.sleep(self.delay)
            yield from super().send_each([msg], now)


def test_each_outcome_is_recorded_before_the_next_message_is_sent(db: Database, tmp_path: Path) -> None:
    _fill(db, 8)
    settings = ns.make_settings(tmp_path)
    channel = _Watching(db, tmp_path / "out")
    report = service.deliver(db, settings, ns.at(ns.AS_OF), "w", channels={Channel.EMAIL: channel})
    # A crash while sending message k would leave only k unrecorded: 0..k-1 are already `sent`.
    assert report.sent == 8 and report.batches == 1
    assert channel.sent_before == list(range(8))


def test_a_channel_that_breaks_leaves_nothing_sending(db: Database, tmp_path: Path) -> None:
    _fill(db, 5)
    settings = ns.make_settings(tmp_path)
    channel = _Watching(db, tmp_path / "out", broken_at=2)
    report = service.deliver(db, settings, ns.at(ns.AS_OF), "w", channels={Channel.EMAIL: channel})
    assert (report.sent, report.retrying) == (2, 3)
    rows = _messages(db)
    assert Counter(r.status for r in rows) == {"sent": 2, "pending": 3}
    assert all("KeyError" in r.last_error for r in rows if r.status == "pending")


def test_a_batch_in_hand_keeps_its_lease_and_a_dead_one_is_taken_soon(db: Database, tmp_path: Path) -> None:
    _fill(db, 6)
    settings = ns.make_settings(tmp_path)
    settings = replace(settings, notifications=replace(settings.notifications, lease_seconds=1))
    start = ns.at(ns.AS_OF)
    t0 = time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - t0)

    stolen: list[int] = []
    done = threading.Event()

    def thief() -> None:
        while not done.is_set():
            stolen.extend(c.message.id for c in outbox.claim(db, "thief", clock(), 1, 10))
            time.sleep(0.1)

    other = threading.Thread(target=thief)
    channel = _Watching(db, tmp_path / "out", delay=0.5)  # 3 s for the batch: three times the lease
    other_started = False
    try:
        # The thief starts once the batch is claimed (the first message's check runs inside the lease).
        original = channel.send_each

        def send_each(messages: Sequence[Outgoing], now: datetime) -> Iterator[DeliveryError | None]:
            nonlocal other_started
            if not other_started:
                other_started = True
                other.start()
            yield from original(messages, now)

        channel.send_each = send_each  # type: ignore[method-assign]
        report = service.deliver(db, settings, start, "w", channels={Channel.EMAIL: channel}, clock=clock)
    finally:
        done.set()
        if other_started:
            other.join()
    assert report.sent == 6 and report.lost_lease == 0 and stolen == []
    # A worker that dies holding a claim: another takes it once the lease (1 s here) has run out.
    with db.session() as s:
        s.execute(sa.update(OutboxMessage).where(OutboxMessage.id == 1).values(status="pending"))
    dead = outbox.claim(db, "dead", clock(), 1, 10)
    assert [c.message.id for c in dead] == [1]
    assert outbox.claim(db, "heir", clock(), 1, 10) == []
    time.sleep(1.1)
    assert [c.message.id for c in outbox.claim(db, "heir", clock(), 1, 10)] == [1]
