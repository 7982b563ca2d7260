"""Shared fixtures: a real database on SQLite and PostgreSQL, a host timezone that is not Beijing's."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from monitor.storage.db import Database

PG_ENV = "SME_MONITOR_TEST_DATABASE_URL"
HOST_TZ = os.environ.get("SME_MONITOR_TEST_HOST_TZ", "America/Los_Angeles")


@pytest.fixture(autouse=True, scope="session")
def _host_timezone_is_not_beijing() -> Iterator[None]:
    """Run every test with a host timezone whose date often differs from Asia/Shanghai's, unless TZ is set
    explicitly (CI also runs the suite under TZ=UTC and TZ=Asia/Shanghai)."""
    if "TZ" in os.environ:
        yield
        return
    os.environ["TZ"] = HOST_TZ
    time.tzset()
    yield
    del os.environ["TZ"]
    time.tzset()


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
