"""`sme-monitor db upgrade`."""

from __future__ import annotations

import argparse
import logging

from monitor.cli.context import Context
from monitor.cli.groups import group

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = group(sub, "db").add_parser("upgrade", help="create or migrate the database (Alembic)")
    up.set_defaults(handler=upgrade)


def upgrade(ctx: Context) -> int:
    before, after = ctx.db.upgrade()
    from monitor.config import redact_url

    where = redact_url(ctx.settings.database_url)
    if before == after:
        print(f"数据库已是最新版本 {after} (already at the newest revision): {where}")
    else:
        print(f"数据库已从 {before or '空库'} 升级到 {after} (migrated): {where}")
    return 0
