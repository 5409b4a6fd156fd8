"""Coverage per (company, integration, stream, day) and health per stream.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEY = ("company", "integration_id", "stream")


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column("company", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("stream", sa.String(32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "hub_coverage",
        *_key_columns(),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("error", sa.String(512), nullable=True),
        sa.PrimaryKeyConstraint(*KEY, "day", name="pk_hub_coverage"),
        sa.CheckConstraint("status IN ('collected', 'failed')", name="ck_hub_coverage_status"),
    )
    op.create_table(
        "hub_stream_health",
        *_key_columns(),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_collected_day", sa.Date, nullable=True),
        sa.Column("last_error", sa.String(512), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_kind", sa.String(16), nullable=True),
        sa.Column("consecutive_failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint(*KEY, name="pk_hub_stream_health"),
    )
    op.create_index("ix_hub_stream_health_integration", "hub_stream_health", ["integration_id", "company"])
    # What was collected before coverage existed: every day that has rows (an earlier empty day cannot be told
    # from one never collected, and stays a gap until the daily lookback or a backfill covers it again).
    op.execute(
        "INSERT INTO hub_coverage (company, integration_id, stream, day, status, rows, collected_at, attempted_at, "
        "run_id, error) SELECT company, integration_id, stream, partition_date, 'collected', COUNT(*), "
        "MAX(collected_at), MAX(collected_at), MAX(run_id), NULL FROM hub_inventory "
        "GROUP BY company, integration_id, stream, partition_date"
    )
    op.execute(
        "INSERT INTO hub_stream_health (company, integration_id, stream, last_attempt_at, last_success_at, "
        "last_collected_day, consecutive_failures) SELECT company, integration_id, stream, MAX(collected_at), "
        "MAX(collected_at), MAX(day), 0 FROM hub_coverage GROUP BY company, integration_id, stream"
    )


def downgrade() -> None:
    op.drop_index("ix_hub_stream_health_integration", "hub_stream_health")
    op.drop_table("hub_stream_health")
    op.drop_table("hub_coverage")
