"""The kopf side of the CronWorkflow controller: an index of the runs and handlers that wake loops.

Kept apart from ``registry`` (the WorkflowRun controller's) so each controller is one small
module; ``rollouts controller`` calls both. Every CronWorkflow event hands the object to its
loop (``analysis.controller.loops.RunLoops``); every event of a WorkflowRun labelled
``workflows.argoproj.io/cron-workflow=<name>`` updates the index and wakes that CronWorkflow.
kopf fills the index before any handler runs, so the first pass after a restart already sees
every run and neither skips nor doubles a tick. ``enabled=False`` (``--no-workflow-controller``)
leaves CronWorkflows alone, as it leaves WorkflowRuns: nobody would run what we create.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import kopf

from analysis.controller.api import ApiCaller
from analysis.controller.loops import RunLoops
from analysis.workflows.cron_controller import CronReconciler, project_run
from analysis.workflows.cron_model import CRON_PLURAL
from analysis.workflows.cron_policy import CRON_LABEL
from analysis.workflows.status import GROUP, VERSION

__all__ = ["CRON_WORKFLOWS", "register"]

CRON_WORKFLOWS: Final = (GROUP, VERSION, CRON_PLURAL)
WORKFLOW_RUNS: Final = (GROUP, VERSION, "workflowruns")
INDEX: Final = "cron_workflow_runs"


def _cron_key(body: Mapping[str, Any]) -> tuple[str, str] | None:
    metadata = body.get("metadata") or {}
    cron = (metadata.get("labels") or {}).get(CRON_LABEL)
    return None if not cron else (str(metadata.get("namespace", "")), str(cron))


def register(
    registry: kopf.OperatorRegistry,
    api: ApiCaller,
    *,
    clock: Callable[[], datetime],
    resync_seconds: float = 300.0,
    enabled: bool = True,
) -> RunLoops | None:
    """Add the CronWorkflow handlers to ``registry`` (None, adding nothing, when not ``enabled``)."""
    if not enabled:
        return None
    indexed: dict[str, Any] = {}

    def runs_of(namespace: str, cron: str) -> list[Mapping[str, Any]]:
        store = indexed[INDEX].get((namespace, cron)) if INDEX in indexed else None
        return list(store or ())

    loops = RunLoops(CronReconciler(api, runs_of, clock=clock), clock, resync_seconds, kind="CronWorkflow")

    @kopf.on.startup(id="cron_workflow_controller_startup", registry=registry)
    async def _bind(**kwargs: Any) -> None:
        indexed[INDEX] = kwargs[INDEX]

    @kopf.index(*WORKFLOW_RUNS, id=INDEX, registry=registry, labels={CRON_LABEL: kopf.PRESENT})
    async def cron_workflow_runs(body: kopf.Body, **_: Any) -> dict[Any, Any] | None:
        key = _cron_key(body)
        return None if key is None else {key: project_run(body)}

    @kopf.on.event(*CRON_WORKFLOWS, id="cron_workflow_controller", registry=registry)
    async def _cron_workflow(event: Mapping[str, Any], **_: Any) -> None:
        loops.event(event.get("type"), event["object"])

    @kopf.on.event(
        *WORKFLOW_RUNS, id="cron_workflow_run_events", registry=registry, labels={CRON_LABEL: kopf.PRESENT}
    )
    async def _run(body: kopf.Body, **_: Any) -> None:
        key = _cron_key(body)
        if key is not None:
            loops.wake(*key)

    @kopf.on.cleanup(id="cron_workflow_controller_cleanup", registry=registry)
    async def _stop(**_: Any) -> None:
        await loops.stop_all()

    return loops
