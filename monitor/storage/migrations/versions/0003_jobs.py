"""Run ledger and sync state (jobs package).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.storage.models import BigId, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("job", sa.String(32), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_runs"),
        sa.UniqueConstraint("job", "scheduled_at", name="uq_job_runs_job_scheduled_at"),
    )
    op.create_index("ix_job_runs_status_finished_at", "job_runs", ["status", "finished_at"])
    op.create_table(
        "sync_state",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sync_state"),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
