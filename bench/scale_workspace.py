"""The code location the scale benchmark's ``dagster-webserver`` loads: the hub's real definitions.

The layout comes from ``HUB_PARTITIONING`` and the hub database from ``HUB_DATABASE_URL``, as in a deployment; the
EDM integration is routed to the benchmark's fake provider (never called by the pages measured, but the
definitions are then exactly those the benchmark's runs used).
"""

from bench.scale_connector import install
from integration_hub.definitions import build_definitions

install("edm")
defs = build_definitions()
