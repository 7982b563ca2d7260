"""Where the files that ship with the product live: `config/` in a checkout, `monitor/_config` in a wheel."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def config_dir() -> Path:
    packaged = _HERE / "_config"
    if packaged.is_dir():
        return packaged
    return _HERE.parent / "config"


def config_path(name: str) -> Path:
    return config_dir() / name
