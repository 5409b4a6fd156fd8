"""The connector written for the tests, standing in for Karbon, whose catalog requires a JWT-shaped access key.

The shared fake accepts a credential that starts with ``GOOD``, which Karbon's field validation (``eyJ…``) refuses
before any Test Connection; here a credential is valid when it carries ``GOOD`` anywhere (``eyJGOOD.a.b``).
Records, failure knobs and calls are the shared fake's.
"""

from __future__ import annotations

from integration_hub.connectors.base import ConnectionTestResult, ConnectorConfig
from integration_hub_tests.support.fake_connector import CALLS, FakeConnector


class KarbonShapedFake(FakeConnector):
    def test_connection(self) -> ConnectionTestResult:
        CALLS.append(("test", self.config.company))
        bad = [name for name, value in self.config.secrets.items() if "GOOD" not in value]
        if bad or not self.config.secrets:
            return ConnectionTestResult(False, f"the provider rejected {', '.join(bad) or 'the credentials'}")
        return ConnectionTestResult(True, "authenticated as test account")


def build(config: ConnectorConfig) -> KarbonShapedFake:
    return KarbonShapedFake(config)
