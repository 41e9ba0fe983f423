"""Projections of children and the `Observed` built from them (`rollouts.controller.observe`)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.controller.observe import (
    ChildRecord,
    adoptable,
    child_index_key,
    desired_hashes,
    matches_selector,
    observe,
    pod_view,
    project_child,
    project_replica_set,
    project_service,
    referenced_services,
    replica_set_index_key,
    with_workload,
)
from rollouts.hashes import legacy_pod_template_hash, pod_template_hash, step_hash
from rollouts.planner import plan_rollout
from rollouts.planner.inputs import RolloutView
from rollouts.planner.validation import first_error

TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
}


def rollout(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "prod", "uid": "ro-uid", "generation": 1},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(TEMPLATE),
            "strategy": {"canary": {"steps": [{"setWeight": 50}]}},
            **spec,
        },
    }


def replica_set(
    name: str, pod_hash: str, *, owner_uid: str | None = "ro-uid", **extra: Any
) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    template["metadata"]["labels"]["rollouts-pod-template-hash"] = pod_hash
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": "prod",
        "uid": f"{name}-uid",
        "resourceVersion": "10",
        "labels": {"app": "web", "rollouts-pod-template-hash": pod_hash},
        "annotations": {"rollout.argoproj.io/revision": "1"},
        "creationTimestamp": "2024-05-01T12:00:00Z",
        "managedFields": [{"manager": "x" * 1000}],
    }
    if owner_uid is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "name": "web",
                "uid": owner_uid,
                "controller": True,
            }
        ]
    return {
        "metadata": metadata,
        "spec": {"replicas": 3, "template": template, **extra},
        "status": {"replicas": 3, "readyReplicas": 2, "availableReplicas": 1},
    }


def test_a_replica_set_projection_keeps_counts_and_a_digest_but_no_template() -> None:
    record = project_replica_set(replica_set("web-abc", "abc"))
    assert (record.view.name, record.view.pod_hash, record.view.spec_replicas) == ("web-abc", "abc", 3)
    assert (record.view.replicas, record.view.ready, record.view.available) == (3, 2, 1)
    assert (record.uid, record.resource_version, record.owner_uid) == ("web-abc-uid", "10", "ro-uid")
    assert len(record.template_digest) == 20
    assert "managedFields" not in repr(record) and "nginx" not in repr(record)


def test_replica_sets_are_indexed_by_owning_rollout_orphans_apart_and_foreign_ones_dropped() -> None:
    assert replica_set_index_key(replica_set("web-abc", "abc")) == ("owned", "prod", "web")
    assert replica_set_index_key(replica_set("web-abc", "abc", owner_uid=None)) == ("orphan", "prod", "")
    foreign = replica_set("web-abc", "abc", owner_uid=None)
    foreign["metadata"]["ownerReferences"] = [
        {"kind": "Deployment", "name": "d", "uid": "d", "controller": True}
    ]
    assert replica_set_index_key(foreign) is None


def test_observe_keeps_only_the_replica_sets_this_rollout_uid_controls() -> None:
    mine = project_replica_set(replica_set("web-abc", "abc"))
    predecessor = project_replica_set(replica_set("web-old", "old", owner_uid="deleted-rollout-uid"))
    observed = observe(rollout(), replica_sets=[mine, predecessor], services={})
    assert [rs.name for rs in observed.replica_sets] == ["web-abc"]


def test_observe_computes_argos_hashes() -> None:
    observed = observe(rollout(), replica_sets=[], services={})
    assert observed.desired_pod_hash == pod_template_hash(TEMPLATE, None)
    assert observed.step_hash == step_hash([{"setWeight": 50}])
    blue_green = rollout(strategy={"blueGreen": {"activeService": "a"}})
    assert observe(blue_green, replica_sets=[], services={}).step_hash == ""
    colliding = rollout()
    colliding["status"] = {"collisionCount": 2}
    assert desired_hashes(RolloutView(colliding))[0] == pod_template_hash(TEMPLATE, 2)


def test_new_rs_is_found_by_template_when_no_hash_matches() -> None:
    foreign = project_replica_set(replica_set("web-foreign", "foreign"))
    observed = observe(rollout(), replica_sets=[foreign], services={})
    assert observed.new_rs_name == "web-foreign"
    exact_hash = pod_template_hash(TEMPLATE, None)
    exact = project_replica_set(replica_set(f"web-{exact_hash}", exact_hash))
    assert observe(rollout(), replica_sets=[foreign, exact], services={}).new_rs_name == ""


def test_a_replica_set_hashed_the_legacy_way_is_new_rs_even_with_another_template() -> None:
    # Made by Argo <= 1.8 (or by us before we followed v1.10): its label is the legacy hash of this
    # template. Found by that hash first, even when an older RS has an equal template, and even
    # when its own template was since edited (the label decides, as Argo's second lookup).
    legacy = legacy_pod_template_hash(TEMPLATE, None)
    assert legacy != pod_template_hash(TEMPLATE, None)
    equal_older = project_replica_set(replica_set("web-foreign", "foreign"))
    labelled = replica_set(f"web-{legacy}", legacy)
    labelled["metadata"]["creationTimestamp"] = "2024-06-01T12:00:00Z"
    labelled["spec"]["template"]["metadata"]["annotations"] = {"edited": "by hand"}
    observed = observe(rollout(), replica_sets=[equal_older, project_replica_set(labelled)], services={})
    assert observed.new_rs_name == f"web-{legacy}"
    colliding = rollout()
    colliding["status"] = {"collisionCount": 3}
    counted = legacy_pod_template_hash(TEMPLATE, 3)
    found = observe(colliding, replica_sets=[project_replica_set(replica_set("web-c", counted))], services={})
    assert found.new_rs_name == "web-c"


def test_a_different_template_is_not_taken_for_new_rs() -> None:
    other = replica_set("web-other", "other")
    other["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    observed = observe(rollout(), replica_sets=[project_replica_set(other)], services={})
    assert observed.new_rs_name == ""


def test_a_template_the_go_encoder_rejects_raises_value_error() -> None:
    broken = rollout()
    broken["spec"]["template"]["spec"]["containers"] = "not a list"
    with pytest.raises(ValueError, match="containers"):
        desired_hashes(RolloutView(broken))


def test_only_the_services_the_strategy_names_are_observed() -> None:
    spec = {"strategy": {"canary": {"canaryService": "web-canary", "stableService": "web-stable"}}}
    services = {
        name: project_service(
            {"metadata": {"name": name, "resourceVersion": "1"}, "spec": {"selector": {"app": "web"}}}
        )
        for name in ("web-canary", "web-stable", "unrelated")
    }
    observed = observe(rollout(**spec), replica_sets=[], services=services)
    assert sorted(observed.services) == ["web-canary", "web-stable"]


def test_a_service_projection_reads_the_hash_and_the_manager() -> None:
    record = project_service(
        {
            "metadata": {
                "name": "web-active",
                "resourceVersion": "7",
                "annotations": {"argo-rollouts.argoproj.io/managed-by-rollouts": "web"},
            },
            "spec": {"selector": {"app": "web", "rollouts-pod-template-hash": "abc"}},
        }
    )
    assert (record.view.selected_hash, record.view.managed_by, record.resource_version) == ("abc", "web", "7")


def test_referenced_services_cover_both_strategies_and_ping_pong() -> None:
    canary = rollout(
        strategy={
            "canary": {
                "canaryService": "c",
                "stableService": "s",
                "pingPong": {"pingService": "ping", "pongService": "pong"},
                "trafficRouting": {"istio": {"virtualService": {"name": "vs"}}},
            }
        }
    )
    assert referenced_services(RolloutView(canary)) == ["s", "c", "ping", "pong"]
    blue_green = rollout(strategy={"blueGreen": {"activeService": "a", "previewService": "p"}})
    assert referenced_services(RolloutView(blue_green)) == ["a", "p"]


def test_runs_and_experiments_are_projected_to_their_phase() -> None:
    body = {
        "metadata": {
            "name": "web-abc-2-1",
            "namespace": "prod",
            "resourceVersion": "3",
            "ownerReferences": [
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Rollout",
                    "name": "web",
                    "uid": "ro-uid",
                    "controller": True,
                }
            ],
        },
        "status": {"phase": "Failed", "message": "metric x failed"},
    }
    assert project_child(body) == ChildRecord("web-abc-2-1", "Failed", "metric x failed", "3", "ro-uid")
    assert child_index_key(body) == ("prod", "web")
    observed = observe(rollout(), replica_sets=[], services={}, runs=[project_child(body)])
    assert observed.analysis_runs["web-abc-2-1"].phase == "Failed"
    assert child_index_key({"metadata": {"name": "orphan"}}) is None


def test_a_run_carries_what_retention_reads_and_another_owners_run_is_not_observed() -> None:
    def run(name: str, owner_uid: str, **metadata: Any) -> dict[str, Any]:
        reference = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "web"}
        return {
            "metadata": {
                "name": name,
                "namespace": "prod",
                "resourceVersion": "7",
                "creationTimestamp": "2024-05-01T12:00:00Z",
                "labels": {"rollouts-pod-template-hash": "abc"},
                "ownerReferences": [{**reference, "uid": owner_uid, "controller": True}],
                **metadata,
            },
            "spec": {"terminate": True},
            "status": {"phase": "Running"},
        }

    ours = run("web-abc-2-1", "ro-uid", deletionTimestamp="2024-05-01T12:01:00Z")
    theirs = run("web-abc-2-2", "other-uid")
    observed = observe(
        rollout(), replica_sets=[], services={}, runs=[project_child(ours), project_child(theirs)]
    )
    assert list(observed.analysis_runs) == ["web-abc-2-1"]
    view = observed.analysis_runs["web-abc-2-1"]
    assert (view.pod_hash, view.created_at, view.deleting, view.terminating) == (
        "abc",
        datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        True,
        True,
    )
    unlabelled = run("web-x", "ro-uid", labels={})
    assert project_child(unlabelled).run_view().pod_hash is None


@pytest.mark.parametrize(
    ("labels", "selector", "matches"),
    [
        ({"app": "web"}, {"matchLabels": {"app": "web"}}, True),
        ({"app": "api"}, {"matchLabels": {"app": "web"}}, False),
        (
            {"app": "web", "tier": "a"},
            {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["a"]}]},
            True,
        ),
        ({"app": "web"}, {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"app": "web"}, {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, False),
        ({"app": "web"}, {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, True),
        ({"app": "web"}, {"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, False),
        ({"app": "web"}, {}, False),
    ],
)
def test_label_selectors(labels: dict[str, str], selector: dict[str, Any], matches: bool) -> None:
    assert matches_selector(labels, selector) is matches


def test_only_live_orphans_matching_the_selector_are_adoptable() -> None:
    matching = project_replica_set(replica_set("web-a", "a", owner_uid=None))
    other = replica_set("api-b", "b", owner_uid=None)
    other["metadata"]["labels"]["app"] = "api"
    deleting = replica_set("web-c", "c", owner_uid=None)
    deleting["metadata"]["deletionTimestamp"] = "2024-05-01T12:00:00Z"
    found = adoptable(rollout(), [matching, project_replica_set(other), project_replica_set(deleting)])
    assert [record.name for record in found] == ["web-a"]


def test_a_pod_is_available_once_ready_for_min_ready_seconds() -> None:
    now = datetime(2024, 5, 1, 12, 0, 10, tzinfo=UTC)
    body = {
        "metadata": {
            "name": "web-abc-1",
            "creationTimestamp": "2024-05-01T11:00:00Z",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "controller": True}],
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-05-01T12:00:05Z"}]
        },
    }
    view = pod_view(body, 3, now)
    assert view is not None and view.available and view.replica_set == "web-abc"
    later = pod_view(body, 10, now)
    assert later is not None and not later.available
    assert pod_view({"metadata": {"name": "bare"}}, 0, now) is None
    assert now - view.created_at == timedelta(hours=1, seconds=10)


def test_a_workload_template_is_planned_in_memory_and_passes_validation() -> None:
    reference = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "legacy"}
    raw = rollout(workloadRef=reference)
    del raw["spec"]["template"]
    del raw["spec"]["selector"]
    deployment = {
        "metadata": {"generation": 4},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": copy.deepcopy(TEMPLATE)},
    }
    resolved = with_workload(raw, deployment)
    assert "template" not in raw["spec"], "the stored Rollout is never changed"
    assert resolved["spec"]["template"] == TEMPLATE
    assert first_error(RolloutView(resolved), observe(resolved, replica_sets=[], services={})) is None
    plan = plan_rollout(resolved, observe(resolved, replica_sets=[], services={}), datetime.now(UTC))
    assert plan.status is not None and "InvalidSpec" not in str(plan.status)
    # without the resolution the same Rollout with a template is what validation rejects
    unresolved = rollout(workloadRef=reference)
    assert "template must be empty" in str(
        first_error(RolloutView(unresolved), observe(unresolved, replica_sets=[], services={}))
    )


def test_a_pod_template_workload_provides_only_the_template() -> None:
    raw = rollout(workloadRef={"apiVersion": "v1", "kind": "PodTemplate", "name": "t"})
    resolved = with_workload(raw, {"template": {"metadata": {"labels": {"app": "web"}}}})
    assert resolved["spec"]["template"] == {"metadata": {"labels": {"app": "web"}}}
    assert resolved["spec"]["selector"] == {"matchLabels": {"app": "web"}}
