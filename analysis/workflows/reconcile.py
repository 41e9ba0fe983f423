"""One controller pass over a ``WorkflowRun``, as pure functions of what the watches hold.

The controller (``analysis.workflows.controller``) keeps no state of its own: each pass starts
from the run's stored ``status`` and the run's pods as the pod watch last saw them, folds what
the pods say into the status (:func:`fold_pods`), runs one scheduler pass, and turns the
scheduler's actions into pod creations and deletions (:func:`plan_pass`). Everything here is
pure so restarts, vanished pods and shutdowns are unit-tested without a cluster.

Restart safety comes from two facts: a pod is named after its node (Argo's v2 pod names), so a
node whose pod exists is never started twice, and a node is only ``Running`` once its pod was
seen, so a ``Running`` node whose pod is gone from a fully populated watch really lost its pod.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from analysis.models.base import ManifestError
from analysis.workflows.actions import PodReport, StartPod, StopPod
from analysis.workflows.executors.pods import interpret
from analysis.workflows.retries import parse_time
from analysis.workflows.scheduler import apply_report, schedule
from analysis.workflows.spec import Workflow
from analysis.workflows.status import FINAL_PHASES, WorkflowStatus
from analysis.workflows.validation import Library

__all__ = [
    "NODE_ID_ANNOTATION",
    "RESOURCE_UNSUPPORTED",
    "Folded",
    "Pass",
    "fold_pods",
    "invalid_status",
    "logs_needed",
    "plan_pass",
    "project_pod",
    "status_of",
    "workflow_of",
]

NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id"
OVERSIZED_REPORT = (
    "the step's outputs did not fit the pod's termination message (4000 bytes) "
    "and its wait container's log could not be read"
)
SILENT_WAIT = "the wait container did not report the step's outputs"
REPORT_GRACE = timedelta(seconds=30)
RESOURCE_UNSUPPORTED = "resource templates need the controller to be given an API client for them"


def project_pod(body: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a pod a pass reads (``interpret`` needs the status and the node name)."""
    metadata = body.get("metadata") or {}
    return {
        "metadata": {
            "name": metadata.get("name"),
            "annotations": {NODE_ID_ANNOTATION: (metadata.get("annotations") or {}).get(NODE_ID_ANNOTATION)},
            "deletionTimestamp": metadata.get("deletionTimestamp"),
        },
        "spec": {"nodeName": (body.get("spec") or {}).get("nodeName")},
        "status": dict(body.get("status") or {}),
    }


def workflow_of(body: Mapping[str, Any]) -> Workflow | str:
    """The run as a ``Workflow`` (its metadata is the run's), or why its spec cannot be read."""
    try:
        return Workflow.from_dict({"metadata": body.get("metadata") or {}, "spec": body.get("spec") or {}})
    except ManifestError as error:
        return str(error)


def status_of(body: Mapping[str, Any]) -> WorkflowStatus | None:
    raw = body.get("status")
    return WorkflowStatus.model_validate(raw) if raw else None


def _changed(node_report: PodReport, status: WorkflowStatus) -> bool:
    node = status.nodes.get(node_report.node_id)
    if node is None or node.fulfilled:
        return False
    return (
        node.phase != node_report.phase
        or (node.message or None) != (node_report.message or None)
        or (node_report.outputs is not None and node.outputs != node_report.outputs)
        or (node_report.host_node_name is not None and node.host_node_name != node_report.host_node_name)
        or (node_report.pod_ip is not None and node.pod_ip != node_report.pod_ip)
    )


@dataclass(frozen=True)
class Folded:
    """The status with the pods' news, pods to delete because their wait container is silent,
    and when a silent one must be given up on."""

    status: WorkflowStatus
    silent: tuple[StopPod, ...] = ()
    wake_at: datetime | None = None


def _main_finished_at(pod: Mapping[str, Any]) -> datetime | None:
    for container in (pod.get("status") or {}).get("containerStatuses") or []:
        if container.get("name") == "main":
            terminated = (container.get("state") or {}).get("terminated") or {}
            return parse_time(terminated.get("finishedAt"))
    return None


def logs_needed(pods: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Pods whose report is too large for the termination message: their wait log must be read."""
    return [name for name, pod in pods.items() if interpret(_node_id(pod), dict(pod)) is None]


def _node_id(pod: Mapping[str, Any]) -> str:
    return str(((pod.get("metadata") or {}).get("annotations") or {}).get(NODE_ID_ANNOTATION))


def fold_pods(
    status: WorkflowStatus,
    pods: Mapping[str, Mapping[str, Any]],
    now: datetime,
    wait_logs: Mapping[str, str] | None = None,
) -> Folded:
    """``status`` with what the run's pods (by name) say about their nodes folded in.

    A pod whose ``main`` container ended ``REPORT_GRACE`` ago while ``wait`` has not reported is
    given up on (``Error``), as the Kubernetes executor does, so a run never hangs on it.
    """
    by_node = {_node_id(pod): (name, pod) for name, pod in pods.items()}
    silent: list[StopPod] = []
    wakes: list[datetime] = []
    for node in list(status.nodes.values()):
        if node.type != "Pod" or node.fulfilled:
            continue
        found = by_node.get(node.id)
        if found is None:
            if node.phase == "Running":  # it was seen running, and the watch no longer has it
                status = apply_report(status, PodReport(node.id, "Error", "pod deleted"), now)
            continue
        name, pod = found
        report = interpret(node.id, dict(pod))
        if report is None:
            log = (wait_logs or {}).get(name)
            report = (interpret(node.id, dict(pod), log) if log else None) or PodReport(
                node.id, "Error", OVERSIZED_REPORT
            )
        main_ended = _main_finished_at(pod) if report.phase == "Running" else None
        if main_ended is not None:
            if now >= main_ended + REPORT_GRACE:
                report = PodReport(node.id, "Error", SILENT_WAIT)
                silent.append(StopPod(node.id, name, SILENT_WAIT))
            else:
                wakes.append(main_ended + REPORT_GRACE)
        if _changed(report, status):
            status = apply_report(status, report, now)
    return Folded(status, tuple(silent), min(wakes, default=None))


@dataclass(frozen=True)
class Pass:
    """The outcome of one pass: the status to store, the pods to create and delete, the next timer,
    and the resource steps to act on or check (they have no pod; the shell runs them)."""

    status: WorkflowStatus
    create: tuple[StartPod, ...]
    delete: tuple[StopPod, ...]
    wake_at: datetime | None
    resources: tuple[StartPod, ...] = ()


def plan_pass(
    workflow: Workflow,
    status: WorkflowStatus | None,
    pods: Mapping[str, Mapping[str, Any]],
    now: datetime,
    *,
    library: Library | None = None,
    wait_logs: Mapping[str, str] | None = None,
) -> Pass:
    """Fold the pods in, schedule once, and keep only the pod actions the cluster still needs."""
    if status is not None and status.phase in FINAL_PHASES:
        return Pass(status, (), (), None)
    folded = fold_pods(status, pods, now, wait_logs) if status is not None else None
    decision = schedule(workflow, folded.status if folded is not None else None, now, library)
    silent = folded.silent if folded is not None else ()
    starts = [action for action in decision.actions if isinstance(action, StartPod)]
    resources = tuple(action for action in starts if action.template.get("resource") is not None)
    create = [
        action for action in starts if action.template.get("resource") is None and action.pod_name not in pods
    ]
    delete = tuple(
        action
        for action in (*silent, *decision.actions)
        if isinstance(action, StopPod)
        and action.pod_name in pods
        and not (pods[action.pod_name].get("metadata") or {}).get("deletionTimestamp")
    )
    candidates = (decision.wake_at, folded.wake_at if folded is not None else None)
    wake_at = min((when for when in candidates if when is not None), default=None)
    return Pass(decision.status, tuple(create), delete, wake_at, resources)


def invalid_status(message: str, now: datetime) -> WorkflowStatus:
    """The final status of a run whose spec cannot even be read (validation reports the rest)."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return WorkflowStatus.model_validate(
        {
            "phase": "Error",
            "message": message,
            "startedAt": stamp,
            "finishedAt": stamp,
            "conditions": [{"type": "SpecError", "status": "True", "message": message}],
        }
    )
