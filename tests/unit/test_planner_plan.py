"""The package entry point: strategy dispatch, and no input — however malformed — makes it raise."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from planner_world import blue_green_rollout, canary_rollout

from rollouts.planner import Observed, ReplicaSetView, ServiceView, plan_rollout

NOW = datetime(2024, 1, 1, tzinfo=UTC)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 200)
    | st.text(max_size=6)
    | st.sampled_from(["25%", "10s", "abc"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "replicas",
        "paused",
        "selector",
        "template",
        "strategy",
        "steps",
        "maxSurge",
        "maxUnavailable",
        "trafficRouting",
        "setWeight",
        "pause",
        "activeService",
        "previewService",
        "previewReplicaCount",
        "autoPromotionSeconds",
        "currentStepIndex",
        "pauseConditions",
        "conditions",
        "stableRS",
        "abort",
        "canary",
        "blueGreen",
        "restartAt",
        "analysis",
        "scaleDownDelaySeconds",
    ]
)


def test_dispatch_by_strategy() -> None:
    services = {"web-active": ServiceView("web-active", {"app": "web"})}
    blue_green = plan_rollout(blue_green_rollout(), Observed(desired_pod_hash="h", services=services), NOW)
    assert blue_green.status is not None and "blueGreen" in blue_green.status
    canary = plan_rollout(
        canary_rollout([{"setWeight": 5}]), Observed(desired_pod_hash="h", step_hash="s"), NOW
    )
    assert canary.status is not None and canary.status["currentStepIndex"] == 0


def _corrupt(base: dict[str, Any], paths: list[tuple[str, ...]], values: list[Any]) -> dict[str, Any]:
    rollout = copy.deepcopy(base)
    for path, value in zip(paths, values, strict=False):
        target: Any = rollout
        for key in path[:-1]:
            if not isinstance(target, dict):
                break
            target = target.setdefault(key, {})
        if isinstance(target, dict):
            target[path[-1]] = value
    return rollout


# annotations that steer a pass into the scaling-event, scale-down-delay and revision paths
ANNOTATIONS: list[dict[str, str]] = [
    {},
    {"rollout.argoproj.io/desired-replicas": "7", "rollout.argoproj.io/revision": "2"},
    {"scale-down-deadline": "2023-01-01T00:00:00Z"},
    {"scale-down-deadline": "not a time"},
]
SECTIONS = [("spec",), ("spec", "strategy", "canary"), ("spec", "strategy", "blueGreen"), ("status",)]


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from([canary_rollout([{"setWeight": 20}, {"pause": {}}]), blue_green_rollout()]),
    edits=st.lists(st.tuples(st.sampled_from(SECTIONS), field_names, json_values), max_size=5),
    replicas=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["a", "b", "h"])), max_size=3
    ),
)
def test_malformed_rollouts_never_raise(
    base: dict[str, Any],
    edits: list[tuple[tuple[str, ...], str, Any]],
    replicas: list[tuple[int, int, str, dict[str, str]]],
) -> None:
    rollout = _corrupt(base, [(*section, name) for section, name, _ in edits], [value for *_, value in edits])
    observed = Observed(
        replica_sets=[
            ReplicaSetView(
                name=f"web-{h}-{i}", pod_hash=h, spec_replicas=spec, created_at=NOW, available=avail
            )
            for i, (spec, avail, h) in enumerate(replicas)
        ],
        desired_pod_hash="h",
        step_hash="s",
        services={"web-active": ServiceView("web-active", {"app": "web"})},
    )
    plan = plan_rollout(rollout, observed, NOW)
    assert plan.status is None or isinstance(plan.status, dict)


status_fields = st.sampled_from(
    [
        "currentStepIndex",
        "pauseConditions",
        "conditions",
        "stableRS",
        "currentPodHash",
        "currentStepHash",
        "abort",
        "abortedAt",
        "controllerPause",
        "promoteFull",
        "canary",
        "blueGreen",
        "observedGeneration",
        "restartedAt",
    ]
)


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from(
        [
            canary_rollout(
                [{"setWeight": 20}, {"pause": {}}, {"analysis": {"templates": [{"templateName": "t"}]}}],
                stableService="web-active",
                canaryService="web-canary",
                trafficRouting={"nginx": {}},
            ),
            canary_rollout([{"setWeight": 20}, {"pause": {"duration": 5}}]),
            blue_green_rollout(previewReplicaCount=1, autoPromotionSeconds=5),
        ]
    ),
    status=st.dictionaries(status_fields, json_values | st.sampled_from(["a", "h"]), max_size=6),
    replicas=st.lists(
        st.tuples(
            st.integers(0, 5), st.integers(0, 5), st.sampled_from(["a", "h"]), st.sampled_from(ANNOTATIONS)
        ),
        max_size=3,
    ),
)
def test_corrupted_status_never_raises(
    base: dict[str, Any], status: dict[str, Any], replicas: list[tuple[int, int, str, dict[str, str]]]
) -> None:
    rollout = {**copy.deepcopy(base), "status": status}
    observed = Observed(
        replica_sets=[
            ReplicaSetView(
                name=f"web-{h}-{i}",
                pod_hash=h,
                spec_replicas=spec,
                created_at=NOW,
                available=avail,
                annotations=notes,
            )
            for i, (spec, avail, h, notes) in enumerate(replicas)
        ],
        desired_pod_hash="h",
        step_hash="s",
        services={name: ServiceView(name, {"app": "web"}) for name in ("web-active", "web-canary")},
    )
    plan = plan_rollout(rollout, observed, NOW)
    assert plan.status is None or isinstance(plan.status, dict)
