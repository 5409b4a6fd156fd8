"""What every e-invoice connector inherits from the collector: the service-URL rule."""

from __future__ import annotations

import pytest

from integration_hub.connectors.base import ConfigurationError, ConnectorConfig
from integration_hub.connectors.crs_soft import CrsSoftConnector
from integration_hub.connectors.edm import EdmConnector
from integration_hub.connectors.isnet import IsnetConnector
from integration_hub.connectors.qnb_esolutions import QnbConnector
from integration_hub.connectors.uyumsoft import UyumsoftConnector

CONNECTORS = (CrsSoftConnector, EdmConnector, IsnetConnector, QnbConnector, UyumsoftConnector)


@pytest.mark.parametrize("connector", CONNECTORS)
@pytest.mark.parametrize("base_url", ["http://efatura.example.com", "http://10.0.0.5:8080/Services/Integration"])
def test_plain_http_to_a_remote_host_is_refused_before_any_password_is_sent(connector, base_url) -> None:
    with pytest.raises(ConfigurationError) as caught:
        connector.service_url(ConnectorConfig(settings={"base_url": base_url}))
    assert str(caught.value) == (
        f"{connector.provider}: base_url must start with https:// (plain http:// only to 127.0.0.1/localhost), "
        f"got '{base_url}'"
    )


@pytest.mark.parametrize("connector", CONNECTORS)
def test_https_and_loopback_http_are_accepted(connector) -> None:
    for base_url in ("https://efatura.example.com/custom/path", "http://127.0.0.1:8403", "http://localhost:9"):
        url = connector.service_url(ConnectorConfig(settings={"base_url": base_url}))
        assert url.startswith(base_url)
    for environment in ("test", "production"):
        assert connector.service_url(ConnectorConfig(settings={"environment": environment})).startswith("https://")
