"""Applications, service figures kept with monthly filings, and the roster's service functions (SPEC 9).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from monitor.storage.models import BigId, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("district", sa.String(32), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name="fk_applications_entity_id_entities"),
        sa.UniqueConstraint("entity_id", "year", name="uq_applications_entity_id_year"),
    )
    op.create_table(
        "filing_figures",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filing_figures"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name="fk_filing_figures_entity_id_entities"),
        sa.UniqueConstraint("entity_id", "period", name="uq_filing_figures_entity_id_period"),
    )
    with op.batch_alter_table("entities") as batch:
        batch.add_column(sa.Column("functions", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
