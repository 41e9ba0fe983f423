"""Planner actions → API requests (`rollouts.controller.apicalls`): paths, verbs, bodies, patch kinds."""

from __future__ import annotations

import pytest

from rollouts.controller import apicalls
from rollouts.planner import (
    DeleteAnalysisRun,
    DeleteExperiment,
    DeleteReplicaSet,
    EvictPod,
    PatchReplicaSet,
    PatchRollout,
    ScaleReplicaSet,
    ScaleWorkload,
    SetServiceSelector,
    TerminateAnalysisRun,
    TerminateExperiment,
)


def test_scaling_a_replica_set_is_one_merge_patch_of_replicas_and_annotations() -> None:
    action = ScaleReplicaSet(
        "web-abc", 3, 1, {"rollout.argoproj.io/desired-replicas": "5", "scale-down-deadline": None}
    )
    request = apicalls.scale_replica_set("prod", action)
    assert (request.method, request.path) == ("PATCH", "/apis/apps/v1/namespaces/prod/replicasets/web-abc")
    assert request.content_type == apicalls.MERGE_PATCH
    assert request.body == {
        "metadata": {
            "annotations": {"rollout.argoproj.io/desired-replicas": "5", "scale-down-deadline": None}
        },
        "spec": {"replicas": 3},
    }
    assert request.params == {"fieldManager": "rollouts-controller"}
    assert (request.resource, request.name, request.namespace) == ("replicasets", "web-abc", "prod")
    assert request.is_write


def test_creating_a_replica_set_posts_the_planned_manifest_as_is() -> None:
    manifest = {"metadata": {"name": "web-abc"}, "spec": {"replicas": 0}}
    request = apicalls.create_replica_set("prod", manifest)
    assert (request.method, request.path, request.body) == (
        "POST",
        "/apis/apps/v1/namespaces/prod/replicasets",
        manifest,
    )
    assert request.name == "web-abc"


def test_the_status_write_goes_to_the_subresource_with_a_resource_version_precondition() -> None:
    request = apicalls.patch_rollout_status("prod", "web", {"phase": "Paused", "abort": None}, "4711")
    assert request.path == "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web/status"
    assert request.body == {
        "status": {"phase": "Paused", "abort": None},
        "metadata": {"resourceVersion": "4711"},
    }
    assert request.content_type == apicalls.MERGE_PATCH
    assert request.resource == "rollouts/status"


def test_without_a_known_version_the_status_write_is_unconditional() -> None:
    request = apicalls.patch_rollout_status("prod", "web", {"phase": "Healthy"}, "")
    assert request.body == {"status": {"phase": "Healthy"}}


def test_service_selectors_are_switched_by_strategic_merge_patch_like_argo() -> None:
    request = apicalls.set_service_selector("prod", SetServiceSelector("web-active", "abc", managed_by="web"))
    assert request.path == "/api/v1/namespaces/prod/services/web-active"
    assert request.content_type == apicalls.STRATEGIC_MERGE_PATCH
    assert request.body == {
        "spec": {"selector": {"rollouts-pod-template-hash": "abc"}},
        "metadata": {"annotations": {"argo-rollouts.argoproj.io/managed-by-rollouts": "web"}},
    }


@pytest.mark.parametrize(
    ("request_", "path", "body"),
    [
        (
            apicalls.terminate_analysis_run("prod", TerminateAnalysisRun("web-abc-2-1")),
            "/apis/argoproj.io/v1alpha1/namespaces/prod/analysisruns/web-abc-2-1",
            {"spec": {"terminate": True}},
        ),
        (
            apicalls.terminate_experiment("prod", TerminateExperiment("web-abc-2-3")),
            "/apis/argoproj.io/v1alpha1/namespaces/prod/experiments/web-abc-2-3",
            {"spec": {"terminate": True}},
        ),
        (
            apicalls.patch_rollout("prod", "web", PatchRollout({"spec": {"replicas": 1}})),
            "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web",
            {"spec": {"replicas": 1}},
        ),
        (
            apicalls.patch_replica_set(
                "prod", PatchReplicaSet("web-abc", {"metadata": {"annotations": {"a": "b"}}})
            ),
            "/apis/apps/v1/namespaces/prod/replicasets/web-abc",
            {"metadata": {"annotations": {"a": "b"}}},
        ),
    ],
)
def test_other_patches_are_merge_patches(request_: apicalls.Request, path: str, body: object) -> None:
    assert (request_.method, request_.path, request_.body) == ("PATCH", path, body)
    assert request_.content_type == apicalls.MERGE_PATCH


def test_old_replica_sets_are_deleted_in_the_background() -> None:
    request = apicalls.delete_replica_set("prod", DeleteReplicaSet("web-old"))
    assert (request.method, request.path) == ("DELETE", "/apis/apps/v1/namespaces/prod/replicasets/web-old")
    assert request.body["propagationPolicy"] == "Background"


def test_restarts_go_through_the_eviction_api_so_disruption_budgets_apply() -> None:
    request = apicalls.evict_pod("prod", EvictPod("web-abc-x1"))
    assert (request.method, request.path) == ("POST", "/api/v1/namespaces/prod/pods/web-abc-x1/eviction")
    assert request.body["kind"] == "Eviction" and request.body["apiVersion"] == "policy/v1"


def test_adoption_adds_our_controller_reference_guarded_by_the_uid() -> None:
    owner = {"kind": "Rollout", "name": "web", "uid": "u-1", "controller": True}
    request = apicalls.adopt_replica_set("prod", "web-abc", "rs-uid", owner)
    assert request.content_type == apicalls.STRATEGIC_MERGE_PATCH
    assert request.body == {"metadata": {"uid": "rs-uid", "ownerReferences": [owner]}}


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("apps/v1", "Deployment", "/apis/apps/v1/namespaces/prod/deployments/legacy"),
        ("apps/v1", "ReplicaSet", "/apis/apps/v1/namespaces/prod/replicasets/legacy"),
        ("v1", "PodTemplate", "/api/v1/namespaces/prod/podtemplates/legacy"),
    ],
)
def test_workload_references_resolve_to_their_paths(api_version: str, kind: str, expected: str) -> None:
    located = apicalls.workload_path("prod", api_version, kind, "legacy")
    assert located is not None and located[0] == expected


@pytest.mark.parametrize(
    ("api_version", "kind"), [("apps/v1", "StatefulSet"), ("v1", "Deployment"), ("", "")]
)
def test_unsupported_workload_kinds_have_no_path(api_version: str, kind: str) -> None:
    assert apicalls.workload_path("prod", api_version, kind, "x") is None


def test_scaling_a_workload_patches_its_replicas_but_a_pod_template_has_none() -> None:
    request = apicalls.scale_workload("prod", ScaleWorkload("apps/v1", "Deployment", "legacy", 0))
    assert request is not None and request.body == {"spec": {"replicas": 0}}
    assert apicalls.scale_workload("prod", ScaleWorkload("v1", "PodTemplate", "legacy", 0)) is None


def test_pods_are_listed_by_the_rollout_selector() -> None:
    request = apicalls.list_pods("prod", "app=web")
    assert (request.method, request.params) == ("GET", {"labelSelector": "app=web"})
    assert not request.is_write


def test_experiments_are_created_read_and_deleted_in_the_rollout_namespace() -> None:
    manifest = {"metadata": {"name": "web-abc-2-1"}, "spec": {"templates": []}}
    create = apicalls.create_experiment("prod", manifest)
    assert (create.method, create.path) == ("POST", "/apis/argoproj.io/v1alpha1/namespaces/prod/experiments")
    assert (create.resource, create.name, create.body) == ("experiments", "web-abc-2-1", manifest)
    assert create.params == {"fieldManager": "rollouts-controller"}
    read = apicalls.get_experiment("prod", "web-abc-2-1")
    assert (read.method, read.path, read.is_write) == (
        "GET",
        "/apis/argoproj.io/v1alpha1/namespaces/prod/experiments/web-abc-2-1",
        False,
    )
    delete = apicalls.delete_experiment("prod", DeleteExperiment("web-abc-2-1"))
    assert (delete.method, delete.path) == ("DELETE", read.path)
    assert delete.body["propagationPolicy"] == "Background"
    rs = apicalls.get_replica_set("prod", "web-abc")
    assert (rs.method, rs.path) == ("GET", "/apis/apps/v1/namespaces/prod/replicasets/web-abc")


def test_an_analysis_run_is_deleted_with_background_propagation() -> None:
    delete = apicalls.delete_analysis_run("prod", DeleteAnalysisRun("web-abc-2-1"))
    assert (delete.method, delete.path, delete.resource, delete.name, delete.namespace) == (
        "DELETE",
        "/apis/argoproj.io/v1alpha1/namespaces/prod/analysisruns/web-abc-2-1",
        "analysisruns",
        "web-abc-2-1",
        "prod",
    )
    assert delete.is_write
    assert delete.body == {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
