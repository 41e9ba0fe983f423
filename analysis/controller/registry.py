"""The kopf side of the AnalysisRun controller: one watch handler that feeds the run loops.

`register` adds the handlers to a registry someone else owns, so ``rollouts controller`` runs
the Rollout and the AnalysisRun controllers in one operator process over one API client (the
caller adapts its client to `ApiCaller`). The handler decides nothing: every event, including
the echo of our own status writes, hands the run to its loop, which reconciles level-triggered
from the freshest copy. It is a coroutine because waking an asyncio loop must happen on its own
thread (kopf runs plain functions in worker threads), and returns nothing (kopf would store a
return value in the object).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import kopf

from analysis.controller.api import ApiCaller
from analysis.controller.loops import RunLoops
from analysis.controller.reconcile import Reconciler
from analysis.providers.base import HttpDriver

__all__ = ["ANALYSIS_RUNS", "register"]

ANALYSIS_RUNS = ("argoproj.io", "v1alpha1", "analysisruns")
PROMETHEUS_ADDRESS_ENV = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS"
JOB_NAMESPACE_ENV = "ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE"


def register(
    registry: kopf.OperatorRegistry,
    api: ApiCaller,
    *,
    clock: Callable[[], datetime],
    resync_seconds: float = 300.0,
    environ: Mapping[str, str] = os.environ,
) -> RunLoops:
    """Add the AnalysisRun handlers to ``registry``; the returned loops are for introspection."""
    driver = HttpDriver()
    reconciler = Reconciler(
        api,
        driver,
        clock=clock,
        prometheus_address=environ.get(PROMETHEUS_ADDRESS_ENV) or None,
        job_namespace=environ.get(JOB_NAMESPACE_ENV) or None,
    )
    loops = RunLoops(reconciler, clock, resync_seconds)

    @kopf.on.event(*ANALYSIS_RUNS, id="analysis_run_controller", registry=registry)
    async def _analysis_run(event: Mapping[str, Any], **_: Any) -> None:
        loops.event(event.get("type"), event["object"])

    @kopf.on.cleanup(id="analysis_run_controller_cleanup", registry=registry)
    async def _stop(**_: Any) -> None:
        await loops.stop_all()
        await driver.aclose()

    return loops
