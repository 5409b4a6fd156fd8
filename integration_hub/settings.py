"""Deployment settings, read once from the environment.

Everything that differs between a laptop and production lives here, so the rest of the code takes a
:class:`HubSettings` instead of reading ``os.environ`` itself:

* ``HUB_HOME`` (default ``./.hub``): embedded SQLite database, generated key file, Dagster instance.
* ``HUB_DATABASE_URL``: SQLAlchemy URL of the hub's database (PostgreSQL in production).
* ``HUB_SECRET_KEY``: Fernet key(s), comma-separated, newest first (rotation); else a key file.
* ``HUB_EDITION``: ``enterprise`` (default, every integration) or ``community`` (Email, Exchange Rates).
* ``HUB_CONTROLLED_ENVIRONMENT``: ``true`` for an ITAR-style deployment (hides Slack).
* ``HUB_ALERT_BEHIND_DAYS`` (2): a stream whose newest collected day is further behind yesterday is "behind".
* ``HUB_ALERT_OPS_COMPANY``: the company whose Slack / Email connections receive every alert (the operations
  route), besides each company's own; ``HUB_DAGSTER_URL``: the UI's base URL, for links in alerts.
* ``<PROVIDER>_CLIENT_ID`` / ``<PROVIDER>_CLIENT_SECRET``: OAuth clients (Xero, Jira, Onshape, Slack).
* ``HUB_SCHEDULE_CRON`` (``0 2 * * *``), ``HUB_LOOKBACK_DAYS`` (3), ``HUB_SENSOR_INTERVAL_SECONDS`` (30),
  ``HUB_MAX_DAYS_PER_RUN`` (92), ``HUB_PARTITIONS_START`` (2020-01-01), ``HUB_MAX_RETRIES`` (3),
  ``HUB_RETRY_DELAY_SECONDS`` (30, doubled per retry, with jitter): the collection schedule.
* ``HUB_PARTITIONING``: ``company_day`` (default: each stream's asset keyed by company × day, for deployments of
  up to ~40 companies) or ``fleet`` (assets keyed by day, the companies collected as data in shards of
  ``HUB_COMPANIES_PER_RUN``, default 500): see the README's "Choosing a layout".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

EDITIONS = ("community", "enterprise")
COMPANY_DAY = "company_day"
FLEET = "fleet"
PARTITIONINGS = (COMPANY_DAY, FLEET)
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
    alert_behind_days: int = 2
    alert_ops_company: str | None = None
    dagster_url: str | None = None

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
            alert_behind_days=_int("HUB_ALERT_BEHIND_DAYS", cls.alert_behind_days, minimum=0, env=env),
            alert_ops_company=(env.get("HUB_ALERT_OPS_COMPANY") or "").strip() or None,
            dagster_url=(env.get("HUB_DAGSTER_URL") or "").strip().rstrip("/") or None,
        )


def _int(name: str, default: int, minimum: int = 1, env: Mapping[str, str] | None = None) -> int:
    raw = (os.environ if env is None else env).get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got '{raw}'") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class CollectionConfig:
    """How the Dagster layer schedules collection (read when the code location loads)."""

    partitions_start: str = "2020-01-01"
    schedule_cron: str = "0 2 * * *"
    lookback_days: int = 3
    sensor_interval_seconds: int = 30
    max_days_per_run: int = 92
    max_retries: int = 3
    retry_delay_seconds: int = 30
    partitioning: str = COMPANY_DAY
    companies_per_run: int = 500

    @property
    def fleet(self) -> bool:
        """Assets keyed by day with the companies as data (``HUB_PARTITIONING=fleet``)."""
        return self.partitioning == FLEET

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CollectionConfig:
        env = os.environ if env is None else env
        start = env.get("HUB_PARTITIONS_START") or cls.partitions_start
        try:
            date.fromisoformat(start)
        except ValueError:
            raise SettingsError(f"HUB_PARTITIONS_START must be a date as YYYY-MM-DD, got '{start}'") from None
        partitioning = (env.get("HUB_PARTITIONING") or COMPANY_DAY).strip().lower()
        if partitioning not in PARTITIONINGS:
            raise SettingsError(f"HUB_PARTITIONING must be one of {', '.join(PARTITIONINGS)}, not '{partitioning}'")
        return cls(
            partitions_start=start,
            schedule_cron=env.get("HUB_SCHEDULE_CRON") or cls.schedule_cron,
            lookback_days=_int("HUB_LOOKBACK_DAYS", cls.lookback_days, minimum=0, env=env),
            sensor_interval_seconds=_int("HUB_SENSOR_INTERVAL_SECONDS", cls.sensor_interval_seconds, env=env),
            max_days_per_run=_int("HUB_MAX_DAYS_PER_RUN", cls.max_days_per_run, env=env),
            max_retries=_int("HUB_MAX_RETRIES", cls.max_retries, minimum=0, env=env),
            retry_delay_seconds=_int("HUB_RETRY_DELAY_SECONDS", cls.retry_delay_seconds, minimum=0, env=env),
            partitioning=partitioning,
            companies_per_run=_int("HUB_COMPANIES_PER_RUN", cls.companies_per_run, env=env),
        )
