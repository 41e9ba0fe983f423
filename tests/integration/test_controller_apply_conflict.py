# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""A status patch that conflicts (409) posts none of the pass's transition Events (§3.1 step 5-6).

The `Applier` is driven directly against the devcluster's real apiserver with a Rollout read
before someone else edited it, so its ``resourceVersion`` precondition fails for real. The
transition Event of that pass must not be posted (the re-planned pass reports it), while an
Event reporting one of the plan's writes is posted as the plan reaches it; the re-planned pass
then writes the status and posts the transition exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from test_controller_harness import Cluster, cluster, rollout_crds, rollout_manifest

from rollouts.controller.apply import Applier, Outcome, Written
from rollouts.controller.kube import KubeClient, load_configuration
from rollouts.devcluster import DevCluster
from rollouts.planner import EmitEvent, Plan

NAME = "contested"
PAUSED = EmitEvent("RolloutPaused", "Rollout is paused (CanaryPauseStep)")
SCALED = EmitEvent(
    "ScalingReplicaSet", "Scaled up ReplicaSet contested-abc (revision 2) from 0 to 1", with_write=True
)


def apply(devcluster: DevCluster, plan: Plan, rollout: dict[str, Any]) -> Outcome:
    async def run() -> Outcome:
        client = KubeClient(load_configuration(str(devcluster.kubeconfig)))
        try:
            applier = Applier(client, clock=lambda: datetime.now(UTC))
            return await applier.apply(plan, rollout, Written())
        finally:
            await client.close()

    return asyncio.run(run())


def reasons(cluster: Cluster) -> list[str]:
    return sorted(event.reason for event in cluster.events() if event.involved_object.name == NAME)


def test_a_conflicting_status_patch_posts_transitions_only_after_the_replanned_write(
    devcluster: DevCluster, rollout_crds: list[str], cluster: Cluster
) -> None:
    cluster.create_rollout(rollout_manifest(NAME, {"canary": {}}, replicas=1))
    stale = cluster.rollout(NAME)
    cluster.patch_rollout(NAME, {"metadata": {"annotations": {"edited-by": "someone-else"}}})

    status_patch = {"phase": "Paused", "message": "CanaryPauseStep"}
    outcome = apply(devcluster, Plan(actions=(SCALED, PAUSED), status_patch=status_patch), stale)
    assert (outcome.status_written, outcome.replan) == (False, True)
    assert outcome.rollout is not None  # re-read after the conflict
    assert cluster.status(NAME).get("phase") is None
    assert reasons(cluster) == ["ScalingReplicaSet"]

    # the re-planned pass: the scale is done (not repeated), the transition is still to report
    outcome = apply(devcluster, Plan(actions=(PAUSED,), status_patch=status_patch), outcome.rollout)
    assert outcome.status_written
    assert cluster.status(NAME)["phase"] == "Paused"
    assert reasons(cluster) == ["RolloutPaused", "ScalingReplicaSet"]
