"""Who hears about a finding: one route per (finding, audience, recipient). Pure; no database, no clock.

- entity: the entity's own addresses, one reminder per finding and address;
- staff: every staff address, and the group robot when a webhook is configured;
- district: the addresses configured for the finding's district (a district with none is reported);
- admin: nobody directly: administrators read admin findings in the daily digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from monitor.config import Settings
from monitor.domain import Audience, Entity
from monitor.rules.finding import Finding
from notifications.models import Channel
from notifications.render import valid_address

WEBHOOK_PREFIX = "webhook:"


@dataclass(frozen=True, slots=True)
class Route:
    finding: Finding
    audience: Audience
    recipient: str
    channel: Channel


@dataclass
class Unroutable:
    """Findings that should reach someone who has no usable address: reported, never silently dropped."""

    entities_without_address: set[str] = field(default_factory=set)
    bad_addresses: set[tuple[str, str]] = field(default_factory=set)  # (credit code, address)
    districts_without_recipients: set[str] = field(default_factory=set)
    no_staff_recipients: bool = False

    def lines(self) -> list[str]:
        out = []
        if self.entities_without_address:
            codes = "、".join(sorted(self.entities_without_address))
            out.append(f"以下主体无联系邮箱，提醒无法送达 (no e-mail address)：{codes}")
        out += [
            f"主体 {code} 的邮箱 {addr!r} 无效，已跳过 (invalid address)" for code, addr in sorted(self.bad_addresses)
        ]
        if self.districts_without_recipients:
            names = "、".join(sorted(self.districts_without_recipients))
            out.append(f"以下区县未配置通报邮箱 recipients.districts，通报无法送达 (no district recipients)：{names}")
        if self.no_staff_recipients:
            out.append("未配置 recipients.staff，工作人员预警无法送达 (no staff recipients)")
        return out


def _unique(addresses: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for a in addresses:
        a = a.strip()
        if a and a.lower() not in seen:
            seen.add(a.lower())
            out.append(a)
    return out


def staff_targets(settings: Settings) -> list[tuple[str, Channel]]:
    targets = [(a, Channel.EMAIL) for a in _unique(settings.recipients.staff)]
    if settings.webhook.kind:
        targets.append((WEBHOOK_PREFIX + settings.webhook.kind, Channel.WEBHOOK))
    return targets


def routes(
    findings: Iterable[Finding], entities: Mapping[str, Entity], settings: Settings
) -> tuple[list[Route], Unroutable]:
    problems = Unroutable()
    out: list[Route] = []
    staff = staff_targets(settings)
    for f in findings:
        for audience in f.audiences:
            if audience is Audience.ENTITY:
                entity = entities.get(f.entity) if f.entity else None
                addresses = _unique(entity.emails if entity else ())
                good = [a for a in addresses if valid_address(a)]
                for bad in set(addresses) - set(good):
                    problems.bad_addresses.add((f.entity or "", bad))
                if not good:
                    problems.entities_without_address.add(f.entity or "")
                out += [Route(f, audience, a, Channel.EMAIL) for a in good]
            elif audience is Audience.STAFF:
                if not staff:
                    problems.no_staff_recipients = True
                out += [Route(f, audience, r, ch) for r, ch in staff]
            elif audience is Audience.DISTRICT:
                owner = entities.get(f.entity) if f.entity else None
                district = f.district or (owner.district if owner else "")
                addresses = _unique(settings.recipients.districts.get(district, ()))
                if not addresses:
                    problems.districts_without_recipients.add(district or "?")
                out += [Route(f, audience, a, Channel.EMAIL) for a in addresses if valid_address(a)]
            # Audience.ADMIN: the digest carries these.
    return out, problems
