"""A channel that raises instead of returning results (a bug, an unforeseen library error) must not leave its
batch `sending`, re-claimed after every lease without end: the batch is recorded as a transient failure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from monitor.storage.db import Database
from notifications import service
from notifications.channels import Channel as ChannelImpl
from notifications.channels import DeliveryError, FileChannel, Outgoing
from notifications.models import Channel, MessageKind, MessageStatus, OutboxMessage, pending
from tests import notify_support as ns


class Broken(ChannelImpl):
    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def send_each(self, messages: Sequence[Outgoing], now: datetime) -> Iterator[DeliveryError | None]:
        self.calls += 1
        raise KeyError("a bug in the channel")
        yield None  # a generator, as channels are


def _fill(db: Database, n: int) -> None:
    now = ns.at(ns.AS_OF)
    with db.session() as s:
        s.add_all(
            OutboxMessage(
                **pending(
                    key=f"fault|{i}",
                    kind=MessageKind.REMINDER,
                    channel=Channel.EMAIL,
                    audience="entity",
                    recipient=f"r{i}@example.cn",
                    subject=f"s{i}",
                    as_of=ns.AS_OF,
                    message_id=f"<fault{i}@example.org>",
                    content=b"Subject: x\r\n\r\nbody\r\n",
                    now=now,
                )
            )
            for i in range(n)
        )


def test_a_channel_that_raises_fails_its_batch_transiently(db: Database, tmp_path: Path) -> None:
    _fill(db, 3)
    settings = ns.make_settings(tmp_path)
    now = ns.at(ns.AS_OF)
    broken = Broken()
    report = service.deliver(db, settings, now, "w", channels={Channel.EMAIL: broken})
    assert broken.calls == 1 and report.claimed == 3 and report.retrying == 3 and report.sent == 0
    with db.session() as s:
        rows = list(s.execute(sa.select(OutboxMessage)).scalars())
    assert {r.status for r in rows} == {MessageStatus.PENDING.value}
    assert {r.attempts for r in rows} == {1}
    assert all("KeyError" in (r.last_error or "") for r in rows)
    # once the channel works again the backoff ends and the messages go out
    later = now + timedelta(hours=1)
    done = service.deliver(db, settings, later, "w", channels={Channel.EMAIL: FileChannel(tmp_path / "out")})
    assert done.sent == 3
