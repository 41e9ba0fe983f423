# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""``--instance-id`` scoping (§0.2): each controller handles only its own instance's Rollouts."""

from __future__ import annotations

from pathlib import Path

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

INSTANCE_LABEL = "argo-rollouts.argoproj.io/controller-instance-id"


def labelled(name: str, instance: str) -> dict[str, object]:
    manifest = rollout_manifest(name, {"canary": {}}, replicas=1)
    manifest["metadata"]["labels"] = {INSTANCE_LABEL: instance}  # type: ignore[index]
    return manifest


def test_each_instance_handles_only_its_labelled_rollouts(
    controller: ControllerProcess, cluster: Cluster, tmp_path: Path
) -> None:
    cluster.create_rollout(labelled("blue-app", "blue"))
    cluster.create_rollout(rollout_manifest("plain-app", {"canary": {}}, replicas=1))
    wait_for(settled(cluster, "plain-app", "Healthy"), "the unlabelled Rollout (no --instance-id)")
    assert "status" not in cluster.rollout("blue-app"), "the default instance must not touch blue's Rollout"
    assert controller.requests(name="blue-app") == 0

    blue = ControllerProcess(
        controller.kubeconfig, cluster.namespace, tmp_path / "blue.log", extra_args=("--instance-id", "blue")
    ).start()
    try:
        wait_for(settled(cluster, "blue-app", "Healthy"), "the blue instance to handle its Rollout")
        assert blue.requests(name="plain-app") == 0
        assert all(name.startswith("plain-app-") for name in _replica_sets_by(cluster, "plain-app"))
    finally:
        blue.stop()


def _replica_sets_by(cluster: Cluster, rollout: str) -> list[str]:
    return [
        name
        for name, rs in cluster.replica_sets().items()
        if (rs.metadata.owner_references or [None])[0] is not None
        and rs.metadata.owner_references[0].name == rollout
    ]
