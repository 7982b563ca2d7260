"""`sme-monitor demo` on the embedded defaults: a SQLite file and .eml files under ./var, nothing twice."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from monitor.cli import main


def test_demo_on_embedded_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SME_MONITOR_CONFIG", "SME_MONITOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo", "--as-of", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "已载入演示数据：41 个主体" in out and "FILING_REVOCATION_DUE" in out
    # Applications (SPEC 9): one eligible, one not, one incomplete; and a title holder at risk at renewal.
    assert all(v in out for v in ("符合条件", "不符合条件", "材料不全，待补充")) and "SERVICE_BELOW_THRESHOLD" in out
    assert (tmp_path / "var" / "sme-monitor.db").is_file()
    mail = sorted((tmp_path / "var" / "mail").glob("*.eml"))
    kinds = {p.name.split("_")[1] for p in mail}
    assert {"reminder", "alert", "notice", "digest"} <= kinds
    digest = next(p for p in mail if "_digest_" in p.name)
    message = email.message_from_bytes(digest.read_bytes(), policy=policy.default)
    assert str(message["Subject"]).startswith("【每日合规简报】2026年11月25日")
    assert (tmp_path / "var" / "mail" / "digest-2026-11-25.html").is_file()
    # Again: the data set is not loaded twice and the outbox sends nothing new.
    assert main(["demo", "--as-of", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "演示数据已存在" in out and "本次 0 封" in out
    assert sorted((tmp_path / "var" / "mail").glob("*.eml")) == mail
