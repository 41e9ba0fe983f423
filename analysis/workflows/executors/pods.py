"""Pods for leaf steps, and what a pod's status says about its node. Pure.

:func:`pod_manifest` builds one Pod per ``StartPod`` (reference §8, our simpler design of §8.2):
``init`` (only when there are input artifacts or a script), ``main`` (the user's image running the
``staging`` wrapper with ``sh``) and ``wait`` (reports outputs), sharing an ``emptyDir`` at
``/var/run/argo``; the artifact repository is a ``hostPath`` volume when configured. Pods are
labelled ``workflows.rollouts.dev/run=<workflow>`` and never with Argo's own labels, so a real Argo
controller in the same cluster leaves them alone; the node ID and name are in Argo's annotations.

:func:`interpret` turns an observed pod into a ``PodReport``: the wait container's JSON when it
reported, otherwise the reason Kubernetes gives (deadline, init failure, vanished container).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analysis.workflows.actions import PodReport, StartPod
from analysis.workflows.executors.podside import REPORT_PREFIX
from analysis.workflows.executors.staging import ARGO_DIR, wrapper_script
from analysis.workflows.spec import Outputs

__all__ = ["RUN_LABEL", "PodSettings", "interpret", "pod_manifest"]

RUN_LABEL = "workflows.rollouts.dev/run"
_REPOSITORY_MOUNT = "/var/run/rollouts-artifacts"
_POD_DEADLINE = "Pod was active on the node longer than the specified deadline"


@dataclass(frozen=True)
class PodSettings:
    runner_image: str = "ghcr.io/rollouts/rollouts:latest"
    """Image of the ``init``/``wait`` containers (Python and this package); the devcluster ignores it."""
    runner_command: tuple[str, ...] = ("python3", "-m", "analysis.workflows.executors.podside")
    repository_host_path: str | None = None
    """A host directory holding the artifact repository (devcluster, single-node clusters)."""


def pod_manifest(
    action: StartPod,
    workflow: str,
    namespace: str,
    now: datetime,
    *,
    settings: PodSettings,
    owner: dict[str, Any] | None = None,
) -> dict[str, Any]:
    template = action.template
    body = dict(template.get("script") or template.get("container") or {})
    environment = [
        {"name": "ARGO_TEMPLATE", "value": json.dumps(template, separators=(",", ":"), ensure_ascii=False)},
        {"name": "ARGO_CAPTURE_RESULT", "value": "true" if action.capture_result else "false"},
        {"name": "ARGO_KEY_PREFIX", "value": f"{workflow}/{action.pod_name}"},
    ]
    argo_mount = {"name": "argo", "mountPath": ARGO_DIR}
    runner_mounts = [argo_mount]
    volumes: list[dict[str, Any]] = [{"name": "argo", "emptyDir": {}}]
    if settings.repository_host_path:
        volumes.append(
            {
                "name": "artifacts",
                "hostPath": {"path": settings.repository_host_path, "type": "DirectoryOrCreate"},
            }
        )
        runner_mounts = [argo_mount, {"name": "artifacts", "mountPath": _REPOSITORY_MOUNT}]
        environment.append({"name": "ARGO_ARTIFACT_REPOSITORY", "value": _REPOSITORY_MOUNT})
    volumes += template.get("volumes") or []
    main = {
        key: value
        for key, value in body.items()
        if key not in ("source", "command", "args", "workingDir", "name")
    }
    main.update(
        {
            "name": "main",
            "command": ["sh", "-c", wrapper_script(template)],
            "volumeMounts": [*(body.get("volumeMounts") or []), argo_mount],
            "env": [
                *(body.get("env") or []),
                {"name": "ARGO_POD_NAME", "value": action.pod_name},
                {"name": "ARGO_NODE_ID", "value": action.node_id},
                {"name": "ARGO_WORKFLOW_NAME", "value": workflow},
            ],
        }
    )
    runner = {
        "image": settings.runner_image,
        "command": list(settings.runner_command),
        "env": environment,
        "volumeMounts": runner_mounts,
    }
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "volumes": volumes,
        "containers": [main, {"name": "wait", "args": ["wait"], **runner}],
    }
    if template.get("script") is not None or (template.get("inputs") or {}).get("artifacts"):
        spec["initContainers"] = [{"name": "init", "args": ["init"], **runner}]
    if template.get("serviceAccountName"):
        spec["serviceAccountName"] = template["serviceAccountName"]
    if action.deadline is not None:
        spec["activeDeadlineSeconds"] = max(1, int((action.deadline - now).total_seconds()))
    metadata: dict[str, Any] = {
        "name": action.pod_name,
        "namespace": namespace,
        "labels": {**((template.get("metadata") or {}).get("labels") or {}), RUN_LABEL: workflow},
        "annotations": {
            **((template.get("metadata") or {}).get("annotations") or {}),
            "workflows.argoproj.io/node-id": action.node_id,
            "workflows.argoproj.io/node-name": action.node_name,
        },
    }
    if owner is not None:
        metadata["ownerReferences"] = [owner]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def _container(statuses: list[dict[str, Any]] | None, name: str) -> dict[str, Any]:
    return next((status for status in statuses or [] if status.get("name") == name), {})


def _terminated(status: dict[str, Any]) -> dict[str, Any] | None:
    terminated: dict[str, Any] | None = (status.get("state") or {}).get("terminated")
    return terminated


def _waiting_message(pod_status: dict[str, Any]) -> str | None:
    for status in [
        *(pod_status.get("initContainerStatuses") or []),
        *(pod_status.get("containerStatuses") or []),
    ]:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            detail = waiting.get("message")
            return f"{waiting['reason']}: {detail}" if detail else waiting["reason"]
    return None


def parse_report(text: str | None) -> dict[str, Any] | None:
    """The wait container's JSON report, or None (absent, or only a pointer to the log)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) and "phase" in value else None


def _report_from_log(log: str) -> dict[str, Any] | None:
    for line in reversed(log.splitlines()):
        if line.startswith(REPORT_PREFIX):
            return parse_report(line.removeprefix(REPORT_PREFIX))
    return None


def interpret(node_id: str, pod: dict[str, Any], wait_log: str | None = None) -> PodReport | None:
    """The report for a pod as observed, or None when the wait container's log must be read first."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    host = (pod.get("spec") or {}).get("nodeName")
    ip = status.get("podIP")
    if phase == "Pending":
        return PodReport(node_id, "Pending", _waiting_message(status), host_node_name=host)
    if phase == "Running":
        return PodReport(node_id, "Running", host_node_name=host, pod_ip=ip)
    if status.get("reason") == "DeadlineExceeded":
        return PodReport(node_id, "Failed", _POD_DEADLINE, host_node_name=host)
    init = _terminated(_container(status.get("initContainerStatuses"), "init"))
    if init is not None and init.get("exitCode") not in (0, None):
        return PodReport(
            node_id,
            "Error",
            f"init: {init.get('message') or init.get('reason')}".strip(),
            host_node_name=host,
        )
    wait = _terminated(_container(status.get("containerStatuses"), "wait")) or {}
    report = parse_report(wait.get("message"))
    if report is None and '"inLog"' in (wait.get("message") or ""):
        if wait_log is None:
            return None  # too big for the termination message: the caller reads the log
        report = _report_from_log(wait_log)
    if report is not None:
        outputs = Outputs.model_validate(report.get("outputs") or {})
        return PodReport(node_id, report["phase"], report.get("message"), outputs, host_node_name=host)
    main = _terminated(_container(status.get("containerStatuses"), "main")) or {}
    if main.get("exitCode") not in (0, None):
        reason = main.get("reason") or "Error"
        return PodReport(
            node_id, "Failed", f"main: {reason} (exit code {main['exitCode']})", host_node_name=host
        )
    message = status.get("message") or "the pod ended without reporting its outputs"
    return PodReport(node_id, "Error", message, host_node_name=host)
