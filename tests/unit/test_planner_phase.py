"""§3.15 phase/message in the reference's order, the client wrapper, and §3.14's deadline rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from planner_world import blue_green_rollout, canary_rollout

from rollouts.planner.inputs import RolloutView
from rollouts.planner.phase import (
    client_phase,
    progress_check_at,
    rollout_healthy,
    rollout_phase,
    rollout_progressing,
    timed_out,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
HEALTHY_CANARY = {
    "replicas": 3,
    "updatedReplicas": 3,
    "availableReplicas": 3,
    "stableRS": "abc",
    "currentPodHash": "abc",
    "currentStepIndex": 1,
    "observedGeneration": "1",
}


def condition(kind: str, reason: str, message: str = "m", status: str = "False") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def canary(status: dict[str, Any], **spec: Any) -> RolloutView:
    rollout = canary_rollout([{"setWeight": 50}], replicas=3)
    rollout["spec"].update(spec)
    rollout["status"] = status
    return RolloutView(rollout)


def blue_green(status: dict[str, Any], **strategy: Any) -> RolloutView:
    rollout = blue_green_rollout(replicas=3, **strategy)
    rollout["status"] = status
    return RolloutView(rollout)


PHASE_CASES: list[tuple[str, RolloutView, tuple[str, str]]] = [
    (
        "invalid spec",
        canary(
            {
                **HEALTHY_CANARY,
                "conditions": [
                    condition("InvalidSpec", "InvalidSpec", "bad"),
                    condition("Progressing", "RolloutAborted"),
                ],
            },
            paused=True,
        ),
        ("Degraded", "InvalidSpec: bad"),
    ),
    (
        # one pass over the conditions, as upstream: the earlier of the two decides
        "abort listed before invalid spec",
        canary(
            {
                **HEALTHY_CANARY,
                "conditions": [
                    condition("Progressing", "RolloutAborted"),
                    condition("InvalidSpec", "InvalidSpec", "bad"),
                ],
            }
        ),
        ("Degraded", "RolloutAborted: m"),
    ),
    (
        "aborted",
        canary(
            {
                **HEALTHY_CANARY,
                "conditions": [
                    condition("Progressing", "RolloutAborted", "Rollout aborted update to revision 2")
                ],
            }
        ),
        ("Degraded", "RolloutAborted: Rollout aborted update to revision 2"),
    ),
    (
        "deadline exceeded",
        canary(
            {**HEALTHY_CANARY, "conditions": [condition("Progressing", "ProgressDeadlineExceeded", "late")]},
            paused=True,
        ),
        ("Degraded", "ProgressDeadlineExceeded: late"),
    ),
    (
        "manually paused beats pause conditions",
        canary({**HEALTHY_CANARY, "pauseConditions": [{"reason": "CanaryPauseStep"}]}, paused=True),
        ("Paused", "manually paused"),
    ),
    (
        "first pause condition",
        canary(
            {**HEALTHY_CANARY, "pauseConditions": [{"reason": "InconclusiveAnalysisRun"}, {"reason": "X"}]}
        ),
        ("Paused", "InconclusiveAnalysisRun"),
    ),
    (
        "restart pending",
        canary(HEALTHY_CANARY, restartAt="2024-01-01T00:00:00Z"),
        ("Progressing", "rollout is restarting"),
    ),
    (
        "restart done",
        canary({**HEALTHY_CANARY, "restartedAt": "2024-01-01T00:00:00Z"}, restartAt="2024-01-01T00:00:00Z"),
        ("Healthy", ""),
    ),
    (
        "more replicas to update",
        canary({**HEALTHY_CANARY, "updatedReplicas": 2}),
        ("Progressing", "more replicas need to be updated"),
    ),
    (
        "updated not yet available",
        canary({**HEALTHY_CANARY, "availableReplicas": 2}),
        ("Progressing", "updated replicas are still becoming available"),
    ),
    (
        "basic canary old replicas",
        canary({**HEALTHY_CANARY, "replicas": 4}),
        ("Progressing", "old replicas are pending termination"),
    ),
    (
        "traffic-routed canary ignores old replicas",
        canary(
            {**HEALTHY_CANARY, "replicas": 4},
            strategy={"canary": {"trafficRouting": {"nginx": {}}, "steps": [{"setWeight": 50}]}},
        ),
        ("Healthy", ""),
    ),
    (
        "canary steps pending",
        canary({**HEALTHY_CANARY, "stableRS": "old"}),
        ("Progressing", "waiting for all steps to complete"),
    ),
    (
        "canary without stable yet",
        canary({**HEALTHY_CANARY, "stableRS": ""}),
        ("Progressing", "waiting for all steps to complete"),
    ),
    ("healthy canary", canary(HEALTHY_CANARY), ("Healthy", "")),
    (
        "blue-green cutover pending (no active)",
        blue_green({**HEALTHY_CANARY, "blueGreen": {}}),
        ("Progressing", "active service cutover pending"),
    ),
    (
        "blue-green cutover pending (old active)",
        blue_green({**HEALTHY_CANARY, "blueGreen": {"activeSelector": "old"}}),
        ("Progressing", "active service cutover pending"),
    ),
    (
        "blue-green post analysis running",
        blue_green(
            {
                **HEALTHY_CANARY,
                "stableRS": "old",
                "blueGreen": {
                    "activeSelector": "abc",
                    "postPromotionAnalysisRunStatus": {"status": "Running"},
                },
            },
            postPromotionAnalysis={"templates": [{"templateName": "t"}]},
        ),
        ("Progressing", "waiting for analysis to complete"),
    ),
    (
        "blue-green post analysis completed",
        blue_green(
            {
                **HEALTHY_CANARY,
                "stableRS": "old",
                "blueGreen": {
                    "activeSelector": "abc",
                    "postPromotionAnalysisRunStatus": {"status": "Successful"},
                },
            },
            postPromotionAnalysis={"templates": [{"templateName": "t"}]},
        ),
        ("Progressing", "waiting for post-promotion verification to complete"),
    ),
    (
        "blue-green verification",
        blue_green({**HEALTHY_CANARY, "stableRS": "old", "blueGreen": {"activeSelector": "abc"}}),
        ("Progressing", "waiting for post-promotion verification to complete"),
    ),
    (
        "healthy blue-green",
        blue_green({**HEALTHY_CANARY, "blueGreen": {"activeSelector": "abc"}}),
        ("Healthy", ""),
    ),
]


@pytest.mark.parametrize(("ro", "expected"), [c[1:] for c in PHASE_CASES], ids=[c[0] for c in PHASE_CASES])
def test_rollout_phase(ro: RolloutView, expected: tuple[str, str]) -> None:
    assert rollout_phase(ro, ro.status) == expected


@pytest.mark.parametrize(
    ("generation", "status", "annotations", "expected"),
    [
        (
            2,
            {"observedGeneration": "1", "phase": "Healthy"},
            {},
            ("Progressing", "waiting for rollout spec update to be observed"),
        ),
        (2, {"observedGeneration": "3", "phase": "Healthy"}, {}, ("Healthy", "")),
        (2, {"observedGeneration": "a1b2", "phase": "Healthy"}, {}, ("Healthy", "")),
        (
            1,
            {"observedGeneration": "1", "controllerPause": True, "phase": "Paused"},
            {},
            ("Progressing", "waiting for rollout to unpause"),
        ),
        (
            1,
            {"observedGeneration": "1", "workloadObservedGeneration": "1", "phase": "Healthy"},
            {"rollout.argoproj.io/workload-generation": "2"},
            ("Progressing", "waiting for rollout spec update to be observed for the reference workload"),
        ),
        (
            1,
            {"observedGeneration": "1", "phase": "Paused", "message": "CanaryPauseStep"},
            {},
            ("Paused", "CanaryPauseStep"),
        ),
    ],
)
def test_client_phase(
    generation: int, status: dict[str, Any], annotations: dict[str, str], expected: tuple[str, str]
) -> None:
    rollout = canary_rollout([{"setWeight": 50}], replicas=3)
    rollout["metadata"].update(generation=generation, annotations=annotations)
    rollout["status"] = status
    assert client_phase(RolloutView(rollout)) == expected


def test_client_phase_computes_when_the_controller_wrote_none() -> None:
    assert client_phase(canary({**HEALTHY_CANARY, "updatedReplicas": 1})) == (
        "Progressing",
        "more replicas need to be updated",
    )


@pytest.mark.parametrize(
    ("status", "healthy"),
    [
        (HEALTHY_CANARY, True),
        ({**HEALTHY_CANARY, "currentStepIndex": 0}, False),
        ({**HEALTHY_CANARY, "replicas": 4}, False),
        ({**HEALTHY_CANARY, "stableRS": ""}, False),
        ({**HEALTHY_CANARY, "observedGeneration": "0"}, False),
        ({**HEALTHY_CANARY, "currentStepIndex": None}, True),
    ],
)
def test_canary_healthy_predicate(status: dict[str, Any], healthy: bool) -> None:
    ro = canary(status)
    assert rollout_healthy(ro, ro.status) is healthy


def test_blue_green_healthy_needs_preview_on_current_too() -> None:
    status = {**HEALTHY_CANARY, "blueGreen": {"activeSelector": "abc", "previewSelector": "old"}}
    ro = blue_green(status, previewService="preview")
    assert not rollout_healthy(ro, ro.status)
    assert rollout_healthy(ro, {**status, "blueGreen": {"activeSelector": "abc", "previewSelector": "abc"}})


@pytest.mark.parametrize(
    ("change", "progress"),
    [
        ({}, False),
        ({"updatedReplicas": 2}, True),
        ({"readyReplicas": 5}, True),
        ({"availableReplicas": 4}, True),
        ({"availableReplicas": 2}, False),
        ({"replicas": 2, "updatedReplicas": 3}, True),  # fewer old pods
        ({"stableRS": "new"}, True),
        ({"currentStepIndex": 2}, True),
        ({"currentStepHash": "other"}, True),
    ],
)
def test_canary_progress(change: dict[str, Any], progress: bool) -> None:
    old = {
        "replicas": 4,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "stableRS": "s",
        "currentStepIndex": 1,
        "currentStepHash": "h",
    }
    ro = canary(old)
    assert rollout_progressing(ro, {**old, **change}) is progress


def test_blue_green_selector_change_is_progress() -> None:
    old = {"blueGreen": {"activeSelector": "a", "previewSelector": "b"}}
    ro = blue_green(old)
    assert rollout_progressing(ro, {"blueGreen": {"activeSelector": "a", "previewSelector": "c"}})
    assert not rollout_progressing(ro, old)


def progressing(reason: str, updated: datetime) -> list[dict[str, str]]:
    stamp = updated.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"type": "Progressing", "status": "True", "reason": reason, "lastUpdateTime": stamp}]


@pytest.mark.parametrize(
    ("conditions", "seconds_later", "expected"),
    [
        ([], 10_000, False),
        (progressing("ReplicaSetUpdated", T0), 600, False),
        (progressing("ReplicaSetUpdated", T0), 601, True),
        (progressing("ProgressDeadlineExceeded", T0), 0, True),
        (progressing("RolloutAborted", T0), 10_000, False),
        (progressing("RolloutPaused", T0), 10_000, False),
    ],
)
def test_timed_out(conditions: list[dict[str, str]], seconds_later: int, expected: bool) -> None:
    assert timed_out(conditions, 600, T0 + timedelta(seconds=seconds_later)) is expected


def test_progress_check_time() -> None:
    assert progress_check_at(progressing("ReplicaSetUpdated", T0), 600) == T0 + timedelta(seconds=601)
    assert progress_check_at([], 600) is None
