"""Every collecting integration has a registered connector that builds from settings the catalog validated
(nothing the catalog would reject), serves exactly the asset table's streams, and uses the defaults the
catalog declares."""

from __future__ import annotations

from datetime import date

import pytest

from integration_hub.assets.streams import STREAMS, integrations
from integration_hub.catalog import DEFINITIONS, get_definition
from integration_hub.connectors import CONNECTORS, build_connector
from integration_hub.connectors.base import Connector, ConnectorConfig
from integration_hub.connectors.efatura.collector import EInvoiceConnector
from integration_hub.connectors.karbon import settings as karbon_settings
from integration_hub.connectors.qnb_esolutions import QnbConnector
from integration_hub.connectors.qnb_esolutions import settings as qnb_settings
from integration_hub.connectors.uyumsoft import UyumsoftConnector

TODAY = date(2026, 1, 2)
PASSWORD = "S3CRET-password"
# The required fields of each definition, as a person would enter them; start_date and base_url are common.
VALUES = {
    "edm": {"username": "u", "password": PASSWORD},
    "qnb_esolutions": {"username": "u", "password": PASSWORD, "vkn": "1234567890"},
    "crs_soft": {"username": "u", "password": PASSWORD},
    "isnet": {"vkn": "4810173324"},
    "uyumsoft": {"username": "u", "password": PASSWORD},
    "karbon": {
        "application_id": "550e8400-e29b-41d4-a716-446655440000",
        "access_key": "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln",
    },
}


def _config(integration_id: str, **extra: str) -> ConnectorConfig:
    """What the hub hands a connector: the catalog's cleaned values (defaults filled in), split into
    settings and secrets by the definition."""
    definition = get_definition(integration_id)
    values = {"start_date": "2026-01-01", "base_url": "http://127.0.0.1:9", **VALUES[integration_id], **extra}
    cleaned, errors = definition.validate(values, complete=True, today=TODAY)
    assert errors == []
    secrets = {name: cleaned.pop(name) for name in definition.secret_fields if name in cleaned}
    return ConnectorConfig(cleaned, secrets, company="acme")


def test_the_registry_covers_exactly_the_collecting_integrations():
    assert set(CONNECTORS) == set(integrations()) == set(VALUES)
    assert set(CONNECTORS) <= {definition.id for definition in DEFINITIONS}


@pytest.mark.parametrize("integration_id", sorted(CONNECTORS))
def test_each_connector_builds_from_catalog_settings_and_serves_the_asset_streams(integration_id):
    config = _config(integration_id)
    connector = build_connector(integration_id, config)
    try:
        assert isinstance(connector, Connector)
        expected = {spec.stream for spec in STREAMS if spec.integration_id == integration_id}
        assert set(connector.streams()) == expected
        assert set(config.secrets) == {name for name in VALUES[integration_id] if name in ("password", "access_key")}
        assert all(value not in repr(connector) for value in config.secrets.values())
    finally:
        connector.close()


@pytest.mark.parametrize("integration_id", sorted(CONNECTORS))
def test_catalog_defaults_are_the_connectors_own(integration_id):
    """The catalog fills in its defaults, so a default that differed from the connector's would silently
    change the connector's behaviour."""
    definition = get_definition(integration_id)
    connector = build_connector(integration_id, _config(integration_id))
    try:
        rate = definition.field("requests_per_minute").default
        if isinstance(connector, EInvoiceConnector):
            assert rate == type(connector).requests_per_minute
        else:
            assert rate == karbon_settings.DEFAULT_REQUESTS_PER_MINUTE
        if isinstance(connector, UyumsoftConnector):
            assert definition.field("auth_style").default == type(connector).default_auth_style
            assert connector.client.auth_style == "ws_security"
        if isinstance(connector, QnbConnector):
            assert definition.field("download_batch").default == qnb_settings.DOWNLOAD_BATCH == connector.download_batch
    finally:
        connector.close()


@pytest.mark.parametrize(
    ("integration_id", "values", "check"),
    [
        ("uyumsoft", {"auth_style": "user_info"}, lambda c: c.client.auth_style == "user_info"),
        ("crs_soft", {"auth_style": "user_info"}, lambda c: c.client.auth_style == "user_info"),
        ("qnb_esolutions", {"download_batch": "25"}, lambda c: c.download_batch == 25),
        ("isnet", {"requests_per_minute": "30"}, lambda c: c.client.soap.http.bucket.fill_rate == 30 / 60),
        ("edm", {"requests_per_minute": "45"}, lambda c: c.client.soap.http.bucket.fill_rate == 45 / 60),
    ],
)
def test_connector_options_can_be_set_through_the_catalog(integration_id, values, check):
    connector = build_connector(integration_id, _config(integration_id, **values))
    try:
        assert check(connector)
    finally:
        connector.close()
