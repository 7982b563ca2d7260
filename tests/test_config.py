"""Configuration: defaults, the operator's file, the environment, and errors that name key and value."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor import config
from monitor.legal_time import LEGAL_TZ


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_embedded_ones() -> None:
    s = config.load(environ={})
    assert s.database_url == "sqlite:///var/sme-monitor.db"
    assert s.mail.backend == "file" and str(s.mail.directory) == "var/mail"
    assert s.locale == "zh_CN" and s.timezone.key == "Asia/Shanghai"
    assert s.rules.cert_expiring_days == (90, 30, 7) and not s.rules.auto_apply_sanctions
    assert len(s.districts) == 23 and {"高新区", "天府新区", "东部新区"} <= {d.name for d in s.districts}


def test_file_then_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[mail]\nbackend = "smtp"\n[mail.smtp]\nport = 587\n[recipients.districts]\n"锦江区" = ["a@jj.cn"]\n'
    )
    env = {
        "SME_MONITOR_CONFIG": str(path),
        "SME_MONITOR_MAIL__SMTP__PORT": "2525",
        "SME_MONITOR_DATABASE_URL": "postgresql+psycopg://u:secret@db/x",
        "SME_MONITOR_RULES__CERT_EXPIRING_DAYS": "[60, 10]",
        "SME_MONITOR_SANCTIONS__AUTO_APPLY": "true",
        "SME_MONITOR_TEST_DATABASE_URL": "ignored: not a config key",
    }
    s = config.load(environ=env)
    assert s.mail.backend == "smtp" and s.mail.smtp.port == 2525
    assert s.database_url == "postgresql+psycopg://u:secret@db/x"
    assert s.rules.cert_expiring_days == (60, 10) and s.rules.auto_apply_sanctions
    assert s.recipients.districts == {"锦江区": ("a@jj.cn",)}
    assert "secret" not in repr(s)


@pytest.mark.parametrize(
    ("text", "env", "named"),
    [
        ("[mail]\nbackdoor = 1\n", {}, "mail.backdoor"),
        ('[mail.smtp]\nport = "25"\n', {}, "mail.smtp.port"),
        ("[mail.smtp]\nport = 70000\n", {}, "70000"),
        ('locale = "fr"\n', {}, "locale"),
        ('[recipients]\nstaff = ["not-an-address"]\n', {}, "not-an-address"),
        ('[recipients.districts]\n"火星区" = ["a@b.cn"]\n', {}, "火星区"),
        ('[schedule]\nsweep = "every day"\n', {}, "schedule.sweep"),
        ('[rules]\nregulation_issued_on = "2025-02-30"\n', {}, "2025-02-30"),
        ("[rules]\ncert_expiring_days = [30, -1]\n", {}, "rules.cert_expiring_days"),
        ("[mail.smtp]\nstarttls = true\nssl = true\n", {}, "mail.smtp.ssl"),
        ("", {"SME_MONITOR_MAIL__SMTP__TIMEOUT": "soon"}, "soon"),
        ("", {"SME_MONITOR_NOPE__KEY": "1"}, "nope.key"),
        ('[database]\nurl = "mysql://root:pw@h/db"\n', {}, "database.url"),
        ("[mail\n", {}, "TOML"),
    ],
    ids=[
        "unknown key",
        "wrong type",
        "port out of range",
        "unknown locale",
        "bad e-mail",
        "unknown district",
        "bad cron",
        "impossible date",
        "negative offset",
        "starttls and ssl",
        "env wrong type",
        "env unknown key",
        "unsupported database",
        "broken TOML",
    ],
)
def test_errors_name_the_key_and_value(tmp_path: Path, text: str, env: dict[str, str], named: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as exc:
        config.load(path, environ=env)
    assert named in str(exc.value)
    assert "pw" not in str(exc.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match=r"nowhere\.toml"):
        config.load(tmp_path / "nowhere.toml", environ={})


def test_cron_is_validated_as_the_daemon_reads_it(tmp_path: Path) -> None:
    # crontab numbering: 5-7 is Friday to Sunday (APScheduler alone would refuse 7)
    s = config.load(write(tmp_path, '[schedule]\nsweep = "0 7 * * 5-7"\ndigest = "30 8 * * 1-5"\n'), environ={})
    assert s.schedule.sweep == "0 7 * * 5-7"
    from jobs import schedule
    from monitor.cron import trigger

    assert set(str(trigger(s.schedule.sweep).fields[4]).split(",")) == {"fri", "sat", "sun"}
    assert schedule.next_occurrence(s.schedule.digest, dt.datetime(2026, 11, 27, 9, tzinfo=LEGAL_TZ)) == dt.datetime(
        2026, 11, 30, 8, 30, tzinfo=LEGAL_TZ
    )


@pytest.mark.parametrize(
    ("text", "env", "origin"),
    [
        ('[schedule]\nsweep = "0 7 * * 8"\n', {}, "monitor.toml"),
        ("", {"SME_MONITOR_SCHEDULE__SWEEP": "0 7 * * 8"}, "环境变量 SME_MONITOR_SCHEDULE__SWEEP"),
        ('[schedule]\nsweep = "0 7 * * 8"\n', {"SME_MONITOR_SCHEDULE__DIGEST": "0 9 * * *"}, "monitor.toml"),
        ("[mail.smtp]\ntimeout = 0\n", {}, "monitor.toml"),
        ("", {"SME_MONITOR_MAIL__SMTP__TIMEOUT": "0"}, "环境变量 SME_MONITOR_MAIL__SMTP__TIMEOUT"),
        (
            "",
            {"SME_MONITOR_RECIPIENTS__DISTRICTS__火星区": "a@b.cn"},
            "环境变量 SME_MONITOR_RECIPIENTS__DISTRICTS__火星区",
        ),
    ],
    ids=["file", "env", "file with other env", "file positive", "env positive", "env open table"],
)
def test_errors_name_where_the_value_came_from(tmp_path: Path, text: str, env: dict[str, str], origin: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(config.ConfigError) as exc:
        config.load(path, environ=env)
    message = str(exc.value)
    assert message.startswith(str(path) if origin == "monitor.toml" else origin), message
    assert "built-in defaults" not in message


@pytest.mark.parametrize("zone", ["UTC", "Asia/Chongqing", "Mars/Olympus"])
def test_timezone_accepts_only_beijing(tmp_path: Path, zone: str) -> None:
    with pytest.raises(config.ConfigError, match=r"timezone = .*Asia/Shanghai"):
        config.load(write(tmp_path, f'timezone = "{zone}"\n'), environ={})
    assert config.load(write(tmp_path, 'timezone = "Asia/Shanghai"\n'), environ={}).timezone == LEGAL_TZ
