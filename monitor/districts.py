"""Chengdu's districts: the list lives in `config/districts.toml` so operators can edit it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from monitor import resources


@dataclass(frozen=True, slots=True)
class District:
    name: str
    code: str


class DistrictsError(Exception):
    pass


def load(path: Path | None = None) -> tuple[District, ...]:
    path = path or resources.config_path("districts.toml")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DistrictsError(f"{path}: 无法读取区县列表 (cannot read the district list): {exc}") from None
    rows = data.get("districts")
    if not isinstance(rows, list) or not rows:
        raise DistrictsError(f"{path}: 应包含 districts = [{{ name = ..., code = ... }}, ...]")
    out: list[District] = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("name"), str) or not isinstance(row.get("code"), str):
            raise DistrictsError(f"{path}: districts[{i}] 应有字符串 name 和 code, 实际为 {row!r}")
        out.append(District(row["name"].strip(), row["code"].strip()))
    names = [d.name for d in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DistrictsError(f"{path}: 区县重复 (duplicate districts): {', '.join(dupes)}")
    return tuple(out)
