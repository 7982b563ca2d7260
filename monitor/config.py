"""Configuration: built-in defaults, an operator's TOML file over them, then the environment.

Every key that may be set is in `config/default.toml`; its value there fixes the key's type. A key that is not
there, a value of the wrong type or a value that makes no sense is a `ConfigError` naming the key and the value.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor import districts as districts_mod
from monitor import resources
from monitor.errors import CONFIG_ENV as CONFIG_ENV  # defined apart, so the command line can name them cheaply
from monitor.errors import ConfigError as ConfigError
from monitor.legal_time import LEGAL_TZ

DEFAULTS = "built-in defaults"
ENV_PREFIX = "SME_MONITOR_"
DATABASE_URL_ENV = "SME_MONITOR_DATABASE_URL"
# Tables whose keys are data chosen by the operator, not settings: any key is allowed, the value type is fixed.
OPEN_TABLES = {("recipients", "districts"): list}

LOCALES = ("zh_CN", "en")
MAIL_BACKENDS = ("file", "smtp")
WEBHOOK_KINDS = ("", "wecom", "dingtalk", "feishu", "json")
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
# RFC 5321 section 4.5.3.1.3: a path holds at most 256 octets, so an address at most 254 characters.
MAX_EMAIL_LEN = 254


def is_email(address: str) -> bool:
    """A single address fit for an SMTP envelope: the usual syntax, at most 254 characters."""
    return len(address) <= MAX_EMAIL_LEN and EMAIL_RE.match(address) is not None


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    ssl: bool
    username: str
    password: str = field(repr=False)
    timeout: int
    cafile: str = ""  # CA bundle for the server's certificate; empty = the system's


@dataclass(frozen=True)
class MailSettings:
    backend: str
    directory: Path
    sender: str
    sender_name: str
    portal_url: str
    smtp: SmtpSettings


@dataclass(frozen=True)
class Recipients:
    staff: tuple[str, ...]
    admins: tuple[str, ...]
    districts: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class RuleSettings:
    """The offsets and choices of SPEC section 4; the defaults are the SPEC's."""

    filing_due_day: int = 0
    filing_reminder_days: tuple[int, ...] = (5, 1)
    late_filing_counts_as_miss: bool = True
    filing_revocation_streak: int = 6
    validity_years: int = 3
    cert_expiring_days: tuple[int, ...] = (90, 30, 7)
    cert_expired_days: int = 90
    restructuring_report_months: int = 3
    restructuring_report_days: tuple[int, ...] = (30, 14, 3)
    rectification_months: int = 6
    rectification_days: tuple[int, ...] = (60, 30, 7)
    district_report_days: tuple[int, ...] = (7,)
    ban_years: int = 3
    regulation_issued_on: date | None = None
    regulation_validity_years: int = 5
    regulation_expiring_days: int = 180
    publicity_days: int = 7
    district_review_days: int = 30  # Art. 9: an application not reviewed by its district this long after
    service_check_from_month: int = 7  # SPEC 9: service figures are compared with the thresholds from July
    auto_apply_sanctions: bool = False


@dataclass(frozen=True)
class NotificationSettings:
    repeat_critical_days: int
    max_attempts: int  # 0: no limit; retry_days decides
    backoff_seconds: int
    lease_seconds: int
    batch_size: int
    retry_ceiling_minutes: int = 30
    retry_days: int = 3


@dataclass(frozen=True)
class WebhookSettings:
    kind: str
    url: str = field(repr=False)
    secret: str = field(repr=False)
    timeout: int


@dataclass(frozen=True)
class PortalSettings:
    url: str
    token: str = field(repr=False)
    timeout: int
    retries: int


@dataclass(frozen=True)
class ImportLimits:
    """Past these an import file is refused (exit 2, FILE:ROW), before it can take the time or memory of a
    hostile one (SPEC 6 `[imports]`)."""

    max_rows: int = 2_000_000
    max_cell_chars: int = 10_000
    max_depth: int = 64  # JSON nesting
    max_file_mb: int = 200  # the file, and each part of a workbook once unpacked

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


@dataclass(frozen=True)
class DaemonSettings:
    heartbeat_url: str = field(repr=False)
    http_host: str
    http_port: int
    outbox_age_minutes: int = 60


@dataclass(frozen=True)
class WebSettings:
    """`sme-monitor serve`: where it listens, the address its pages are reached at, the console's sessions."""

    host: str
    port: int
    base_url: str  # as configured; empty = http://HOST:PORT (see `public_url`)
    secret_key: str = field(repr=False)  # empty: the console generates one once and keeps it in the database
    session_hours: int

    @property
    def public_url(self) -> str:
        """The address links in messages point at, without a trailing slash."""
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


@dataclass(frozen=True)
class Schedule:
    sweep: str
    digest: str
    outbox: str
    portal_sync: str


@dataclass(frozen=True)
class Settings:
    timezone: ZoneInfo
    locale: str
    database_url: str = field(repr=False)
    mail: MailSettings
    recipients: Recipients
    holidays_file: Path | None
    districts: tuple[districts_mod.District, ...]
    schedule: Schedule
    rules: RuleSettings
    notifications: NotificationSettings
    webhook: WebhookSettings
    portal: PortalSettings
    daemon: DaemonSettings
    web: WebSettings
    imports: ImportLimits = field(default_factory=ImportLimits)
    source: str = DEFAULTS


def load(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the file at `path` (or $SME_MONITOR_CONFIG), then the environment."""
    environ = os.environ if environ is None else environ
    data = _read_toml(resources.config_path("default.toml"))
    origins = Origins()
    source = DEFAULTS
    path = path or environ.get(CONFIG_ENV) or None
    if path:
        user = _read_toml(Path(path))
        _merge(data, user, (), str(path), origins)
        source = str(path)
    _apply_env(data, environ, origins)
    return _build(data, source, origins)


class Origins:
    """Where each key's value came from (the operator's file, an environment variable, else the defaults), so an
    error names the place the operator has to change."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, ...], str] = {}

    def set(self, keys: tuple[str, ...], origin: str) -> None:
        self._by_key[keys] = origin

    def of(self, key: str) -> str:
        keys = tuple(key.split("."))
        # The key itself, else the table it was set with as a whole (recipients.districts from the environment).
        for n in range(len(keys), 0, -1):
            if keys[:n] in self._by_key:
                return self._by_key[keys[:n]]
        return DEFAULTS


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"配置文件不存在 (config file not found): {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML 格式错误 (invalid TOML): {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: 无法读取 (cannot read): {exc.strerror}") from None


def _key_name(keys: tuple[str, ...]) -> str:
    return ".".join(keys)


def _merge(
    base: dict[str, Any], over: Mapping[str, Any], prefix: tuple[str, ...], origin: str, origins: Origins
) -> None:
    for key, value in over.items():
        keys = (*prefix, key)
        if prefix in OPEN_TABLES:
            base[key] = _check_open_value(keys, value, OPEN_TABLES[prefix], origin)
            origins.set(keys, origin)
            continue
        if key not in base:
            raise ConfigError(f"{origin}: 未知配置项 (unknown key) {_key_name(keys)!r}")
        current = base[key]
        if isinstance(current, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: {_key_name(keys)} 应为表 (must be a table), 实际为 {value!r}")
            _merge(current, value, keys, origin, origins)
        else:
            base[key] = _check_type(keys, current, value, origin)
            origins.set(keys, origin)


def _check_open_value(keys: tuple[str, ...], value: Any, kind: type, origin: str) -> Any:
    if kind is list and isinstance(value, str):
        value = [value]
    if not isinstance(value, kind) or (isinstance(value, list) and not all(isinstance(v, str) for v in value)):
        raise ConfigError(f"{origin}: {_key_name(keys)} 应为字符串列表 (must be a list of strings), 实际为 {value!r}")
    return value


def _type_label(default: Any) -> str:
    if isinstance(default, bool):
        return "true/false"
    if isinstance(default, int):
        return "整数 (an integer)"
    if isinstance(default, list):
        return "列表 (a list)"
    return "字符串 (a string)"


def _check_type(keys: tuple[str, ...], default: Any, value: Any, origin: str) -> Any:
    ok: bool
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, list):
        ok = (
            isinstance(value, list) and all(isinstance(v, type(default[0])) and not isinstance(v, bool) for v in value)
            if default
            else isinstance(value, list)
        )
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{origin}: {_key_name(keys)} 应为{_type_label(default)} (wrong type), 实际为 {value!r}")
    return value


def _env_key(name: str) -> tuple[str, ...] | None:
    if name == DATABASE_URL_ENV:
        return ("database", "url")
    if not name.startswith(ENV_PREFIX) or "__" not in name:
        return None
    parts = name[len(ENV_PREFIX) :].split("__")
    return tuple(p.lower() for p in parts)


def _parse_env(keys: tuple[str, ...], default: Any, raw: str, origin: str) -> Any:
    if isinstance(default, str):
        return raw
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if isinstance(default, list):  # also accept a plain comma-separated list
            value = [p.strip() for p in raw.split(",") if p.strip()]
            if default and isinstance(default[0], int):
                try:
                    value = [int(v) for v in value]
                except ValueError:
                    raise ConfigError(f"{origin}: {_key_name(keys)} 应为整数列表, 实际为 {raw!r}") from None
        else:
            raise ConfigError(f"{origin}: {_key_name(keys)} 应为{_type_label(default)}, 实际为 {raw!r}") from None
    return value


def _apply_env(data: dict[str, Any], environ: Mapping[str, str], origins: Origins) -> None:
    for name in sorted(environ):
        keys = _env_key(name)
        if keys is None:
            continue
        raw = environ[name]
        node: Any = data
        for key in keys[:-1]:
            if not isinstance(node, dict) or key not in node:
                raise ConfigError(f"环境变量 {name}: 未知配置项 (unknown key) {_key_name(keys)!r}")
            node = node[key]
        if keys[:-1] in OPEN_TABLES:
            # Environment names are upper-cased by convention; district names are Chinese and unaffected.
            node[keys[-1]] = [p.strip() for p in raw.split(",") if p.strip()]
            origins.set(keys, f"环境变量 {name}")
            continue
        if not isinstance(node, dict) or keys[-1] not in node or isinstance(node[keys[-1]], dict):
            raise ConfigError(f"环境变量 {name}: 未知配置项 (unknown key) {_key_name(keys)!r}")
        node[keys[-1]] = _check_type(keys, node[keys[-1]], _parse_env(keys, node[keys[-1]], raw, name), name)
        origins.set(keys, f"环境变量 {name}")


def _bad(key: str, value: Any, reason: str, origins: Origins) -> ConfigError:
    return ConfigError(f"{origins.of(key)}: {key} = {value!r}: {reason}")


def _emails(key: str, values: list[str], origins: Origins) -> tuple[str, ...]:
    for v in values:
        if not is_email(v):
            raise _bad(key, v, "不是有效的电子邮箱地址 (not an e-mail address)", origins)
    return tuple(values)


def _positive(key: str, value: int, origins: Origins, *, zero: bool = False) -> int:
    if value < 0 or (value == 0 and not zero):
        raise _bad(key, value, "必须为正整数 (must be positive)", origins)
    return value


def _offsets(key: str, values: list[int], origins: Origins) -> tuple[int, ...]:
    for v in values:
        _positive(key, v, origins)
    return tuple(sorted(set(values), reverse=True))


def _cron(key: str, expr: str, origins: Origins) -> str:
    """Validated as the daemon reads it (`monitor.cron.trigger`: crontab weekdays, so `0 7 * * 5-7` is fine)."""
    from monitor import cron

    try:
        cron.trigger(expr)
    except ValueError as exc:
        raise _bad(key, expr, f"不是有效的 cron 表达式 (invalid cron expression): {exc}", origins) from None
    return expr


def _optional_path(value: str) -> Path | None:
    return Path(value) if value else None


def _build(d: dict[str, Any], source: str, origins: Origins) -> Settings:
    if d["timezone"] != LEGAL_TZ.key:
        # Legal dates are China's whatever the host's zone (SPEC 2): nothing else would be read correctly.
        raise _bad(
            "timezone",
            d["timezone"],
            f"只能为 {LEGAL_TZ.key}：法定期限按中国日期计算 (the only value accepted)",
            origins,
        )
    if d["locale"] not in LOCALES:
        raise _bad("locale", d["locale"], f"应为 {' | '.join(LOCALES)}", origins)
    url = d["database"]["url"]
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise _bad("database.url", _redact_url(url), "应为 sqlite:///... 或 postgresql+psycopg://...", origins)
    mail, smtp = d["mail"], d["mail"]["smtp"]
    if mail["backend"] not in MAIL_BACKENDS:
        raise _bad("mail.backend", mail["backend"], f"应为 {' | '.join(MAIL_BACKENDS)}", origins)
    _emails("mail.sender", [mail["sender"]], origins)
    if smtp["starttls"] and smtp["ssl"]:
        raise _bad("mail.smtp.ssl", True, "不能与 starttls 同时开启 (use starttls or ssl, not both)", origins)
    if not 0 < smtp["port"] < 65536:
        raise _bad("mail.smtp.port", smtp["port"], "端口应在 1-65535 之间", origins)
    rec = d["recipients"]
    districts_file = _optional_path(d["districts"]["file"])
    try:
        district_list = districts_mod.load(districts_file)
    except districts_mod.DistrictsError as exc:
        raise ConfigError(f"{origins.of('districts.file')}: districts.file: {exc}") from None
    known = {x.name for x in district_list}
    for name in rec["districts"]:
        if name not in known:
            raise _bad(f"recipients.districts.{name}", rec["districts"][name], "未知区县 (unknown district)", origins)
    r = d["rules"]
    issued = None
    if r["regulation_issued_on"]:
        try:
            issued = date.fromisoformat(r["regulation_issued_on"])
        except ValueError:
            raise _bad("rules.regulation_issued_on", r["regulation_issued_on"], "应为 YYYY-MM-DD", origins) from None
    if not 1 <= r["service_check_from_month"] <= 12:
        raise _bad("rules.service_check_from_month", r["service_check_from_month"], "应在 1-12 之间", origins)
    if not 0 <= r["filing_due_day"] <= 28:
        raise _bad("rules.filing_due_day", r["filing_due_day"], "应在 0-28 之间 (0 = 当月最后一日)", origins)
    webhook = d["webhook"]
    if webhook["kind"] not in WEBHOOK_KINDS:
        kinds = " | ".join(k or '""' for k in WEBHOOK_KINDS)
        raise _bad("webhook.kind", webhook["kind"], f"应为 {kinds}", origins)
    if webhook["kind"] and not webhook["url"]:
        raise _bad("webhook.url", "", "webhook.kind 已设置，需要 url", origins)
    n = d["notifications"]
    daemon = d["daemon"]
    if not 0 <= daemon["http_port"] < 65536:
        raise _bad("daemon.http_port", daemon["http_port"], "端口应在 0-65535 之间", origins)
    web = d["web"]
    if not 0 < web["port"] < 65536:
        raise _bad("web.port", web["port"], "端口应在 1-65535 之间", origins)
    if web["base_url"] and not re.match(r"^https?://[^/\s]+", web["base_url"]):
        raise _bad("web.base_url", web["base_url"], "应为 http://... 或 https://... (an absolute URL)", origins)
    return Settings(
        timezone=LEGAL_TZ,
        locale=d["locale"],
        database_url=url,
        mail=MailSettings(
            backend=mail["backend"],
            directory=Path(mail["directory"]),
            sender=mail["sender"],
            sender_name=mail["sender_name"],
            portal_url=mail["portal_url"],
            smtp=SmtpSettings(
                host=smtp["host"],
                port=smtp["port"],
                starttls=smtp["starttls"],
                ssl=smtp["ssl"],
                username=smtp["username"],
                password=smtp["password"],
                timeout=_positive("mail.smtp.timeout", smtp["timeout"], origins),
                cafile=smtp["cafile"],
            ),
        ),
        recipients=Recipients(
            staff=_emails("recipients.staff", rec["staff"], origins),
            admins=_emails("recipients.admins", rec["admins"], origins),
            districts={k: _emails(f"recipients.districts.{k}", v, origins) for k, v in rec["districts"].items()},
        ),
        holidays_file=_optional_path(d["calendar"]["holidays_file"]),
        districts=district_list,
        schedule=Schedule(**{k: _cron(f"schedule.{k}", v, origins) for k, v in d["schedule"].items()}),
        rules=RuleSettings(
            filing_due_day=r["filing_due_day"],
            filing_reminder_days=_offsets("rules.filing_reminder_days", r["filing_reminder_days"], origins),
            late_filing_counts_as_miss=r["late_filing_counts_as_miss"],
            filing_revocation_streak=_positive(
                "rules.filing_revocation_streak", r["filing_revocation_streak"], origins
            ),
            validity_years=_positive("rules.validity_years", r["validity_years"], origins),
            cert_expiring_days=_offsets("rules.cert_expiring_days", r["cert_expiring_days"], origins),
            cert_expired_days=_positive("rules.cert_expired_days", r["cert_expired_days"], origins),
            restructuring_report_months=_positive(
                "rules.restructuring_report_months", r["restructuring_report_months"], origins
            ),
            restructuring_report_days=_offsets(
                "rules.restructuring_report_days", r["restructuring_report_days"], origins
            ),
            rectification_months=_positive("rules.rectification_months", r["rectification_months"], origins),
            rectification_days=_offsets("rules.rectification_days", r["rectification_days"], origins),
            district_report_days=_offsets("rules.district_report_days", r["district_report_days"], origins),
            ban_years=_positive("rules.ban_years", r["ban_years"], origins),
            regulation_issued_on=issued,
            regulation_validity_years=_positive(
                "rules.regulation_validity_years", r["regulation_validity_years"], origins
            ),
            regulation_expiring_days=_positive(
                "rules.regulation_expiring_days", r["regulation_expiring_days"], origins
            ),
            publicity_days=_positive("rules.publicity_days", r["publicity_days"], origins),
            district_review_days=_positive("rules.district_review_days", r["district_review_days"], origins),
            service_check_from_month=r["service_check_from_month"],
            auto_apply_sanctions=d["sanctions"]["auto_apply"],
        ),
        notifications=NotificationSettings(
            repeat_critical_days=_positive("notifications.repeat_critical_days", n["repeat_critical_days"], origins),
            max_attempts=_positive("notifications.max_attempts", n["max_attempts"], origins, zero=True),
            backoff_seconds=_positive("notifications.backoff_seconds", n["backoff_seconds"], origins, zero=True),
            lease_seconds=_positive("notifications.lease_seconds", n["lease_seconds"], origins),
            batch_size=_positive("notifications.batch_size", n["batch_size"], origins),
            retry_ceiling_minutes=_positive("notifications.retry_ceiling_minutes", n["retry_ceiling_minutes"], origins),
            retry_days=_positive("notifications.retry_days", n["retry_days"], origins),
        ),
        webhook=WebhookSettings(
            kind=webhook["kind"],
            url=webhook["url"],
            secret=webhook["secret"],
            timeout=_positive("webhook.timeout", webhook["timeout"], origins),
        ),
        portal=PortalSettings(
            url=d["portal"]["url"].rstrip("/"),
            token=d["portal"]["token"],
            timeout=_positive("portal.timeout", d["portal"]["timeout"], origins),
            retries=_positive("portal.retries", d["portal"]["retries"], origins, zero=True),
        ),
        daemon=DaemonSettings(
            heartbeat_url=daemon["heartbeat_url"],
            http_host=daemon["http_host"],
            http_port=daemon["http_port"],
            outbox_age_minutes=_positive("daemon.outbox_age_minutes", daemon["outbox_age_minutes"], origins),
        ),
        imports=ImportLimits(
            **{k: _positive(f"imports.{k}", v, origins) for k, v in d["imports"].items()},
        ),
        web=WebSettings(
            host=web["host"],
            port=web["port"],
            base_url=web["base_url"],
            secret_key=web["secret_key"],
            session_hours=_positive("web.session_hours", web["session_hours"], origins),
        ),
        source=source,
    )


def _redact_url(url: str) -> str:
    """A database URL without its password, fit for a log line or an error message."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


redact_url = _redact_url
