"""The hub's own storage: connections, encrypted credentials, activity log, data inventory.

Knows nothing of Dagster or of connectors. :class:`Store` bundles the engine (migrated on open) and the
secret box; the modules hold the table-level functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from integration_hub.settings import HubSettings
from integration_hub.store.database import make_engine, upgrade
from integration_hub.store.secrets import SecretBox


@dataclass
class Store:
    engine: Engine
    box: SecretBox
    settings: HubSettings

    @classmethod
    def open(cls, settings: HubSettings) -> Store:
        """Open (and migrate) the database named by ``settings``; load or create the secret key."""
        engine = make_engine(settings.database_url)
        upgrade(engine)
        return cls(engine=engine, box=SecretBox.from_settings(settings), settings=settings)

    def dispose(self) -> None:
        self.engine.dispose()
