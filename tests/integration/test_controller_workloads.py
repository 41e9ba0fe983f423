# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Pods and workloads around a Rollout: ``spec.restartAt`` evictions and ``workloadRef`` migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from test_controller_harness import (
    Cluster,
    ControllerProcess,
    after_newest_pod,
    cluster,
    condition,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.planner import operations


def pods(cluster: Cluster, app: str) -> dict[str, Any]:
    items = cluster.core.list_namespaced_pod(cluster.namespace, label_selector=f"app={app}").items
    return {pod.metadata.uid: pod for pod in items if pod.metadata.deletion_timestamp is None}


def test_restart_at_replaces_every_pod_without_a_new_replica_set(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    cluster.create_rollout(rollout_manifest("restarted", {"canary": {"maxUnavailable": 1}}, replicas=3))
    wait_for(settled(cluster, "restarted", "Healthy"), "the initial deploy")
    wait_for(lambda: len(pods(cluster, "restarted")) == 3, "three pods")
    before = set(pods(cluster, "restarted"))
    replica_sets = sorted(cluster.replica_sets())
    after_newest_pod(cluster, "restarted")

    patches = operations.restart(cluster.rollout("restarted"), now=datetime.now(UTC))
    cluster.patch_rollout("restarted", patches.spec)
    restart_at = patches.spec["spec"]["restartAt"]
    status = wait_for(
        settled(cluster, "restarted", "Healthy", restartedAt=restart_at), "the restart to finish"
    )
    after = wait_for(lambda: (p := pods(cluster, "restarted")) and len(p) == 3 and p, "three new pods")
    assert not set(after) & before, "every pod was replaced"
    assert sorted(cluster.replica_sets()) == replica_sets
    assert controller.requests(kind="pods/eviction", verb="POST") >= 3
    assert condition(status, "Healthy")["status"] == "True"


def test_a_rollout_takes_over_a_deployment_through_workload_ref(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    labels = {"app": "legacy"}
    cluster.apps.create_namespaced_deployment(
        cluster.namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "legacy"},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    wait_for(lambda: len(pods(cluster, "legacy")) == 3, "the Deployment's pods")
    rollout = rollout_manifest(
        "legacy", {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}, replicas=3
    )
    del rollout["spec"]["template"]
    rollout["spec"]["workloadRef"] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "legacy",
        "scaleDown": "progressively",
    }
    cluster.create_rollout(rollout)

    wait_for(settled(cluster, "legacy", "Healthy"), "the Rollout to take over")
    wait_for(
        lambda: cluster.apps.read_namespaced_deployment("legacy", cluster.namespace).spec.replicas == 0,
        "the Deployment scaled down",
    )
    generation = str(cluster.apps.read_namespaced_deployment("legacy", cluster.namespace).metadata.generation)
    status = wait_for(
        settled(cluster, "legacy", "Healthy", workloadObservedGeneration=generation),
        "the Deployment's generation observed",
    )
    annotations = cluster.rollout("legacy")["metadata"]["annotations"]
    assert annotations["rollout.argoproj.io/workload-generation"] == generation
    assert "template" not in cluster.rollout("legacy")["spec"], "the resolved template is never persisted"
    stable_rs = cluster.replica_sets()[f"legacy-{status['stableRS']}"]
    assert stable_rs.metadata.owner_references[0].kind == "Rollout"
    assert stable_rs.spec.replicas == 3

    # a change of the Deployment's template is a new Rollout revision, driven by the Rollout's steps
    cluster.apps.patch_namespaced_deployment(
        "legacy",
        cluster.namespace,
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.28"}],
    )
    wait_for(
        settled(cluster, "legacy", "Paused", currentStepIndex=1), "the Rollout's canary of the new template"
    )
    assert cluster.apps.read_namespaced_deployment("legacy", cluster.namespace).spec.replicas == 0
