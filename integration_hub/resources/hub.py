"""The hub resource: how the Dagster layer reaches the hub (its store and the collection service).

Assets get the :class:`~integration_hub.service.collection.CollectionService` from :meth:`HubResource.collection`
and leave the collection itself, credentials included, to it: credentials are resolved at run time from the
encrypted store and handed to the connector in memory only, never through run config, tags, metadata or logs.
The resource holds no secret either; it reads the same ``HUB_*`` environment the CLI reads (so ``HUB_SECRET_KEY``
or the key file stays wherever the deployment keeps it). Sensors and schedules read the store through it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from integration_hub.service.collection import CollectionService, LeasePolicy
from integration_hub.settings import HubSettings
from integration_hub.store import Store, coverage
from integration_hub.store import activity as activity_log
from integration_hub.store import connections as rows
from integration_hub.store import webhooks as webhook_inbox
from integration_hub.store.activity import Action, Status
from integration_hub.store.connections import ConnectionRecord


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
        """Connections of ``integration_id`` that are switched on and not paused (the collection service's query)."""
        return self.collection().collecting(integration_id)

    # -------------------------------------------------------------- collection
    def collection(self) -> CollectionService:
        """The service that collects and records windows (both layouts), with this resource's lease bounds."""
        lease = LeasePolicy(self.lease_ttl_seconds, self.lease_wait_seconds, self.lease_poll_seconds)
        return CollectionService(self.store, lease)

    def stream_health(self, company: str, integration_id: str) -> list[coverage.StreamHealth]:
        with self.store.engine.connect() as conn:
            return coverage.stream_health(conn, pairs=[(company, integration_id)])

    # -------------------------------------------------------------- what the sensors read
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
