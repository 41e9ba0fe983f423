"""The JSON the page draws: overview rows, the steps timeline, the tree and analysis measurements."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.dashboard.views import (
    analysis_run_view,
    event_views,
    live_overview,
    overview,
    rollout_detail,
    step_views,
    traffic_view,
)
from rollouts.plugin.info import Children

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def ts(seconds_ago: int) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rollout(name: str = "web", namespace: str = "shop", step: int = 1) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "generation": 2,
            "creationTimestamp": ts(300),
        },
        "spec": {
            "replicas": 4,
            "template": {"spec": {"containers": [{"name": "web", "image": "web:2"}]}},
            "strategy": {
                "canary": {
                    "steps": [
                        {"setWeight": 25},
                        {"pause": {}},
                        {"analysis": {"templates": [{"templateName": "error-rate"}]}},
                        {"pause": {"duration": "30s"}},
                        {"setCanaryScale": {"replicas": 2}},
                        {"experiment": {"templates": [{"name": "baseline"}]}},
                        {"somethingNew": {}},
                    ]
                }
            },
        },
        "status": {
            "observedGeneration": "2",
            "currentPodHash": "bbb",
            "stableRS": "aaa",
            "currentStepIndex": step,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": ts(10)}],
            "controllerPause": True,
            "replicas": 5,
            "readyReplicas": 5,
            "availableReplicas": 5,
            "updatedReplicas": 1,
        },
    }


def replica_set(owner: str, pod_hash: str, revision: int, replicas: int, image: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"web-{pod_hash}",
            "uid": f"rs-{pod_hash}",
            "creationTimestamp": ts(200 - revision),
            "labels": {"rollouts-pod-template-hash": pod_hash},
            "annotations": {"rollout.argoproj.io/revision": str(revision)},
            "ownerReferences": [{"uid": owner, "controller": True}],
        },
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "web", "image": image}]}},
        },
        "status": {"replicas": replicas, "availableReplicas": replicas, "readyReplicas": replicas},
    }


def analysis_run(owner: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web-bbb-2-2",
            "creationTimestamp": ts(20),
            "annotations": {"rollout.argoproj.io/revision": "2"},
            "ownerReferences": [{"uid": owner, "controller": True}],
        },
        "spec": {
            "metrics": [
                {
                    "name": "error-rate",
                    "successCondition": "result[0] < 0.05",
                    "failureCondition": "result[0] >= 0.1",
                    "provider": {"prometheus": {"query": "rate(errors[1m])"}},
                },
                {"name": "smoke", "provider": {"job": {}}},
            ]
        },
        "status": {
            "phase": "Running",
            "metricResults": [
                {
                    "name": "error-rate",
                    "phase": "Running",
                    "successful": 2,
                    "failed": 1,
                    "measurements": [
                        {"phase": "Successful", "value": "[0.01]", "startedAt": ts(20), "finishedAt": ts(19)},
                        {"phase": "Successful", "value": "0.02", "startedAt": ts(10), "finishedAt": ts(9)},
                        {"phase": "Failed", "value": "[0.2]", "startedAt": ts(5), "finishedAt": ts(4)},
                        {"phase": "Error", "message": "connection refused", "startedAt": ts(2)},
                        {"phase": "Successful", "value": "[0.1,0.2]"},
                        {"phase": "Successful", "value": "NaN"},
                    ],
                },
                {"name": "orphan", "phase": "Successful", "successful": 1},
            ],
        },
    }


def test_overview_rows_carry_what_the_list_shows() -> None:
    sets = [replica_set("uid-web", "aaa", 1, 3, "web:1"), replica_set("uid-web", "bbb", 2, 1, "web:2")]
    data = overview([rollout("web", "shop"), rollout("api", "admin")], sets, NOW)
    assert data["namespaces"] == ["admin", "shop"]
    assert [(row["namespace"], row["name"]) for row in data["rollouts"]] == [
        ("admin", "api"),
        ("shop", "web"),
    ]
    web = data["rollouts"][1]
    assert web["status"] == "Paused"
    assert web["strategy"] == "Canary"
    assert web["step"] == "1/7"
    assert web["setWeight"] == "25"
    assert web["replicas"]["ready"] == 5
    assert web["replicas"]["desired"] == 4
    assert web["images"] == [{"image": "web:1", "roles": ["stable"]}, {"image": "web:2", "roles": ["canary"]}]
    assert web["age"] == "5m"
    json.dumps(data)  # the API sends it as is


def test_the_streamed_overview_leaves_ages_to_the_page() -> None:
    data = overview([rollout("web", "shop")], [], NOW)
    created = data["rollouts"][0]["created"]
    assert created.endswith("Z") and data["rollouts"][0]["age"] == "5m"
    streamed = live_overview(data)
    assert "age" not in streamed["rollouts"][0]
    assert streamed["rollouts"][0]["created"] == created
    assert {key: value for key, value in data["rollouts"][0].items() if key != "age"} == streamed["rollouts"][
        0
    ]
    assert streamed["namespaces"] == ["shop"]
    assert "age" in data["rollouts"][0]  # the one-shot answer is left as it was


def test_steps_timeline_marks_done_current_and_pending() -> None:
    steps = step_views(rollout(step=2))
    assert [(s["state"], s["kind"]) for s in steps] == [
        ("done", "setWeight"),
        ("done", "pause"),
        ("current", "analysis"),
        ("pending", "pause"),
        ("pending", "setCanaryScale"),
        ("pending", "experiment"),
        ("pending", "unknown"),
    ]
    texts = [s["text"] for s in steps]
    assert texts[:6] == [
        "Set weight 25%",
        "Pause (until promoted)",
        "Analysis error-rate",
        "Pause 30s",
        "Set canary scale (replicas 2)",
        "Experiment baseline",
    ]
    assert texts[6] == '{"somethingNew": {}}'


def test_blue_green_has_no_steps() -> None:
    body = rollout()
    body["spec"]["strategy"] = {"blueGreen": {"activeService": "web"}}
    assert step_views(body) == []


def test_measurements_become_chart_points_with_their_conditions() -> None:
    view = analysis_run_view(analysis_run("uid-web"), NOW)
    assert (view["name"], view["phase"], view["revision"], view["age"]) == (
        "web-bbb-2-2",
        "Running",
        "2",
        "20s",
    )
    rate, smoke, orphan = view["metrics"]
    assert rate["successCondition"] == "result[0] < 0.05"
    assert rate["failureCondition"] == "result[0] >= 0.1"
    assert rate["provider"] == ["prometheus"]
    assert rate["counts"] == {"successful": 2, "failed": 1, "inconclusive": 0, "error": 0}
    assert [m["number"] for m in rate["measurements"]] == [0.01, 0.02, 0.2, None, None, None]
    assert [m["phase"] for m in rate["measurements"]][:4] == ["Successful", "Successful", "Failed", "Error"]
    assert rate["measurements"][3]["message"] == "connection refused"
    assert (smoke["phase"], smoke["measurements"]) == ("Pending", [])
    assert orphan["name"] == "orphan"


@pytest.mark.parametrize("broken", [{}, {"spec": "x", "status": 3}, {"status": {"metricResults": [None, 7]}}])
def test_malformed_runs_do_not_break_the_view(broken: dict[str, Any]) -> None:
    view = analysis_run_view(broken, NOW)
    assert view["phase"] == "Pending"
    assert view["age"] == "<unknown>"


def test_detail_holds_summary_steps_tree_and_owned_runs_only() -> None:
    children = Children(
        replica_sets=[
            replica_set("uid-web", "aaa", 1, 3, "web:1"),
            replica_set("uid-web", "bbb", 2, 1, "web:2"),
        ],
        analysis_runs=[analysis_run("uid-web"), analysis_run("uid-other")],
    )
    detail = rollout_detail(rollout(), children, NOW)
    assert detail["status"] == "Paused"
    assert detail["paused"] is False
    assert detail["aborted"] is False
    assert detail["revision"] == 0  # no revision annotation on this Rollout
    assert [s["state"] for s in detail["steps"]][:3] == ["done", "current", "pending"]
    assert [run["name"] for run in detail["analysisRuns"]] == ["web-bbb-2-2"]
    revisions = [node["name"] for node in detail["tree"]["children"]]
    assert revisions == ["revision:2", "revision:1"]
    assert detail["tree"]["children"][0]["children"][0]["info"] == ["canary"]
    json.dumps(detail)


def test_a_rollout_without_replica_sets_shows_its_template_images() -> None:
    body = rollout()
    body["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "busybox:1"}]
    row = overview([body], [], NOW)["rollouts"][0]
    assert row["images"] == [{"image": "busybox:1", "roles": []}, {"image": "web:2", "roles": []}]


def test_traffic_shows_routers_and_the_weights_last_applied() -> None:
    body = rollout()
    assert traffic_view(body) == {"routers": [], "maxWeight": 100, "weights": None}
    body["spec"]["strategy"]["canary"]["trafficRouting"] = {
        "nginx": {"stableIngress": "web"},
        "managedRoutes": [{"name": "header"}],
        "plugins": {"argoproj-labs/gatewayAPI": {}},
    }
    body["status"]["canary"] = {
        "weights": {
            "canary": {"weight": 20, "serviceName": "web-canary", "podTemplateHash": "bbb"},
            "stable": {"weight": 80, "serviceName": "web-stable", "podTemplateHash": "aaa"},
            "additional": [{"weight": 5, "serviceName": "web-mirror"}],
        }
    }
    view = traffic_view(body)
    assert view["routers"] == ["nginx", "plugin:argoproj-labs/gatewayAPI"]
    assert view["weights"]["canary"] == {"weight": 20, "serviceName": "web-canary", "podTemplateHash": "bbb"}
    assert view["weights"]["stable"]["weight"] == 80
    assert view["weights"]["additional"] == [
        {"weight": 5, "serviceName": "web-mirror", "podTemplateHash": ""}
    ]


def test_events_newest_first_and_limited() -> None:
    events = [
        {"type": "Normal", "reason": f"Step{i}", "message": f"step {i}", "lastTimestamp": ts(100 - i)}
        for i in range(30)
    ]
    events.append({"type": "Warning", "reason": "Micro", "eventTime": ts(0)[:-1] + ".123456Z", "count": 3})
    events.append({"reason": "NoTime"})
    views = event_views(events, NOW)
    assert len(views) == 20
    assert views[0] == {"type": "Warning", "reason": "Micro", "message": "", "count": 3, "age": "0s"}
    assert [v["reason"] for v in views[1:3]] == ["Step29", "Step28"]
    assert event_views([{"reason": "NoTime"}], NOW)[0]["age"] == "<unknown>"
    same_second = [
        {"reason": reason, "lastTimestamp": ts(5), "metadata": {"resourceVersion": version}}
        for reason, version in (("First", "90"), ("Third", "110"), ("Second", "100"))
    ]
    assert [v["reason"] for v in event_views(same_second, NOW)] == ["Third", "Second", "First"]
