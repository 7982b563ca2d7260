"""`sme-monitor run` (the daemon) and `sme-monitor filings sync` (one portal sync)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime

from monitor.cli.context import Context, UsageError
from monitor.cli.groups import group

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser(
        "run",
        help="守护进程：按计划巡检、发送提醒和日报、同步门户数据 (the daemon)",
        description="按 [schedule] 的 cron 计划（北京时间）运行巡检、发件箱、日报和门户同步；"
        "启动时补做停机期间错过的任务；SIGTERM/SIGINT 时完成手头任务后退出。",
    )
    run.set_defaults(handler=run_daemon)
    sync = group(sub, "filings").add_parser("sync", help="从填报门户拉取月度填报 (pull filings from the portal)")
    sync.set_defaults(handler=sync_filings)


def run_daemon(ctx: Context) -> int:
    from jobs.daemon import Daemon
    from jobs.lock import AlreadyRunning

    db = ctx.checked_db()
    # The daemon is the one long-lived command: it reads the clock for each job, through this function only.
    daemon = Daemon(ctx.settings, db, ctx.calendar, clock=lambda: datetime.now(UTC))
    try:
        return daemon.run()
    except AlreadyRunning as exc:
        raise UsageError(str(exc)) from None
    finally:
        db.dispose()


def sync_filings(ctx: Context) -> int:
    from jobs import portal
    from monitor import httpclient

    db = ctx.checked_db()
    try:
        result = portal.sync(db, ctx.settings.portal, ctx.now)
    except portal.PortalNotConfigured as exc:
        raise UsageError(str(exc)) from None
    except portal.SyncError as exc:
        print(f"sme-monitor: 门户同步失败，未做任何更改 (portal sync failed, nothing applied): {exc}", file=sys.stderr)
        return 2 if exc.problems else 1
    except httpclient.HttpError as exc:
        print(f"sme-monitor: 门户同步失败，未做任何更改 (portal sync failed, nothing applied): {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(
        f"门户同步完成 (portal sync done): 自 {result.since} 起，{result.pages} 页，{result.items} 条，"
        f"新增或更新 {result.applied} 条，未变 {result.unchanged} 条"
    )
    return 0
