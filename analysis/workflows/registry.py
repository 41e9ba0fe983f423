"""The kopf side of the WorkflowRun controller: a pod index and handlers that only wake loops.

`register` adds to a registry someone else owns (``rollouts controller``), exactly as
``analysis.controller.registry`` does for AnalysisRuns, and reuses its per-object loops: every
WorkflowRun event hands the run to its loop; every event of a pod labelled
``workflows.rollouts.dev/run=<name>`` updates the pod index and wakes that run. kopf fills the
index before it calls any handler, so the first pass after a restart already sees every pod.
The pod watch is narrowed on the server to pods carrying the run label.

Pods run the ``wait``/``init`` containers with ``PodSettings``; the process environment sets
them (``ROLLOUTS_WORKFLOW_RUNNER_IMAGE``, ``ROLLOUTS_WORKFLOW_RUNNER_COMMAND``,
``ROLLOUTS_WORKFLOW_ARTIFACT_HOST_PATH``). ``enabled=False`` (``rollouts controller
--no-workflow-controller``) leaves WorkflowRuns alone: another process, or nobody, runs them.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import kopf

from analysis.controller.api import ApiCaller
from analysis.controller.loops import RunLoops
from analysis.workflows.controller import WorkflowReconciler
from analysis.workflows.executors.pods import RUN_LABEL, PodSettings
from analysis.workflows.reconcile import project_pod
from analysis.workflows.status import GROUP, VERSION

__all__ = ["WORKFLOW_RUNS", "pod_settings", "register"]

WORKFLOW_RUNS: Final = (GROUP, VERSION, "workflowruns")
PODS: Final = ("v1", "pods")
INDEX: Final = "workflow_run_pods"
RUNNER_IMAGE_ENV: Final = "ROLLOUTS_WORKFLOW_RUNNER_IMAGE"
RUNNER_COMMAND_ENV: Final = "ROLLOUTS_WORKFLOW_RUNNER_COMMAND"
ARTIFACT_PATH_ENV: Final = "ROLLOUTS_WORKFLOW_ARTIFACT_HOST_PATH"


def pod_settings(environ: Mapping[str, str]) -> PodSettings:
    defaults = PodSettings()
    command = environ.get(RUNNER_COMMAND_ENV)
    return PodSettings(
        runner_image=environ.get(RUNNER_IMAGE_ENV) or defaults.runner_image,
        runner_command=tuple(shlex.split(command)) if command else defaults.runner_command,
        repository_host_path=environ.get(ARTIFACT_PATH_ENV) or None,
    )


def _run_key(body: Mapping[str, Any]) -> tuple[str, str] | None:
    metadata = body.get("metadata") or {}
    run = (metadata.get("labels") or {}).get(RUN_LABEL)
    return None if not run else (str(metadata.get("namespace", "")), str(run))


def register(
    registry: kopf.OperatorRegistry,
    api: ApiCaller,
    *,
    clock: Callable[[], datetime],
    resync_seconds: float = 300.0,
    environ: Mapping[str, str] = os.environ,
    resource_client: Any = None,
    enabled: bool = True,
) -> RunLoops | None:
    """Add the WorkflowRun handlers to ``registry`` (None, adding nothing, when not ``enabled``).

    ``resource_client`` (a ``kubernetes.client.ApiClient``) lets resource steps run; without it
    they end in ``Error`` saying so.
    """
    if not enabled:
        return None
    indexed: dict[str, Any] = {}

    def pods_of(namespace: str, run: str) -> dict[str, Mapping[str, Any]]:
        store = indexed[INDEX].get((namespace, run)) if INDEX in indexed else None
        return {str(pod["metadata"]["name"]): pod for pod in (store or ())}

    reconciler = WorkflowReconciler(
        api, pods_of, clock=clock, settings=pod_settings(environ), resource_client=resource_client
    )
    loops = RunLoops(reconciler, clock, resync_seconds, kind="WorkflowRun")

    @kopf.on.startup(id="workflow_run_controller_startup", registry=registry)
    async def _bind(settings: kopf.OperatorSettings, **kwargs: Any) -> None:
        indexed[INDEX] = kwargs[INDEX]
        settings.watching.label_selectors[PODS] = RUN_LABEL

    @kopf.index(*PODS, id=INDEX, registry=registry, labels={RUN_LABEL: kopf.PRESENT})
    async def workflow_run_pods(body: kopf.Body, **_: Any) -> dict[Any, Any] | None:
        key = _run_key(body)
        return None if key is None else {key: project_pod(body)}

    @kopf.on.event(*WORKFLOW_RUNS, id="workflow_run_controller", registry=registry)
    async def _workflow_run(event: Mapping[str, Any], **_: Any) -> None:
        loops.event(event.get("type"), event["object"])

    @kopf.on.event(*PODS, id="workflow_run_pod_events", registry=registry, labels={RUN_LABEL: kopf.PRESENT})
    async def _pod(body: kopf.Body, **_: Any) -> None:
        key = _run_key(body)
        if key is not None:
            loops.wake(*key)

    @kopf.on.cleanup(id="workflow_run_controller_cleanup", registry=registry)
    async def _stop(**_: Any) -> None:
        await loops.stop_all()

    return loops
