"""Shared fixtures: a real database on SQLite and PostgreSQL, a host timezone that is not Beijing's."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
import sqlalchemy as sa

from monitor.legal_time import LEGAL_TZ
from monitor.storage.db import Database

PG_ENV = "SME_MONITOR_TEST_DATABASE_URL"
HOST_TZ = os.environ.get("SME_MONITOR_TEST_HOST_TZ", "America/Los_Angeles")


@pytest.fixture(autouse=True, scope="session")
def host_timezone() -> Iterator[str]:
    """Put the host timezone in force for the whole run and check that it is: $TZ when set (CI also runs the
    suite under TZ=UTC and TZ=Asia/Shanghai), else one whose date often differs from Asia/Shanghai's.

    The zone is set on the process (tzset), so `time.localtime`, naive `datetime.now()` and every subprocess
    a test starts see it; a zone the C library does not know (it silently falls back to UTC) stops the run."""
    saved = os.environ.get("TZ")
    name = saved or HOST_TZ
    os.environ["TZ"] = name
    time.tzset()
    _check_in_force(name)
    yield name
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


def _check_in_force(name: str) -> None:
    try:
        zone = ZoneInfo(name.removeprefix(":"))
    except (ZoneInfoNotFoundError, ValueError):
        pytest.exit(
            f"TZ={name!r} is not an IANA zone name; the tests need one (e.g. America/Los_Angeles)", returncode=2
        )
    # Instants in winter and summer (daylight saving), and now: the C library's offsets must be the zone's.
    for instant in (datetime(2026, 1, 15, 12, tzinfo=UTC), datetime(2026, 7, 15, 12, tzinfo=UTC), datetime.now(UTC)):
        host = instant.astimezone().utcoffset()
        if host != instant.astimezone(zone).utcoffset():
            pytest.exit(f"TZ={name!r} is not in force: the host says UTC{host} at {instant:%Y-%m-%d}", returncode=2)
    if zone.key != LEGAL_TZ.key and datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone().utcoffset() == timedelta(
        hours=8
    ):
        pytest.exit(f"TZ={name!r} has Beijing's offset: use Asia/Shanghai itself, or a zone whose dates differ", 2)


def postgres_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    base = postgres_url()
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A URL for an empty database: a SQLite file, or a fresh schema on the real PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    database = Database(db_url)
    database.upgrade()
    yield database
    database.dispose()
