"""Delegation to a real Argo Workflows installation: submit an ``argoproj.io`` Workflow and follow it.

When a user asks for it (``rollouts workflow run --argo``; never by default) and the cluster
serves ``argoproj.io/v1alpha1`` ``workflows`` (Argo's CRDs are installed), the manifest is
created as a genuine Argo ``Workflow`` with the same metadata and spec, and Argo's own controller
runs it; we only read its ``status`` (whose shape our ``WorkflowStatus`` shares, so the same tree
renders both) and stop or terminate it the way ``argo stop|terminate`` does, with
``spec.shutdown``. Nothing of ours (no label, no owner) is put on the object.

Whether Argo is served is asked through API discovery, so a cluster without Argo gets a clear
`ArgoUnavailableError` before anything is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from analysis.workflows.spec import Workflow
from analysis.workflows.status import FINAL_PHASES, WorkflowStatus

__all__ = [
    "ARGO_GROUP",
    "ARGO_PLURAL",
    "ARGO_VERSION",
    "ArgoUnavailableError",
    "argo_finished",
    "argo_phase",
    "argo_serves_workflows",
    "argo_status",
    "get_argo_workflow",
    "shutdown_argo_workflow",
    "submit_to_argo",
]

ARGO_GROUP: Final = "argoproj.io"
ARGO_VERSION: Final = "v1alpha1"
ARGO_PLURAL: Final = "workflows"
SHUTDOWN_STRATEGIES: Final = frozenset({"Stop", "Terminate"})


class ArgoUnavailableError(Exception):
    """The cluster does not serve Argo's ``workflows`` resource."""


def argo_serves_workflows(api_client: Any) -> bool:
    """Whether ``argoproj.io/v1alpha1`` lists a ``workflows`` resource (API discovery)."""
    try:
        found = client.CustomObjectsApi(api_client).get_api_resources(ARGO_GROUP, ARGO_VERSION)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return any(resource.name == ARGO_PLURAL for resource in found.resources or [])


def submit_to_argo(api_client: Any, workflow: Workflow, namespace: str) -> dict[str, Any]:
    """Create ``workflow`` as an Argo ``Workflow`` in ``namespace``; returns the created object."""
    if not argo_serves_workflows(api_client):
        raise ArgoUnavailableError(
            "the cluster does not serve argoproj.io/v1alpha1 workflows: Argo Workflows is not installed "
            "(run without --argo to use our own engine)"
        )
    metadata = workflow.metadata.model_dump(by_alias=True, exclude_none=True)
    for generated in ("resourceVersion", "uid", "creationTimestamp"):
        metadata.pop(generated, None)
    metadata["namespace"] = namespace
    body = {
        "apiVersion": f"{ARGO_GROUP}/{ARGO_VERSION}",
        "kind": "Workflow",
        "metadata": metadata,
        "spec": workflow.spec.model_dump(by_alias=True, exclude_none=True),
    }
    created = client.CustomObjectsApi(api_client).create_namespaced_custom_object(
        ARGO_GROUP, ARGO_VERSION, namespace, ARGO_PLURAL, body
    )
    return cast(dict[str, Any], created)


def get_argo_workflow(api_client: Any, namespace: str, name: str) -> dict[str, Any]:
    found = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        ARGO_GROUP, ARGO_VERSION, namespace, ARGO_PLURAL, name
    )
    return cast(dict[str, Any], found)


def argo_status(workflow: Mapping[str, Any]) -> WorkflowStatus:
    """The Workflow's ``status`` in our model (unknown Argo fields are kept)."""
    return WorkflowStatus.model_validate(workflow.get("status") or {})


def argo_phase(workflow: Mapping[str, Any]) -> str | None:
    """``status.phase`` (None until Argo's controller picked the workflow up)."""
    phase = (workflow.get("status") or {}).get("phase")
    return str(phase) if phase else None


def argo_finished(workflow: Mapping[str, Any]) -> bool:
    return argo_phase(workflow) in FINAL_PHASES


def shutdown_argo_workflow(api_client: Any, namespace: str, name: str, strategy: str) -> None:
    """``argo stop`` (``Stop``: exit handlers still run) or ``argo terminate`` (``Terminate``)."""
    if strategy not in SHUTDOWN_STRATEGIES:
        raise ValueError(f"unknown shutdown strategy {strategy!r}: use Stop or Terminate")
    client.CustomObjectsApi(api_client).patch_namespaced_custom_object(
        ARGO_GROUP, ARGO_VERSION, namespace, ARGO_PLURAL, name, {"spec": {"shutdown": strategy}}
    )
