"""Registry search: a substring index on entity names and credit codes (SPEC 8, the public registry).

SQLite: an FTS5 table with the trigram tokenizer over `entities` (external content), kept in step with every
roster write by triggers, whoever writes (ORM, bulk import, a later migration). PostgreSQL: pg_trgm GIN
indexes, which the database maintains itself. Both answer `LIKE '%fragment%'`-style queries of three or more
characters from the index; shorter fragments are discussed in monitor/registry.py.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE registry_search USING fts5(
        name, credit_code, content='entities', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER registry_search_ai AFTER INSERT ON entities BEGIN
        INSERT INTO registry_search(rowid, name, credit_code) VALUES (new.id, new.name, new.credit_code);
    END""",
    """CREATE TRIGGER registry_search_ad AFTER DELETE ON entities BEGIN
        INSERT INTO registry_search(registry_search, rowid, name, credit_code)
        VALUES ('delete', old.id, old.name, old.credit_code);
    END""",
    """CREATE TRIGGER registry_search_au AFTER UPDATE OF name, credit_code ON entities BEGIN
        INSERT INTO registry_search(registry_search, rowid, name, credit_code)
        VALUES ('delete', old.id, old.name, old.credit_code);
        INSERT INTO registry_search(rowid, name, credit_code) VALUES (new.id, new.name, new.credit_code);
    END""",
    "INSERT INTO registry_search(registry_search) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS registry_search_au",
    "DROP TRIGGER IF EXISTS registry_search_ad",
    "DROP TRIGGER IF EXISTS registry_search_ai",
    "DROP TABLE IF EXISTS registry_search",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The operator class lives where the extension was installed, maybe outside our search_path.
        schema = (
            op.get_bind()
            .exec_driver_sql("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
            .scalar_one()
        )
        ops = f"{schema}.gin_trgm_ops"
        op.execute(f"CREATE INDEX registry_search_name_trgm ON entities USING gin (name {ops})")
        op.execute(f"CREATE INDEX registry_search_code_trgm ON entities USING gin (credit_code {ops})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS registry_search_code_trgm")
        op.execute("DROP INDEX IF EXISTS registry_search_name_trgm")
