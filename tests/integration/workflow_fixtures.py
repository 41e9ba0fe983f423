"""Fixtures and helpers shared by the workflow integration tests (controller, CLI, Argo, metric).

`workflow_controller` runs a real ``rollouts controller`` whose pods' ``wait``/``init``
containers run this Python (the devcluster's kubelet runs pods as local processes).
`argo_crds` serves Argo Workflows' own CRDs (the ``argo-workflows`` devcluster add-on); no Argo
controller can run here, so tests play it with `write_status`.

A test module that uses a fixture imports it (and the fixtures it depends on: ``controller``,
``rollout_crds``, ``workflow_pod_env``) so pytest finds it in the module.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from test_controller_harness import ControllerProcess, wait_for

from analysis.workflows import delegate
from analysis.workflows.executors.pods import RUN_LABEL
from analysis.workflows.registry import ARTIFACT_PATH_ENV, RUNNER_COMMAND_ENV
from analysis.workflows.runs import PLURAL
from analysis.workflows.spec import Workflow
from analysis.workflows.status import GROUP, VERSION, WorkflowStatus
from rollouts.devcluster import addons

PIPELINE = Path(__file__).parents[2] / "examples" / "workflows" / "pipeline.yaml"
WAIT = 240.0
ARGO_ADDON = "argo-workflows"


def pipeline(**parameters: str) -> Workflow:
    """The example pipeline with some of its workflow parameters replaced."""
    manifest = yaml.safe_load(PIPELINE.read_text())
    for parameter in manifest["spec"]["arguments"]["parameters"]:
        parameter["value"] = parameters.get(parameter["name"], parameter["value"])
    return Workflow.from_dict(manifest)


@pytest.fixture
def workflow_pod_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The devcluster runs the wait/init containers on this host: they need this Python and package."""
    monkeypatch.setenv(RUNNER_COMMAND_ENV, f"{sys.executable} -m analysis.workflows.executors.podside")
    monkeypatch.setenv(ARTIFACT_PATH_ENV, str(tmp_path / "repository"))


@pytest.fixture
def workflow_controller(workflow_pod_env: None, controller: ControllerProcess) -> ControllerProcess:
    """The harness's controller, started after (so with) the pod environment."""
    return controller


@pytest.fixture(scope="module")
def argo_crds(api_client: Any) -> None:
    addons.install(api_client, [ARGO_ADDON])
    wait_for(lambda: delegate.argo_serves_workflows(api_client), "Argo's workflows resource to be served")


def run_status(api_client: Any, namespace: str, name: str) -> WorkflowStatus | None:
    found = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )
    raw = found.get("status")
    return WorkflowStatus.model_validate(raw) if raw else None


def finished(api_client: Any, namespace: str, name: str) -> WorkflowStatus:
    def check() -> WorkflowStatus | None:
        status = run_status(api_client, namespace, name)
        return status if status is not None and status.phase in ("Succeeded", "Failed", "Error") else None

    return wait_for(check, f"WorkflowRun {name} to finish", timeout=WAIT)


def run_pods(api_client: Any, namespace: str, name: str) -> list[Any]:
    listed = client.CoreV1Api(api_client).list_namespaced_pod(namespace, label_selector=f"{RUN_LABEL}={name}")
    return list(listed.items)


def argo_workflows(api_client: Any, namespace: str) -> list[dict[str, Any]]:
    found = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
        delegate.ARGO_GROUP, delegate.ARGO_VERSION, namespace, delegate.ARGO_PLURAL
    )
    return list(found["items"])


def write_status(api_client: Any, namespace: str, name: str, status: dict[str, Any]) -> None:
    """What Argo's controller does (its minimal CRD has no status subresource)."""
    client.CustomObjectsApi(api_client).patch_namespaced_custom_object(
        delegate.ARGO_GROUP, delegate.ARGO_VERSION, namespace, delegate.ARGO_PLURAL, name, {"status": status}
    )
