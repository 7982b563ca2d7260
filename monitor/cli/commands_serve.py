"""`sme-monitor serve`: the public registry and the console over HTTP (uvicorn), beside the daemon."""

from __future__ import annotations

import argparse
import logging
import sys

from monitor.cli.context import Context

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="网页服务：公开的认定名单查询和管理后台 (the public registry and the console)",
        description="在 [web] host:port 上提供认定名单查询（/registry）及其 API（/api/v1/registry）；"
        "与守护进程共用同一数据库。",
    )
    add_serve_options(p)
    p.set_defaults(handler=serve_command)


def add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", metavar="H", help="listen address (default: web.host, 127.0.0.1)")
    p.add_argument("--port", metavar="P", type=_port, help="listen port (default: web.port, 8080)")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"端口应在 1-65535 之间 (port must be 1-65535): {text!r}")
    return value


def serve_command(ctx: Context) -> int:
    return serve(ctx)


def serve(ctx: Context) -> int:
    import signal
    from dataclasses import replace  # here, not at the top: the parser (and --help) start without dataclasses

    import uvicorn

    from web.app import create_app, system_clock

    settings = ctx.settings
    web = replace(
        settings.web,
        host=ctx.args.host or settings.web.host,
        port=ctx.args.port or settings.web.port,
    )
    settings = replace(settings, web=web)
    db = ctx.checked_db()
    from monitor import kept

    # Bring the kept answer up to date before listening: after an upgrade (another code fingerprint) or a
    # long stop every answer is out of date, and the first requests would otherwise wait for the whole
    # re-evaluation (a minute at 100,000 entities). A bar on a terminal, a log line otherwise.
    kept.ensure_fresh(db, ctx.today, ctx.calendar, settings.rules)
    # The server reads the clock once per request, at its start (web.middleware); nothing below reads it again.
    app = create_app(settings, db, clock=system_clock, calendar=ctx.calendar)
    # Our own one-line request log (web.access) replaces uvicorn's; uvicorn logs through our root handler.
    server = uvicorn.Server(
        uvicorn.Config(app, host=web.host, port=web.port, log_config=None, access_log=False, server_header=False)
    )
    print(f"管理后台 (console): http://{web.host}:{web.port}/  （登录 /login）", flush=True)
    print(f"认定名单查询 (public registry): http://{web.host}:{web.port}/registry", flush=True)

    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the handler it found:
    # one that only asks it to stop, so that a stop asked for by systemd is exit status 0, as for the daemon.
    # A SIGTERM that comes before uvicorn has put in its own handlers (while it starts) stops it as soon as it
    # has started, instead of being dropped.
    def _stop(signum: int, frame: object) -> None:
        server.should_exit = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot listen (it has logged why)
        print(f"sme-monitor: 无法在 {web.host}:{web.port} 上监听 (cannot listen there)", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0
