"""Roster, event log, certifications, monthly filings and district reports.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from monitor.storage.models import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("district", sa.String(32), nullable=False),
        sa.Column("emails", sa.Text(), nullable=False),
        sa.Column("cert_no", sa.String(64), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_entities"),
        sa.UniqueConstraint("credit_code", name="uq_entities_credit_code"),
    )
    op.create_index("ix_entities_district", "entities", ["district"])
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name="fk_events_entity_id_entities"),
    )
    op.create_index("ix_events_kind", "events", ["kind"])
    op.create_index("ix_events_entity_id_occurred_on", "events", ["entity_id", "occurred_on"])
    op.create_table(
        "certifications",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("granted_on", sa.Date(), nullable=False),
        sa.Column("cert_no", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_certifications"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name="fk_certifications_entity_id_entities"),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name="fk_certifications_event_id_events"),
        sa.UniqueConstraint("event_id", name="uq_certifications_event_id"),
    )
    op.create_index("ix_certifications_entity_id_granted_on", "certifications", ["entity_id", "granted_on"])
    op.create_table(
        "filings",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("entity_id", BigId, nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filings"),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name="fk_filings_entity_id_entities"),
        sa.UniqueConstraint("entity_id", "period", name="uq_filings_entity_id_period"),
    )
    op.create_index("ix_filings_period", "filings", ["period"])
    op.create_table(
        "district_reports",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("district", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_district_reports"),
        sa.UniqueConstraint("district", "year", name="uq_district_reports_district_year"),
    )


def downgrade() -> None:
    raise NotImplementedError("downgrades are not supported: migrations never drop data")
