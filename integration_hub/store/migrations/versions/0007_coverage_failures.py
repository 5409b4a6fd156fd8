"""Per-day failure count on coverage, and a partial index on the failed days the retry sensor reads.

``failures`` counts the attempts at a day that failed since it was last collected (a success resets it): the
fleet retry sensor bounds its retries per day by it, whatever the stream's ``consecutive_failures`` (which a
success on another window resets). The partial index holds only days whose latest attempt failed, so the retry
query's cost follows the failures, not the table's history.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_hub_coverage_failed"
WHERE = "error IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("hub_coverage") as batch:
        batch.add_column(sa.Column("failures", sa.Integer, nullable=False, server_default="0"))
    # A day failing before this revision has failed at least once.
    op.execute("UPDATE hub_coverage SET failures = 1 WHERE error IS NOT NULL")
    op.create_index(
        INDEX,
        "hub_coverage",
        ["integration_id", "company", "stream", "day"],
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text(WHERE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, "hub_coverage")
    with op.batch_alter_table("hub_coverage") as batch:
        batch.drop_column("failures")
