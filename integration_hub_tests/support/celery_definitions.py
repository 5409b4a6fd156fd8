"""The real code location for the Celery end-to-end test, with Karbon routed to the connector written for the tests
(``celery_connector.py``).

Imported by ``dagster job execute`` (the run's process) and by every ``dagster-celery`` worker (which rebuild the
job from this module to execute a step), so all of them collect through the fake connector. Executor, broker and
layout come from the environment like in production (``HUB_EXECUTOR=celery``, ``HUB_CELERY_BROKER``,
``HUB_PARTITIONING``); everything else (assets, resources, store, inventory) is the production code.
"""

from integration_hub import connectors

connectors.CONNECTORS["karbon"] = "integration_hub_tests.support.celery_connector:build"

import dagster as dg  # noqa: E402

from integration_hub.definitions import build_definitions  # noqa: E402 - after the routing above
from integration_hub.resources.shard import SHARD_RESOURCE, FleetShard  # noqa: E402

defs = build_definitions()
if SHARD_RESOURCE not in (defs.resources or {}):  # main's definitions do not bind the fleet shard resource yet
    defs = dg.Definitions.merge(defs, dg.Definitions(resources={SHARD_RESOURCE: FleetShard()}))
