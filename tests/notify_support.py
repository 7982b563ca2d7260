"""Real servers and a small real data set for the notification tests.

- `SmtpServer`: aiosmtpd on 127.0.0.1 on an ephemeral port, plain, implicit TLS or STARTTLS, optional AUTH;
  it records every accepted message and can reject chosen recipients or drop a connection mid-batch.
- `HttpServer`: http.server in a thread, recording each request and answering what the test tells it.
- `scenario`: entities whose real rules produce the findings the tests need (a filing due soon, a
  restructuring, a fraud, names carrying markup and a CR/LF), stored in the test database and swept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from monitor import config, credit_code
from monitor.config import Recipients, Settings
from monitor.domain import Entity, Event, EventKind, History, Kind
from monitor.legal_time import WorkCalendar
from monitor.storage.db import Database
from monitor.sweep import SweepResult, run_sweep
from tests.dbdata import store
from tests.rulecases import monthly

# --- settings ----------------------------------------------------------------------------------------------

STAFF = ("staff1@center.example.cn", "staff2@center.example.cn")
ADMINS = ("admin@jxj.example.cn",)
DISTRICTS = {"锦江区": ("jinjiang@gov.example.cn",)}  # 青羊区 deliberately has no address


def make_settings(tmp_path: Path, **mail: Any) -> Settings:
    base = config.load(None, environ={})
    smtp = replace(base.mail.smtp, **mail.pop("smtp", {}))
    return replace(
        base,
        mail=replace(base.mail, directory=tmp_path / "mail", smtp=smtp, **mail),
        recipients=Recipients(staff=STAFF, admins=ADMINS, districts=DISTRICTS),
    )


# --- data --------------------------------------------------------------------------------------------------

D = date.fromisoformat
AS_OF = D("2026-03-26")  # March's filing is due Tue 2026-03-31: the 5-day reminder stage has begun


def code(n: int) -> str:
    return credit_code.complete(f"91510104MA{n:07d}")


A, B, C, E = code(1), code(2), code(3), code(4)
SCRIPT_NAME = "<script>alert('x')</script>成都示范平台"
CRLF_NAME = "成都换行平台\r\nBcc: evil@attacker.example"


def histories() -> list[History]:
    def entity(c: str, name: str, kind: Kind, district: str, email_: str) -> Entity:
        return Entity(c, name, kind, district, (email_,), f"CDSME-{c[-4:]}")

    cert = Event(EventKind.CERTIFIED, D("2025-06-10"))
    on_time = monthly("2025-07", "2026-02")
    return [
        # FILING_DUE_SOON (entity)
        History(
            entity(A, "成都天府中小企业服务平台有限公司", Kind.PLATFORM, "锦江区", "a@ent-a.example.cn"),
            (cert,),
            on_time,
        ),
        # RESTRUCTURING_SUSPENDED (critical: entity, district 青羊区 without address, staff) + FILING_DUE_SOON
        History(
            entity(B, "成都青城创业基地管理有限公司", Kind.BASE, "青羊区", "b@ent-b.example.cn"),
            (cert, Event(EventKind.RESTRUCTURED, D("2026-03-02"), detail="rename", seq=2)),
            on_time,
        ),
        # MISCONDUCT_REVOKED (critical: staff, admin, district 锦江区, entity), a name with markup
        History(
            entity(C, SCRIPT_NAME, Kind.PLATFORM, "锦江区", "c@ent-c.example.cn"),
            (cert, Event(EventKind.MISCONDUCT, D("2026-03-10"), detail="fraud", seq=2)),
            on_time,
        ),
        # FILING_DUE_SOON to an entity whose name tries to add a header
        History(entity(E, CRLF_NAME, Kind.PLATFORM, "锦江区", "e@ent-e.example.cn"), (cert,), on_time),
    ]


def load(db: Database) -> None:
    store(db, histories())


def sweep(db: Database, settings: Settings, as_of: date = AS_OF) -> SweepResult:
    with db.session() as session:
        return run_sweep(session, as_of, WorkCalendar.load(None), settings.rules, settings.districts)


def at(day: date, hour: int = 9) -> datetime:
    """An instant on `day` in Beijing (09:00 by default), as the CLI would pass it."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(UTC)


# --- messages ----------------------------------------------------------------------------------------------


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


# --- SMTP --------------------------------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        return parse(self.content)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it accepts."""

    reject: set[str] = field(default_factory=set)  # recipients answered with 550
    defer: set[str] = field(default_factory=set)  # recipients answered with 450
    drop_on_data: set[int] = field(default_factory=set)  # n-th DATA (1-based) closes the connection instead
    received: list[Received] = field(default_factory=list)
    sessions: int = 0
    data_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.reject:
            return "550 5.1.1 mailbox unavailable"
        if address in self.defer:
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.data_seen += 1
            n = self.data_seen
        if n in self.drop_on_data:
            assert server.transport is not None
            server.transport.close()
            return "421 closing"
        content = envelope.original_content or b""
        with self.lock:
            self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"


class PortZeroController(Controller):
    """aiosmtpd's controller on port 0: learn the port the OS chose before the start-up probe uses it."""

    def _trigger_server(self) -> None:
        if self.port == 0 and isinstance(self.server, asyncio.Server):
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]  # aiosmtpd leaves it unannotated


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


USER, PASSWORD = "monitor", "s3cret-密码"


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


class SmtpServer:
    def __init__(
        self,
        recorder: Recorder | None = None,
        *,
        port: int = 0,
        implicit_tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
        auth: bool = False,
    ) -> None:
        self.recorder = recorder or Recorder()
        kwargs: dict[str, Any] = {}
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        if auth:
            kwargs.update(
                authenticator=_authenticator, auth_require_tls=starttls is not None or implicit_tls is not None
            )
        self.controller = PortZeroController(
            self.recorder,
            hostname="127.0.0.1",
            port=port,
            ssl_context=implicit_tls,
            server_hostname="localhost",
            **kwargs,
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def received(self) -> list[Received]:
        return self.recorder.received


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost, made with `cryptography`: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


# --- HTTP --------------------------------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class HttpServer:
    """Answers every POST with `status` and `reply` (JSON) and records the request."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.status = 200
        self.reply: Any = {"errcode": 0, "errmsg": "ok"}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                outer.requests.append(
                    Request(parts.path, parse_qs(parts.query), dict(self.headers.items()), json.loads(raw or b"null"))
                )
                data = json.dumps(outer.reply).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"
