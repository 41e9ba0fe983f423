"""Runs on a cluster: a ``WorkflowRun`` object (our group) holds the spec and the engine's status.

``submit`` creates the object from an Argo Workflow manifest (``generateName`` honoured by the
API server); ``run_on_cluster`` drives the engine with the Kubernetes executor, writing the status
into the object after every change (a merge patch of ``status`` with unset fields as ``null``;
node entries are only ever added or updated, never removed, so merging is exact) and re-reading
the spec each turn so a ``shutdown: Stop|Terminate`` set by a user takes effect. Pods are owned
by the run and go with it.

Template libraries for ``templateRef`` are read from the cluster: Argo's ``WorkflowTemplate`` and
``ClusterWorkflowTemplate`` objects when Argo Workflows' CRDs exist (reading them registers
nothing); a library that cannot be found is reported by validation
(``template reference <name>.<template> not found``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from analysis.workflows.engine import Engine
from analysis.workflows.executors.kubernetes import KubernetesExecutor
from analysis.workflows.executors.pods import PodSettings
from analysis.workflows.spec import Workflow, WorkflowSpec
from analysis.workflows.status import GROUP, KIND, VERSION, WorkflowStatus
from analysis.workflows.validation import Library

__all__ = ["PLURAL", "fetch_library", "run_on_cluster", "submit", "template_references"]

PLURAL = "workflowruns"


def submit(api_client: Any, workflow: Workflow, namespace: str) -> dict[str, Any]:
    """Create the ``WorkflowRun`` for ``workflow``; returns the created object."""
    custom = client.CustomObjectsApi(api_client)
    metadata = workflow.metadata.model_dump(by_alias=True, exclude_none=True)
    metadata.pop("resourceVersion", None)
    metadata["namespace"] = namespace
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": metadata,
        "spec": workflow.spec.model_dump(by_alias=True, exclude_none=True),
    }
    created = custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    return cast(dict[str, Any], created)


def template_references(spec: WorkflowSpec) -> set[tuple[bool, str]]:
    """Every ``(clusterScope, name)`` a spec's ``templateRef`` fields name, directly."""
    found: set[tuple[bool, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            ref = value.get("templateRef")
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                found.add((bool(ref.get("clusterScope")), ref["name"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(spec.model_dump(by_alias=True, exclude_none=True))
    return found


def fetch_library(
    api_client: Any, spec: WorkflowSpec, namespace: str
) -> dict[tuple[bool, str], WorkflowSpec]:
    """The libraries ``spec`` refers to, followed transitively; missing ones are left out."""
    custom = client.CustomObjectsApi(api_client)
    library: dict[tuple[bool, str], WorkflowSpec] = {}
    pending = list(template_references(spec))
    while pending:
        key = pending.pop()
        if key in library:
            continue
        cluster, name = key
        try:
            if cluster:
                found = custom.get_cluster_custom_object(
                    "argoproj.io", "v1alpha1", "clusterworkflowtemplates", name
                )
            else:
                found = custom.get_namespaced_custom_object(
                    "argoproj.io", "v1alpha1", namespace, "workflowtemplates", name
                )
        except ApiException as error:
            if error.status == 404:
                continue
            raise
        library[key] = WorkflowSpec.model_validate(cast(dict[str, Any], found).get("spec") or {})
        pending += list(template_references(library[key]))
    return library


def run_on_cluster(
    api_client: Any,
    workflow: Workflow,
    namespace: str,
    *,
    settings: PodSettings | None = None,
    on_status: Callable[[WorkflowStatus], None] | None = None,
    poll_interval: float = 1.0,
) -> tuple[str, WorkflowStatus]:
    """Submit ``workflow`` as a ``WorkflowRun`` and run it to the end; returns its name and final status."""
    created = submit(api_client, workflow, namespace)
    metadata = created["metadata"]
    name: str = metadata["name"]
    named = workflow.model_copy(
        update={
            "metadata": workflow.metadata.model_copy(
                update={
                    "name": name,
                    "namespace": namespace,
                    "uid": metadata.get("uid"),
                    "creation_timestamp": metadata.get("creationTimestamp"),
                }
            )
        }
    )
    owner = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": name,
        "uid": metadata["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    custom = client.CustomObjectsApi(api_client)
    executor = KubernetesExecutor(api_client, namespace, name, settings=settings, owner=owner)

    def publish(status: WorkflowStatus) -> None:
        # unset fields go as null, which a merge patch deletes: a cleared message must not linger
        body = {"status": status.model_dump(by_alias=True)}
        custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)
        if on_status is not None:
            on_status(status)

    def refresh(current: Workflow) -> Workflow:
        found = cast(
            dict[str, Any], custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
        )
        spec = found.get("spec") or {}
        shutdown, suspend = spec.get("shutdown"), spec.get("suspend")
        if shutdown == current.spec.shutdown and suspend == current.spec.suspend:
            return current
        return current.model_copy(
            update={"spec": current.spec.model_copy(update={"shutdown": shutdown, "suspend": suspend})}
        )

    library: Library = fetch_library(api_client, workflow.spec, namespace)
    engine = Engine(
        executor, library=library, on_status=publish, refresh=refresh, poll_interval=poll_interval
    )
    return name, engine.run(named)
