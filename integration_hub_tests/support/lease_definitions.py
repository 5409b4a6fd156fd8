"""The real code location with Uyumsoft routed to the timed test connector (credential-lease end-to-end test)."""

from integration_hub import connectors

connectors.CONNECTORS["uyumsoft"] = "integration_hub_tests.support.timed_connector:build"

from integration_hub.definitions import build_definitions  # noqa: E402 - after the routing above
from integration_hub.resources.hub import HubResource  # noqa: E402

# A killed run's lease expires after 6 s here (60 s in production), to keep the test short.
defs = build_definitions(hub=HubResource(lease_ttl_seconds=6))
