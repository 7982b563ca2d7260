"""The console's entity list filtered by a status, in credit-code order, read from one index: the kept answer's
index on status becomes one on (status, credit_code), which also serves every lookup and count by status.
The list sorted every entity of the status for each page (60,000 actives at 100,000 entities,
benchmarks/console.py). An index only: no data moves.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kept_answers_status_code", "kept_answers", ["status", "credit_code"])
    op.drop_index("ix_kept_answers_status", table_name="kept_answers")


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
