"""The kept answer (SPEC 10): each entity's evaluation and the date until which it holds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Existing entities get a stale row each, so the first reader or sweep evaluates them; nothing is dropped.
"""

import sqlalchemy as sa
from alembic import op

from monitor.storage.models import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_answers",
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("held_until", sa.Date(), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("certified_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("ever_certified", sa.Boolean(), nullable=False),
        sa.Column("filing_streak", sa.Integer(), nullable=False),
        sa.Column("title_spans", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("token", sa.String(40), nullable=False),
        sa.Column("evaluated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name="fk_kept_answers_entity_id_entities"),
        sa.PrimaryKeyConstraint("entity_id", name="pk_kept_answers"),
        sa.UniqueConstraint("credit_code", name="uq_kept_answers_credit_code"),
    )
    for column in ("stale", "held_until", "as_of", "fingerprint", "status"):
        op.create_index(f"ix_kept_answers_{column}", "kept_answers", [column])
    op.create_table(
        "kept_findings",
        sa.Column("id", BigId, nullable=False),
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("article", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("district", sa.String(32), nullable=False),
        sa.Column("audiences", sa.String(64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name="fk_kept_findings_entity_id_entities"),
        sa.PrimaryKeyConstraint("id", name="pk_kept_findings"),
    )
    op.create_index("ix_kept_findings_entity_id", "kept_findings", ["entity_id"])
    op.create_index("ix_kept_findings_rule", "kept_findings", ["rule"])
    op.create_index("ix_kept_findings_district_severity", "kept_findings", ["district", "severity"])
    op.execute(
        "INSERT INTO kept_answers (entity_id, credit_code, version, stale, fingerprint, status, reasons,"
        " ever_certified, filing_streak, title_spans, error, token)"
        " SELECT id, credit_code, 0, true, '', 'uncertified', '[]', false, 0, '[]', '', '' FROM entities"
    )


def downgrade() -> None:
    op.drop_table("kept_findings")
    op.drop_table("kept_answers")
