"""Where a collection run's steps execute: in the run's own process (default) or on dagster-celery workers.

Read once from the environment when the code location loads and passed in (``build_definitions(executor=...)``):

* ``HUB_EXECUTOR``: ``in_process`` (default: a run's few API-bound steps share one process and the provider's
  in-process rate limiter, see ``jobs.py``) or ``celery`` (each step is a Celery task on a broker; workers on
  other machines execute them).
* ``HUB_CELERY_BROKER`` (``pyamqp://guest@127.0.0.1:5672//``): RabbitMQ (``pyamqp://``, ``amqp://``,
  ``amqps://``) or Redis (``redis://``, ``rediss://``).
* ``HUB_CELERY_BACKEND`` (``rpc://``): where workers send step results back (``rpc://`` over the broker, or Redis).

One queue per provider: every step of ``collect_<integration>`` is sent to the queue named after the integration
(the job's default queue, and the ``dagster-celery/queue`` op tag of its assets for runs of the implicit asset job),
so a provider's concurrency against its API is the number of workers listening on its queue, and a slow provider
never holds workers another provider's steps are waiting for. Workers are started with ``-q <integration>``
(README, "Distributed execution"); the worker's config YAML is :func:`worker_config`, so executor and workers
cannot disagree on the broker.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import dagster as dg

from integration_hub.settings import SettingsError

IN_PROCESS = "in_process"
CELERY = "celery"
EXECUTORS = (IN_PROCESS, CELERY)
DEFAULT_BROKER = "pyamqp://guest@127.0.0.1:5672//"
DEFAULT_BACKEND = "rpc://"
BROKER_SCHEMES = ("pyamqp", "amqp", "amqps", "redis", "rediss")
BACKEND_SCHEMES = ("rpc", "redis", "rediss")
# dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG, not imported: dagster-celery is loaded only when chosen. A step
# without it goes to its job's default queue, dagster-celery's "dagster" unless the job sets one.
QUEUE_TAG = "dagster-celery/queue"

# Celery settings of both sides (executor and workers). A worker reserves one step at a time (dagster-celery's
# prefetch of 1); a step is acknowledged when it starts, not when it ends: a collection can run for hours, longer
# than RabbitMQ's consumer_timeout (30 min) or Redis's visibility_timeout (1 h) after which an unacknowledged task
# would be delivered again while it still runs.
CELERY_SETTINGS: Mapping[str, Any] = {"worker_prefetch_multiplier": 1, "task_acks_late": False}


@dataclass(frozen=True)
class ExecutorConfig:
    """The deployment's choice of executor (``HUB_EXECUTOR``) and, for Celery, its broker and result backend."""

    kind: str = IN_PROCESS
    broker: str = DEFAULT_BROKER
    backend: str = DEFAULT_BACKEND

    @property
    def celery(self) -> bool:
        return self.kind == CELERY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ExecutorConfig:
        env = os.environ if env is None else env
        kind = (env.get("HUB_EXECUTOR") or IN_PROCESS).strip().lower()
        if kind not in EXECUTORS:
            raise SettingsError(f"HUB_EXECUTOR must be one of {', '.join(EXECUTORS)}, not '{kind}'")
        broker = _url("HUB_CELERY_BROKER", env.get("HUB_CELERY_BROKER") or DEFAULT_BROKER, BROKER_SCHEMES)
        backend = _url("HUB_CELERY_BACKEND", env.get("HUB_CELERY_BACKEND") or DEFAULT_BACKEND, BACKEND_SCHEMES)
        return cls(kind=kind, broker=broker, backend=backend)

    def celery_config(self, default_queue: str | None = None) -> dict[str, Any]:
        """The ``celery_executor`` config block (the same block a worker's ``-y`` YAML holds under
        ``execution.config``). ``default_queue``: where steps without a queue tag go (dagster-celery's
        ``dagster`` queue when ``None``)."""
        settings = dict(CELERY_SETTINGS)
        if default_queue:
            settings["task_default_queue"] = default_queue
        return {"broker": self.broker, "backend": self.backend, "config_source": settings}


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    value = value.strip()
    scheme = urlsplit(value).scheme if "://" in value else ""
    if scheme not in schemes:
        # Only the scheme is repeated: the rest of a broker URL may hold a password.
        shown = f"'{scheme}://…'" if scheme else "no scheme://"
        wanted = ", ".join(f"{s}://" for s in schemes)
        raise SettingsError(f"{name} must be a URL starting with one of {wanted}; got {shown}")
    return value


def queue_tags(integration_id: str) -> dict[str, str]:
    """Op tags sending an integration's steps to its own Celery queue (ignored by the in-process executor)."""
    return {QUEUE_TAG: integration_id}


def collection_executor(cfg: ExecutorConfig, default_queue: str | None = None) -> dg.ExecutorDefinition:
    """The executor of collection runs: Dagster's in-process executor, or dagster-celery's configured from ``cfg``.

    ``default_queue`` is the queue of steps without a ``dagster-celery/queue`` tag: the integration for its
    ``collect_<id>`` job, so that job's steps reach the provider's workers whatever its assets' tags.
    The broker URL (which may hold a password) is part of the executor definition only, never of a run's config
    or tags; dagster-celery is imported only when chosen.
    """
    if not cfg.celery:
        return dg.in_process_executor
    from dagster_celery import celery_executor

    return celery_executor.configured(
        cfg.celery_config(default_queue),
        name=f"celery_{default_queue}" if default_queue else "celery",
    )


def worker_config(cfg: ExecutorConfig) -> dict[str, Any]:
    """The YAML document (as a dict) for ``dagster-celery worker start -y``: the executor's broker, backend and
    Celery settings, so a worker consumes exactly what the runs publish."""
    return {"execution": {"config": cfg.celery_config()}}
