"""Data inventory: one normalized row per collected record, keyed by partition.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Exact = sa.Numeric(28, 8).with_variant(sa.String(48), "sqlite")  # SQLite NUMERIC is a float: keep text
Payload = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hub_inventory",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("company", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("stream", sa.String(32), nullable=False),
        sa.Column("partition_date", sa.Date(), nullable=False),
        sa.Column("record_type", sa.String(32), nullable=False),
        sa.Column("external_key", sa.String(255), nullable=False),
        sa.Column("record_date", sa.Date(), nullable=False),
        sa.Column("amount", Exact, nullable=True),
        sa.Column("currency", sa.String(8), nullable=True),
        sa.Column("quantity", Exact, nullable=True),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("counterparty", sa.String(512), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("payload", Payload, nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hub_inventory"),
        sa.UniqueConstraint(
            "company",
            "integration_id",
            "stream",
            "partition_date",
            "record_type",
            "external_key",
            name="uq_hub_inventory_record_key",
        ),
    )
    op.create_index("ix_hub_inventory_integration_day", "hub_inventory", ["integration_id", "partition_date"])
    op.create_index("ix_hub_inventory_record_key", "hub_inventory", ["integration_id", "external_key"])


def downgrade() -> None:
    op.drop_table("hub_inventory")
