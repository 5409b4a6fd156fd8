"""Control plane: integrations, connections, activity log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hub_integrations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("style", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hub_integrations"),
    )
    op.create_table(
        "hub_connections",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("company", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("secret_fields", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_test_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_test_ok", sa.Boolean(), nullable=True),
        sa.Column("last_test_message", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hub_connections"),
        sa.ForeignKeyConstraint(
            ["integration_id"], ["hub_integrations.id"], name="fk_hub_connections_integration_id_hub_integrations"
        ),
        sa.UniqueConstraint("company", "integration_id", name="uq_hub_connections_company_integration"),
        sa.CheckConstraint(
            "state IN ('draft', 'connected', 'paused', 'disconnected')", name="ck_hub_connections_state"
        ),
    )
    op.create_table(
        "hub_activity_log",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("company", sa.String(64), nullable=True),
        sa.Column("integration_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("performed_by", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hub_activity_log"),
    )
    op.create_index("ix_hub_activity_log_at", "hub_activity_log", ["at"])
    op.create_index("ix_hub_activity_log_action", "hub_activity_log", ["action", "id"])
    op.create_index("ix_hub_activity_log_integration", "hub_activity_log", ["integration_id", "company"])


def downgrade() -> None:
    op.drop_table("hub_activity_log")
    op.drop_table("hub_connections")
    op.drop_table("hub_integrations")
