"""Delivery channels behind one interface (base.Channel); `for_settings` picks them from the configuration."""

from __future__ import annotations

from monitor.config import Settings
from notifications.channels.base import Channel, DeliveryError, Outgoing
from notifications.channels.file import FileChannel
from notifications.channels.smtp import SmtpChannel
from notifications.channels.webhook import WebhookChannel
from notifications.models import Channel as ChannelKind

__all__ = ["Channel", "DeliveryError", "FileChannel", "Outgoing", "SmtpChannel", "WebhookChannel", "for_settings"]


def for_settings(settings: Settings) -> dict[ChannelKind, Channel]:
    """The e-mail channel the configuration names (file or smtp) and the staff webhook if one is set."""
    email: Channel
    if settings.mail.backend == "smtp":
        email = SmtpChannel(settings.mail.smtp, sender=settings.mail.sender)
    else:
        email = FileChannel(settings.mail.directory)
    out: dict[ChannelKind, Channel] = {ChannelKind.EMAIL: email}
    if settings.webhook.kind:
        out[ChannelKind.WEBHOOK] = WebhookChannel(settings.webhook)
    return out
