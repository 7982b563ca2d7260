"""`/healthz` and Prometheus `/metrics` on a local port, read from the database at each request.

Both answer from the run ledger, not from this process's memory: with several daemons on one database only
one of them runs a given sweep, and every one of them should report it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from jobs import ledger, schedule, sync_state, wiring
from jobs.ledger import JobName
from monitor.storage.db import Database
from notifications import outbox

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def sweep_health(session: Session, sweep_cron: str, now: datetime) -> tuple[bool, str]:
    """Healthy while the last successful sweep finished within two periods of the sweep's schedule."""
    period = schedule.period_at(sweep_cron, now) or timedelta(days=1)
    last = ledger.last_success(session, JobName.SWEEP)
    if last is None or last.finished_at is None:
        return False, "尚无成功完成的巡检 (no sweep has succeeded yet)"
    age = now - last.finished_at
    if age > 2 * period:
        return False, (
            f"上次成功巡检在 {_span(age)} 前，超过两个周期 {_span(2 * period)} "
            f"(the last successful sweep finished {_span(age)} ago, more than two periods)"
        )
    return True, f"上次成功巡检在 {_span(age)} 前 (the last sweep finished {_span(age)} ago)"


def failed_jobs(session: Session) -> list[str]:
    """One line per job whose latest occurrence stands failed (retried until it succeeds or is superseded)."""
    lines = []
    for job in JobName:
        run = ledger.latest(session, job)
        if run is None or run.status is not ledger.RunStatus.FAILED:
            continue
        retry = f"，{run.retry_at.isoformat(timespec='seconds')} 重试 (retry at that time)" if run.retry_at else ""
        lines.append(
            f"任务 {job} ({run.scheduled_at.isoformat(timespec='minutes')}) 失败 {run.failures} 次{retry}: "
            f"{run.error.splitlines()[0][:300] if run.error else '-'} "
            f"(job {job} failed {run.failures} time(s))"
        )
    return lines


def outbox_health(session: Session, now: datetime, age: timedelta) -> list[str]:
    """One line if a message failed or has waited longer than `age` (SPEC 5: `daemon.outbox_age_minutes`)."""
    failed, late, oldest = outbox.overdue(session, now, age)
    lines = []
    if failed:
        lines.append(f"发件箱有 {failed} 封发送失败的消息 ({failed} outbox message(s) failed: see `outbox list`)")
    if late:
        waited = _span(now - oldest) if oldest else "?"
        lines.append(
            f"发件箱有 {late} 封消息等待超过 {_span(age)}，最久 {waited} "
            f"({late} outbox message(s) undelivered for longer than {_span(age)}; the oldest for {waited})"
        )
    return lines


def check(
    session: Session, sweep_cron: str, now: datetime, outbox_age: timedelta = timedelta(minutes=60)
) -> tuple[bool, list[str]]:
    """What /healthz answers: healthy, and one line per finding (the sweep's age first)."""
    ok, reason = sweep_health(session, sweep_cron, now)
    problems = failed_jobs(session) + outbox_health(session, now, outbox_age)
    return ok and not problems, [reason, *problems]


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h{minutes:02d}m" if days else f"{hours}h{minutes:02d}m"


class LedgerCollector(Collector):
    """Metrics computed at scrape time from the ledger, the outbox and the sync state."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        with self.db.session() as s:
            sweep = ledger.last_success(s, JobName.SWEEP)
            failures = ledger.count_failures(s)
            portal = sync_state.last_success(s)
            outbox = wiring.outbox_counts(s)
        last_time = GaugeMetricFamily(
            "sme_monitor_last_sweep_timestamp_seconds", "When the last successful sweep finished (Unix time)"
        )
        duration = GaugeMetricFamily("sme_monitor_last_sweep_duration_seconds", "How long the last sweep took")
        findings = GaugeMetricFamily(
            "sme_monitor_findings", "Findings of the last sweep by rule and severity", labels=["rule", "severity"]
        )
        entities = GaugeMetricFamily("sme_monitor_entities", "Entities evaluated by the last sweep")
        errors = GaugeMetricFamily("sme_monitor_sweep_entity_errors", "Entities the last sweep skipped on errors")
        if sweep is not None and sweep.finished_at is not None:
            last_time.add_metric([], sweep.finished_at.timestamp())
            duration.add_metric([], (sweep.finished_at - sweep.started_at).total_seconds())
            for rule, by_severity in _mapping(sweep.summary.get("findings")).items():
                for severity, count in _mapping(by_severity).items():
                    findings.add_metric([str(rule), str(severity)], float(count))
            entities.add_metric([], float(sweep.summary.get("entities", 0)))
            errors.add_metric([], float(sweep.summary.get("errors", 0)))
        yield from (last_time, duration, findings, entities, errors)
        box = GaugeMetricFamily("sme_monitor_outbox_messages", "Outbox messages by state", labels=["state"])
        for state, count in outbox.items():
            box.add_metric([state], float(count))
        yield box
        failed = CounterMetricFamily("sme_monitor_job_failures", "Failed job runs in the ledger", labels=["job"])
        for job, count in failures.items():
            failed.add_metric([job.value], float(count))
        yield failed
        sync = GaugeMetricFamily(
            "sme_monitor_portal_last_sync_timestamp_seconds", "When the last good portal sync finished (Unix time)"
        )
        if portal is not None:
            sync.add_metric([], portal.timestamp())
        yield sync


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class HealthServer:
    """A small HTTP server in a thread of its own; `start()` returns the port it listens on."""

    def __init__(
        self,
        db: Database,
        sweep_cron: str,
        clock: Clock,
        host: str,
        port: int,
        *,
        outbox_age: timedelta = timedelta(minutes=60),
    ) -> None:
        self.db = db
        self.sweep_cron = sweep_cron
        self.outbox_age = outbox_age
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(LedgerCollector(db))
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> int:
        self._thread.start()
        return self.address[1]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def healthz(self) -> tuple[int, str]:
        try:
            with self.db.session() as s:
                ok, lines = check(s, self.sweep_cron, self.clock(), self.outbox_age)
        except Exception as exc:
            return 503, f"数据库不可用 (database unavailable): {type(exc).__name__}\n"
        return (200 if ok else 503), "".join(line + "\n" for line in lines)

    def metrics(self) -> tuple[int, bytes]:
        try:
            return 200, generate_latest(self.registry)
        except Exception as exc:
            log.exception("metrics failed")
            return 500, f"metrics unavailable: {type(exc).__name__}\n".encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    status, text = server.healthz()
                    self._send(status, text.encode(), "text/plain; charset=utf-8")
                elif path == "/metrics":
                    status, body = server.metrics()
                    self._send(status, body, "text/plain; version=0.0.4; charset=utf-8")
                else:
                    self._send(404, b"not found\n", "text/plain; charset=utf-8")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("http %s", format % args)

        return Handler
