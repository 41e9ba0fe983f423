"""The Rollout controller's functional core: from (Rollout, observed children, now) to a `Plan`.

Nothing in this package performs I/O, reads a clock or imports kopf, kubernetes or httpx. The
kopf shell lists what the Rollout owns into an `Observed`, calls `plan_rollout`, applies
``plan.actions`` in order, patches the status with ``plan.status_patch`` (when not ``None``) and
honours the earliest `Requeue`. User operations (`operations`) return the patches Argo's tools
send, so the CLI, the dashboard and the tests share them.

Module map, one concern each (as Argo's Go code is organised): `inputs` (views of the objects),
`units` (IntOrString and durations), `steps`, `replicas`, `weights`, `scaledown`, `replicasets`,
`restart`, `runs`, `experiments`, `workload` (decisions), `pause`, `conditions`, `phase`, `status` (the status
write), `validation`, `context` and `prelude` (one pass), `canary` and `bluegreen` (the
pipelines), `operations`, `actions` (the output).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rollouts.planner.actions import (
    Action,
    CreateAnalysisRun,
    CreateExperiment,
    CreateReplicaSet,
    DeleteAnalysisRun,
    DeleteExperiment,
    DeleteReplicaSet,
    EmitEvent,
    EvictPod,
    ExperimentDestination,
    PatchReplicaSet,
    PatchRollout,
    Plan,
    Requeue,
    ScaleReplicaSet,
    ScaleWorkload,
    SetServiceSelector,
    SetTrafficWeight,
    TerminateAnalysisRun,
    TerminateExperiment,
    merge_patch,
)
from rollouts.planner.bluegreen import plan_bluegreen
from rollouts.planner.canary import plan_canary
from rollouts.planner.inputs import (
    AnalysisRunView,
    ExperimentView,
    Observed,
    PodView,
    ReplicaSetView,
    RolloutView,
    ServiceView,
)
from rollouts.planner.phase import client_phase, rollout_phase
from rollouts.planner.restart import pods_needed

__all__ = [
    "Action",
    "AnalysisRunView",
    "CreateAnalysisRun",
    "CreateExperiment",
    "CreateReplicaSet",
    "DeleteAnalysisRun",
    "DeleteExperiment",
    "DeleteReplicaSet",
    "EmitEvent",
    "EvictPod",
    "ExperimentDestination",
    "ExperimentView",
    "Observed",
    "PatchReplicaSet",
    "PatchRollout",
    "Plan",
    "PodView",
    "ReplicaSetView",
    "Requeue",
    "RolloutView",
    "ScaleReplicaSet",
    "ScaleWorkload",
    "ServiceView",
    "SetServiceSelector",
    "SetTrafficWeight",
    "TerminateAnalysisRun",
    "TerminateExperiment",
    "client_phase",
    "merge_patch",
    "plan_bluegreen",
    "plan_canary",
    "plan_rollout",
    "pods_needed",
    "rollout_phase",
]


def plan_rollout(rollout: Mapping[str, Any], observed: Observed, now: datetime) -> Plan:
    """Plan one pass for either strategy (a Rollout without a valid strategy gets ``InvalidSpec``)."""
    if RolloutView(rollout).blue_green is not None:
        return plan_bluegreen(rollout, observed, now)
    return plan_canary(rollout, observed, now)
