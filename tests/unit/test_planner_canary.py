"""The canary pipeline pass by pass (§3.1, §3.3-§3.6, §3.11 reactions), driven in a pure world."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from planner_world import World, apply_merge_patch, canary_rollout, short_hash

from rollouts.controller.collectors import abort_reason
from rollouts.planner import operations
from rollouts.planner.actions import (
    CreateAnalysisRun,
    CreateReplicaSet,
    EmitEvent,
    PatchRollout,
    Plan,
    Requeue,
    ScaleReplicaSet,
    SetServiceSelector,
    SetTrafficWeight,
)
from rollouts.planner.canary import plan_canary
from rollouts.planner.inputs import AnalysisRunView, ServiceView

STEPS: list[dict[str, Any]] = [
    {"setWeight": 20},
    {"pause": {}},
    {"setWeight": 50},
    {"pause": {"duration": "10s"}},
]


def world(steps: list[dict[str, Any]] | None = STEPS, replicas: int = 5, **canary: Any) -> World:
    w = World(canary_rollout(steps, replicas=replicas, **canary), plan_canary)
    for key in ("stableService", "canaryService"):
        if key in canary:
            w.services[canary[key]] = ServiceView(canary[key], {"app": "web"})
    return w


def events(plan: Plan) -> list[tuple[str, str]]:
    return [(a.reason, a.message) for a in plan.actions if isinstance(a, EmitEvent)]


def all_events(w: World) -> list[tuple[str, str]]:
    return [event for plan in w.plans for event in events(plan)]


def condition(w: World, kind: str) -> dict[str, Any]:
    return next(c for c in w.status["conditions"] if c["type"] == kind)


def deployed(steps: list[dict[str, Any]] | None = STEPS, **kwargs: Any) -> World:
    """A Rollout at its first revision, Healthy, then updated to a second template."""
    w = world(steps, **kwargs)
    w.run()
    w.update_template("nginx:1.28")
    return w


def stable_and_canary(w: World) -> tuple[int, int]:
    return w.by_hash(w.status["stableRS"]).spec_replicas, w.by_hash(w.status["currentPodHash"]).spec_replicas


def test_first_pass_of_a_new_rollout_creates_the_replica_set_empty_and_records_the_reset() -> None:
    # As Argo's rolloutCanary: the ReplicaSet is created in the pass that sees the new template
    # (0 pods), the Events in Argo's order, and the scaling waits for the next pass.
    w = world()
    plan = w.reconcile()
    (created,) = plan.of_type(CreateReplicaSet)
    assert created.manifest["spec"]["replicas"] == 0
    assert not plan.of_type(ScaleReplicaSet)
    reasons = [event.reason for event in plan.of_type(EmitEvent)]
    assert reasons == ["RolloutUpdated", "NewReplicaSetCreated", "RolloutNotCompleted"]
    assert [event.with_write for event in plan.of_type(EmitEvent)] == [True, True, False]
    assert w.status["currentStepIndex"] == 0
    assert w.status["currentStepHash"] == short_hash(STEPS)
    assert w.status["observedGeneration"] == "1"


def test_initial_deploy_is_promoted_without_steps() -> None:
    w = world()
    w.run()
    (rs,) = w.replica_sets.values()
    assert rs.spec_replicas == 5
    assert rs.annotations["rollout.argoproj.io/revision"] == "1"
    assert w.status["stableRS"] == w.status["currentPodHash"] == rs.pod_hash
    assert w.status["currentStepIndex"] == len(STEPS)
    assert (w.status["phase"], w.status.get("message")) == ("Healthy", None)
    assert w.rollout["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "1"
    assert (
        "RolloutCompleted",
        f"Rollout completed update to revision 1 ({rs.pod_hash}): Initial deploy",
    ) in all_events(w)
    assert condition(w, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert condition(w, "Healthy")["status"] == "True"
    assert condition(w, "Completed")["status"] == "True"
    assert condition(w, "Available")["status"] == "True"
    # a steady state writes nothing
    plan = w.reconcile()
    assert plan.status_patch is None
    assert not [a for a in plan.actions if not isinstance(a, Requeue)]


def test_new_replica_set_manifest() -> None:
    w = world()
    plan = w.reconcile()
    (create,) = plan.of_type(CreateReplicaSet)
    metadata, spec = create.manifest["metadata"], create.manifest["spec"]
    pod_hash = short_hash(w.rollout["spec"]["template"])
    assert metadata["name"] == f"web-{pod_hash}"
    assert metadata["labels"] == {"app": "web", "rollouts-pod-template-hash": pod_hash}
    assert metadata["ownerReferences"][0] | {} == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "web",
        "uid": "uid-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert metadata["annotations"] == {
        "rollout.argoproj.io/revision": "1",
        "rollout.argoproj.io/desired-replicas": "5",
    }
    assert spec["replicas"] == 0
    assert spec["selector"]["matchLabels"] == {"app": "web", "rollouts-pod-template-hash": pod_hash}
    assert spec["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] == pod_hash


def test_canary_walks_the_steps_one_per_pass_and_completes() -> None:
    w = deployed()
    first_update_pass = len(w.plans)
    w.run()
    assert stable_and_canary(w) == (4, 1)
    assert w.status["currentStepIndex"] == 1
    assert (w.status["phase"], w.status["message"]) == ("Paused", "CanaryPauseStep")
    assert w.status["controllerPause"] is True
    assert ("RolloutStepCompleted", "Rollout step 1/4 completed (setWeight: 20)") in all_events(w)

    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    assert stable_and_canary(w) == (3, 3)  # 50% of 5 pods with one surge pod
    assert w.status["currentStepIndex"] == 3
    assert w.status["pauseConditions"][0]["reason"] == "CanaryPauseStep"
    expiry = [a for a in w.plans[-1].actions if isinstance(a, Requeue)]
    assert expiry
    assert expiry[0].at.isoformat() > w.status["pauseConditions"][0]["startTime"].replace("Z", "")

    w.advance(11)
    w.run()
    stable = w.status["stableRS"]
    assert stable == w.status["currentPodHash"]
    assert w.by_hash(stable).spec_replicas == 5
    assert sum(rs.spec_replicas for rs in w.replica_sets.values()) == 5
    assert w.status["currentStepIndex"] == 4
    assert (w.status["phase"], w.status.get("message")) == ("Healthy", None)
    assert "pauseConditions" not in w.status
    assert "controllerPause" not in w.status
    assert any(message.endswith(": Completed all 4 canary steps") for _, message in all_events(w))
    indexes = [p.status["currentStepIndex"] for p in w.plans[first_update_pass:] if p.status is not None]
    assert indexes[0] == 0
    assert all(b - a in (0, 1) for a, b in itertools.pairwise(indexes))


def test_abort_scales_the_canary_away_and_degrades_then_retry_starts_over() -> None:
    w = deployed()
    w.run()
    apply_merge_patch(w.rollout, operations.abort(w.rollout).status or {})
    w.run()
    assert stable_and_canary(w) == (5, 0)
    assert w.status["abort"] is True
    assert w.status["currentStepIndex"] == 0
    assert "pauseConditions" not in w.status
    assert w.status["phase"] == "Degraded"
    assert w.status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    assert condition(w, "Progressing")["reason"] == "RolloutAborted"
    assert ("RolloutAborted", "Rollout aborted update to revision 2") in all_events(w)
    aborted_at = w.status["abortedAt"]
    w.advance(30)
    w.run()
    assert w.status["abortedAt"] == aborted_at  # kept, or every pass would write

    apply_merge_patch(w.rollout, operations.retry(w.rollout).status or {})
    w.reconcile()
    assert condition(w, "Progressing")["reason"] == "RolloutRetry"
    w.run()
    # The user's `abort: false` stays as sent: Argo's typed status cannot see a false bool, so
    # its patches never remove it (seen side by side with Argo v1.10.1).
    assert w.status["abort"] is False
    assert "abortedAt" not in w.status
    assert stable_and_canary(w) == (4, 1)
    assert w.status["currentStepIndex"] == 1


def test_changing_the_steps_mid_update_resets_to_step_zero() -> None:
    w = deployed()
    w.run()
    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    assert w.status["currentStepIndex"] == 3
    w.rollout["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 40}, {"pause": {}}]
    w.rollout["metadata"]["generation"] += 1
    plan = w.reconcile()
    assert not plan.of_type(ScaleReplicaSet)
    assert w.status["currentStepIndex"] == 0
    assert "pauseConditions" not in w.status
    w.run()
    assert w.status["currentStepIndex"] == 1
    assert stable_and_canary(w) == (3, 2)


def test_moving_back_to_the_stable_template_skips_the_steps() -> None:
    w = deployed()
    w.run()
    w.update_template("nginx:1.27")
    w.run()
    assert ("SkipSteps", "Rollback to stable ReplicaSets") in all_events(w)
    assert w.status["currentStepIndex"] == len(STEPS)
    assert w.status["phase"] == "Healthy"
    assert sorted(w.counts().values()) == [0, 5]


def test_promote_full_skips_remaining_steps() -> None:
    w = deployed()
    w.run()
    patches = operations.promote_full(w.rollout)
    assert patches.status == {"status": {"promoteFull": True}}
    apply_merge_patch(w.rollout, patches.status)
    w.run()
    assert w.status["stableRS"] == w.status["currentPodHash"]
    assert w.status["phase"] == "Healthy"
    assert "promoteFull" not in w.status
    assert any(message.endswith(": Full promotion requested") for _, message in all_events(w))


def test_spec_paused_halts_scaling_and_shows_manually_paused() -> None:
    w = deployed()
    w.rollout["spec"]["paused"] = True
    w.rollout["metadata"]["generation"] += 1
    w.run()
    assert (w.status["phase"], w.status["message"]) == ("Paused", "manually paused")
    assert not any(plan.of_type(ScaleReplicaSet) for plan in w.plans[-3:])
    assert condition(w, "Paused")["status"] == "True"
    assert condition(w, "Progressing")["reason"] == "RolloutPaused"


def test_steps_do_not_advance_while_pods_are_unavailable() -> None:
    w = deployed()
    w.auto_ready = False
    for _ in range(6):
        w.reconcile()
        w.advance(1)
    assert w.status["currentStepIndex"] == 0
    assert stable_and_canary(w)[1] == 1
    w.pods_ready()
    w.auto_ready = True
    w.run()
    assert w.status["currentStepIndex"] == 1


def test_progress_deadline_exceeded_degrades_and_can_abort() -> None:
    w = deployed(progressDeadlineSeconds=60, progressDeadlineAbort=True)
    w.rollout["spec"]["progressDeadlineSeconds"] = 60
    w.rollout["spec"]["progressDeadlineAbort"] = True
    w.auto_ready = False
    for _ in range(4):
        w.reconcile()
        w.advance(1)
    w.advance(120)
    w.reconcile()
    assert condition(w, "Progressing")["reason"] == "ProgressDeadlineExceeded"
    assert w.status["phase"] == "Degraded"
    assert w.status["message"].startswith('ProgressDeadlineExceeded: ReplicaSet "web-')
    assert w.status["abort"] is True
    timed_out = condition(w, "Progressing")["message"]
    for _ in range(3):  # the detail survives every later pass, not only the one that aborted
        w.reconcile()
        progressing = condition(w, "Progressing")
        assert progressing["reason"] == "RolloutAborted"
        assert progressing["message"] == f"Rollout aborted update to revision 2: {timed_out}"
        assert w.status["message"] == f"RolloutAborted: Rollout aborted update to revision 2: {timed_out}"
        assert abort_reason(w.rollout) == "ProgressDeadlineExceeded"


def test_a_user_abort_after_a_deadline_without_deadline_abort_has_no_deadline_detail() -> None:
    w = deployed()
    w.rollout["spec"]["progressDeadlineSeconds"] = 60
    w.auto_ready = False
    for _ in range(4):
        w.reconcile()
        w.advance(1)
    w.advance(120)
    w.reconcile()
    assert condition(w, "Progressing")["reason"] == "ProgressDeadlineExceeded"
    w.rollout["status"]["abort"] = True
    w.reconcile()
    assert condition(w, "Progressing")["message"] == "Rollout aborted update to revision 2"


def test_missing_replicas_is_defaulted_and_nothing_else_happens() -> None:
    w = world()
    del w.rollout["spec"]["replicas"]
    plan = w.reconcile()
    assert plan.actions == (PatchRollout({"spec": {"replicas": 1}}),)
    assert plan.status_patch is None


def test_deleted_rollout_is_left_alone() -> None:
    w = world()
    w.rollout["metadata"]["deletionTimestamp"] = "2024-05-01T00:00:00Z"
    plan = w.reconcile()
    assert plan.actions == ()
    assert plan.status_patch is None


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda r: r["spec"].update(replicas="abc"),
            'spec.replicas: Invalid value: "abc": must be an integer',
        ),
        (
            lambda r: r["spec"]["strategy"]["canary"].update(steps=[{"setWeight": 120}]),
            "spec.strategy.steps[0].setWeight: Invalid value: 120: SetWeight needs to be between 0 and 100",
        ),
        (
            lambda r: r["spec"]["strategy"]["canary"].update(steps=["garbage"]),
            'spec.strategy.steps[0]: Invalid value: "step.Experiment: true step.Pause: true '
            "step.SetWeight: true step.Analysis: true step.SetCanaryScale: true "
            'step.SetHeaderRoute: true step.SetMirrorRoutes: true step.Plugin: true": '
            "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause",
        ),
    ],
)
def test_invalid_spec_degrades_with_the_first_error_and_retries(mutate: Any, expected: str) -> None:
    w = world()
    mutate(w.rollout)
    plan = w.reconcile()
    assert not plan.of_type(CreateReplicaSet)
    invalid = condition(w, "InvalidSpec")
    assert invalid["message"] == f'The Rollout "web" is invalid: {expected}'
    assert w.status["phase"] == "Degraded"
    assert w.status["message"] == f"InvalidSpec: {invalid['message']}"
    (requeue,) = plan.of_type(Requeue)
    assert requeue.at - w.now == timedelta(seconds=20)
    assert ("InvalidSpec", invalid["message"]) in events(plan)
    # unchanged on the next pass: no write, no second Event
    again = w.reconcile()
    assert again.status_patch is None
    assert not events(again)


def test_invalid_spec_condition_is_removed_once_fixed() -> None:
    w = world()
    w.rollout["spec"]["strategy"]["canary"]["steps"] = [{"setWeight": 120}]
    w.reconcile()
    w.rollout["spec"]["strategy"]["canary"]["steps"] = STEPS
    w.rollout["metadata"]["generation"] += 1
    w.run()
    assert all(c["type"] != "InvalidSpec" for c in w.status["conditions"])
    assert w.status["phase"] == "Healthy"


def test_scaling_event_resizes_without_moving_steps() -> None:
    w = deployed()
    w.run()
    index = w.status["currentStepIndex"]
    w.rollout["spec"]["replicas"] = 10
    w.rollout["metadata"]["generation"] += 1
    plan = w.reconcile()
    assert plan.of_type(ScaleReplicaSet)
    assert w.status["currentStepIndex"] == index


def test_services_follow_stable_and_canary() -> None:
    w = world(stableService="web-stable", canaryService="web-canary")
    w.run()
    stable_hash = w.status["stableRS"]
    assert w.services["web-stable"].selected_hash == stable_hash
    assert w.services["web-canary"].selected_hash == stable_hash
    switches = [a for p in w.plans for a in p.of_type(SetServiceSelector)]
    assert all(a.managed_by == "web" for a in switches)
    w.update_template("nginx:1.28")
    w.run()
    assert w.services["web-stable"].selected_hash == stable_hash
    assert w.services["web-canary"].selected_hash == w.status["currentPodHash"]


def test_missing_service_is_an_invalid_spec() -> None:
    w = world(stableService="web-stable", canaryService="web-canary")
    w.services.clear()
    w.reconcile()
    assert condition(w, "InvalidSpec")["message"] == (
        'The Rollout "web" is invalid: spec.strategy.canary.stableService: Invalid value: "web-stable": '
        'services "web-stable" not found'
    )


def test_analysis_step_creates_a_run_and_aborts_when_it_fails() -> None:
    analysis = {"templates": [{"templateName": "success-rate"}]}
    w = deployed([{"setWeight": 20}, {"analysis": analysis}, {"setWeight": 60}])
    w.run()
    created = [a for p in w.plans for a in p.of_type(CreateAnalysisRun)]
    assert len(created) == 1
    run = created[0]
    assert (run.kind, run.step_index, run.revision) == ("Step", 1, 2)
    assert run.name == f"web-{w.status['currentPodHash']}-2-1"
    assert w.status["canary"]["currentStepAnalysisRunStatus"] == {"name": run.name, "status": ""}
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Failed", "metric success-rate assessed Failed")
    w.run()
    assert w.status["abort"] is True
    assert w.status["message"] == (
        "RolloutAborted: Rollout aborted update to revision 2: "
        "Step-based analysis phase failed: metric success-rate assessed Failed"
    )
    assert stable_and_canary(w) == (5, 0)


def test_successful_analysis_completes_the_step() -> None:
    analysis = {"templates": [{"templateName": "success-rate"}]}
    w = deployed([{"setWeight": 20}, {"analysis": analysis}, {"setWeight": 60}])
    w.run()
    (run,) = [a for p in w.plans for a in p.of_type(CreateAnalysisRun)]
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Successful")
    w.run()
    assert w.status["stableRS"] == w.status["currentPodHash"]


def test_inconclusive_analysis_pauses_and_halts_scaling() -> None:
    analysis = {"templates": [{"templateName": "success-rate"}]}
    w = deployed([{"setWeight": 20}, {"analysis": analysis}, {"setWeight": 60}])
    w.run()
    (run,) = [a for p in w.plans for a in p.of_type(CreateAnalysisRun)]
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Inconclusive")
    w.run()
    assert (w.status["phase"], w.status["message"]) == ("Paused", "InconclusiveAnalysisRun")
    patches = operations.promote(w.rollout)
    assert patches.status == {
        "status": {"pauseConditions": None, "controllerPause": False, "currentStepIndex": 2}
    }


def test_traffic_routed_canary_sets_weights_and_keeps_stable_full() -> None:
    w = deployed(
        [{"setWeight": 20}, {"pause": {}}],
        stableService="web-stable",
        canaryService="web-canary",
        trafficRouting={"nginx": {"stableIngress": "web"}},
    )
    w.run()
    assert stable_and_canary(w) == (5, 1)
    weights = [a for a in w.plans[-1].actions if isinstance(a, SetTrafficWeight)]
    assert weights[-1].weight == 20
    recorded = w.status["canary"]["weights"]
    assert recorded["canary"] == {
        "weight": 20,
        "podTemplateHash": w.status["currentPodHash"],
        "serviceName": "web-canary",
    }
    assert recorded["stable"]["weight"] == 80
    assert ("TrafficWeightUpdated", "Traffic weight updated from 0 to 20") in all_events(w)


def traffic_routed(**canary: Any) -> World:
    return deployed(
        [{"setWeight": 20}, {"pause": {}}],
        stableService="web-stable",
        canaryService="web-canary",
        trafficRouting={"nginx": {"stableIngress": "web"}},
        **canary,
    )


def test_traffic_routed_abort_moves_traffic_back_then_scales_canary_down_after_the_delay() -> None:
    w = traffic_routed()
    w.run()
    apply_merge_patch(w.rollout, operations.abort(w.rollout).status or {})
    w.run()
    canary_hash = w.status["currentPodHash"]
    weights = [a.weight for p in w.plans[-3:] for a in p.of_type(SetTrafficWeight)]
    assert weights[-1] == 0
    assert w.services["web-canary"].selected_hash == w.status["stableRS"]
    canary = w.by_hash(canary_hash)
    assert canary.spec_replicas == 1
    assert canary.scale_down_deadline is not None
    assert canary.scale_down_deadline > w.now
    w.advance(31)
    w.run()
    assert w.by_hash(canary_hash).spec_replicas == 0


def test_traffic_routed_abort_with_zero_delay_leaves_the_canary_up() -> None:
    w = traffic_routed(abortScaleDownDelaySeconds=0)
    w.run()
    apply_merge_patch(w.rollout, operations.abort(w.rollout).status or {})
    w.run()
    w.advance(3600)
    w.run()
    assert w.by_hash(w.status["currentPodHash"]).spec_replicas == 1


def test_traffic_routed_promotion_delays_the_previous_stable() -> None:
    w = traffic_routed()
    w.run()
    old = w.status["stableRS"]
    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    assert w.status["stableRS"] == w.status["currentPodHash"]
    assert w.by_hash(old).spec_replicas == 5
    assert w.by_hash(old).has_scale_down_deadline
    w.advance(31)
    w.run()
    assert w.by_hash(old).spec_replicas == 0


def test_only_events_reporting_a_write_are_posted_before_the_status_write() -> None:
    w = deployed()
    w.run()
    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    events = [event for plan in w.plans for event in plan.of_type(EmitEvent)]
    with_write = {event.reason for event in events if event.with_write}
    transitions = {event.reason for event in events if not event.with_write}
    assert with_write == {"RolloutUpdated", "NewReplicaSetCreated", "ScalingReplicaSet"}
    assert {"RolloutPaused", "RolloutNotCompleted"} <= transitions
    assert not with_write & transitions
