"""The `sme-monitor` command line. Each command group lives in its own module and registers itself here.

Start-up is kept short (`benchmarks/startup.py`): the command modules import only argparse-level things at the
top and their heavy modules (SQLAlchemy, Alembic, openpyxl, Jinja2, APScheduler, aiosmtplib, requests,
chinesecalendar) inside the handlers, so `--help` imports none of them and each command only what it uses.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from monitor import __version__
from monitor.cli import (
    commands_applications,
    commands_check,
    commands_db,
    commands_demo,
    commands_entities,
    commands_import,
    commands_notify,
    commands_run,
    commands_serve,
)
from monitor.cli.context import Context
from monitor.errors import CONFIG_ENV, CalendarError, ConfigError, SchemaError, UsageError

log = logging.getLogger("monitor")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

# Modules with `register(subparsers)`; each parser sets `handler=fn(ctx) -> int`.
COMMAND_MODULES = [
    commands_db,
    commands_entities,
    commands_import,
    commands_applications,
    commands_check,
    commands_notify,
    commands_demo,
    commands_run,
    commands_serve,
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 错误 (error): {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sme-monitor",
        description="成都市中小企业公共服务平台和小企业创业基地合规监测 (SME Compliance Monitor)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help=f"TOML configuration (default: ${CONFIG_ENV}, else built-in defaults)"
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text", help="log lines on stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from monitor.logs import setup_logging

    setup_logging(args.log_format, logging.DEBUG if args.verbose else logging.INFO)
    ctx = Context(args)
    try:
        return int(args.handler(ctx))
    except (UsageError, ConfigError, CalendarError) as exc:
        print(f"sme-monitor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SchemaError as exc:
        print(f"sme-monitor: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if _is_database_error(exc):
            from monitor.logs import redact

            # A database that is down, locked or changed under us: one line, the URL without its password.
            log.debug("database error", exc_info=True)
            detail = redact(" ".join(str(exc.args[0] if exc.args else exc).split()))
            print(f"sme-monitor: 数据库错误 (database error): {type(exc).__name__}: {detail}", file=sys.stderr)
            return EXIT_FAILURE
        log.error("command failed: %s: %s", type(exc).__name__, exc, exc_info=args.verbose)
        return EXIT_FAILURE


def _is_database_error(exc: Exception) -> bool:
    # Only a command that imported SQLAlchemy can raise its errors: no need to import it to find out.
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError)
