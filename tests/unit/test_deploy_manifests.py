"""``deploy/`` manifests: least privilege (no wildcards) yet covering every request the shell sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rollouts.controller import apicalls
from rollouts.controller.elector import lease_request
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

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
VERB = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}
# Everything the shell can send, one request per builder (rollouts.controller.apicalls).
REQUESTS = [
    apicalls.create_replica_set("ns", {"metadata": {"name": "web-a"}}),
    apicalls.scale_replica_set("ns", ScaleReplicaSet("web-a", 1, 0, {})),
    apicalls.patch_replica_set("ns", PatchReplicaSet("web-a", {})),
    apicalls.adopt_replica_set("ns", "web-a", "uid", {}),
    apicalls.delete_replica_set("ns", DeleteReplicaSet("web-a")),
    apicalls.patch_rollout("ns", "web", PatchRollout({})),
    apicalls.patch_rollout_status("ns", "web", {}, "1"),
    apicalls.set_service_selector("ns", SetServiceSelector("svc", "a")),
    apicalls.terminate_analysis_run("ns", TerminateAnalysisRun("run")),
    apicalls.delete_analysis_run("ns", DeleteAnalysisRun("run")),
    apicalls.create_experiment("ns", {"metadata": {"name": "exp"}}),
    apicalls.get_experiment("ns", "exp"),
    apicalls.terminate_experiment("ns", TerminateExperiment("exp")),
    apicalls.delete_experiment("ns", DeleteExperiment("exp")),
    apicalls.get_replica_set("ns", "web-a"),
    apicalls.evict_pod("ns", EvictPod("pod")),
    apicalls.list_pods("ns", "app=web"),
    apicalls.scale_workload("ns", ScaleWorkload("apps/v1", "Deployment", "d", 0)),
    apicalls.create_event("ns", {"involvedObject": {"name": "web"}}),
    apicalls.get_object("/apis/apps/v1/namespaces/ns/replicasets/web-a", "replicasets", "ns", "web-a"),
    apicalls.get_object("/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/web", "rollouts", "ns", "web"),
    apicalls.get_object("/apis/argoproj.io/v1alpha1/namespaces/ns/analysisruns/r", "analysisruns", "ns", "r"),
    apicalls.get_object("/apis/argoproj.io/v1alpha1/namespaces/ns/experiments/e", "experiments", "ns", "e"),
    apicalls.get_object("/apis/apps/v1/namespaces/ns/deployments/d", "deployments", "ns", "d"),
    apicalls.get_object("/api/v1/namespaces/ns/podtemplates/t", "podtemplates", "ns", "t"),
]
# What the other controllers in the same process send, as (verb, resource).
# The AnalysisRun side: rollouts/controller/analysisruns.py, analysis/controller/reconcile.py,
# analysis/providers/job.py, and analysis/providers/workflow.py (WorkflowRuns, or Argo Workflows
# with executor argo; the Job provider's create/get/terminate/garbage-collect on those).
ANALYSIS_REQUESTS = [
    ("create", "analysisruns"),
    ("patch", "analysisruns"),
    ("delete", "analysisruns"),
    ("get", "analysistemplates"),
    ("get", "clusteranalysistemplates"),
    ("get", "secrets"),
    ("create", "jobs"),
    ("get", "jobs"),
    ("list", "jobs"),
    ("delete", "jobs"),
    ("list", "pods"),
    ("create", "events"),
    *[
        (verb, resource)
        for resource in ("workflowruns", "workflows")
        for verb in ("create", "get", "list", "patch", "delete")
    ],
    ("get", "workflowtemplates"),
    ("get", "clusterworkflowtemplates"),
]
# The Experiment controller (rollouts/experiments/shell.py): template ReplicaSets and Services,
# the experiment's AnalysisRuns, its status, its Events.
EXPERIMENT_REQUESTS = [
    ("create", "replicasets"),
    ("get", "replicasets"),
    ("patch", "replicasets"),
    ("create", "services"),
    ("get", "services"),
    ("delete", "services"),
    ("create", "analysisruns"),
    ("get", "analysisruns"),
    ("patch", "analysisruns"),
    ("get", "analysistemplates"),
    ("get", "clusteranalysistemplates"),
    ("patch", "experiments"),
    ("create", "events"),
]
# The WorkflowRun controller (analysis/workflows/controller.py): status, step pods, the wait
# container's log, templateRef targets.
WORKFLOW_CONTROLLER_REQUESTS = [
    ("patch", "workflowruns"),
    ("create", "pods"),
    ("delete", "pods"),
    ("get", "pods/log"),
    ("get", "workflowtemplates"),
    ("get", "clusterworkflowtemplates"),
]
# The CronWorkflow controller (analysis/workflows/cron_controller.py): its status, the WorkflowRuns
# it starts, terminates (Replace) and prunes (history limits).
CRON_CONTROLLER_REQUESTS = [
    ("patch", "cronworkflows"),
    ("create", "workflowruns"),
    ("patch", "workflowruns"),
    ("delete", "workflowruns"),
]
# Notifications (rollouts/notifications/notifier.py): the settings ConfigMap and Secret.
NOTIFICATION_REQUESTS = [("get", "configmaps"), ("get", "secrets")]
# What the traffic routers send (traffic/apply.py: GET, POST for created objects, PATCH), as (verb, resource).
ROUTING_WRITES = [
    ("create", "ingresses"),
    ("patch", "ingresses"),
    ("patch", "virtualservices"),
    ("patch", "destinationrules"),
    ("patch", "httproutes"),
    ("create", "trafficsplits"),
    ("patch", "trafficsplits"),
]
ROUTING_KINDS = [
    "ingresses",
    "virtualservices",
    "destinationrules",
    "httproutes",
    "grpcroutes",
    "tcproutes",
    "tlsroutes",
    "trafficsplits",
]
WATCHED = [
    "rollouts",
    "analysisruns",
    "experiments",
    "replicasets",
    "services",
    "deployments",
    "workflowruns",
    "cronworkflows",
    "pods",
    *ROUTING_KINDS,
]


def documents() -> list[dict[str, Any]]:
    found = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def cluster_role() -> dict[str, Any]:
    return next(doc for doc in documents() if doc["kind"] == "ClusterRole")


def allowed(resource: str, verb: str) -> bool:
    return any(resource in rule["resources"] and verb in rule["verbs"] for rule in cluster_role()["rules"])


def test_no_rule_uses_a_wildcard() -> None:
    for rule in cluster_role()["rules"]:
        for key in ("verbs", "resources", "apiGroups"):
            assert "*" not in rule[key], rule


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: f"{r.method} {r.resource}")
def test_every_request_the_controller_sends_is_allowed(request_: apicalls.Request) -> None:
    verb = VERB.get(request_.method) or ("get" if request_.name else "list")
    assert allowed(request_.resource, verb), f"{verb} {request_.resource}"


@pytest.mark.parametrize(
    ("verb", "resource"),
    ANALYSIS_REQUESTS
    + EXPERIMENT_REQUESTS
    + WORKFLOW_CONTROLLER_REQUESTS
    + CRON_CONTROLLER_REQUESTS
    + NOTIFICATION_REQUESTS,
)
def test_the_controllers_in_the_process_are_allowed_what_they_send(verb: str, resource: str) -> None:
    assert allowed(resource, verb), f"{verb} {resource}"


def test_each_resource_has_one_rule() -> None:
    """Rules are merged per resource, so a resource's verbs are read in one place."""
    seen: set[tuple[str, str]] = set()
    for rule in cluster_role()["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                assert (group, resource) not in seen, f"{group or 'core'}/{resource} in two rules"
                seen.add((group, resource))


@pytest.mark.parametrize(("verb", "resource"), ROUTING_WRITES + [("get", kind) for kind in ROUTING_KINDS])
def test_the_traffic_routers_are_allowed_what_they_send(verb: str, resource: str) -> None:
    assert allowed(resource, verb), f"{verb} {resource}"


@pytest.mark.parametrize("resource", WATCHED)
def test_every_watched_resource_can_be_listed_and_watched(resource: str) -> None:
    assert allowed(resource, "list") and allowed(resource, "watch")


def test_the_deployment_runs_the_controller_as_the_bound_service_account() -> None:
    by_kind = {doc["kind"]: doc for doc in documents()}
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    binding = by_kind["ClusterRoleBinding"]
    assert pod["serviceAccountName"] == by_kind["ServiceAccount"]["metadata"]["name"]
    assert binding["subjects"][0]["name"] == pod["serviceAccountName"]
    assert binding["roleRef"]["name"] == cluster_role()["metadata"]["name"]
    container = pod["containers"][0]
    assert container["args"][0] == "controller"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert by_kind["Deployment"]["spec"]["replicas"] == 2  # one leads, one stands by


# Leader election (rollouts/controller/elector.py): read, create, renew/take over/release the Lease.
LEASE_REQUESTS = [
    lease_request("GET", "argo-rollouts", "argo-rollouts-controller-lock"),
    lease_request("POST", "argo-rollouts", "argo-rollouts-controller-lock", {}),
    lease_request("PUT", "argo-rollouts", "argo-rollouts-controller-lock", {}),
]


def leader_election_role() -> dict[str, Any]:
    return next(doc for doc in documents() if doc["kind"] == "Role")


@pytest.mark.parametrize("request_", LEASE_REQUESTS, ids=lambda r: f"{r.method} {r.resource}")
def test_the_lease_requests_are_allowed_by_the_namespaced_role_only(request_: apicalls.Request) -> None:
    verb = VERB.get(request_.method) or "get"
    assert any(
        "coordination.k8s.io" in rule["apiGroups"]
        and request_.resource in rule["resources"]
        and verb in rule["verbs"]
        for rule in leader_election_role()["rules"]
    ), f"{verb} {request_.resource}"
    assert not allowed(request_.resource, verb), "Leases belong in the namespaced Role, not the ClusterRole"


def test_the_leader_election_role_is_bound_to_the_controllers_service_account_in_its_namespace() -> None:
    by_kind = {doc["kind"]: doc for doc in documents()}
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    binding = by_kind["RoleBinding"]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": leader_election_role()["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": by_kind["ServiceAccount"]["metadata"]["name"],
            "namespace": kustomization["namespace"],
        }
    ]
    for rule in leader_election_role()["rules"]:
        for key in ("verbs", "resources", "apiGroups"):
            assert "*" not in rule[key], rule


def test_the_kustomization_lists_every_manifest_and_the_crds() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert "../crds" in listed
    assert {path.name for path in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"} == listed - {"../crds"}
