"""Real ``dagster-celery`` workers for tests: an isolated RabbitMQ virtual host, workers as process groups.

Each test gets its own virtual host (``rabbitmqctl``, as root on this machine and in CI), so parallel runs and
messages a killed run left behind cannot reach its workers; it is deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from integration_hub.executors import ExecutorConfig, worker_config

VENV_BIN = Path(sys.executable).parent


def _rabbitmqctl(*args: str) -> None:
    rabbitmqctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([rabbitmqctl, "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def rabbitmq_vhost(user: str = "guest") -> Iterator[str]:
    """A fresh virtual host on the machine's RabbitMQ that ``user`` may use; deleted on exit."""
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield name
    finally:
        _rabbitmqctl("delete_vhost", name)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def node(self) -> str:
        """Celery's node name (``name@host``), which the step's engine event records as ``Celery worker``."""
        return f"{self.name}@{os.uname().nodename}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class WorkerGroup:
    cfg: ExecutorConfig
    workers: list[Worker] = field(default_factory=list)

    def wait_ready(self, timeout: float = 120) -> None:
        """Until every worker answers a ping over the broker (each one consumes its queue from then on)."""
        from dagster_celery.make_app import make_app

        app = make_app({"broker": self.cfg.broker, "backend": self.cfg.backend, "include": [], "config_source": None})
        wanted = {worker.node for worker in self.workers}
        deadline = time.monotonic() + timeout
        answered: set[str] = set()
        try:
            while time.monotonic() < deadline:
                dead = [w for w in self.workers if w.process.poll() is not None]
                if dead:
                    raise RuntimeError(f"worker {dead[0].name} exited:\n{dead[0].output()[-3000:]}")
                answered = {name for reply in app.control.ping(timeout=1.0) for name in reply}
                if wanted <= answered:
                    return
                time.sleep(0.5)
        finally:
            app.close()
        raise TimeoutError(f"workers {sorted(wanted - answered)} not ready after {timeout}s")

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover - a worker stuck in a step
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()


@contextmanager
def celery_workers(
    cfg: ExecutorConfig,
    queue: str,
    names: Sequence[str],
    env: Mapping[str, str],
    workdir: Path,
    config: Mapping[str, Any] | None = None,
) -> Iterator[WorkerGroup]:
    """``dagster-celery worker start`` once per name, each listening on ``queue`` only, one step at a time,
    configured by ``config`` (a worker YAML document; default: the executor's own, :func:`worker_config`);
    every worker's process group is killed on exit."""
    config_yaml = workdir / "celery_worker.yaml"
    config_yaml.write_text(yaml.safe_dump(dict(config) if config is not None else worker_config(cfg)))
    group = WorkerGroup(cfg)
    worker_env = {**env, "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"}  # the CLI runs `celery`
    try:
        for name in names:
            log = workdir / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [
                        str(VENV_BIN / "dagster-celery"),
                        "worker",
                        "start",
                        "-A",
                        "dagster_celery.app",
                        "-y",
                        str(config_yaml),
                        "-q",
                        queue,
                        "-n",
                        name,
                        "--",
                        "--concurrency=1",
                        "--without-gossip",
                        "--without-mingle",
                    ],
                    env=worker_env,
                    cwd=workdir,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            group.workers.append(Worker(name, process, log))
        yield group
    finally:
        group.stop()
