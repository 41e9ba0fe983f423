"""Planner actions as HTTP requests to the Kubernetes API, without sending anything (sans-I/O).

Each builder maps one decision to exactly one request: merge patches rather than replaces (so a
field another manager owns — an HPA's ``replicas``, Argo CD's labels — is never overwritten),
strategic-merge for Service selectors as Argo does, the ``status`` subresource for the Rollout
status. Every write to the Rollout itself (status, spec, metadata) carries a ``resourceVersion``
precondition: a concurrent edit by a user or Argo's plugin (abort, retry, promote, pause) makes
it fail with 409 instead of being overwritten by a plan made from older state. The
``resource`` and ``name`` fields name the object for the request-count metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rollouts.controller.settings import FIELD_MANAGER
from rollouts.planner.actions import (
    DeleteAnalysisRun,
    DeleteExperiment,
    DeleteReplicaSet,
    EvictPod,
    PatchReplicaSet,
    PatchRollout,
    ScaleReplicaSet,
    ScaleWorkload,
    SetServiceSelector,
    TerminateAnalysisRun,
    TerminateExperiment,
)

__all__ = [
    "JSON",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "Request",
    "create_event",
    "create_experiment",
    "create_replica_set",
    "delete_analysis_run",
    "delete_experiment",
    "delete_replica_set",
    "evict_pod",
    "get_experiment",
    "get_object",
    "get_replica_set",
    "list_pods",
    "patch_event",
    "patch_replica_set",
    "patch_rollout",
    "patch_rollout_status",
    "scale_replica_set",
    "scale_workload",
    "set_service_selector",
    "terminate_analysis_run",
    "terminate_experiment",
    "workload_path",
]

JSON: Final = "application/json"
MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH: Final = "application/strategic-merge-patch+json"
ROLLOUTS: Final = "/apis/argoproj.io/v1alpha1/namespaces/{namespace}/rollouts"
REPLICA_SETS: Final = "/apis/apps/v1/namespaces/{namespace}/replicasets"
EXPERIMENTS: Final = "/apis/argoproj.io/v1alpha1/namespaces/{namespace}/experiments"
ANALYSIS_RUNS: Final = "/apis/argoproj.io/v1alpha1/namespaces/{namespace}/analysisruns"
_WRITE_PARAMS: Final = {"fieldManager": FIELD_MANAGER}

# kind -> (API path prefix, plural) for the objects a workloadRef may name (§3.16).
WORKLOAD_KINDS: Final = {
    ("apps/v1", "Deployment"): ("/apis/apps/v1", "deployments"),
    ("apps/v1", "ReplicaSet"): ("/apis/apps/v1", "replicasets"),
    ("v1", "PodTemplate"): ("/api/v1", "podtemplates"),
}


@dataclass(frozen=True)
class Request:
    """One API request: what the shell sends and the metric labels it is counted under."""

    method: str
    path: str
    resource: str
    name: str = ""
    namespace: str = ""
    body: Any = None
    content_type: str = JSON
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


def _patch(path: str, resource: str, namespace: str, name: str, body: Any, *, content_type: str) -> Request:
    return Request("PATCH", path, resource, name, namespace, body, content_type, _WRITE_PARAMS)


def get_object(path: str, resource: str, namespace: str, name: str) -> Request:
    return Request("GET", path, resource, name, namespace)


def create_replica_set(namespace: str, manifest: Mapping[str, Any]) -> Request:
    name = str(manifest.get("metadata", {}).get("name", ""))
    path = REPLICA_SETS.format(namespace=namespace)
    return Request("POST", path, "replicasets", name, namespace, dict(manifest), JSON, _WRITE_PARAMS)


def scale_replica_set(namespace: str, action: ScaleReplicaSet) -> Request:
    path = f"{REPLICA_SETS.format(namespace=namespace)}/{action.name}"
    return _patch(path, "replicasets", namespace, action.name, action.patch, content_type=MERGE_PATCH)


def patch_replica_set(namespace: str, action: PatchReplicaSet) -> Request:
    path = f"{REPLICA_SETS.format(namespace=namespace)}/{action.name}"
    return _patch(path, "replicasets", namespace, action.name, dict(action.patch), content_type=MERGE_PATCH)


def adopt_replica_set(namespace: str, name: str, uid: str, owner: Mapping[str, Any]) -> Request:
    """Claim an orphan (controller-ref adoption): add our ownerReference, guarded by the RS uid."""
    path = f"{REPLICA_SETS.format(namespace=namespace)}/{name}"
    body = {"metadata": {"uid": uid, "ownerReferences": [dict(owner)]}}
    return _patch(path, "replicasets", namespace, name, body, content_type=STRATEGIC_MERGE_PATCH)


def delete_replica_set(namespace: str, action: DeleteReplicaSet) -> Request:
    return _delete(REPLICA_SETS.format(namespace=namespace), "replicasets", namespace, action.name)


def _guarded(body: Mapping[str, Any], resource_version: str) -> dict[str, Any]:
    """``body`` with ``metadata.resourceVersion`` set: the API server applies the merge patch and
    then refuses the result with 409 unless the stored object still has that version."""
    guarded = dict(body)
    if resource_version:
        guarded["metadata"] = {**dict(guarded.get("metadata") or {}), "resourceVersion": resource_version}
    return guarded


def patch_rollout(namespace: str, name: str, action: PatchRollout, resource_version: str = "") -> Request:
    """A planned spec/metadata write (``spec.replicas`` default, revision annotation), refused
    (409) like the status write if the Rollout changed since the plan read it."""
    path = f"{ROLLOUTS.format(namespace=namespace)}/{name}"
    body = _guarded(action.patch, resource_version)
    return _patch(path, "rollouts", namespace, name, body, content_type=MERGE_PATCH)


def patch_rollout_status(
    namespace: str, name: str, status_patch: Mapping[str, Any], resource_version: str
) -> Request:
    """The one status write of a pass, refused (409) if the Rollout changed since it was read."""
    path = f"{ROLLOUTS.format(namespace=namespace)}/{name}/status"
    body = _guarded({"status": dict(status_patch)}, resource_version)
    return _patch(path, "rollouts/status", namespace, name, body, content_type=MERGE_PATCH)


def set_service_selector(namespace: str, action: SetServiceSelector) -> Request:
    path = f"/api/v1/namespaces/{namespace}/services/{action.service}"
    return _patch(
        path, "services", namespace, action.service, action.patch, content_type=STRATEGIC_MERGE_PATCH
    )


def terminate_analysis_run(namespace: str, action: TerminateAnalysisRun) -> Request:
    path = f"{ANALYSIS_RUNS.format(namespace=namespace)}/{action.name}"
    return _patch(
        path, "analysisruns", namespace, action.name, {"spec": {"terminate": True}}, content_type=MERGE_PATCH
    )


def delete_analysis_run(namespace: str, action: DeleteAnalysisRun) -> Request:
    return _delete(ANALYSIS_RUNS.format(namespace=namespace), "analysisruns", namespace, action.name)


def create_experiment(namespace: str, manifest: Mapping[str, Any]) -> Request:
    name = str(manifest.get("metadata", {}).get("name", ""))
    path = EXPERIMENTS.format(namespace=namespace)
    return Request("POST", path, "experiments", name, namespace, dict(manifest), JSON, _WRITE_PARAMS)


def get_experiment(namespace: str, name: str) -> Request:
    return get_object(f"{EXPERIMENTS.format(namespace=namespace)}/{name}", "experiments", namespace, name)


def get_replica_set(namespace: str, name: str) -> Request:
    return get_object(f"{REPLICA_SETS.format(namespace=namespace)}/{name}", "replicasets", namespace, name)


def terminate_experiment(namespace: str, action: TerminateExperiment) -> Request:
    path = f"{EXPERIMENTS.format(namespace=namespace)}/{action.name}"
    return _patch(
        path, "experiments", namespace, action.name, {"spec": {"terminate": True}}, content_type=MERGE_PATCH
    )


def delete_experiment(namespace: str, action: DeleteExperiment) -> Request:
    return _delete(EXPERIMENTS.format(namespace=namespace), "experiments", namespace, action.name)


def _delete(collection: str, resource: str, namespace: str, name: str) -> Request:
    """DELETE with background propagation: the children (pods, runs) go after the object."""
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    return Request("DELETE", f"{collection}/{name}", resource, name, namespace, body)


def evict_pod(namespace: str, action: EvictPod) -> Request:
    path = f"/api/v1/namespaces/{namespace}/pods/{action.name}/eviction"
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": action.name, "namespace": namespace},
    }
    return Request("POST", path, "pods/eviction", action.name, namespace, body)


def workload_path(namespace: str, api_version: str, kind: str, name: str) -> tuple[str, str] | None:
    """(path, plural) of a workloadRef target; ``None`` for a kind §3.16 does not support."""
    known = WORKLOAD_KINDS.get((api_version, kind))
    if known is None:
        return None
    prefix, plural = known
    return f"{prefix}/namespaces/{namespace}/{plural}/{name}", plural


def scale_workload(namespace: str, action: ScaleWorkload) -> Request | None:
    located = workload_path(namespace, action.api_version, action.kind, action.name)
    if located is None or action.kind == "PodTemplate":
        return None
    path, plural = located
    return _patch(
        path,
        plural,
        namespace,
        action.name,
        {"spec": {"replicas": action.replicas}},
        content_type=MERGE_PATCH,
    )


def list_pods(namespace: str, label_selector: str) -> Request:
    return Request(
        "GET",
        f"/api/v1/namespaces/{namespace}/pods",
        "pods",
        "",
        namespace,
        params={"labelSelector": label_selector},
    )


def create_event(namespace: str, event: Mapping[str, Any]) -> Request:
    name = str(event.get("involvedObject", {}).get("name", ""))
    return Request("POST", f"/api/v1/namespaces/{namespace}/events", "events", name, namespace, dict(event))


def patch_event(namespace: str, name: str, patch: Mapping[str, Any]) -> Request:
    """A repeat of an Event: its count and timestamps, as client-go's recorder patches them."""
    path = f"/api/v1/namespaces/{namespace}/events/{name}"
    return Request("PATCH", path, "events", name, namespace, dict(patch), STRATEGIC_MERGE_PATCH)
