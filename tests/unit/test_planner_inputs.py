"""Input views: tolerant reads of the API objects."""

from __future__ import annotations

from datetime import UTC, datetime

from rollouts.planner.inputs import ReplicaSetView, RolloutView, format_time, parse_time


def test_replica_set_view_from_manifest() -> None:
    view = ReplicaSetView.from_manifest(
        {
            "metadata": {
                "name": "web-abc",
                "labels": {"rollouts-pod-template-hash": "abc"},
                "annotations": {
                    "rollout.argoproj.io/revision": "3",
                    "rollout.argoproj.io/desired-replicas": "5",
                    "scale-down-deadline": "2024-01-01T00:00:30Z",
                },
                "creationTimestamp": "2024-01-01T00:00:00Z",
                "generation": 2,
            },
            "spec": {"replicas": 4, "minReadySeconds": 7},
            "status": {
                "replicas": 4,
                "readyReplicas": 3,
                "availableReplicas": 2,
                "observedGeneration": 2,
                "conditions": [{"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate"}],
            },
        }
    )
    assert (view.name, view.pod_hash, view.spec_replicas, view.replicas, view.ready, view.available) == (
        "web-abc",
        "abc",
        4,
        4,
        3,
        2,
    )
    assert view.revision == 3
    assert view.desired_replicas_annotation == 5
    assert view.scale_down_deadline == datetime(2024, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert view.min_ready_seconds == 7
    assert view.replica_failure is not None and view.replica_failure["reason"] == "FailedCreate"


def test_replica_set_view_tolerates_garbage() -> None:
    view = ReplicaSetView.from_manifest({"metadata": {"annotations": {"rollout.argoproj.io/revision": "x"}}})
    assert view.revision is None
    assert view.spec_replicas == 1  # Kubernetes' default
    assert view.scale_down_deadline is None


def test_rollout_view_defaults_and_wrong_types() -> None:
    ro = RolloutView(
        {"spec": {"replicas": "3", "paused": "yes", "strategy": {"canary": {"steps": [1, {"pause": {}}]}}}}
    )
    assert ro.replicas == 1
    assert not ro.paused
    assert ro.steps == [{}, {"pause": {}}]
    assert ro.progress_deadline_seconds == 600
    assert ro.revision_history_limit == 10
    assert ro.current_step_index is None
    assert ro.max_traffic_weight == 100


def test_times() -> None:
    moment = parse_time("2024-02-03T04:05:06Z")
    assert moment == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert format_time(moment) == "2024-02-03T04:05:06Z"
    assert parse_time("yesterday") is None
    assert parse_time(None) is None
