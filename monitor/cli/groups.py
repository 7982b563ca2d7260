"""Command groups (`entities`, `events`, ...) shared by several command modules."""

from __future__ import annotations

import argparse

HELP = {
    "db": "数据库 (database)",
    "entities": "认定主体名册 (the roster)",
    "filings": "月度填报 (monthly filings)",
    "events": "事件记录 (the event log)",
    "outbox": "发件箱 (the outbox)",
    "applications": "申报与认定条件 (applications and their conditions)",
}


def group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The sub-command table of group `name` (created on first use) under the top-level `sub`."""
    # Kept on `sub` itself: a table keyed by id(sub) would hand a new parser the groups of a collected one.
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = sub.__dict__.setdefault(
        "_monitor_groups", {}
    )
    if name not in groups:
        parser = sub.add_parser(name, help=HELP.get(name))
        actions = parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", parser_class=type(parser))
        actions.required = True
        groups[name] = actions
    return groups[name]
