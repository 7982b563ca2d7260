"""Outbox, acknowledgements and silences (notifications package).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the notifications work; an empty step keeps the revision chain fixed meanwhile.
    pass


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
