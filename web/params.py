"""Query parameters, checked at the boundary: a value that cannot be used is a `BadParameter` (400 naming it),
never silently corrected. An empty value (what a form sends for "any") counts as absent."""

from __future__ import annotations

from starlette.requests import Request

from monitor import registry
from monitor.domain import Kind, Status
from web.errors import BadParameter


def optional(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value.strip() if value is not None and value.strip() else None


def integer(request: Request, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = optional(request, name)
    if raw is None:
        return default
    try:
        value = int(raw) if raw.lstrip("-").isdigit() else None
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        limits = f"{low} 到 {high} 之间的整数" if high is not None else f"不小于 {low} 的整数"
        limits_en = f"an integer from {low} to {high}" if high is not None else f"an integer of at least {low}"
        raise BadParameter(name, f"应为{limits}", f"must be {limits_en}", raw)
    return value


def registry_filters(request: Request, districts: tuple[str, ...]) -> registry.Filters:
    q = optional(request, "q") or ""
    if len(q) > registry.MAX_Q:
        raise BadParameter("q", f"最长 {registry.MAX_Q} 个字符", f"must be at most {registry.MAX_Q} characters")
    district = optional(request, "district")
    if district is not None and district not in districts:
        raise BadParameter("district", "不是成都市的区（市）县", "is not one of Chengdu's districts", district)
    kind_raw = optional(request, "kind")
    kinds = [k.value for k in Kind]
    if kind_raw is not None and kind_raw not in kinds:
        raise BadParameter("kind", f"应为 {' | '.join(kinds)}", f"must be {' | '.join(kinds)}", kind_raw)
    status_raw = optional(request, "status")
    statuses = [s.value for s in registry.PUBLIC_STATUSES]
    if status_raw is not None and status_raw not in statuses:
        raise BadParameter("status", f"应为 {' | '.join(statuses)}", f"must be {' | '.join(statuses)}", status_raw)
    return registry.Filters(
        q=q,
        district=district,
        kind=Kind(kind_raw) if kind_raw else None,
        status=Status(status_raw) if status_raw else None,
    )
