"""The database handle: engine, sessions, migrations (Alembic) and the schema check every command makes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import redact_url
from monitor.storage import SchemaError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = ["MIGRATIONS", "Database", "SchemaError", "migration_head"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_REVISION = re.compile(r"^revision\s*(?::\s*str\s*)?=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]+)?=\s*(.+)$", re.M)


@lru_cache(maxsize=1)
def migration_head() -> str | None:
    """The newest revision of monitor/storage/migrations, read from the version files' `revision` and
    `down_revision` lines: every command checks the schema, and Alembic takes longer to import than the
    check takes. Falls back to Alembic when the files do not show exactly one head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(source), _DOWN.search(source)
        if found is None or down is None:
            return _alembic_head()
        revisions.add(found[1])
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down[1]))
    heads = revisions - parents
    return next(iter(heads)) if len(heads) == 1 else _alembic_head()


def _alembic_head() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


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

    @property
    def shared(self) -> bool:
        """Whether another process can open this database (anything but SQLite in memory)."""
        return self.dialect != "sqlite" or make_url(self.url).database not in (None, "", ":memory:")

    def use_wal(self) -> None:
        """SQLite: switch the file to write-ahead logging (it stays so), so the web server's readers and the
        daemon's writer do not wait on each other. No-op elsewhere."""
        if self.dialect != "sqlite" or not self.shared:
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")

    def dispose(self) -> None:
        self.engine.dispose()

    # --- migrations --------------------------------------------------------------------------------------

    def _alembic_config(self) -> AlembicConfig:
        from alembic.config import Config  # Alembic is imported by `db upgrade` only

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["engine"] = self.engine
        return cfg

    def head_revision(self) -> str | None:
        return migration_head()

    def current_revision(self) -> str | None:
        """The revision recorded in alembic_version (None for an empty database), as Alembic reads it."""
        with self.engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        if len(rows) > 1:
            raise SchemaError(f"数据库记录了多个结构版本 (several schema revisions recorded): {', '.join(rows)}")
        return rows[0] if rows else None

    def upgrade(self) -> tuple[str | None, str | None]:
        """Migrate to the newest revision; returns (before, after)."""
        from alembic import command

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


# The audit trail's listeners on every Session (monitor/audit.py): imported here so that whoever opens the
# database records its writes.
import monitor.audit  # noqa: E402, F401
