"""Run ledger and sync state (jobs package).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled in by the jobs work; an empty step keeps the revision chain fixed meanwhile.
    pass


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
