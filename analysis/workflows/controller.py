"""The imperative shell of the WorkflowRun controller: reads, one pure pass, then the writes.

Each reconcile takes the run as the watch delivered it and its pods from the pod index (no LIST
per pass), lets ``reconcile.plan_pass`` decide, creates and deletes pods through the API caller
the controller process shares (pods built by the Kubernetes executor's ``pod_manifest``, owned by
the run), and writes ``status`` with one merge patch only when it changed. Timers (backoffs,
suspends, deadlines) come back as ``Result.requeue_at``; pod events wake the run's loop.

Resource steps have no pod: ``executors.resources.ResourceStep`` acts on its object with the
synchronous dynamic client (in a worker thread, so the event loop never blocks) over the API
client the process gives (``resource_client``); the node stays ``Pending`` until the step ends,
so the scheduler keeps asking for it and the pass keeps checking its conditions every
``RESOURCE_POLL``. A controller restarted mid-step acts again (a ``create`` then meets
AlreadyExists), and the controller's own identity acts, so its RBAC must allow those objects.

Pod creations are remembered per run so that the echo of our own status write, which can arrive
before the pod watch has seen the new pod, does not send a second (409) create; a restarted
controller starts with an empty memory and a fully populated index instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from analysis.controller.api import MERGE_PATCH, ApiCaller, ApiCallError
from analysis.controller.reconcile import Result
from analysis.workflows.actions import PodReport, StartPod
from analysis.workflows.executors.pods import PodSettings, pod_manifest
from analysis.workflows.executors.resources import ResourceStep
from analysis.workflows.reconcile import (
    RESOURCE_UNSUPPORTED,
    invalid_status,
    logs_needed,
    plan_pass,
    status_of,
    workflow_of,
)
from analysis.workflows.runs import template_references
from analysis.workflows.scheduler import apply_report
from analysis.workflows.spec import WorkflowSpec
from analysis.workflows.status import FINAL_PHASES, GROUP, KIND, VERSION, WorkflowStatus

__all__ = ["PodSource", "WorkflowReconciler", "run_path"]

RUNS_PATH: Final = f"/apis/{GROUP}/{VERSION}/namespaces/{{namespace}}/workflowruns"
PODS_PATH: Final = "/api/v1/namespaces/{namespace}/pods"
ARGO_GROUP_PATH: Final = "/apis/argoproj.io/v1alpha1"
STOP_GRACE_SECONDS: Final = 5
RESOURCE_POLL: Final = timedelta(seconds=2)

PodSource = Callable[[str, str], Mapping[str, Mapping[str, Any]]]
"""(namespace, run) → the run's pods by name, as the watch last saw them."""


def run_path(namespace: str, name: str) -> str:
    return f"{RUNS_PATH.format(namespace=namespace)}/{name}"


def _owner(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": metadata.get("name"),
        "uid": metadata.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


class WorkflowReconciler:
    """Reconciles WorkflowRuns through one API caller; pods come from ``pods``."""

    def __init__(
        self,
        api: ApiCaller,
        pods: PodSource,
        *,
        clock: Callable[[], datetime],
        settings: PodSettings | None = None,
        resource_client: Any = None,
    ) -> None:
        self.api = api
        self.pods = pods
        self.clock = clock
        self.settings = settings or PodSettings()
        self.resource_client = resource_client
        self._dynamic: Any = None
        self._created: dict[tuple[str, str], set[str]] = {}
        self._resources: dict[tuple[str, str], dict[str, ResourceStep]] = {}

    async def reconcile(self, body: Mapping[str, Any]) -> Result:
        metadata = body.get("metadata") or {}
        namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
        key = (namespace, name)
        if metadata.get("deletionTimestamp"):
            self._forget(key)
            return Result(gone=True)
        stored = status_of(body)
        if stored is not None and stored.phase in FINAL_PHASES:
            self._forget(key)
            return Result()
        now = self.clock()
        workflow = workflow_of(body)
        if isinstance(workflow, str):
            return Result(body=await self._write(namespace, name, stored, invalid_status(workflow, now)))
        library = await self._library(workflow.spec, namespace)
        pods = self.pods(namespace, name)
        logs = {pod: await self._wait_log(namespace, pod) for pod in logs_needed(pods)}
        found = {pod: log for pod, log in logs.items() if log}
        step = plan_pass(workflow, stored, pods, now, library=library, wait_logs=found)
        status = step.status
        created = self._created.setdefault(key, set())
        for action in step.create:
            if action.pod_name in created:
                continue
            manifest = pod_manifest(
                action, name, namespace, now, settings=self.settings, owner=_owner(metadata)
            )
            try:
                await self.api.call("POST", PODS_PATH.format(namespace=namespace), body=manifest)
            except ApiCallError as error:
                if error.status != 409:
                    message = f"cannot create pod {action.pod_name}: {error.message}"
                    status = apply_report(status, PodReport(action.node_id, "Error", message), now)
                    continue
            created.add(action.pod_name)
        for stop in step.delete:
            try:
                await self.api.call(
                    "DELETE",
                    f"{PODS_PATH.format(namespace=namespace)}/{stop.pod_name}",
                    params={"gracePeriodSeconds": str(STOP_GRACE_SECONDS)},
                )
            except ApiCallError as error:
                if error.status != 404:
                    raise
        status, resource_wake = await self._resource_steps(key, metadata, step.resources, status, now)
        written = await self._write(namespace, name, stored, status)
        wakes = [when for when in (step.wake_at, resource_wake) if when is not None]
        return Result(requeue_at=min(wakes, default=None), body=written)

    async def _wait_log(self, namespace: str, pod: str) -> str | None:
        """The tail of a pod's ``wait`` log (where an oversized report is), through the
        synchronous client in a worker thread: the API caller decodes JSON only."""
        if self.resource_client is None:
            return None
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        core: Any = client.CoreV1Api(self.resource_client)
        try:
            text: str = await asyncio.to_thread(
                core.read_namespaced_pod_log, pod, namespace, container="wait", tail_lines=5
            )
        except ApiException:
            return None
        return text

    def _forget(self, key: tuple[str, str]) -> None:
        self._created.pop(key, None)
        self._resources.pop(key, None)

    async def _resource_steps(
        self,
        key: tuple[str, str],
        metadata: Mapping[str, Any],
        actions: tuple[StartPod, ...],
        status: WorkflowStatus,
        now: datetime,
    ) -> tuple[WorkflowStatus, datetime | None]:
        """Act on / check each resource step the scheduler asks for; fold in how they ended."""
        if not actions:
            return status, None
        if self.resource_client is None:
            for action in actions:
                status = apply_report(status, PodReport(action.node_id, "Error", RESOURCE_UNSUPPORTED), now)
            return status, None
        if self._dynamic is None:
            from kubernetes.dynamic import DynamicClient

            self._dynamic = await asyncio.to_thread(DynamicClient, self.resource_client)
        steps = self._resources.setdefault(key, {})
        waiting = False
        for action in actions:
            step = steps.get(action.node_id)
            if step is None:
                step = ResourceStep(self._dynamic, action, key[0], _owner(metadata))
                steps[action.node_id] = step
            report = await asyncio.to_thread(step.advance)
            if report is not None and report.phase != "Running":
                status = apply_report(status, report, now)
            waiting = waiting or not step.done
        return status, now + RESOURCE_POLL if waiting else None

    async def _write(
        self, namespace: str, name: str, stored: WorkflowStatus | None, status: WorkflowStatus
    ) -> Mapping[str, Any] | None:
        """Merge patch ``status`` when it differs from the stored one (unset fields go as null)."""
        if stored == status:
            return None
        answer: Mapping[str, Any] | None = await self.api.call(
            "PATCH",
            run_path(namespace, name),
            body={"status": status.model_dump(by_alias=True)},
            content_type=MERGE_PATCH,
        )
        return answer

    async def _library(self, spec: WorkflowSpec, namespace: str) -> dict[tuple[bool, str], WorkflowSpec]:
        """The (Cluster)WorkflowTemplates ``spec`` names, transitively; missing ones are left out."""
        library: dict[tuple[bool, str], WorkflowSpec] = {}
        pending = list(template_references(spec))
        while pending:
            key = pending.pop()
            if key in library:
                continue
            cluster, template = key
            path = (
                f"{ARGO_GROUP_PATH}/clusterworkflowtemplates/{template}"
                if cluster
                else f"{ARGO_GROUP_PATH}/namespaces/{namespace}/workflowtemplates/{template}"
            )
            try:
                found = await self.api.call("GET", path)
            except ApiCallError as error:
                if error.status == 404:
                    continue
                raise
            library[key] = WorkflowSpec.model_validate((found or {}).get("spec") or {})
            pending += list(template_references(library[key]))
        return library
