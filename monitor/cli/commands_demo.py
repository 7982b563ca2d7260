"""`sme-monitor demo`: load the demo data set into the configured database and show what the monitor finds."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from monitor.cli import commands_applications, commands_check, commands_entities, commands_serve
from monitor.cli.context import Context, parse_date

if TYPE_CHECKING:
    from monitor.config import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="load a realistic demo data set and print what the monitor finds")
    p.add_argument("--as-of", type=parse_date, metavar="DATE", help="date the demo story around DATE")
    p.add_argument(
        "--serve",
        action="store_true",
        help="then start the web server (the public registry) on the demo data and print its address",
    )
    commands_serve.add_serve_options(p)
    p.set_defaults(handler=demo_command, json=False, status=None, district=None, messages=True, year=None)


def demo_settings(settings: Settings) -> Settings:
    """The demo writes files and never mails anyone: districts without configured addresses get a placeholder
    so the newcomer sees the district notices too."""
    if settings.recipients.districts:
        return settings
    placeholders = {d.name: (f"{d.code}@district.example.cn",) for d in settings.districts}
    from dataclasses import replace

    return replace(settings, recipients=replace(settings.recipients, districts=placeholders))


def demo_command(ctx: Context) -> int:
    from monitor import demo
    from monitor.config import redact_url
    from notifications.demo import write_demo_mail

    as_of = ctx.as_of()
    db = ctx.db
    before, after = db.upgrade()  # the demo is the newcomer's first command: it prepares the database itself
    if before != after:
        print(f"数据库已初始化 (database ready): {redact_url(ctx.settings.database_url)}")
    with db.session() as session:
        added = demo.load(session, as_of, ctx.now, ctx.settings.rules, ctx.calendar)
    if added:
        print(f"已载入演示数据：{added} 个主体 (demo data loaded: {added} entities)\n")
    else:
        print("演示数据已存在，未重复载入 (demo data already present)\n")
    commands_entities.list_entities(ctx)
    print()
    status = commands_check.check_command(ctx)
    print("\n申报及认定条件核对（《办法》第四条至第七条）(applications checked against Arts. 4-7):")
    commands_applications.list_command(ctx)
    mail = write_demo_mail(db, demo_settings(ctx.settings), ctx.calendar, as_of, ctx.now)
    print(
        f"\n演示邮件已写入 {mail.directory}/（本次 {mail.messages} 封 .eml）；合规日报可用浏览器打开：{mail.digest_html}"
        f"\n(demo messages written to {mail.directory}/ as .eml files; the digest opens in a browser: {mail.digest_html})"
    )
    if ctx.args.serve:
        print()
        return commands_serve.serve(ctx)
    return status
