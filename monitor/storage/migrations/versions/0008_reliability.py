"""Reliability: failed job runs are retried (how many attempts failed, when the next one is due); an outbox
message remembers when its first delivery attempt failed, so transient failures are retried for
`notifications.retry_days` from then.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from monitor.storage.models import UTCDateTime

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs") as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("retry_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("first_failed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
