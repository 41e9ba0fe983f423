"""Kubernetes Events about a Rollout (`rollouts.controller.events`)."""

from __future__ import annotations

from datetime import UTC, datetime

from rollouts.controller.events import COMPONENT, event_body

ROLLOUT = {"metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "resourceVersion": "42"}}
NOW = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_an_event_points_at_the_rollout_with_argos_reason_and_message() -> None:
    body = event_body(
        ROLLOUT,
        reason="RolloutPaused",
        message="Rollout is paused (CanaryPauseStep)",
        warning=False,
        now=NOW,
        instance="pod-1",
    )
    assert body["involvedObject"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "web",
        "namespace": "prod",
        "uid": "u-1",
        "resourceVersion": "42",
    }
    assert (body["reason"], body["message"], body["type"]) == (
        "RolloutPaused",
        "Rollout is paused (CanaryPauseStep)",
        "Normal",
    )
    assert body["metadata"]["namespace"] == "prod"
    assert body["metadata"]["name"].startswith("web.")
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2024-05-01T12:00:00Z"
    assert body["source"] == {"component": COMPONENT}
    assert (body["reportingComponent"], body["reportingInstance"], body["count"]) == (COMPONENT, "pod-1", 1)


def test_warnings_are_typed_and_names_are_unique_per_instant() -> None:
    first = event_body(ROLLOUT, reason="RolloutAborted", message="m", warning=True, now=NOW)
    second = event_body(
        ROLLOUT, reason="RolloutAborted", message="m", warning=True, now=NOW.replace(microsecond=123457)
    )
    assert first["type"] == "Warning"
    assert first["metadata"]["name"] != second["metadata"]["name"]
