# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""A Rollout write that conflicts (409) posts none of the pass's transition Events (§3.1 step 5-6)
and overwrites nothing a user changed meanwhile.

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
from rollouts.planner import EmitEvent, PatchRollout, Plan, operations

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


def test_a_user_promote_before_our_revision_write_is_kept_and_the_pass_re_planned(
    devcluster: DevCluster, rollout_crds: list[str], cluster: Cluster
) -> None:
    """The planned metadata write (revision annotation) is guarded like the status write: were it
    not, it would succeed, return the user's new version and let the status patch planned from
    the older state through on top of the user's promote."""
    cluster.create_rollout(rollout_manifest(NAME, {"canary": {"steps": [{"pause": {}}]}}, replicas=1))
    pause = [{"reason": "CanaryPauseStep", "startTime": "2024-05-01T12:00:00Z"}]
    cluster.patch_status(NAME, {"status": {"pauseConditions": pause, "currentStepIndex": 0}})
    stale = cluster.rollout(NAME)
    cluster.patch_status(NAME, operations.promote(stale).status)  # lands while the pass computes

    revision = PatchRollout({"metadata": {"annotations": {"rollout.argoproj.io/revision": "2"}}})
    plan = Plan(actions=(revision,), status_patch={"pauseConditions": pause, "message": "CanaryPauseStep"})
    outcome = apply(devcluster, plan, stale)
    assert (outcome.status_written, outcome.replan, outcome.gone) == (False, True, False)
    after = cluster.rollout(NAME)
    assert after["status"] == {"currentStepIndex": 0}  # the promote cleared the pause, kept
    assert "rollout.argoproj.io/revision" not in (after["metadata"].get("annotations") or {})
    assert outcome.rollout is not None
    assert outcome.rollout["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]

    # the re-planned pass from the re-read: both writes go through, the second guarded by the
    # version the first returned (no 409 on our own write)
    outcome = apply(devcluster, Plan(actions=(revision,), status_patch={"message": "x"}), outcome.rollout)
    assert outcome.status_written and not outcome.replan
    after = cluster.rollout(NAME)
    assert after["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    assert after["status"] == {"currentStepIndex": 0, "message": "x"}
