"""Deployment settings, read once from the environment.

Everything that differs between a laptop and production lives here, so the rest of the code takes a
:class:`HubSettings` instead of reading ``os.environ`` itself:

* ``HUB_HOME`` (default ``./.hub``): embedded SQLite database, generated key file, Dagster instance.
* ``HUB_DATABASE_URL``: SQLAlchemy URL of the hub's database (PostgreSQL in production).
* ``HUB_SECRET_KEY``: Fernet key(s), comma-separated, newest first (rotation); else a key file.
* ``HUB_EDITION``: ``enterprise`` (default, every integration) or ``community`` (Email, Exchange Rates).
* ``HUB_CONTROLLED_ENVIRONMENT``: ``true`` for an ITAR-style deployment (hides Slack).
* ``<PROVIDER>_CLIENT_ID`` / ``<PROVIDER>_CLIENT_SECRET``: OAuth clients (Xero, Jira, Onshape, Slack).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

EDITIONS = ("community", "enterprise")
_TRUE = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """A deployment setting has a value the hub cannot use."""


@dataclass(frozen=True)
class HubSettings:
    home: Path
    database_url: str
    secret_keys: tuple[str, ...] = ()
    edition: str = "enterprise"
    controlled_environment: bool = False
    oauth_clients: Mapping[str, bool] = field(default_factory=dict)

    @property
    def key_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def uses_key_file(self) -> bool:
        return not self.secret_keys

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def oauth_configured(self, provider: str) -> bool:
        return bool(self.oauth_clients.get(provider.upper()))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubSettings:
        env = os.environ if env is None else env
        home = Path(env.get("HUB_HOME") or ".hub").expanduser().resolve()
        database_url = env.get("HUB_DATABASE_URL") or f"sqlite:///{home / 'hub.db'}"
        keys = tuple(k.strip() for k in (env.get("HUB_SECRET_KEY") or "").split(",") if k.strip())
        edition = (env.get("HUB_EDITION") or "enterprise").strip().lower()
        if edition not in EDITIONS:
            raise SettingsError(f"HUB_EDITION must be one of {', '.join(EDITIONS)}, not '{edition}'")
        controlled = (env.get("HUB_CONTROLLED_ENVIRONMENT") or "").strip().lower() in _TRUE
        oauth = {
            provider: bool(env.get(f"{provider}_CLIENT_ID")) and bool(env.get(f"{provider}_CLIENT_SECRET"))
            for provider in ("XERO", "JIRA", "ONSHAPE", "SLACK")
        }
        return cls(
            home=home,
            database_url=database_url,
            secret_keys=keys,
            edition=edition,
            controlled_environment=controlled,
            oauth_clients=oauth,
        )
