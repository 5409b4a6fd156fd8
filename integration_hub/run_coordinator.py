"""The run queue every run goes through with the hub's tags, however it was launched.

Dagster's queue applies ``tag_concurrency_limits`` (one run per ``hub/credential``, four per ``hub/integration``)
only to runs carrying those tags. The sensors and schedules set them; a run launched from the UI's Materialize
dialog, a UI backfill or the GraphQL API runs as ``__ASSET_JOB`` with partition tags only. This coordinator adds
the missing hub tags (from the run's asset selection and partition tags, :func:`~integration_hub.jobs.
inferred_hub_tags`) to the stored run before queueing it, so the limits hold for every queued run. Runs that
bypass the queue altogether (``dagster asset materialize`` executes in its own process) are kept off a busy
credential by the collection's lease (:mod:`integration_hub.store.leases`).

Configured as ``run_coordinator: {module: integration_hub.run_coordinator, class: HubRunCoordinator}`` in the
project's ``dagster.yaml`` and in the embedded instance's; its config is the ``QueuedRunCoordinator``'s.
"""

from __future__ import annotations

from dagster import DagsterRun, QueuedRunCoordinator, SubmitRunContext

from integration_hub.jobs import inferred_hub_tags


class HubRunCoordinator(QueuedRunCoordinator):
    """:class:`QueuedRunCoordinator` that tags a run with its integration, company and credential first."""

    def submit_run(self, context: SubmitRunContext) -> DagsterRun:
        run = context.dagster_run
        missing = inferred_hub_tags(run.tags, run.asset_selection or (), run.job_name)
        if missing:
            self._instance.add_run_tags(run.run_id, missing)
            run = run.with_tags({**run.tags, **missing})
        return super().submit_run(SubmitRunContext(run, context.workspace))
