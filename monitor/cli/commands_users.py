"""`sme-monitor users add|list|disable|password`: the console's accounts (SPEC 8).

A password is read as one line from standard input; on a terminal it is asked for twice without echo, when
standard input is not a terminal (a pipe, a file) the one line is taken as it is, with no confirmation."""

from __future__ import annotations

import argparse
import getpass
import sys

from monitor.cli.context import Context, UsageError
from monitor.cli.groups import group

# The roles of monitor.accounts.Role, kept here so that building the parser imports no database code
# (tests/test_startup.py checks that the two agree).
ROLE_ZH = {"admin": "管理员（市经信局）", "staff": "服务中心", "district": "区县", "viewer": "只读"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = group(sub, "users")
    add = users.add_parser("add", help="add a console user (password on standard input)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=list(ROLE_ZH))
    add.add_argument("--district", default="", help="a district user's district (所属区县)")
    add.set_defaults(handler=users_add)
    ls = users.add_parser("list", help="list the console users")
    ls.add_argument("--json", action="store_true", help="print a JSON array")
    ls.set_defaults(handler=users_list)
    dis = users.add_parser("disable", help="disable a user: no more logins, open sessions end now")
    dis.add_argument("name", metavar="NAME")
    dis.set_defaults(handler=users_disable)
    pw = users.add_parser("password", help="set a user's password (standard input); open sessions end")
    pw.add_argument("name", metavar="NAME")
    pw.set_defaults(handler=users_password)


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码 (password): ")
        if getpass.getpass("再次输入 (again): ") != first:
            raise UsageError("两次输入的密码不一致 (the passwords differ)")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _districts(ctx: Context) -> frozenset[str]:
    return frozenset(d.name for d in ctx.settings.districts)


def users_add(ctx: Context) -> int:
    from monitor import accounts

    role = accounts.Role(ctx.args.role)
    password = read_password()
    with ctx.checked_db().session() as session:
        try:
            accounts.add_user(session, ctx.args.name, role, ctx.args.district, password, ctx.now, _districts(ctx))
        except accounts.AccountError as exc:
            raise UsageError(str(exc)) from None
    print(f"已添加用户 {ctx.args.name.strip()}（{ROLE_ZH[role.value]}） (user added)")
    return 0


def users_list(ctx: Context) -> int:
    from monitor import accounts
    from monitor.cli.output import print_json, table

    with ctx.checked_db().session() as session:
        rows = accounts.list_users(session)
    if ctx.args.json:
        print_json(
            [
                {
                    "name": r.name,
                    "role": r.role,
                    "district": r.district or None,
                    "disabled": r.disabled,
                    "created_at": r.created_at,
                }
                for r in rows
            ]
        )
        return 0
    print(
        table(
            ((r.name, ROLE_ZH[r.role], r.district, "停用" if r.disabled else "启用") for r in rows),
            ["用户名", "角色", "区县", "状态"],
        )
    )
    return 0


def users_disable(ctx: Context) -> int:
    from monitor import accounts

    with ctx.checked_db().session() as session:
        try:
            accounts.disable(session, ctx.args.name, ctx.now)
        except accounts.AccountError as exc:
            raise UsageError(str(exc)) from None
    print(f"已停用用户 {ctx.args.name}，其登录会话已全部结束 (disabled; open sessions ended)")
    return 0


def users_password(ctx: Context) -> int:
    from monitor import accounts

    password = read_password()
    with ctx.checked_db().session() as session:
        try:
            accounts.set_password(session, ctx.args.name, password, ctx.now)
        except accounts.AccountError as exc:
            raise UsageError(str(exc)) from None
    print(f"已更新用户 {ctx.args.name} 的密码，其登录会话已全部结束 (password set; open sessions ended)")
    return 0
