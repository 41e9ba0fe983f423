"""Experiment templates (§8.3): ReplicaSets, hashes, sizes, scale-down delay, Services, template statuses."""

from __future__ import annotations

from typing import Any

from experiment_world import (
    NOW,
    UID,
    all_running,
    at,
    experiment,
    replica_set,
    running_status,
    stamp,
    template,
    with_status,
)

from rollouts.experiments import Observed, ServiceRef, plan_experiment
from rollouts.experiments.actions import CreateService, DeleteService
from rollouts.experiments.inputs import ExperimentObject
from rollouts.experiments.templates import reconcile_template, template_hash
from rollouts.hashes import pod_template_hash
from rollouts.planner.actions import CreateReplicaSet, EmitEvent, PatchReplicaSet

OWNER = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Experiment",
    "name": "ex",
    "uid": UID,
    "controller": True,
    "blockOwnerDeletion": True,
}


def _one(body: dict[str, Any], observed: Observed, now: Any = NOW, index: int = 0) -> Any:
    experiment_object = ExperimentObject(body)
    return reconcile_template(experiment_object, experiment_object.templates[index], observed, now)


def _events(actions: Any) -> list[tuple[str, str]]:
    return [(a.reason, a.message) for a in actions if isinstance(a, EmitEvent)]


def test_first_pass_creates_each_replica_set_at_its_size() -> None:
    first = template("baseline", replicas=None)
    first["minReadySeconds"] = 5
    body = experiment(first, template("canary", replicas=3))
    plan = plan_experiment(body, Observed(), NOW)
    creates = [a for a in plan.actions if isinstance(a, CreateReplicaSet)]
    assert [c.name for c in creates] == ["ex-baseline", "ex-canary"]
    manifest = creates[0].manifest
    pod_hash = pod_template_hash(first["template"], None)
    assert manifest["metadata"] == {
        "name": "ex-baseline",
        "namespace": "ns",
        "labels": {"rollouts-pod-template-hash": pod_hash},
        "annotations": {
            "experiment.argoproj.io/name": "ex",
            "experiment.argoproj.io/template-name": "baseline",
        },
        "ownerReferences": [OWNER],
    }
    assert manifest["spec"] == {
        "replicas": 1,
        "minReadySeconds": 5,
        "selector": {
            "matchLabels": {"app": "demo", "variant": "baseline", "rollouts-pod-template-hash": pod_hash}
        },
        "template": {
            "metadata": {
                "labels": {"app": "demo", "variant": "baseline", "rollouts-pod-template-hash": pod_hash}
            },
            "spec": first["template"]["spec"],
        },
    }
    assert creates[1].manifest["spec"]["replicas"] == 3
    assert ("NewReplicaSetCreated", "Created ReplicaSet ex-canary with size 3") in _events(plan.actions)
    assert ("TemplateProgressing", "Template 'baseline' transitioned from  -> Progressing") in _events(
        plan.actions
    )
    assert plan.status["templateStatuses"][0] == {
        "name": "baseline",
        "replicas": 0,
        "updatedReplicas": 0,
        "readyReplicas": 0,
        "availableReplicas": 0,
        "status": "Progressing",
        "lastTransitionTime": stamp(),
    }


def test_a_user_hash_label_is_dropped_before_hashing() -> None:
    labelled = template("a")
    labelled["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] = "mine"
    plain = template("a")
    [create] = [
        a
        for a in plan_experiment(experiment(labelled), Observed(), NOW).actions
        if isinstance(a, CreateReplicaSet)
    ]
    expected = pod_template_hash(plain["template"], None)
    assert create.manifest["metadata"]["labels"] == {"rollouts-pod-template-hash": expected}
    assert create.manifest["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"] == expected


def test_collision_count_changes_the_hash() -> None:
    body = experiment(template("a"), status={"templateStatuses": [{"name": "a", "collisionCount": 2}]})
    assert template_hash(ExperimentObject(body), template("a")) == pod_template_hash(
        template("a")["template"], 2
    )
    assert template_hash(ExperimentObject(body), template("a")) != pod_template_hash(
        template("a")["template"], None
    )


def test_available_pods_make_a_template_running() -> None:
    body = experiment(
        template("a", replicas=2),
        status={
            "phase": "Pending",
            "templateStatuses": [
                {
                    "name": "a",
                    "replicas": 2,
                    "updatedReplicas": 2,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                    "status": "Progressing",
                    "lastTransitionTime": stamp(-30),
                }
            ],
        },
    )
    outcome = _one(body, Observed(replica_sets=(replica_set(body, "a", spec_replicas=2, available=2),)))
    assert outcome.status["status"] == "Running"
    assert outcome.status["availableReplicas"] == 2
    assert outcome.status["lastTransitionTime"] == stamp()  # the counts moved
    assert _events(outcome.actions) == [
        ("TemplateRunning", "Template 'a' transitioned from Progressing -> Running")
    ]


def test_unchanged_counts_keep_the_transition_time() -> None:
    body = experiment(template("a"))
    body = with_status(body, running_status(body, since=-50))
    outcome = _one(body, all_running(body))
    assert outcome.status["lastTransitionTime"] == stamp(-50)
    assert outcome.actions == []


def _progressing(since: float, **spec: Any) -> dict[str, Any]:
    body = experiment(template("a", replicas=2), **spec)
    return with_status(
        body,
        {
            "phase": "Pending",
            "templateStatuses": [
                {
                    "name": "a",
                    "replicas": 2,
                    "updatedReplicas": 2,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                    "status": "Progressing",
                    "lastTransitionTime": stamp(since),
                }
            ],
        },
    )


def test_the_progress_deadline_fails_a_template_only_once_passed() -> None:
    body = _progressing(-600)
    observed = Observed(replica_sets=(replica_set(body, "a", spec_replicas=2, available=1, replicas=2),))
    on_time = _one(body, observed)
    assert on_time.status["status"] == "Progressing"
    assert on_time.deadline_at == at(0.001)
    late = _one(body, observed, at(1))
    assert late.status["status"] == "Failed"
    assert late.status["message"] == "Template 'a' exceeded its progressDeadlineSeconds (600)"
    assert _events(late.actions) == [
        (
            "TemplateFailed",
            "Template 'a' transitioned from Progressing -> Failed: "
            "Template 'a' exceeded its progressDeadlineSeconds (600)",
        )
    ]
    assert [a.warning for a in late.actions if isinstance(a, EmitEvent)] == [True]


def test_a_custom_progress_deadline() -> None:
    body = _progressing(-31, progressDeadlineSeconds=30)
    observed = Observed(replica_sets=(replica_set(body, "a", spec_replicas=2, available=1, replicas=2),))
    assert _one(body, observed).status["message"] == "Template 'a' exceeded its progressDeadlineSeconds (30)"


def test_duration_passed_makes_templates_successful() -> None:
    body = experiment(template("a"), duration="60s")
    body = with_status(body, running_status(body, available_at=-61))
    outcome = _one(body, all_running(body))
    assert outcome.status["status"] == "Successful"
    still = with_status(body, running_status(body, available_at=-60))
    assert _one(still, all_running(still)).status["status"] == "Running"


def test_terminating_adds_the_scale_down_deadline_then_scales_down_after_it() -> None:
    body = experiment(template("a", replicas=2), terminate=True)
    body = with_status(body, running_status(body))
    observed = all_running(body)
    first = _one(body, observed)
    deadline = stamp(30)
    assert first.actions[0] == PatchReplicaSet(
        "ex-a", {"metadata": {"annotations": {"scale-down-deadline": deadline}}}
    )
    assert not any(isinstance(a, PatchReplicaSet) and "spec" in a.patch for a in first.actions)
    assert first.scale_down_at == at(30)
    assert first.status["status"] == "Successful"
    waiting = Observed(
        replica_sets=(replica_set(body, "a", spec_replicas=2, available=2, deadline=deadline),)
    )
    assert not any(isinstance(a, PatchReplicaSet) for a in _one(body, waiting, at(29)).actions)
    due = _one(body, waiting, at(30))
    assert due.actions[0] == PatchReplicaSet("ex-a", {"spec": {"replicas": 0}})
    assert ("ScalingReplicaSet", "Scaled down ReplicaSet ex-a from 2 to 0") in _events(due.actions)


def test_zero_scale_down_delay_scales_at_once_and_drops_an_old_deadline() -> None:
    body = experiment(template("a"), terminate=True, scaleDownDelaySeconds=0)
    body = with_status(body, running_status(body))
    observed = Observed(replica_sets=(replica_set(body, "a", available=1, deadline=stamp(100)),))
    outcome = _one(body, observed)
    assert outcome.actions[:2] == [
        PatchReplicaSet("ex-a", {"metadata": {"annotations": {"scale-down-deadline": None}}}),
        PatchReplicaSet("ex-a", {"spec": {"replicas": 0}}),
    ]


def test_a_finished_idle_experiment_sends_nothing() -> None:
    body = experiment(template("a", service=True), duration="10s")
    status = running_status(body, available_at=-100)
    status["phase"] = "Successful"
    status["templateStatuses"][0].update(
        status="Successful", replicas=0, updatedReplicas=0, readyReplicas=0, availableReplicas=0
    )
    status["conditions"] = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ExperimentCompleted",
            "message": 'Experiment "ex" has successfully ran and completed.',
            "lastUpdateTime": stamp(-50),
            "lastTransitionTime": stamp(-50),
        }
    ]
    body = with_status(body, status)
    observed = Observed(
        replica_sets=(replica_set(body, "a", spec_replicas=0, available=0, deadline=stamp(-20)),)
    )
    plan = plan_experiment(body, observed, NOW)
    assert plan.actions == ()
    assert plan.status_patch is None
    assert plan.wake_at is None


def test_a_template_completed_early_is_scaled_down_while_others_run() -> None:
    body = experiment(template("a"), template("b"))
    status = running_status(body)
    status["templateStatuses"][0]["status"] = "Failed"
    body = with_status(body, status)
    outcome = _one(body, all_running(body), index=1)
    assert any(
        isinstance(a, PatchReplicaSet) and "metadata" in a.patch for a in outcome.actions
    )  # terminating


def test_a_changed_size_is_scaled_to() -> None:
    body = experiment(template("a", replicas=3))
    body = with_status(body, running_status(body))
    observed = Observed(replica_sets=(replica_set(body, "a", spec_replicas=1, available=1),))
    outcome = _one(body, observed)
    assert outcome.actions[0] == PatchReplicaSet("ex-a", {"spec": {"replicas": 3}})
    assert ("ScalingReplicaSet", "Scaled up ReplicaSet ex-a from 1 to 3") in _events(outcome.actions)
    assert outcome.status["status"] == "Progressing"


def test_service_created_once_the_replica_set_exists() -> None:
    body = experiment(template("a", service=True))
    first = _one(body, Observed())
    assert not any(isinstance(a, CreateService) for a in first.actions)
    rs = replica_set(body, "a", available=0)
    outcome = _one(body, Observed(replica_sets=(rs,)))
    [create] = [a for a in outcome.actions if isinstance(a, CreateService)]
    assert create.manifest == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "ex-a",
            "namespace": "ns",
            "annotations": {"experiment.argoproj.io/name": "ex", "experiment.argoproj.io/template-name": "a"},
            "ownerReferences": [OWNER],
        },
        "spec": {
            "selector": {"rollouts-pod-template-hash": rs.pod_hash},
            "ports": [{"protocol": "TCP", "port": 8080, "targetPort": 8080, "name": "http"}],
        },
    }
    assert (outcome.status["serviceName"], outcome.status["podTemplateHash"]) == ("ex-a", rs.pod_hash)


def test_service_name_from_the_template_and_no_ports_no_service() -> None:
    named = template("a")
    named["service"] = {"name": "custom"}
    body = experiment(named)
    outcome = _one(body, Observed(replica_sets=(replica_set(body, "a"),)))
    assert [a.name for a in outcome.actions if isinstance(a, CreateService)] == ["custom"]
    bare = experiment(template("a", service=True, ports=False))
    assert not any(
        isinstance(a, CreateService)
        for a in _one(bare, Observed(replica_sets=(replica_set(bare, "a"),))).actions
    )


def test_an_existing_service_is_kept_while_pods_run() -> None:
    body = experiment(template("a", service=True))
    body = with_status(body, running_status(body))
    observed = all_running(body, services=(ServiceRef("ex-a", "a"),))
    outcome = _one(body, observed)
    assert outcome.actions == []
    assert outcome.status["serviceName"] == "ex-a"


def test_service_deleted_only_once_no_pod_is_available() -> None:
    body = experiment(template("a", service=True), terminate=True, scaleDownDelaySeconds=0)
    status = running_status(body)
    status["templateStatuses"][0].update(serviceName="ex-a", podTemplateHash="h")
    body = with_status(body, status)
    services = (ServiceRef("ex-a", "a"),)
    up = _one(
        body,
        Observed(replica_sets=(replica_set(body, "a", spec_replicas=0, available=1),), services=services),
    )
    assert not any(isinstance(a, DeleteService) for a in up.actions)
    gone = _one(
        body,
        Observed(replica_sets=(replica_set(body, "a", spec_replicas=0, available=0),), services=services),
    )
    assert DeleteService("a", "ex-a") in gone.actions
    assert "serviceName" not in gone.status and "podTemplateHash" not in gone.status


def test_service_removed_from_the_spec_is_deleted() -> None:
    body = experiment(template("a"))
    body = with_status(body, running_status(body))
    outcome = _one(body, all_running(body, services=(ServiceRef("ex-a", "a"),)))
    assert outcome.actions[0] == DeleteService("a", "ex-a")


def test_a_refused_write_is_an_error_status() -> None:
    body = experiment(template("a"))
    body = with_status(
        body,
        {
            "phase": "Pending",
            "templateStatuses": [
                {
                    "name": "a",
                    "replicas": 0,
                    "updatedReplicas": 0,
                    "readyReplicas": 0,
                    "availableReplicas": 0,
                    "status": "Progressing",
                    "lastTransitionTime": stamp(),
                }
            ],
        },
    )
    message = "Failed to create ReplicaSet for template 'a': forbidden"
    outcome = _one(body, Observed(template_errors={"a": message}))
    assert not any(isinstance(a, CreateReplicaSet) for a in outcome.actions)
    assert (outcome.status["status"], outcome.status["message"]) == ("Error", message)
    assert _events(outcome.actions) == [
        ("TemplateError", f"Template 'a' transitioned from Progressing -> Error: {message}")
    ]


def test_completed_template_statuses_never_change() -> None:
    body = experiment(template("a"))
    status = running_status(body)
    status["templateStatuses"][0].update(status="Failed", message="late")
    body = with_status(body, status)
    outcome = _one(body, all_running(body))
    assert (outcome.status["status"], outcome.status["message"]) == ("Failed", "late")


def test_no_replica_set_is_created_for_a_template_already_at_zero() -> None:
    body = experiment(template("a"), terminate=True)
    outcome = _one(body, Observed())
    assert not any(isinstance(a, CreateReplicaSet) for a in outcome.actions)
    assert outcome.status["status"] == "Successful"


def test_scaling_back_up_drops_an_old_scale_down_deadline() -> None:
    body = experiment(template("a", replicas=2))  # a retried experiment: the status was wiped
    observed = Observed(replica_sets=(replica_set(body, "a", spec_replicas=0, deadline=stamp(-100)),))
    outcome = _one(body, observed)
    assert outcome.actions[:2] == [
        PatchReplicaSet("ex-a", {"metadata": {"annotations": {"scale-down-deadline": None}}}),
        PatchReplicaSet("ex-a", {"spec": {"replicas": 2}}),
    ]
    still_up = Observed(replica_sets=(replica_set(body, "a", spec_replicas=2, deadline=stamp(100)),))
    assert _one(body, still_up).actions[0] == PatchReplicaSet(
        "ex-a", {"metadata": {"annotations": {"scale-down-deadline": None}}}
    )


def test_a_name_taken_by_another_object_is_an_error_and_a_collision() -> None:
    body = experiment(
        template("a"), status={"phase": "Pending", "templateStatuses": [{"name": "a", "collisionCount": 1}]}
    )
    message = "Failed to create ReplicaSet for template 'a': replicasets.apps \"ex-a\" already exists"
    outcome = _one(body, Observed(template_errors={"a": message}, collisions=frozenset({"a"})))
    assert (outcome.status["status"], outcome.status["message"]) == ("Error", message)
    assert outcome.status["collisionCount"] == 2
