"""Application fields and service figures to and from their stored JSON text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from monitor.applications.fields import BY_NAME, Type


def dumps(values: Mapping[str, Any]) -> str:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return json.dumps(out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str) -> dict[str, Any]:
    raw = json.loads(text) if text else {}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        f = BY_NAME.get(name)
        if f is None:
            continue  # a field this version does not know: left alone
        if f.type is Type.DATE and isinstance(value, str):
            value = date.fromisoformat(value)
        elif f.type is Type.FUNCTIONS and isinstance(value, list):
            value = tuple(value)
        out[name] = value
    return out
