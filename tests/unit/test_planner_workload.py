"""§3.16 workloadRef scaleDown modes."""

from __future__ import annotations

from typing import Any

import pytest
from planner_world import canary_rollout

from rollouts.planner.actions import ScaleWorkload
from rollouts.planner.inputs import RolloutView
from rollouts.planner.workload import workload_scale


def view(mode: str | None) -> RolloutView:
    rollout = canary_rollout([{"setWeight": 50}], replicas=5)
    reference: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    if mode is not None:
        reference["scaleDown"] = mode
    rollout["spec"]["workloadRef"] = reference
    return RolloutView(rollout)


def target(replicas: int) -> ScaleWorkload:
    return ScaleWorkload("apps/v1", "Deployment", "web", replicas)


@pytest.mark.parametrize(
    ("mode", "status", "revision", "expected"),
    [
        (None, {"phase": "Healthy"}, 1, None),
        ("never", {"phase": "Healthy"}, 1, None),
        ("onsuccess", {"phase": "Progressing", "readyReplicas": 2}, 1, None),
        ("onsuccess", {"phase": "Healthy"}, 1, target(0)),
        ("progressively", {"phase": "Progressing", "readyReplicas": 2}, 1, target(3)),
        ("progressively", {"phase": "Progressing"}, 1, target(5)),
        ("progressively", {"phase": "Healthy", "readyReplicas": 5}, 1, target(0)),
        ("progressively", {"phase": "Progressing", "readyReplicas": 2}, 2, None),
        ("onsuccess", {"phase": "Healthy"}, 3, None),
    ],
)
def test_workload_scale(
    mode: str | None, status: dict[str, Any], revision: int, expected: ScaleWorkload | None
) -> None:
    assert workload_scale(view(mode), status, revision=revision) == expected


def test_no_workload_reference() -> None:
    assert workload_scale(RolloutView(canary_rollout(None)), {"phase": "Healthy"}, revision=1) is None
