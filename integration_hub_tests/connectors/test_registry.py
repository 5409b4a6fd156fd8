"""Every collecting integration has a registered connector whose streams are exactly the asset table's."""

from __future__ import annotations

import pytest

from integration_hub.assets.streams import STREAMS, integrations
from integration_hub.catalog import DEFINITIONS
from integration_hub.connectors import CONNECTORS, build_connector
from integration_hub.connectors.base import Connector, ConnectorConfig

SECRETS = {
    "karbon": {"access_key": "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln"},
    "isnet": {},
}
SETTINGS = {
    "karbon": {"application_id": "550e8400-e29b-41d4-a716-446655440000"},
    "isnet": {"vkn": "4810173324"},
    "qnb_esolutions": {"vkn": "1234567890", "username": "u"},
}


def test_the_registry_covers_exactly_the_collecting_integrations():
    assert set(CONNECTORS) == set(integrations())
    assert set(CONNECTORS) <= {definition.id for definition in DEFINITIONS}


@pytest.mark.parametrize("integration_id", sorted(CONNECTORS))
def test_each_connector_builds_from_catalog_settings_and_serves_the_asset_streams(integration_id):
    config = ConnectorConfig(
        {
            "username": "u",
            "start_date": "2026-01-01",
            "base_url": "http://127.0.0.1:9",
            **SETTINGS.get(integration_id, {}),
        },
        SECRETS.get(integration_id, {"password": "S3CRET-password"}),
        company="acme",
    )
    connector = build_connector(integration_id, config)
    try:
        assert isinstance(connector, Connector)
        expected = {spec.stream for spec in STREAMS if spec.integration_id == integration_id}
        assert set(connector.streams()) == expected
        assert all(value not in repr(connector) for value in config.secrets.values())
    finally:
        connector.close()
