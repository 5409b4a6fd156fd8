"""The hub's own tables (SQLAlchemy Core). Migrations in ``migrations/`` create and evolve them.

Table names carry a ``hub_`` prefix so they can share a PostgreSQL database with Dagster's storage.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# Our own Alembic version table: Dagster keeps its ``alembic_version`` in the same PostgreSQL database.
VERSION_TABLE = "hub_alembic_version"


class ExactDecimal(TypeDecorator):
    """Exact decimals on both backends: NUMERIC on PostgreSQL, TEXT on SQLite (whose NUMERIC is a float)."""

    impl = Numeric(28, 8)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(28, 8))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(Decimal(value)) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


Payload = JSON().with_variant(postgresql.JSONB(), "postgresql")

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

CONNECTION_STATES = ("draft", "connected", "paused", "disconnected")

integrations = Table(
    "hub_integrations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("category", String(64), nullable=False),
    Column("style", String(32), nullable=False),
)

connections = Table(
    "hub_connections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("company", String(64), nullable=False),
    Column("integration_id", String(64), ForeignKey("hub_integrations.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("secrets", Text, nullable=True),
    Column("secret_fields", JSON, nullable=False),
    Column("start_date", Date, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("connected_at", DateTime(timezone=True), nullable=True),
    Column("last_test_at", DateTime(timezone=True), nullable=True),
    Column("last_test_ok", Boolean, nullable=True),
    Column("last_test_message", Text, nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("company", "integration_id", name="company_integration"),
    CheckConstraint("state IN ('draft', 'connected', 'paused', 'disconnected')", name="state"),
)

activity_log = Table(
    "hub_activity_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(32), nullable=False),
    Column("company", String(64), nullable=True),
    Column("integration_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("details", Text, nullable=False),
    Column("performed_by", String(128), nullable=False),
    Column("run_id", String(64), nullable=True),
    Index("ix_hub_activity_log_at", "at"),
    Index("ix_hub_activity_log_action", "action", "id"),
    Index("ix_hub_activity_log_integration", "integration_id", "company"),
)

inventory = Table(
    "hub_inventory",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("company", String(64), nullable=False),
    Column("integration_id", String(64), nullable=False),
    Column("stream", String(32), nullable=False),
    Column("partition_date", Date, nullable=False),
    Column("record_type", String(32), nullable=False),
    Column("external_key", String(255), nullable=False),
    Column("record_date", Date, nullable=False),
    Column("amount", ExactDecimal(), nullable=True),
    Column("currency", String(8), nullable=True),
    Column("quantity", ExactDecimal(), nullable=True),
    Column("unit", String(32), nullable=True),
    Column("counterparty", String(512), nullable=True),
    Column("description", Text, nullable=True),
    Column("payload", Payload, nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=True),
    UniqueConstraint(
        "company", "integration_id", "stream", "partition_date", "record_type", "external_key", name="record_key"
    ),
    Index("ix_hub_inventory_integration_day", "integration_id", "partition_date"),
    Index("ix_hub_inventory_record_key", "integration_id", "external_key"),
)

webhook_inbox = Table(
    "hub_webhook_inbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("integration_id", String(64), nullable=False),
    Column("company", String(64), nullable=False),
    Column("delivery_key", String(64), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_key", String(128), nullable=False),
    Column("action_type", String(64), nullable=False),
    Column("event_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", Payload, nullable=False),
    UniqueConstraint("integration_id", "company", "delivery_key", name="delivery"),
)

# Coverage: one row per (company, integration, stream, day) a collection attempted, written in the same
# transaction as the day's inventory rows (or with the failure), empty days included, so "collected, empty"
# and "never collected" differ. ``collected_at``/``rows`` describe the last success; ``attempted_at``/
# ``error`` the last attempt (an error newer than the success means the day's last attempt failed); ``failures``
# the failed attempts since the day was last collected (bounds the fleet retry sensor's retries per day). The
# partial index holds only the days whose latest attempt failed: what the retry sensor reads.
coverage = Table(
    "hub_coverage",
    metadata,
    Column("company", String(64), primary_key=True),
    Column("integration_id", String(64), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("collected_at", DateTime(timezone=True), nullable=True),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=True),
    Column("error", String(512), nullable=True),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    CheckConstraint("status IN ('collected', 'failed')", name="status"),
    Index(
        "ix_hub_coverage_failed",
        "integration_id",
        "company",
        "stream",
        "day",
        sqlite_where=text("error IS NOT NULL"),
        postgresql_where=text("error IS NOT NULL"),
    ),
)

# One row per (company, integration, stream): what health, alerts and back-off read, so that questions about
# 10,000 companies never aggregate the per-day coverage table. Written in the same transactions as coverage.
stream_health = Table(
    "hub_stream_health",
    metadata,
    Column("company", String(64), primary_key=True),
    Column("integration_id", String(64), primary_key=True),
    Column("stream", String(32), primary_key=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("last_collected_day", Date, nullable=True),
    Column("last_error", String(512), nullable=True),
    Column("last_error_at", DateTime(timezone=True), nullable=True),
    Column("error_kind", String(16), nullable=True),
    Column("consecutive_failures", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("run_id", String(64), nullable=True),
    Column("failed_check", String(512), nullable=True),  # the latest run's failed asset check, if any
    Index("ix_hub_stream_health_integration", "integration_id", "company"),
)

# Alert incidents: one row per (company, integration, kind) problem while it lasts. The partial unique index lets
# only one incident of a kind be open per connection, so two alert ticks racing open it once; deliveries record
# each message sent per route and phase (opened / resolved), so a message is sent once, never once per retry.
incidents = Table(
    "hub_incidents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("company", String(64), nullable=False),
    Column("integration_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("summary", String(512), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=True),
    Column("run_id", String(64), nullable=True),
    Index(
        "uq_hub_incidents_open",
        "company",
        "integration_id",
        "kind",
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
        postgresql_where=text("resolved_at IS NULL"),
    ),
)

alert_deliveries = Table(
    "hub_alert_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", BigId, ForeignKey("hub_incidents.id", ondelete="CASCADE"), nullable=False),
    Column("route", String(160), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message_id", String(255), nullable=True),
    Column("error", String(512), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    UniqueConstraint("incident_id", "route", "phase", name="message"),
)

# Credential leases (issue 13 §3): one row per (integration, company) while a run uses that credential. A run
# takes it before calling the provider, renews it while it works and deletes it at the end; a row past its
# ``expires_at`` belongs to a run that died and may be taken over. Taken with one conditional upsert.
credential_leases = Table(
    "hub_credential_leases",
    metadata,
    Column("integration_id", String(64), primary_key=True),
    Column("company", String(64), primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
