"""The ``get`` tree: objects -> info (statuses, tags, weights, grouping) -> text (snapshots)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from plugin_snapshots import assert_snapshot

from rollouts.plugin.info import Children, experiment_info, pod_status, replica_set_status, rollout_info
from rollouts.plugin.terminal import Palette, strip_ansi
from rollouts.plugin.trees import render_experiment, render_rollout

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def ts(seconds_ago: int) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def owner(uid: str) -> list[dict[str, Any]]:
    return [{"uid": uid, "controller": True}]


def rollout(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "ro-1",
            "generation": 3,
            "creationTimestamp": ts(425),
        },
        "spec": {
            "replicas": 5,
            "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}},
            "strategy": {
                "canary": {
                    "steps": [
                        {"setWeight": 20},
                        {"pause": {}},
                        {"analysis": {"templates": [{"templateName": "rate"}]}},
                        {"setWeight": 60},
                    ]
                }
            },
        },
        "status": {
            "observedGeneration": "3",
            "phase": "Paused",
            "message": "CanaryPauseStep",
            "currentPodHash": "bbb",
            "stableRS": "aaa",
            "currentStepIndex": 1,
            "replicas": 6,
            "updatedReplicas": 1,
            "readyReplicas": 6,
            "availableReplicas": 6,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": ts(16)}],
            **status,
        },
    }


def replica_set(
    name: str, pod_hash: str, sizes: tuple[int, int, int, int], image: str, **annotations: str
) -> dict[str, Any]:
    revision, replicas, available, age = sizes
    return {
        "metadata": {
            "name": name,
            "uid": f"rs-{name}",
            "generation": 1,
            "creationTimestamp": ts(age),
            "labels": {"rollouts-pod-template-hash": pod_hash},
            "annotations": {"rollout.argoproj.io/revision": str(revision), **annotations},
            "ownerReferences": owner("ro-1"),
        },
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
        },
        "status": {
            "replicas": replicas,
            "availableReplicas": available,
            "readyReplicas": available,
            "observedGeneration": 1,
        },
    }


def pod(
    name: str, rs: str, age: int, *, ready: bool = True, restarts: int = 0, waiting: str = ""
) -> dict[str, Any]:
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {
        "metadata": {"name": name, "creationTimestamp": ts(age), "ownerReferences": owner(f"rs-{rs}")},
        "spec": {"containers": [{"name": "web"}]},
        "status": {
            "phase": "Pending" if waiting else "Running",
            "containerStatuses": [{"ready": ready, "restartCount": restarts, "state": state}],
        },
    }


def world() -> Children:
    return Children(
        replica_sets=[
            replica_set("web-aaa", "aaa", (1, 5, 5, 425), "web:1"),
            replica_set("web-bbb", "bbb", (2, 1, 1, 16), "web:2"),
            replica_set("web-old", "ooo", (0, 0, 0, 9000), "web:0"),
            {
                **replica_set("other", "zzz", (1, 1, 1, 10), "x:1"),
                "metadata": {"name": "other", "ownerReferences": owner("someone")},
            },
        ],
        pods=[
            pod("web-aaa-1", "web-aaa", 425),
            pod("web-aaa-2", "web-aaa", 425, restarts=2),
            pod("web-bbb-1", "web-bbb", 16, ready=False, waiting="ContainerCreating"),
        ],
        analysis_runs=[
            {
                "metadata": {
                    "name": "web-aaa-1-bg",
                    "uid": "ar-1",
                    "creationTimestamp": ts(400),
                    "annotations": {"rollout.argoproj.io/revision": "1"},
                    "ownerReferences": owner("ro-1"),
                },
                "status": {
                    "phase": "Successful",
                    "metricResults": [{"successful": 3}, {"successful": 2, "error": 1}],
                },
            },
            {
                "metadata": {
                    "name": "web-bbb-2-2",
                    "uid": "ar-2",
                    "creationTimestamp": ts(5),
                    "annotations": {"rollout.argoproj.io/revision": "2"},
                    "ownerReferences": owner("ro-1"),
                },
                "status": {"phase": "Running", "metricResults": [{"successful": 1, "failed": 1}]},
            },
        ],
        jobs=[
            {
                "metadata": {
                    "name": "ar-2.rate.1",
                    "creationTimestamp": ts(4),
                    "ownerReferences": owner("ar-2"),
                },
                "status": {"active": 1},
            },
        ],
    )


def test_canary_tree_snapshot() -> None:
    info = rollout_info(rollout(), world(), NOW)
    assert_snapshot("get-rollout-canary.txt", render_rollout(info))


def test_summary_fields() -> None:
    info = rollout_info(rollout(), world(), NOW)
    assert (info.status, info.message, info.step, info.set_weight) == (
        "Paused",
        "CanaryPauseStep",
        "1/4",
        "20",
    )
    assert info.actual_weight == "16"  # basic canary: 1 available canary pod of 6 available
    assert info.images == (("web:1", ("stable",)), ("web:2", ("canary",)))
    revisions = [node.name for node in info.tree.children]
    assert revisions == ["revision:2", "revision:1", "revision:0"]
    assert "other" not in render_rollout(info)


def test_traffic_routed_actual_weight_is_the_recorded_one() -> None:
    ro = rollout(canary={"weights": {"canary": {"weight": 15}, "stable": {"weight": 85}}})
    ro["spec"]["strategy"]["canary"]["trafficRouting"] = {"nginx": {"stableIngress": "web"}}
    assert rollout_info(ro, world(), NOW).actual_weight == "15"


def test_past_the_last_step_is_full_weight() -> None:
    info = rollout_info(rollout(currentStepIndex=4, stableRS="bbb"), world(), NOW)
    assert (info.step, info.set_weight, info.actual_weight) == ("4/4", "100", "100")


def test_stale_generation_is_not_trusted() -> None:
    info = rollout_info(rollout(observedGeneration="2", phase="Healthy"), world(), NOW)
    assert (info.status, info.message) == ("Progressing", "waiting for rollout spec update to be observed")


def test_bluegreen_tags_and_delay() -> None:
    ro = rollout(
        currentPodHash="bbb", stableRS="aaa", blueGreen={"activeSelector": "aaa", "previewSelector": "bbb"}
    )
    ro["spec"]["strategy"] = {"blueGreen": {"activeService": "a", "previewService": "p"}}
    children = world()
    children = Children(
        replica_sets=[
            replica_set("web-aaa", "aaa", (1, 5, 5, 425), "web:1", **{"scale-down-deadline": ts(-25)}),
            replica_set("web-bbb", "bbb", (2, 5, 5, 16), "web:2"),
        ],
    )
    info = rollout_info(ro, children, NOW)
    assert info.strategy == "BlueGreen"
    assert info.images == (("web:1", ("stable", "active")), ("web:2", ("preview",)))
    text = render_rollout(info)
    assert "stable,active,delay:25s" in text
    assert "SetWeight" not in text


def test_experiment_snapshot() -> None:
    experiment = {
        "metadata": {"name": "exp", "namespace": "shop", "uid": "ex-1", "creationTimestamp": ts(90)},
        "status": {"phase": "Running", "message": "templates are available"},
    }
    rs = replica_set(
        "exp-baseline", "h1", (1, 1, 1, 80), "web:1", **{"experiment.argoproj.io/template-name": "baseline"}
    )
    rs["metadata"]["ownerReferences"] = owner("ex-1")
    run = {
        "metadata": {
            "name": "exp-rate",
            "uid": "ar-9",
            "creationTimestamp": ts(30),
            "ownerReferences": owner("ex-1"),
        },
        "status": {"phase": "Inconclusive", "metricResults": [{"inconclusive": 1}]},
    }
    info = experiment_info(
        experiment,
        Children(replica_sets=[rs], pods=[pod("exp-baseline-1", "exp-baseline", 80)], analysis_runs=[run]),
        NOW,
    )
    assert info.images == (("web:1", ("baseline",)),)
    assert_snapshot("get-experiment.txt", render_experiment(info))


def test_colour_only_adds_codes() -> None:
    info = rollout_info(rollout(), world(), NOW)
    coloured = render_rollout(info, Palette(enabled=True))
    assert "\x1b[" in coloured
    assert strip_ansi(coloured) == render_rollout(info)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"phase": "Running", "containerStatuses": [{"ready": True, "state": {"running": {}}}]}, "Running"),
        ({"phase": "Running", "containerStatuses": [{"ready": False, "state": {"running": {}}}]}, "NotReady"),
        (
            {
                "phase": "Pending",
                "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}],
            },
            "ImagePullBackOff",
        ),
        (
            {"phase": "Pending", "initContainerStatuses": [{"state": {"terminated": {"exitCode": 1}}}]},
            "Init:Error",
        ),
        ({"phase": "Failed", "reason": "Evicted"}, "Evicted"),
        (
            {"phase": "Succeeded", "containerStatuses": [{"state": {"terminated": {"reason": "Completed"}}}]},
            "Completed",
        ),
        ({}, "Unknown"),
    ],
)
def test_pod_status(status: dict[str, Any], expected: str) -> None:
    assert pod_status({"status": status}) == expected


def test_terminating_pod() -> None:
    assert (
        pod_status({"metadata": {"deletionTimestamp": ts(1)}, "status": {"phase": "Running"}})
        == "Terminating"
    )


@pytest.mark.parametrize(
    ("spec", "status", "generation", "expected"),
    [
        (0, {}, 1, "ScaledDown"),
        (2, {"availableReplicas": 2, "observedGeneration": 1}, 1, "Healthy"),
        (2, {"availableReplicas": 1, "observedGeneration": 1}, 1, "Progressing"),
        (2, {"availableReplicas": 2, "observedGeneration": 1}, 2, "Progressing"),
        (2, {"conditions": [{"type": "ReplicaFailure", "status": "True"}]}, 1, "Degraded"),
    ],
)
def test_replica_set_status(spec: int, status: dict[str, Any], generation: int, expected: str) -> None:
    rs = {"metadata": {"generation": generation}, "spec": {"replicas": spec}, "status": status}
    assert replica_set_status(rs) == expected


def test_malformed_objects_do_not_raise() -> None:
    junk: dict[str, Any] = {"metadata": "x", "spec": [], "status": 3}
    info = rollout_info(junk, Children(replica_sets=[junk], pods=[junk], analysis_runs=[junk]), NOW)
    assert info.strategy == "-"
    render_rollout(info)


def test_images_list_the_older_revision_first_even_when_created_in_the_same_second() -> None:
    children = Children(
        replica_sets=[
            replica_set("web-a-canary", "bbb", (2, 1, 1, 3), "web:2"),
            replica_set("web-z-stable", "aaa", (1, 5, 5, 3), "web:1"),
        ]
    )
    assert rollout_info(rollout(), children, NOW).images == (("web:1", ("stable",)), ("web:2", ("canary",)))
