# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""What goes wrong, on the devcluster: invalid specs, unready pods, features not built yet.

Each case must end in a clear, Argo-shaped signal on the Rollout (condition, phase, Event) while
the controller keeps running and keeps serving the other Rollouts in the namespace.
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

FAIL_ANNOTATION = "devcluster.rollouts.dev/fail"


def healthy_neighbour(cluster: Cluster) -> None:
    """A valid Rollout next to the broken one: it must still be driven to Healthy."""
    cluster.create_rollout(rollout_manifest("neighbour", {"canary": {}}, replicas=1))
    wait_for(settled(cluster, "neighbour", "Healthy"), "the neighbouring Rollout")


def test_an_invalid_step_is_an_invalid_spec_with_argos_message(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    cluster.create_rollout(rollout_manifest("bad", {"canary": {"steps": [{"setWeight": 120}]}}))
    status = wait_for(settled(cluster, "bad", "Degraded"), "the InvalidSpec condition")
    message = (
        'The Rollout "bad" is invalid: spec.strategy.steps[0].setWeight: '
        "Invalid value: 120: SetWeight needs to be between 0 and 100"
    )
    invalid = condition(status, "InvalidSpec")
    assert (invalid["status"], invalid["reason"], invalid["message"]) == ("True", "InvalidSpec", message)
    assert status["message"] == f"InvalidSpec: {message}"
    events = cluster.events("InvalidSpec")
    assert [(e.type, e.message) for e in events] == [("Warning", message)]
    assert cluster.replica_sets() == {}
    healthy_neighbour(cluster)

    cluster.patch_rollout("bad", {"spec": {"strategy": {"canary": {"steps": [{"setWeight": 20}]}}}})
    status = wait_for(settled(cluster, "bad", "Healthy"), "the fixed Rollout")
    assert condition(status, "InvalidSpec") is None
    assert controller.process is not None and controller.process.poll() is None


def test_a_template_the_go_encoder_rejects_is_an_invalid_spec(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    manifest = rollout_manifest("mistyped", {"canary": {}}, replicas=1)
    manifest["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "eighty"}]
    cluster.create_rollout(manifest)
    status = wait_for(settled(cluster, "mistyped", "Degraded"), "the InvalidSpec condition")
    invalid = condition(status, "InvalidSpec")
    assert invalid is not None and invalid["message"].startswith('The Rollout "mistyped" is invalid: ')
    assert "containerPort" in invalid["message"]
    healthy_neighbour(cluster)


def test_unready_canary_pods_exceed_the_progress_deadline_and_abort(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    manifest = rollout_manifest(
        "slow",
        {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}},
        replicas=2,
        progressDeadlineSeconds=3,
        progressDeadlineAbort=True,
    )
    cluster.create_rollout(manifest)
    stable = pod_template_hash(manifest["spec"]["template"], None)
    wait_for(settled(cluster, "slow", "Healthy", stableRS=stable), "the initial deploy")
    cluster.patch_rollout(
        "slow", {"spec": {"template": {"metadata": {"annotations": {FAIL_ANNOTATION: "unready"}}}}}
    )
    status = wait_for(settled(cluster, "slow", "Degraded", abort=True), "the progress deadline abort")
    progressing = condition(status, "Progressing")
    assert progressing["status"] == "False"
    assert progressing["reason"] in ("ProgressDeadlineExceeded", "RolloutAborted")
    aborted = [e.message for e in cluster.events("RolloutAborted")]
    assert any("has timed out progressing" in message for message in aborted), aborted
    wait_for(
        lambda: (
            {name: counts for name, counts in cluster.counts().items() if name == f"slow-{stable}"}
            == {f"slow-{stable}": (2, 2)}
        ),
        "the stable ReplicaSet whole again",
    )
    # Later passes (nudged by annotation edits) keep naming the deadline, in the status message
    # and in rollout_abort_info, instead of decaying into a bare "aborted" (a user's abort).
    for nudge in range(3):
        before = controller.passes("slow")
        cluster.patch_rollout("slow", {"metadata": {"annotations": {"test.rollouts.dev/nudge": str(nudge)}}})
        wait_for(lambda before=before: controller.passes("slow") > before, "another pass")
    status = cluster.status("slow")
    assert condition(status, "Progressing")["reason"] == "RolloutAborted"
    assert status["message"].startswith("RolloutAborted: Rollout aborted update to revision 2: ReplicaSet ")
    assert status["message"].endswith("has timed out progressing."), status["message"]
    reasons = {
        dict(labels)["reason"]: value
        for (metric, labels), value in controller.metrics().items()
        if metric == "rollout_abort_info" and dict(labels).get("name") == "slow"
    }
    assert reasons == {"ProgressDeadlineExceeded": 1.0}


def test_a_missing_routing_object_is_a_traffic_routing_error(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    strategy: dict[str, Any] = {
        "canary": {
            "canaryService": "routed-canary",
            "stableService": "routed-stable",
            "trafficRouting": {"nginx": {"stableIngress": "routed"}},
            "steps": [{"setWeight": 20}, {"pause": {}}],
        }
    }
    cluster.create_service("routed-canary", "routed")
    cluster.create_service("routed-stable", "routed")
    cluster.create_rollout(rollout_manifest("routed", strategy, replicas=2))
    event = wait_for(lambda: cluster.events("TrafficRoutingError"), "the TrafficRoutingError Event")[0]
    assert event.type == "Warning"
    assert event.message == "error retrieving stableIngress `routed`: ingress not found"
    status = cluster.status("routed")
    assert status.get("stableRS") is None  # the pass stopped at the router: nothing faked
    assert all(spec == 0 for spec, _ in cluster.counts().values())
    healthy_neighbour(cluster)
    assert controller.process is not None and controller.process.poll() is None
