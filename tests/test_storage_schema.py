from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import jobs.models  # noqa: F401  (every package's tables on Base.metadata)
import monitor.applications.models
import monitor.storage.kept_models  # noqa: F401
import notifications.models  # noqa: F401
from monitor.storage.db import MIGRATIONS, Database, SchemaError, migration_head
from monitor.storage.models import Base, include_name, include_object


def test_migrations_build_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": include_name, "include_object": include_object}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_twice_is_a_no_op(db: Database) -> None:
    head = db.head_revision()
    assert db.upgrade() == (head, head)
    db.check_schema()


def test_empty_database_asks_for_db_upgrade(db_url: str) -> None:
    database = Database(db_url)
    try:
        database.check_schema()
    except SchemaError as exc:
        assert "sme-monitor db upgrade" in str(exc)
    else:
        raise AssertionError("an empty database passed the schema check")
    finally:
        database.dispose()


def test_the_head_read_from_the_version_files_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert migration_head() == ScriptDirectory.from_config(cfg).get_current_head()
