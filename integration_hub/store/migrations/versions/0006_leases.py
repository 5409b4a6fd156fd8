"""Credential leases: which run uses a company's credential for an integration, and until when.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_credential_leases",
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("company", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("integration_id", "company", name="pk_hub_credential_leases"),
    )


def downgrade() -> None:
    op.drop_table("hub_credential_leases")
