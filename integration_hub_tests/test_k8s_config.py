"""The README's Kubernetes run launcher block is a configuration ``dagster-k8s`` accepts, key for key.

The block (after ``<!-- k8s-run-launcher -->``) is added to the project's ``dagster.yaml`` and loaded the way a
Dagster process loads its instance: the whole file against Dagster's instance schema, then the launcher through the
``ConfigurableClass`` machinery into a real ``K8sRunLauncher``. Only the cluster is absent: the in-cluster
Kubernetes config the launcher loads is recorded instead of read. A misspelled or misplaced key fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._config import validate_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes import ConfigurableClassData
from dagster_k8s import K8sRunLauncher

from integration_hub_tests.conftest import PROJECT_ROOT
from integration_hub_tests.support.celery_readme import readme_block

MARKER = "<!-- k8s-run-launcher -->"


def _instance_dir(tmp_path: Path, block: dict[str, Any]) -> Path:
    """The project's dagster.yaml with the README's block added, in a directory of its own."""
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    config.update(block)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def _launcher(block: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[K8sRunLauncher, list[dict]]:
    loaded: list[dict] = []
    monkeypatch.setattr("dagster_k8s.launcher.load_kubernetes_config", lambda **kwargs: loaded.append(kwargs))
    section = block["run_launcher"]
    data = ConfigurableClassData(section["module"], section["class"], yaml.safe_dump(section["config"]))
    return data.rehydrate(as_type=K8sRunLauncher), loaded


def test_readme_k8s_launcher_loads_with_the_project_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = readme_block(MARKER)
    assert set(block) == {"run_launcher"}
    config, _ = dagster_instance_config(str(_instance_dir(tmp_path, block)))
    # The project's storage, queue and pools stay as they are beside the launcher.
    assert set(config) >= {"storage", "run_coordinator", "concurrency", "run_launcher"}
    assert config["run_coordinator"]["class"] == "HubRunCoordinator"

    launcher, loaded = _launcher(config, monkeypatch)
    settings = block["run_launcher"]["config"]
    assert loaded == [{"load_incluster_config": True, "kubeconfig_file": None, "k8s_api_ssl_ca_cert_file": None}]
    assert launcher.job_namespace == settings["job_namespace"]
    assert launcher.service_account_name == settings["service_account_name"]
    assert launcher.instance_config_map == settings["instance_config_map"]
    assert launcher.postgres_password_secret == settings["postgres_password_secret"]
    assert launcher.dagster_home == settings["dagster_home"]
    assert launcher.job_image == settings["job_image"]
    assert list(launcher.env_secrets) == settings["env_secrets"]
    assert list(launcher.env_config_maps) == settings["env_config_maps"]
    assert launcher.resources == settings["resources"]
    assert launcher.fail_pod_on_run_failure is True


@pytest.mark.parametrize(
    ("path", "wrong"),
    [
        (("job_namespace",), "job_namepsace"),  # a misspelled key
        (("resources", "requests"), "request"),  # a misspelled nested key
        (("instance_config_map",), None),  # a required key left out
    ],
)
def test_a_wrong_key_in_the_block_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: tuple[str, ...], wrong: str | None
) -> None:
    """What the README test relies on: the launcher's schema refuses what it does not know or lacks."""
    block = readme_block(MARKER)
    parent = block["run_launcher"]["config"]
    for key in path[:-1]:
        parent = parent[key]
    value = parent.pop(path[-1])
    if wrong is not None:
        parent[wrong] = value
    assert not validate_config(K8sRunLauncher.config_type(), block["run_launcher"]["config"]).success
    with pytest.raises(DagsterInvalidConfigError):
        _launcher(block, monkeypatch)
