"""Run leaf steps as Pods (one per step) and learn their outcome from the pod status.

Resource templates are the exception: they act on their object from this process
(``resources.ResourceStep``) instead of through a pod.

``start`` creates the pod built by ``pods.pod_manifest`` (a 409 means it already exists: the
engine restarted, nothing to do); ``stop`` deletes it; ``poll`` lists the run's pods with one
label-selected request and reports each pod whose status changed, reading the ``wait``
container's log only when its report did not fit the termination message. A pod that vanished
before finishing is an ``Error``, as in Argo; so is a pod whose ``main`` container ended but whose
``wait`` container has not reported within ``report_grace`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from analysis.workflows.actions import PodReport, StartPod, StopPod
from analysis.workflows.executors.pods import RUN_LABEL, PodSettings, interpret, pod_manifest
from analysis.workflows.executors.resources import ResourceStep

__all__ = ["KubernetesExecutor"]


@dataclass
class _Tracked:
    action: StartPod
    last: PodReport | None = None
    main_ended_at: float | None = None
    done: bool = False


class KubernetesExecutor:
    def __init__(
        self,
        api_client: Any,
        namespace: str,
        workflow: str,
        *,
        settings: PodSettings | None = None,
        owner: dict[str, Any] | None = None,
        report_grace: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.core = client.CoreV1Api(api_client)
        self.namespace = namespace
        self.workflow = workflow
        self.settings = settings or PodSettings()
        self.owner = owner
        self.report_grace = report_grace
        self.clock = clock
        self.tracked: dict[str, _Tracked] = {}
        self.pending: list[PodReport] = []
        self.api_client = api_client
        self.resources: dict[str, ResourceStep] = {}
        self._dynamic: DynamicClient | None = None

    def start(self, action: StartPod) -> None:
        if action.node_id in self.tracked or action.node_id in self.resources:
            return
        if action.template.get("resource") is not None:
            if self._dynamic is None:
                self._dynamic = DynamicClient(self.api_client)  # type: ignore[no-untyped-call]
            self.resources[action.node_id] = ResourceStep(self._dynamic, action, self.namespace, self.owner)
            return
        self.tracked[action.node_id] = _Tracked(action)
        manifest = pod_manifest(
            action, self.workflow, self.namespace, self.clock(), settings=self.settings, owner=self.owner
        )
        try:
            self.core.create_namespaced_pod(self.namespace, manifest)  # type: ignore[arg-type]
        except ApiException as error:
            if error.status != 409:
                self.pending.append(
                    PodReport(
                        action.node_id,
                        "Error",
                        f"cannot create pod {action.pod_name}: {error.reason} {error.body or ''}".strip(),
                    )
                )
                self.tracked[action.node_id].done = True

    def stop(self, action: StopPod) -> None:
        tracked = self.tracked.get(action.node_id)
        if tracked is not None:
            tracked.done = True
        if action.node_id in self.resources:
            self.resources[action.node_id].done = True
            return
        try:
            self.core.delete_namespaced_pod(action.pod_name, self.namespace, grace_period_seconds=5)
        except ApiException as error:
            if error.status != 404:
                raise

    def poll(self) -> list[PodReport]:
        reports, self.pending = self.pending, []
        for step in self.resources.values():
            if not step.done and (report := step.advance()) is not None:
                reports.append(report)
        active = {node_id: tracked for node_id, tracked in self.tracked.items() if not tracked.done}
        if not active:
            return reports
        listed = self.core.list_namespaced_pod(self.namespace, label_selector=f"{RUN_LABEL}={self.workflow}")
        serialized = (self.core.api_client.sanitize_for_serialization(item) for item in listed.items)
        pods: dict[str, dict[str, Any]] = {pod["metadata"]["name"]: pod for pod in serialized}
        for node_id, tracked in active.items():
            pod = pods.get(tracked.action.pod_name)
            if pod is None:
                if tracked.last is not None:  # seen before: it was deleted under us
                    tracked.done = True
                    reports.append(PodReport(node_id, "Error", f"pod {tracked.action.pod_name} deleted"))
                continue
            report = self._report(node_id, tracked, pod)
            if report is None or report == tracked.last:
                continue
            tracked.last = report
            if report.phase in ("Succeeded", "Failed", "Error"):
                tracked.done = True
            reports.append(report)
        return reports

    def _report(self, node_id: str, tracked: _Tracked, pod: dict[str, Any]) -> PodReport | None:
        report = interpret(node_id, pod)
        if report is None:
            report = interpret(node_id, pod, self._wait_log(tracked.action.pod_name))
        if report is not None and report.phase == "Running" and _main_ended(pod):
            tracked.main_ended_at = tracked.main_ended_at or time.monotonic()
            if time.monotonic() - tracked.main_ended_at > self.report_grace:
                self.stop(StopPod(node_id, tracked.action.pod_name, "wait container did not report"))
                return PodReport(node_id, "Error", "the wait container did not report the step's outputs")
        return report

    def _wait_log(self, pod: str) -> str:
        try:
            text: str = self.core.read_namespaced_pod_log(pod, self.namespace, container="wait", tail_lines=5)
        except ApiException:
            return ""
        return text

    def logs(self, pod: str, container: str = "main") -> str:
        text: str = self.core.read_namespaced_pod_log(pod, self.namespace, container=container)
        return text

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)

    def close(self) -> None:
        """Pods are kept after the run, as Argo keeps them without a podGC strategy."""


def _main_ended(pod: dict[str, Any]) -> bool:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == "main":
            return bool((status.get("state") or {}).get("terminated"))
    return False
