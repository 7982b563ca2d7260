"""Registry search: substring indexes on entity names and credit codes (SPEC 8, the public registry).

- Names, three characters or more: on SQLite an FTS5 table with the trigram tokenizer over `entities.name`
  (external content); on PostgreSQL a pg_trgm GIN index, which the database maintains itself.
- Names, two characters (which no trigram can serve): `registry_search_bigrams` holds each name's pairs of
  adjacent characters (upper-cased, so Latin letters match in any case): "contains XY" is one key lookup.
- Credit codes, three characters or more: every code shares its leading trigrams with the whole roster
  (91510104...), which makes a trigram index slow for them; `registry_search_codes` holds each code's
  suffixes instead, so "contains Q" is the range "a suffix starts with Q" on its primary key.
- One character: a scan (monitor/registry.py says why).

Triggers keep all of it in step with every roster write, whoever writes (ORM, bulk import, a later
migration): on SQLite with the helper table of positions `registry_search_positions`, on PostgreSQL with the
trigger function `registry_search_sync`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MAX_NAME = 200  # entities.name is String(200)
MIN_CODE_FRAGMENT = 3
# Bigrams fold ASCII letters only (as SQLite's upper() and monitor.registry do), not the rest of Unicode.
_LOWER, _UPPER = "'abcdefghijklmnopqrstuvwxyz'", "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"

_SQLITE_FILL = f"""
    INSERT OR IGNORE INTO registry_search_codes (suffix, entity_id)
        SELECT substr(new.credit_code, n), new.id FROM registry_search_positions
        WHERE n <= length(new.credit_code) - {MIN_CODE_FRAGMENT - 1};
    INSERT OR IGNORE INTO registry_search_bigrams (gram, entity_id)
        SELECT upper(substr(new.name, n, 2)), new.id FROM registry_search_positions
        WHERE n <= length(new.name) - 1;
"""
SQLITE_UP = [
    """CREATE VIRTUAL TABLE registry_search USING fts5(
        name, content='entities', content_rowid='id', tokenize='trigram')""",
    "CREATE TABLE registry_search_positions (n INTEGER PRIMARY KEY)",
    f"""INSERT INTO registry_search_positions (n)
        SELECT value FROM (WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s
        WHERE value < {MAX_NAME}) SELECT value FROM s)""",
    """CREATE TABLE registry_search_codes (
        suffix VARCHAR(18) NOT NULL, entity_id INTEGER NOT NULL, PRIMARY KEY (suffix, entity_id)) WITHOUT ROWID""",
    "CREATE INDEX registry_search_codes_entity ON registry_search_codes (entity_id)",
    """CREATE TABLE registry_search_bigrams (
        gram VARCHAR(2) NOT NULL, entity_id INTEGER NOT NULL, PRIMARY KEY (gram, entity_id)) WITHOUT ROWID""",
    "CREATE INDEX registry_search_bigrams_entity ON registry_search_bigrams (entity_id)",
    f"""CREATE TRIGGER registry_search_ai AFTER INSERT ON entities BEGIN
        INSERT INTO registry_search(rowid, name) VALUES (new.id, new.name);
        {_SQLITE_FILL}
    END""",
    """CREATE TRIGGER registry_search_ad AFTER DELETE ON entities BEGIN
        INSERT INTO registry_search(registry_search, rowid, name) VALUES ('delete', old.id, old.name);
        DELETE FROM registry_search_codes WHERE entity_id = old.id;
        DELETE FROM registry_search_bigrams WHERE entity_id = old.id;
    END""",
    f"""CREATE TRIGGER registry_search_au AFTER UPDATE OF name, credit_code ON entities BEGIN
        INSERT INTO registry_search(registry_search, rowid, name) VALUES ('delete', old.id, old.name);
        INSERT INTO registry_search(rowid, name) VALUES (new.id, new.name);
        DELETE FROM registry_search_codes WHERE entity_id = old.id;
        DELETE FROM registry_search_bigrams WHERE entity_id = old.id;
        {_SQLITE_FILL}
    END""",
    "INSERT INTO registry_search(registry_search) VALUES ('rebuild')",
    f"""INSERT OR IGNORE INTO registry_search_codes (suffix, entity_id)
        SELECT substr(e.credit_code, p.n), e.id FROM entities e JOIN registry_search_positions p
        ON p.n <= length(e.credit_code) - {MIN_CODE_FRAGMENT - 1}""",
    """INSERT OR IGNORE INTO registry_search_bigrams (gram, entity_id)
        SELECT upper(substr(e.name, p.n, 2)), e.id FROM entities e JOIN registry_search_positions p
        ON p.n <= length(e.name) - 1""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS registry_search_au",
    "DROP TRIGGER IF EXISTS registry_search_ad",
    "DROP TRIGGER IF EXISTS registry_search_ai",
    "DROP TABLE IF EXISTS registry_search_bigrams",
    "DROP TABLE IF EXISTS registry_search_codes",
    "DROP TABLE IF EXISTS registry_search_positions",
    "DROP TABLE IF EXISTS registry_search",
]

PG_FUNCTION = f"""
CREATE FUNCTION registry_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM registry_search_codes WHERE entity_id = OLD.id;
        DELETE FROM registry_search_bigrams WHERE entity_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO registry_search_codes (suffix, entity_id)
        SELECT DISTINCT substr(NEW.credit_code, n), NEW.id
        FROM generate_series(1, length(NEW.credit_code) - {MIN_CODE_FRAGMENT - 1}) AS n
        ON CONFLICT DO NOTHING;
        INSERT INTO registry_search_bigrams (gram, entity_id)
        SELECT DISTINCT translate(substr(NEW.name, n, 2), {_LOWER}, {_UPPER}), NEW.id
        FROM generate_series(1, length(NEW.name) - 1) AS n
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        # One extension per database, shared by every schema in it: installed in `public` where there is one,
        # so that dropping another schema (a test's, say) never takes it and the indexes built on it along.
        # pg_trgm is a trusted extension: the database owner may create it.
        where = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        if bind.exec_driver_sql(where).scalar() is None:
            public = bind.exec_driver_sql("SELECT 1 FROM pg_namespace WHERE nspname = 'public'").scalar()
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" SCHEMA public" if public else ""))
        # The operator class lives where the extension was installed, maybe outside our search_path.
        schema = bind.exec_driver_sql(where).scalar_one()
        op.execute(f"CREATE INDEX registry_search_name_trgm ON entities USING gin (name {schema}.gin_trgm_ops)")
        # COLLATE "C": "starts with" and equality are byte comparisons whatever the database's collation.
        op.execute(
            """CREATE TABLE registry_search_codes (
                suffix VARCHAR(18) COLLATE "C" NOT NULL, entity_id BIGINT NOT NULL,
                PRIMARY KEY (suffix, entity_id))"""
        )
        op.execute("CREATE INDEX registry_search_codes_entity ON registry_search_codes (entity_id)")
        op.execute(
            """CREATE TABLE registry_search_bigrams (
                gram VARCHAR(2) COLLATE "C" NOT NULL, entity_id BIGINT NOT NULL,
                PRIMARY KEY (gram, entity_id))"""
        )
        op.execute("CREATE INDEX registry_search_bigrams_entity ON registry_search_bigrams (entity_id)")
        op.execute(PG_FUNCTION)
        op.execute(
            """CREATE TRIGGER registry_search_sync AFTER INSERT OR DELETE OR UPDATE OF name, credit_code
               ON entities FOR EACH ROW EXECUTE FUNCTION registry_search_sync()"""
        )
        op.execute(
            f"""INSERT INTO registry_search_codes (suffix, entity_id)
                SELECT DISTINCT substr(e.credit_code, n), e.id
                FROM entities e, generate_series(1, length(e.credit_code) - {MIN_CODE_FRAGMENT - 1}) AS n
                ON CONFLICT DO NOTHING"""
        )
        op.execute(
            f"""INSERT INTO registry_search_bigrams (gram, entity_id)
                SELECT DISTINCT translate(substr(e.name, n, 2), {_LOWER}, {_UPPER}), e.id
                FROM entities e, generate_series(1, length(e.name) - 1) AS n
                ON CONFLICT DO NOTHING"""
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS registry_search_sync ON entities")
        op.execute("DROP FUNCTION IF EXISTS registry_search_sync()")
        op.execute("DROP TABLE IF EXISTS registry_search_bigrams")
        op.execute("DROP TABLE IF EXISTS registry_search_codes")
        op.execute("DROP INDEX IF EXISTS registry_search_name_trgm")
