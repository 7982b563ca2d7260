"""Outbox, acknowledgements and silences (notifications package).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.storage.models import BigId, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(100), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_messages"),
        sa.UniqueConstraint("key", name="uq_outbox_messages_key"),
    )
    op.create_index("ix_outbox_messages_as_of", "outbox_messages", ["as_of"])
    op.create_index("ix_outbox_messages_status_next_attempt_at", "outbox_messages", ["status", "next_attempt_at"])
    op.create_table(
        "outbox_items",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_items"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox_messages.id"], name="fk_outbox_items_message_id_outbox_messages"
        ),
        sa.UniqueConstraint(
            "rule",
            "entity",
            "subject",
            "stage",
            "audience",
            "recipient",
            "repeat",
            name="uq_outbox_items_key",
        ),
    )
    op.create_index("ix_outbox_items_entity", "outbox_items", ["entity"])
    op.create_index("ix_outbox_items_finding_id", "outbox_items", ["finding_id"])
    op.create_index("ix_outbox_items_message_id", "outbox_items", ["message_id"])
    op.create_table(
        "acknowledgements",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("finding_id", sa.String(200), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("acked_by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("acked_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_acknowledgements"),
    )
    op.create_index("ix_acknowledgements_finding_id", "acknowledgements", ["finding_id"])
    op.create_table(
        "silences",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_on", sa.Date(), nullable=True),
        sa.Column("lifted_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_silences"),
    )
    op.create_index("ix_silences_credit_code", "silences", ["credit_code"])


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
