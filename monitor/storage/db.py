"""The database handle: engine, sessions, migrations (Alembic) and the schema check every command makes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import redact_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaError(Exception):
    """The database is empty or behind the code: the operator must run `sme-monitor db upgrade`."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Foreign keys on; a writer waits up to 30 s for the lock; WAL, so that readers (the daemon's sweep, a
    `check`, the web pages) never block a writer and a writer never blocks them. With WAL, synchronous=NORMAL
    is safe against corruption; a power cut may undo the last transactions, never half of one."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Database({redact_url(self.url)!r})"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends normally, rolled back when it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    # --- migrations --------------------------------------------------------------------------------------

    def _alembic_config(self) -> AlembicConfig:
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        return cfg

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def upgrade(self) -> tuple[str | None, str | None]:
        """Migrate to the newest revision; returns (before, after)."""
        before = self.current_revision()
        command.upgrade(self._alembic_config(), "head")
        return before, self.current_revision()

    def check_schema(self) -> None:
        current, head = self.current_revision(), self.head_revision()
        if current is None:
            raise SchemaError(
                "数据库尚未初始化，请先运行 `sme-monitor db upgrade` "
                "(the database is empty: run `sme-monitor db upgrade` first)"
            )
        if current != head:
            raise SchemaError(
                f"数据库结构版本 {current} 落后于程序版本 {head}，请先运行 `sme-monitor db upgrade` "
                f"(the database is at revision {current}, the code needs {head}: run `sme-monitor db upgrade`)"
            )
