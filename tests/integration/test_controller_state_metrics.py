# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Argo's state metrics on the controller's /metrics: read from the Rollouts the controller holds."""

from __future__ import annotations

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


def samples(controller: ControllerProcess, metric: str, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {
        labels: value
        for (family, labels), value in controller.metrics().items()
        if family == metric and ("name", name) in labels
    }


def test_rollout_state_series_follow_the_rollout_and_vanish_with_it(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    cluster.create_rollout(rollout_manifest("metered", {"canary": {}}, replicas=2))
    wait_for(settled(cluster, "metered", "Healthy"), "the Rollout to be Healthy")
    namespace = ("namespace", cluster.namespace)

    info = wait_for(lambda: samples(controller, "rollout_info", "metered"), "rollout_info")
    assert [dict(labels) for labels in info] == [
        {
            "namespace": cluster.namespace,
            "name": "metered",
            "strategy": "canary",
            "traffic_router": "",
            "phase": "Completed",
        }
    ]
    assert list(info.values()) == [1.0]
    phases = {
        dict(labels)["phase"]: value
        for labels, value in samples(controller, "rollout_phase", "metered").items()
    }
    assert phases["Completed"] == 1.0 and sum(phases.values()) == 1.0
    available = samples(controller, "rollout_info_replicas_available", "metered")
    assert available == {frozenset({namespace, ("name", "metered")}): 2.0}

    cluster.custom.delete_namespaced_custom_object(
        "argoproj.io", "v1alpha1", cluster.namespace, "rollouts", "metered"
    )
    wait_for(lambda: not samples(controller, "rollout_info", "metered"), "rollout_info to vanish")
