"""Alert incidents and their deliveries; the failed asset check of a stream's latest run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("hub_stream_health") as batch:
        batch.add_column(sa.Column("failed_check", sa.String(512), nullable=True))
    op.create_table(
        "hub_incidents",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("company", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("summary", sa.String(512), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hub_incidents"),
    )
    op.create_index(
        "uq_hub_incidents_open",
        "hub_incidents",
        ["company", "integration_id", "kind"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "hub_alert_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("incident_id", BigId, nullable=False),
        sa.Column("route", sa.String(160), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("error", sa.String(512), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hub_alert_deliveries"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["hub_incidents.id"],
            name="fk_hub_alert_deliveries_incident_id_hub_incidents",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("incident_id", "route", "phase", name="uq_hub_alert_deliveries_message"),
    )


def downgrade() -> None:
    op.drop_table("hub_alert_deliveries")
    op.drop_index("uq_hub_incidents_open", "hub_incidents")
    op.drop_table("hub_incidents")
    with op.batch_alter_table("hub_stream_health") as batch:
        batch.drop_column("failed_check")
