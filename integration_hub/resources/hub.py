"""The hub resource: how the Dagster layer reaches the connection store, the credentials and the inventory.

Credentials are resolved at run time from the encrypted store, per (company, integration), and handed to
the connector in memory only: they never pass through run config, tags, metadata or logs. The resource
itself holds no secret either; it reads the same ``HUB_*`` environment the CLI reads (so ``HUB_SECRET_KEY``
or the key file stays wherever the deployment keeps it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from integration_hub.connectors import build_connector, has_connector
from integration_hub.connectors.base import Connector, DateWindow, Record
from integration_hub.redact import redact
from integration_hub.resources.leases import CredentialLease
from integration_hub.service import ConnectionService
from integration_hub.settings import HubSettings
from integration_hub.store import Store, coverage, inventory, leases
from integration_hub.store import activity as activity_log
from integration_hub.store import connections as rows
from integration_hub.store import webhooks as webhook_inbox
from integration_hub.store.activity import Action, Status
from integration_hub.store.connections import ConnectionRecord
from integration_hub.store.database import utcnow


class CollectionRefused(dg.Failure):
    """The connection may not be collected right now (paused, disconnected, no connector)."""

    def __init__(self, description: str) -> None:
        super().__init__(description=description, allow_retries=False)


@dataclass
class OpenConnection:
    """A connector ready to collect, plus what is needed to keep its secrets out of messages."""

    connector: Connector
    _secret_values: tuple[str, ...] = field(repr=False)

    def redact(self, message: str) -> str:
        return redact(message, self._secret_values)


class HubResource(dg.ConfigurableResource):
    """Connection store + credentials + data inventory for assets, sensors and schedules.

    ``hub_home`` and ``database_url`` override ``HUB_HOME`` / ``HUB_DATABASE_URL`` (tests use them);
    left empty, the environment decides. The ``lease_*`` fields bound a collection's credential lease: how long
    it lives without renewal (a killed run's lease is taken over after that), how long a collection waits for
    another run's, and how often it looks.
    """

    hub_home: str = ""
    database_url: str = ""
    lease_ttl_seconds: int = 60
    lease_wait_seconds: int = 900
    lease_poll_seconds: float = 5.0

    _store: Store | None = PrivateAttr(default=None)

    def settings(self) -> HubSettings:
        import os

        env = dict(os.environ)
        if self.hub_home:
            env["HUB_HOME"] = self.hub_home
        if self.database_url:
            env["HUB_DATABASE_URL"] = self.database_url
        return HubSettings.from_env(env)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings())
        return self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None

    # -------------------------------------------------------------- connections
    def connection(self, company: str, integration_id: str) -> ConnectionRecord | None:
        with self.store.engine.connect() as conn:
            return rows.get(conn, company, integration_id)

    def collecting(self, integration_id: str) -> list[ConnectionRecord]:
        """Connections of ``integration_id`` that are switched on and not paused (one query)."""
        with self.store.engine.connect() as conn:
            return rows.list_connections(conn, integration_ids=[integration_id], states=["connected"])

    def open_connector(self, company: str, integration_id: str) -> OpenConnection:
        """The connector for a collecting connection, with its credentials decrypted in memory."""
        record = self.connection(company, integration_id)
        if record is None:
            raise CollectionRefused(f"{company} has no {integration_id} connection")
        if not record.collecting:
            raise CollectionRefused(
                f"{company}/{integration_id} is {record.state}; collection happens only while connected"
            )
        if not has_connector(integration_id):
            raise CollectionRefused(f"no connector is implemented for {integration_id} yet")
        config = ConnectionService(self.store).connector_config(record)
        return OpenConnection(build_connector(integration_id, config), tuple(config.secrets.values()))

    # -------------------------------------------------------------- credential leases
    def hold_credential(self, company: str, integration_id: str, run_id: str, *, log: Any) -> CredentialLease:
        """The lease on this connection's credential for ``run_id``: waits (bounded) for another run's, renews
        while held, releases at the end."""
        return CredentialLease(
            self,
            company=company,
            integration_id=integration_id,
            run_id=run_id,
            ttl=timedelta(seconds=self.lease_ttl_seconds),
            wait=self.lease_wait_seconds,
            poll=self.lease_poll_seconds,
            log=log,
        )

    def take_lease(self, company: str, integration_id: str, run_id: str, ttl: timedelta) -> leases.Lease | None:
        with self.store.engine.begin() as conn:
            return leases.acquire(
                conn, integration_id=integration_id, company=company, run_id=run_id, ttl=ttl, now=utcnow()
            )

    def renew_lease(self, company: str, integration_id: str, run_id: str, ttl: timedelta) -> bool:
        with self.store.engine.begin() as conn:
            return leases.renew(
                conn, integration_id=integration_id, company=company, run_id=run_id, ttl=ttl, now=utcnow()
            )

    def release_lease(self, company: str, integration_id: str, run_id: str) -> bool:
        with self.store.engine.begin() as conn:
            return leases.release(conn, integration_id=integration_id, company=company, run_id=run_id)

    # -------------------------------------------------------------- inventory
    def replace_window(
        self,
        *,
        company: str,
        integration_id: str,
        stream: str,
        window: DateWindow,
        records: Iterable[Record],
        run_id: str,
    ) -> inventory.WriteResult:
        return inventory.replace_window(
            self.store.engine,
            company=company,
            integration_id=integration_id,
            stream=stream,
            window=window,
            records=records,
            run_id=run_id,
        )

    def uncollected_since_start(self, company: str, integration_id: str, stream: str, last: date) -> list[date]:
        """Days from the connection's start date to ``last`` without a successful collection (coverage)."""
        start = self.start_date(company, integration_id)
        if start is None or last < start:
            return []
        with self.store.engine.connect() as conn:
            windows = {company: DateWindow.inclusive(start, last)}
            missing = coverage.uncollected(conn, integration_id=integration_id, day_streams=[stream], windows=windows)
        return missing[company]

    def preview(self, *, company: str, integration_id: str, stream: str, window: DateWindow, limit: int = 5) -> list:
        with self.store.engine.connect() as conn:
            return inventory.preview(
                conn, company=company, integration_id=integration_id, stream=stream, window=window, limit=limit
            )

    def record_failure(
        self,
        *,
        company: str,
        integration_id: str,
        stream: str,
        window: DateWindow,
        error: str,
        error_kind: str,
        details: str,
        run_id: str,
    ) -> coverage.StreamHealth:
        """A failed collection: the activity log's Sync Attempt and the coverage/health rows in one transaction
        (the window's inventory rows are untouched). Returns the stream's health, with its next back-off."""
        now = utcnow()
        with self.store.engine.begin() as conn:
            activity_log.append(
                conn,
                action=Action.SYNC_ATTEMPT,
                status=Status.ERROR,
                details=details,
                performed_by="system",
                company=company,
                integration_id=integration_id,
                run_id=run_id,
            )
            return coverage.record_failed(
                conn,
                company=company,
                integration_id=integration_id,
                stream=stream,
                window=window,
                error=error,
                error_kind=error_kind,
                run_id=run_id,
                now=now,
            )

    def record_checks(self, company: str, integration_id: str, stream: str, failed: str | None) -> None:
        with self.store.engine.begin() as conn:
            coverage.record_checks(conn, company=company, integration_id=integration_id, stream=stream, failed=failed)

    def stream_health(self, company: str, integration_id: str) -> list[coverage.StreamHealth]:
        with self.store.engine.connect() as conn:
            return coverage.stream_health(conn, pairs=[(company, integration_id)])

    # -------------------------------------------------------------- activity log
    def log_sync_attempt(
        self,
        *,
        company: str,
        integration_id: str,
        ok: bool,
        details: str,
        run_id: str,
    ) -> None:
        with self.store.engine.begin() as conn:
            activity_log.append(
                conn,
                action=Action.SYNC_ATTEMPT,
                status=Status.SUCCESS if ok else Status.ERROR,
                details=details,
                performed_by="system",
                company=company,
                integration_id=integration_id,
                run_id=run_id,
            )

    def activations_after(self, integration_id: str, after_id: int) -> list[Any]:
        """Connect / Resume / start-date edits of ``integration_id`` logged after ``after_id`` (oldest first)."""
        with self.store.engine.connect() as conn:
            return activity_log.query(
                conn,
                actions=[str(Action.CONNECT), str(Action.RESUME), str(Action.EDIT)],
                integration_id=integration_id,
                status=str(Status.SUCCESS),
                after_id=after_id,
                newest_first=False,
            )

    def inbox_after(self, integration_id: str, after_id: int) -> list[webhook_inbox.InboxEvent]:
        """Webhook notifications of ``integration_id`` stored after ``after_id`` (oldest first)."""
        with self.store.engine.connect() as conn:
            return webhook_inbox.after(conn, integration_id, after_id)

    def start_date(self, company: str, integration_id: str) -> date | None:
        record = self.connection(company, integration_id)
        return record.start_date if record else None
