"""The real code location, with Uyumsoft routed to the connector written for the tests.

Loaded by ``dagster-daemon`` in the end-to-end test through a test workspace: everything else (assets,
sensor, schedule, resource, store, inventory) is the production code.
"""

from integration_hub import connectors

connectors.CONNECTORS["uyumsoft"] = "integration_hub_tests.support.fake_connector:build"

from integration_hub.definitions import build_definitions  # noqa: E402 - after the routing above

defs = build_definitions()
