"""The one interface every channel implements, and the one error type they raise."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime


class DeliveryError(Exception):
    """A message was not delivered. `permanent`: trying again cannot help (a 5xx rejection, a bad URL);
    otherwise the outbox retries it with exponential backoff."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One claimed outbox message, as a channel needs it."""

    id: int
    key: str
    kind: str
    recipient: str
    as_of: date
    content: bytes  # the RFC 5322 message, or the webhook's JSON document


class Channel(abc.ABC):
    name: str = ""

    @abc.abstractmethod
    def send_each(self, messages: Sequence[Outgoing], now: datetime) -> Iterator[DeliveryError | None]:
        """Send `messages` in order (one connection for all of them where the channel has connections),
        yielding one result per message as soon as it is known: None when it was accepted, else the
        DeliveryError. The caller records each result before the next message is sent, so a crash leaves at
        most the message in flight unrecorded."""

    def send_batch(self, messages: Sequence[Outgoing], now: datetime) -> list[DeliveryError | None]:
        """All the results of `send_each` at once."""
        return list(self.send_each(messages, now))

    def close(self) -> None:  # noqa: B027 (channels without resources keep the default)
        """Release what the channel holds between batches."""
