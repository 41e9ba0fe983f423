# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""A controller SIGKILLed at every step of a canary, and Rollouts adopted from what Argo left.

State lives only in the Rollout's status and the ReplicaSets (timers are derived from status
timestamps), so a controller killed at any moment and started again must carry on to the same
end state: no second ReplicaSet for the same template, no extra revision, no pod replaced. The
same holds for a controller taking over ReplicaSets another controller (Argo Rollouts) made.
"""

from __future__ import annotations

import copy
from typing import Any

from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.hashes import pod_template_hash, step_hash
from rollouts.planner import operations

NAME = "api"
READY_DELAY = "devcluster.rollouts.dev/ready-delay-seconds"
STEPS: list[dict[str, Any]] = [
    {"setWeight": 25},
    {"pause": {}},
    {"setWeight": 50},
    {"pause": {"duration": 1}},
    {"setWeight": 75},
    {"pause": {}},
]


def slow_canary(steps: list[dict[str, Any]] = STEPS, replicas: int = 4) -> dict[str, Any]:
    """Pods become Ready two seconds after they run, so a kill lands in the middle of scaling."""
    manifest = rollout_manifest(NAME, {"canary": {"steps": steps}}, replicas=replicas)
    manifest["spec"]["template"]["metadata"]["annotations"] = {READY_DELAY: "2"}
    return manifest


def template_hash(manifest: dict[str, Any], image: str) -> str:
    template = copy.deepcopy(manifest["spec"]["template"])
    template["spec"]["containers"][0]["image"] = image
    return pod_template_hash(template, None)


def promote(cluster: Cluster) -> None:
    cluster.patch_status(NAME, operations.promote(cluster.rollout(NAME)).status)


def pod_uids(cluster: Cluster) -> set[str]:
    return {pod.metadata.uid for pod in cluster.core.list_namespaced_pod(cluster.namespace).items}


def test_a_controller_killed_at_every_step_reaches_the_same_end(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    manifest = slow_canary()
    cluster.create_rollout(manifest)
    old, new = template_hash(manifest, "nginx:1.27"), template_hash(manifest, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=old), "the initial deploy")

    cluster.set_image(NAME, "nginx:1.28")
    controller.kill()  # right after the update: before or while the new ReplicaSet is created
    controller.start()
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the first pause after a restart")
    controller.kill()  # while paused
    controller.start()
    status = wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "still the first pause")
    assert status["pauseConditions"][0]["reason"] == "CanaryPauseStep"

    promote(cluster)
    controller.kill()  # mid-scaling towards 50%
    controller.start()
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=5), "the pause at 75% (through a timed pause)")
    assert cluster.counts() == {f"{NAME}-{old}": (1, 1), f"{NAME}-{new}": (3, 3)}

    promote(cluster)
    controller.kill()  # mid-promotion
    controller.start()
    wait_for(settled(cluster, NAME, "Healthy", stableRS=new), "full promotion after the last restart")
    wait_for(lambda: cluster.counts() == {f"{NAME}-{old}": (0, 0), f"{NAME}-{new}": (4, 4)}, "final sizes")
    assert sorted(cluster.replica_sets()) == sorted([f"{NAME}-{old}", f"{NAME}-{new}"])
    assert cluster.rollout(NAME)["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    revisions = {
        name: rs.metadata.annotations["rollout.argoproj.io/revision"]
        for name, rs in cluster.replica_sets().items()
    }
    assert revisions == {f"{NAME}-{old}": "1", f"{NAME}-{new}": "2"}
    assert len(cluster.events("NewReplicaSetCreated")) == 2


def argo_made_replica_set(
    manifest: dict[str, Any], pod_hash: str, *, owner: dict[str, Any] | None, replicas: int
) -> dict[str, Any]:
    """A ReplicaSet as Argo Rollouts creates it (§3.2): name, labels, selector, annotations."""
    template = copy.deepcopy(manifest["spec"]["template"])
    template["metadata"]["labels"]["rollouts-pod-template-hash"] = pod_hash
    metadata: dict[str, Any] = {
        "name": f"{NAME}-{pod_hash}",
        "labels": {
            **manifest["spec"]["template"]["metadata"]["labels"],
            "rollouts-pod-template-hash": pod_hash,
        },
        "annotations": {
            "rollout.argoproj.io/revision": "1",
            "rollout.argoproj.io/desired-replicas": str(replicas),
        },
    }
    if owner is not None:
        metadata["ownerReferences"] = [owner]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": NAME, "rollouts-pod-template-hash": pod_hash}},
            "template": template,
        },
    }


def test_a_rollout_migrated_from_argo_continues_without_new_pods(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    """Argo stopped, our controller started: the Rollout, its status and its ReplicaSet exist."""
    controller.stop()
    manifest = rollout_manifest(NAME, {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}}, replicas=3)
    created = cluster.create_rollout(manifest)
    pod_hash = template_hash(manifest, "nginx:1.27")
    owner = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": NAME,
        "uid": created["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    cluster.apps.create_namespaced_replica_set(
        cluster.namespace, argo_made_replica_set(manifest, pod_hash, owner=owner, replicas=3)
    )
    cluster.patch_rollout(NAME, {"metadata": {"annotations": {"rollout.argoproj.io/revision": "1"}}})
    cluster.patch_status(
        NAME,
        {
            "status": {
                "observedGeneration": str(created["metadata"]["generation"]),
                "stableRS": pod_hash,
                "currentPodHash": pod_hash,
                "currentStepHash": step_hash(manifest["spec"]["strategy"]["canary"]["steps"]),
                "currentStepIndex": 2,
                "phase": "Healthy",
            }
        },
    )
    wait_for(lambda: cluster.counts() == {f"{NAME}-{pod_hash}": (3, 3)}, "Argo's pods running")
    pods_before = pod_uids(cluster)

    controller.start()
    wait_for(settled(cluster, NAME, "Healthy", stableRS=pod_hash, currentStepIndex=2), "the takeover")
    assert pod_uids(cluster) == pods_before
    assert controller.requests(kind="replicasets", verb="POST") == 0
    assert sorted(cluster.replica_sets()) == [f"{NAME}-{pod_hash}"]

    cluster.set_image(NAME, "nginx:1.28")  # and the next update works as usual
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the next update's pause")
    assert cluster.rollout(NAME)["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"


def test_orphan_replica_sets_are_adopted_even_under_another_hash(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    """An orphan whose hash label we would not compute (another hashing) but whose template is the
    Rollout's (modulo API defaults) is adopted and used as the new ReplicaSet: no new pods."""
    manifest = rollout_manifest(NAME, {"canary": {}}, replicas=2)
    foreign_hash = "5d8b7c6f4b"
    orphan = argo_made_replica_set(manifest, foreign_hash, owner=None, replicas=2)
    cluster.apps.create_namespaced_replica_set(cluster.namespace, orphan)
    wait_for(lambda: cluster.counts() == {f"{NAME}-{foreign_hash}": (2, 2)}, "the orphan's pods")
    pods_before = pod_uids(cluster)

    created = cluster.create_rollout(manifest)
    status = wait_for(settled(cluster, NAME, "Healthy", stableRS=foreign_hash), "adoption and promotion")
    assert status["currentPodHash"] == foreign_hash
    adopted = cluster.replica_sets()[f"{NAME}-{foreign_hash}"]
    assert [(o.kind, o.uid, o.controller) for o in adopted.metadata.owner_references] == [
        ("Rollout", created["metadata"]["uid"], True)
    ]
    assert pod_uids(cluster) == pods_before
    assert controller.requests(kind="replicasets", verb="POST") == 0
