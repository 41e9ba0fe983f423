# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Blue-green on the devcluster: preview, promote, scale-down delay, auto-promotion, undo.

Service selectors are read back from the API server, so "the active Service points at the new
pods" is checked on the real object the traffic would follow.
"""

from __future__ import annotations

from typing import Any

from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    condition,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.hashes import pod_template_hash
from rollouts.planner import operations

NAME = "shop"
HASH_LABEL = "rollouts-pod-template-hash"


def blue_green(replicas: int = 3, **fields: Any) -> dict[str, Any]:
    strategy = {
        "blueGreen": {"activeService": f"{NAME}-active", "previewService": f"{NAME}-preview", **fields}
    }
    return rollout_manifest(NAME, strategy, replicas=replicas)


def hash_of(image: str) -> str:
    template = blue_green()["spec"]["template"]
    template["spec"]["containers"][0]["image"] = image
    return pod_template_hash(template, None)


def counts_are(cluster: Cluster, expected: dict[str, tuple[int, int]]) -> bool:
    return cluster.counts() == expected


def create_services(cluster: Cluster) -> None:
    cluster.create_service(f"{NAME}-active", NAME)
    cluster.create_service(f"{NAME}-preview", NAME)


def test_blue_green_previews_then_switches_and_scales_down_after_the_delay(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    create_services(cluster)
    cluster.create_rollout(blue_green(autoPromotionEnabled=False, scaleDownDelaySeconds=3))
    blue, green = hash_of("nginx:1.27"), hash_of("nginx:1.28")
    blue_rs, green_rs = f"{NAME}-{blue}", f"{NAME}-{green}"
    status = wait_for(settled(cluster, NAME, "Healthy", stableRS=blue), "the initial deploy")
    assert status["blueGreen"] == {"activeSelector": blue, "previewSelector": blue}
    assert cluster.service_selector(f"{NAME}-active") == {"app": NAME, HASH_LABEL: blue}
    active = cluster.core.read_namespaced_service(f"{NAME}-active", cluster.namespace)
    assert active.metadata.annotations["argo-rollouts.argoproj.io/managed-by-rollouts"] == NAME
    assert status["selector"] == f"app={NAME},{HASH_LABEL}={blue}"

    cluster.set_image(NAME, "nginx:1.28")
    status = wait_for(settled(cluster, NAME, "Paused", message="BlueGreenPause"), "the blue-green pause")
    wait_for(lambda: counts_are(cluster, {blue_rs: (3, 3), green_rs: (3, 3)}), "both colours up")
    assert status["blueGreen"]["activeSelector"] == blue
    assert status["blueGreen"]["previewSelector"] == green
    assert cluster.service_selector(f"{NAME}-preview")[HASH_LABEL] == green
    assert cluster.service_selector(f"{NAME}-active")[HASH_LABEL] == blue

    cluster.patch_status(NAME, operations.promote(cluster.rollout(NAME)).status)
    status = wait_for(settled(cluster, NAME, "Healthy", stableRS=green), "the switch to green")
    assert status["blueGreen"] == {"activeSelector": green, "previewSelector": green}
    assert cluster.service_selector(f"{NAME}-active")[HASH_LABEL] == green
    # the old colour keeps its pods until its scale-down deadline, then goes to zero
    blue_annotations = cluster.replica_sets()[blue_rs].metadata.annotations or {}
    assert "scale-down-deadline" in blue_annotations or cluster.counts()[blue_rs] == (0, 0)
    wait_for(
        lambda: counts_are(cluster, {blue_rs: (0, 0), green_rs: (3, 3)}), "blue scaled down after the delay"
    )
    assert "scale-down-deadline" not in (cluster.replica_sets()[blue_rs].metadata.annotations or {})
    assert condition(cluster.status(NAME), "Healthy")["status"] == "True"
    assert controller.requests(kind="replicasets", verb="POST") == 2


def test_auto_promotion_seconds_promotes_without_anyone(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    create_services(cluster)
    cluster.create_rollout(blue_green(replicas=2, autoPromotionSeconds=2, scaleDownDelaySeconds=1))
    blue, green = hash_of("nginx:1.27"), hash_of("nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=blue), "the initial deploy")
    cluster.set_image(NAME, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=green), "the automatic promotion")
    assert cluster.service_selector(f"{NAME}-active")[HASH_LABEL] == green
    paused = [e.message for e in cluster.events("RolloutPaused")]
    assert paused, "the rollout paused before promoting itself"
    wait_for(
        lambda: counts_are(cluster, {f"{NAME}-{blue}": (0, 0), f"{NAME}-{green}": (2, 2)}),
        "blue scaled down",
    )


def test_preview_replica_count_runs_a_smaller_preview(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    create_services(cluster)
    cluster.create_rollout(blue_green(replicas=3, autoPromotionEnabled=False, previewReplicaCount=1))
    blue, green = hash_of("nginx:1.27"), hash_of("nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=blue), "the initial deploy")
    cluster.set_image(NAME, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Paused"), "the pause")
    wait_for(
        lambda: counts_are(cluster, {f"{NAME}-{blue}": (3, 3), f"{NAME}-{green}": (1, 1)}),
        "a one-pod preview",
    )
    cluster.patch_status(NAME, operations.promote(cluster.rollout(NAME)).status)
    wait_for(settled(cluster, NAME, "Healthy", stableRS=green), "promotion after scaling the preview up")
    assert cluster.counts()[f"{NAME}-{green}"] == (3, 3)


def test_undo_goes_back_to_the_previous_replica_set(controller: ControllerProcess, cluster: Cluster) -> None:
    create_services(cluster)
    cluster.create_rollout(blue_green(replicas=2, scaleDownDelaySeconds=30))
    blue, green = hash_of("nginx:1.27"), hash_of("nginx:1.28")
    blue_rs, green_rs = f"{NAME}-{blue}", f"{NAME}-{green}"
    wait_for(settled(cluster, NAME, "Healthy", stableRS=blue), "revision 1")
    cluster.set_image(NAME, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=green), "revision 2")

    replica_sets = [
        cluster.apps.api_client.sanitize_for_serialization(rs) for rs in cluster.replica_sets().values()
    ]
    patches = operations.undo(cluster.rollout(NAME), replica_sets)
    assert patches.json_patch is not None
    cluster.json_patch_rollout(NAME, list(patches.json_patch))
    status = wait_for(settled(cluster, NAME, "Healthy", stableRS=blue), "the undo to revision 1")
    assert cluster.service_selector(f"{NAME}-active")[HASH_LABEL] == blue
    # blue was still within its scale-down delay: it is reused (no new ReplicaSet) and fast-tracked
    assert sorted(cluster.replica_sets()) == sorted([blue_rs, green_rs])
    assert controller.requests(kind="replicasets", verb="POST") == 2
    blue_annotations = cluster.replica_sets()[blue_rs].metadata.annotations
    assert blue_annotations["rollout.argoproj.io/revision"] == "3"
    assert blue_annotations["rollout.argoproj.io/revision-history"] == "1"
    assert cluster.rollout(NAME)["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "3"
    assert status["blueGreen"]["activeSelector"] == blue
