"""Command groups (`entities`, `events`, ...) shared by several command modules."""

from __future__ import annotations

import argparse

_GROUPS: dict[tuple[int, str], argparse._SubParsersAction] = {}

HELP = {
    "db": "数据库 (database)",
    "entities": "认定主体名册 (the roster)",
    "filings": "月度填报 (monthly filings)",
    "events": "事件记录 (the event log)",
    "outbox": "发件箱 (the outbox)",
}


def group(sub: argparse._SubParsersAction, name: str) -> argparse._SubParsersAction:
    """The sub-command table of group `name` (created on first use) under the top-level `sub`."""
    key = (id(sub), name)
    if key not in _GROUPS:
        parser = sub.add_parser(name, help=HELP.get(name))
        actions = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", parser_class=type(parser))
        actions.required = True
        _GROUPS[key] = actions
    return _GROUPS[key]
