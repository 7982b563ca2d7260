"""SMTP through aiosmtplib: implicit TLS or STARTTLS, login, timeouts, one connection for a batch.

The connection stays open between the batches of one delivery run (`close()` ends it). A connection the
server dropped is opened again once for the message in hand; if the server cannot be reached at all, the rest
of the batch fails as transient without a connection attempt per message. Replies: 5xx is permanent (a
rejected recipient stays rejected), 4xx and network trouble are transient.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator, Sequence
from datetime import datetime

import aiosmtplib

from monitor.config import SmtpSettings
from notifications.channels.base import Channel, DeliveryError, Outgoing


def _reply_error(code: int, message: str, what: str) -> DeliveryError:
    text = f"SMTP {what}: {code} {message}".strip()
    return DeliveryError(text, permanent=500 <= code < 600)


class SmtpChannel(Channel):
    name = "smtp"

    def __init__(self, settings: SmtpSettings, *, sender: str, tls_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.sender = sender
        if tls_context is None and (settings.ssl or settings.starttls):
            tls_context = ssl.create_default_context(cafile=settings.cafile or None)
        self.tls_context = tls_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._smtp: aiosmtplib.SMTP | None = None
        self.connections = 0  # how many connections this channel opened (the tests and the benchmark read it)

    def send_each(self, messages: Sequence[Outgoing], now: datetime) -> Iterator[DeliveryError | None]:
        if not messages:
            return
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        for index, msg in enumerate(messages):
            try:
                yield self._loop.run_until_complete(self._send_one(msg))
            except DeliveryError as unreachable:
                # Cannot connect or log in: the same holds for the rest of the batch.
                yield from (unreachable for _ in messages[index:])
                return

    def close(self) -> None:
        if self._loop is None:
            return
        if self._smtp is not None:
            self._loop.run_until_complete(self._quit())
        self._loop.close()
        self._loop = None

    async def _quit(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            use_tls=s.ssl,
            start_tls=s.starttls,
            tls_context=self.tls_context if (s.ssl or s.starttls) else None,
        )
        await smtp.connect()
        self.connections += 1
        if s.username:
            await smtp.login(s.username, s.password)
        return smtp

    async def _ensure_connected(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        self._smtp = None
        try:
            self._smtp = await self._connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Wrong credentials are the operator's to fix; the messages wait (transient) until then.
            raise DeliveryError(f"SMTP login refused: {exc.code} {exc.message}") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP server refused the session: {exc.code} {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            where = f"{self.settings.host}:{self.settings.port}"
            raise DeliveryError(f"cannot connect to SMTP server {where}: {exc}") from None
        return self._smtp

    async def _send_one(self, msg: Outgoing) -> DeliveryError | None:
        """None when the server accepted the message; raises DeliveryError when no connection can be had."""
        for attempt in (1, 2):
            smtp = await self._ensure_connected()
            try:
                await smtp.sendmail(self.sender, [msg.recipient], msg.content)
                return None
            except aiosmtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients[0]
                return _reply_error(refused.code, refused.message, f"recipient {msg.recipient} refused")
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code == 421 and attempt == 1:
                    self._smtp = None  # the server is closing this connection; try a fresh one
                    continue
                return _reply_error(exc.code, exc.message, "reply")
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, ConnectionError) as exc:
                self._drop()
                if attempt == 1:
                    continue
                return DeliveryError(f"SMTP connection lost: {exc}")
            except aiosmtplib.SMTPException as exc:
                return DeliveryError(f"SMTP error: {exc}")
        return DeliveryError("SMTP: no reply after reconnecting")

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None
