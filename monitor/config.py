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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor import districts as districts_mod
from monitor import resources

ENV_PREFIX = "SME_MONITOR_"
CONFIG_ENV = "SME_MONITOR_CONFIG"
DATABASE_URL_ENV = "SME_MONITOR_DATABASE_URL"
# Tables whose keys are data chosen by the operator, not settings: any key is allowed, the value type is fixed.
OPEN_TABLES = {("recipients", "districts"): list}

LOCALES = ("zh_CN", "en")
MAIL_BACKENDS = ("file", "smtp")
WEBHOOK_KINDS = ("", "wecom", "dingtalk", "feishu", "json")
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


class ConfigError(Exception):
    """A configuration problem, worded for the operator: which key, which value, why."""


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
class DaemonSettings:
    heartbeat_url: str = field(repr=False)
    http_host: str
    http_port: int
    outbox_age_minutes: int = 60


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
    source: str = "built-in defaults"


def load(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the file at `path` (or $SME_MONITOR_CONFIG), then the environment."""
    environ = os.environ if environ is None else environ
    data = _read_toml(resources.config_path("default.toml"))
    source = "built-in defaults"
    path = path or environ.get(CONFIG_ENV) or None
    if path:
        user = _read_toml(Path(path))
        _merge(data, user, (), str(path))
        source = str(path)
    _apply_env(data, environ)
    return _build(data, source)


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


def _merge(base: dict[str, Any], over: Mapping[str, Any], prefix: tuple[str, ...], origin: str) -> None:
    for key, value in over.items():
        keys = (*prefix, key)
        if prefix in OPEN_TABLES:
            base[key] = _check_open_value(keys, value, OPEN_TABLES[prefix], origin)
            continue
        if key not in base:
            raise ConfigError(f"{origin}: 未知配置项 (unknown key) {_key_name(keys)!r}")
        current = base[key]
        if isinstance(current, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: {_key_name(keys)} 应为表 (must be a table), 实际为 {value!r}")
            _merge(current, value, keys, origin)
        else:
            base[key] = _check_type(keys, current, value, origin)


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


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
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
            continue
        if not isinstance(node, dict) or keys[-1] not in node or isinstance(node[keys[-1]], dict):
            raise ConfigError(f"环境变量 {name}: 未知配置项 (unknown key) {_key_name(keys)!r}")
        node[keys[-1]] = _check_type(keys, node[keys[-1]], _parse_env(keys, node[keys[-1]], raw, name), name)


def _bad(key: str, value: Any, reason: str, source: str) -> ConfigError:
    return ConfigError(f"{source}: {key} = {value!r}: {reason}")


def _emails(key: str, values: list[str], source: str) -> tuple[str, ...]:
    for v in values:
        if not EMAIL_RE.match(v):
            raise _bad(key, v, "不是有效的电子邮箱地址 (not an e-mail address)", source)
    return tuple(values)


def _positive(key: str, value: int, source: str, *, zero: bool = False) -> int:
    if value < 0 or (value == 0 and not zero):
        raise _bad(key, value, "必须为正整数 (must be positive)", source)
    return value


def _offsets(key: str, values: list[int], source: str) -> tuple[int, ...]:
    for v in values:
        _positive(key, v, source)
    return tuple(sorted(set(values), reverse=True))


def _cron(key: str, expr: str, source: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr)
    except ValueError as exc:
        raise _bad(key, expr, f"不是有效的 cron 表达式 (invalid cron expression): {exc}", source) from None
    return expr


def _optional_path(value: str) -> Path | None:
    return Path(value) if value else None


def _build(d: dict[str, Any], source: str) -> Settings:
    try:
        tz = ZoneInfo(d["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise _bad("timezone", d["timezone"], "未知时区 (unknown time zone)", source) from None
    if d["locale"] not in LOCALES:
        raise _bad("locale", d["locale"], f"应为 {' | '.join(LOCALES)}", source)
    url = d["database"]["url"]
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise _bad("database.url", _redact_url(url), "应为 sqlite:///... 或 postgresql+psycopg://...", source)
    mail, smtp = d["mail"], d["mail"]["smtp"]
    if mail["backend"] not in MAIL_BACKENDS:
        raise _bad("mail.backend", mail["backend"], f"应为 {' | '.join(MAIL_BACKENDS)}", source)
    _emails("mail.sender", [mail["sender"]], source)
    if smtp["starttls"] and smtp["ssl"]:
        raise _bad("mail.smtp.ssl", True, "不能与 starttls 同时开启 (use starttls or ssl, not both)", source)
    if not 0 < smtp["port"] < 65536:
        raise _bad("mail.smtp.port", smtp["port"], "端口应在 1-65535 之间", source)
    rec = d["recipients"]
    districts_file = _optional_path(d["districts"]["file"])
    try:
        district_list = districts_mod.load(districts_file)
    except districts_mod.DistrictsError as exc:
        raise ConfigError(f"{source}: districts.file: {exc}") from None
    known = {x.name for x in district_list}
    for name in rec["districts"]:
        if name not in known:
            raise _bad(f"recipients.districts.{name}", rec["districts"][name], "未知区县 (unknown district)", source)
    r = d["rules"]
    issued = None
    if r["regulation_issued_on"]:
        try:
            issued = date.fromisoformat(r["regulation_issued_on"])
        except ValueError:
            raise _bad("rules.regulation_issued_on", r["regulation_issued_on"], "应为 YYYY-MM-DD", source) from None
    if not 0 <= r["filing_due_day"] <= 28:
        raise _bad("rules.filing_due_day", r["filing_due_day"], "应在 0-28 之间 (0 = 当月最后一日)", source)
    webhook = d["webhook"]
    if webhook["kind"] not in WEBHOOK_KINDS:
        kinds = " | ".join(k or '""' for k in WEBHOOK_KINDS)
        raise _bad("webhook.kind", webhook["kind"], f"应为 {kinds}", source)
    if webhook["kind"] and not webhook["url"]:
        raise _bad("webhook.url", "", "webhook.kind 已设置，需要 url", source)
    n = d["notifications"]
    daemon = d["daemon"]
    if not 0 <= daemon["http_port"] < 65536:
        raise _bad("daemon.http_port", daemon["http_port"], "端口应在 0-65535 之间", source)
    return Settings(
        timezone=tz,
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
                timeout=_positive("mail.smtp.timeout", smtp["timeout"], source),
                cafile=smtp["cafile"],
            ),
        ),
        recipients=Recipients(
            staff=_emails("recipients.staff", rec["staff"], source),
            admins=_emails("recipients.admins", rec["admins"], source),
            districts={k: _emails(f"recipients.districts.{k}", v, source) for k, v in rec["districts"].items()},
        ),
        holidays_file=_optional_path(d["calendar"]["holidays_file"]),
        districts=district_list,
        schedule=Schedule(**{k: _cron(f"schedule.{k}", v, source) for k, v in d["schedule"].items()}),
        rules=RuleSettings(
            filing_due_day=r["filing_due_day"],
            filing_reminder_days=_offsets("rules.filing_reminder_days", r["filing_reminder_days"], source),
            late_filing_counts_as_miss=r["late_filing_counts_as_miss"],
            filing_revocation_streak=_positive("rules.filing_revocation_streak", r["filing_revocation_streak"], source),
            validity_years=_positive("rules.validity_years", r["validity_years"], source),
            cert_expiring_days=_offsets("rules.cert_expiring_days", r["cert_expiring_days"], source),
            cert_expired_days=_positive("rules.cert_expired_days", r["cert_expired_days"], source),
            restructuring_report_months=_positive(
                "rules.restructuring_report_months", r["restructuring_report_months"], source
            ),
            restructuring_report_days=_offsets(
                "rules.restructuring_report_days", r["restructuring_report_days"], source
            ),
            rectification_months=_positive("rules.rectification_months", r["rectification_months"], source),
            rectification_days=_offsets("rules.rectification_days", r["rectification_days"], source),
            district_report_days=_offsets("rules.district_report_days", r["district_report_days"], source),
            ban_years=_positive("rules.ban_years", r["ban_years"], source),
            regulation_issued_on=issued,
            regulation_validity_years=_positive(
                "rules.regulation_validity_years", r["regulation_validity_years"], source
            ),
            regulation_expiring_days=_positive("rules.regulation_expiring_days", r["regulation_expiring_days"], source),
            publicity_days=_positive("rules.publicity_days", r["publicity_days"], source),
            auto_apply_sanctions=d["sanctions"]["auto_apply"],
        ),
        notifications=NotificationSettings(
            repeat_critical_days=_positive("notifications.repeat_critical_days", n["repeat_critical_days"], source),
            max_attempts=_positive("notifications.max_attempts", n["max_attempts"], source, zero=True),
            backoff_seconds=_positive("notifications.backoff_seconds", n["backoff_seconds"], source, zero=True),
            lease_seconds=_positive("notifications.lease_seconds", n["lease_seconds"], source),
            batch_size=_positive("notifications.batch_size", n["batch_size"], source),
            retry_ceiling_minutes=_positive("notifications.retry_ceiling_minutes", n["retry_ceiling_minutes"], source),
            retry_days=_positive("notifications.retry_days", n["retry_days"], source),
        ),
        webhook=WebhookSettings(
            kind=webhook["kind"],
            url=webhook["url"],
            secret=webhook["secret"],
            timeout=_positive("webhook.timeout", webhook["timeout"], source),
        ),
        portal=PortalSettings(
            url=d["portal"]["url"].rstrip("/"),
            token=d["portal"]["token"],
            timeout=_positive("portal.timeout", d["portal"]["timeout"], source),
            retries=_positive("portal.retries", d["portal"]["retries"], source, zero=True),
        ),
        daemon=DaemonSettings(
            heartbeat_url=daemon["heartbeat_url"],
            http_host=daemon["http_host"],
            http_port=daemon["http_port"],
            outbox_age_minutes=_positive("daemon.outbox_age_minutes", daemon["outbox_age_minutes"], source),
        ),
        source=source,
    )


def _redact_url(url: str) -> str:
    """A database URL without its password, fit for a log line or an error message."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


redact_url = _redact_url
