"""Webhook inbox: verified provider notifications waiting to become targeted runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Payload = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hub_webhook_inbox",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("company", sa.String(64), nullable=False),
        sa.Column("delivery_key", sa.String(64), nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_key", sa.String(128), nullable=False),
        sa.Column("action_type", sa.String(64), nullable=False),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", Payload, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hub_webhook_inbox"),
        sa.UniqueConstraint("integration_id", "company", "delivery_key", name="uq_hub_webhook_inbox_delivery"),
    )


def downgrade() -> None:
    op.drop_table("hub_webhook_inbox")
