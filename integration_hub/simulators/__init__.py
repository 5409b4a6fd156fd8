"""Provider simulators: real HTTP servers on 127.0.0.1 that speak each provider's protocol.

Used by tests, the demo and benchmarks. Production code paths never import this package; the CLI
reaches a simulator only through ``integration-hub simulate NAME``, which imports it lazily by name
from :data:`SIMULATORS`. Each simulator module exposes ``main(argv: list[str]) -> None``.
"""

SIMULATORS: dict[str, str] = {
    "karbon": "integration_hub.simulators.karbon",
    "uyumsoft": "integration_hub.simulators.uyumsoft",
    "crs": "integration_hub.simulators.crs",
    "edm": "integration_hub.simulators.edm",
    "qnb": "integration_hub.simulators.qnb",
    "isnet": "integration_hub.simulators.isnet",
    "slack": "integration_hub.simulators.slack",
    "resend": "integration_hub.simulators.resend",
}
