"""`sme-monitor entities list|show`."""

from __future__ import annotations

import argparse

from monitor.cli.context import Context
from monitor.cli.groups import group


def register(sub: argparse._SubParsersAction) -> None:
    entities = group(sub, "entities")
    ls = entities.add_parser("list", help="list the roster")
    ls.set_defaults(handler=list_entities)


def list_entities(ctx: Context) -> int:
    raise NotImplementedError
