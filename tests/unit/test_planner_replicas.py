"""Replica math (§3.4, §3.5): the reference's worked examples and Argo's own edge cases as tables."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from rollouts.planner.inputs import ReplicaSetView
from rollouts.planner.replicas import (
    CanaryTarget,
    approximate_split,
    basic_canary_counts,
    canary_target,
    min_pods,
    progress_threshold_met,
    traffic_routed_counts,
    weight_to_replicas,
)
from rollouts.planner.units import surge_and_unavailable

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def rs(name: str, spec: int, available: int, *, replicas: int | None = None) -> ReplicaSetView:
    return ReplicaSetView(
        name=name,
        pod_hash=name,
        spec_replicas=spec,
        created_at=T0,
        replicas=spec if replicas is None else replicas,
        available=available,
    )


# (replicas, weight, surge) -> (canary, stable): every row of the reference's list plus Argo's table.
APPROXIMATE_CASES = [
    # the reference's own outputs (§3.4)
    *[(1, w, 0, 0, 1) for w in (1, 25, 49)],
    (1, 50, 0, 1, 0),
    *[(1, w, 1, 1, 1) for w in (1, 50, 99)],
    (2, 1, 0, 1, 1),
    (2, 1, 1, 1, 2),
    (2, 99, 1, 2, 1),
    (3, 10, 0, 1, 2),
    (3, 50, 0, 2, 1),
    (3, 10, 1, 1, 3),
    (3, 33, 1, 1, 2),
    (3, 49, 1, 2, 2),
    (10, 1, 0, 1, 9),
    (10, 14, 0, 1, 9),
    (10, 15, 0, 2, 8),
    (10, 30, 3, 3, 7),
    (10, 5, 1, 1, 10),
    # replicas 0
    *[(0, w, s, 0, 0) for w in (0, 50, 100) for s in (0, 1)],
    # replicas 1, weights 0 and 100
    (1, 0, 0, 0, 1),
    (1, 99, 0, 1, 0),
    (1, 100, 0, 1, 0),
    (1, 0, 1, 0, 1),
    (1, 100, 1, 1, 0),
    # replicas 2
    (2, 0, 0, 0, 2),
    (2, 50, 0, 1, 1),
    (2, 99, 0, 1, 1),
    (2, 100, 0, 2, 0),
    (2, 0, 1, 0, 2),
    (2, 50, 1, 1, 1),
    (2, 100, 1, 2, 0),
    # replicas 3: odd rounding and the 50% tie
    (3, 25, 0, 1, 2),
    (3, 33, 0, 1, 2),
    (3, 34, 0, 1, 2),
    (3, 49, 0, 1, 2),
    (3, 25, 1, 1, 3),
    (3, 34, 1, 1, 2),
    (3, 50, 1, 2, 2),
    # replicas 10
    (10, 0, 1, 0, 10),
    (10, 16, 0, 2, 8),
    (10, 99, 0, 9, 1),
    (10, 100, 1, 10, 0),
    (10, 1, 1, 1, 10),
    (10, 18, 1, 2, 9),
    (10, 19, 1, 2, 9),
    (10, 20, 1, 2, 8),
    (10, 23, 1, 2, 8),
    (10, 24, 1, 3, 8),
    (10, 25, 1, 3, 8),
    (10, 99, 1, 10, 1),
]


@pytest.mark.parametrize(("replicas", "weight", "surge", "canary", "stable"), APPROXIMATE_CASES)
def test_approximate_split(replicas: int, weight: int, surge: int, canary: int, stable: int) -> None:
    assert approximate_split(replicas, weight, surge) == (canary, stable)


def _upstream_fallback(replicas: int, weight: int, surge: int) -> bool:
    return surge == 0 and replicas * weight % 100 == 50 and math.ceil(replicas * weight / 100) == replicas


@pytest.mark.parametrize(
    ("replicas", "weight", "surge"),
    [
        (replicas, weight, surge)
        for replicas in range(2, 13)
        for weight in range(1, 100)
        for surge in (0, 1)
        if not _upstream_fallback(replicas, weight, surge)  # pinned by test_split_upstream_fallback_quirk
    ],
)
def test_split_never_starves_a_side_between_0_and_100(replicas: int, weight: int, surge: int) -> None:
    canary, stable = approximate_split(replicas, weight, surge)
    assert canary >= 1
    assert stable >= 1
    assert replicas <= canary + stable <= replicas + (1 if surge else 0)


# name, replicas, weight, maxSurge, maxUnavailable, stable (spec, avail), canary (spec, avail),
# older RS (spec, avail) or None, promoteFull -> expected (canary, stable)
BASIC_CASES = [
    ("extra available above spec does not count", 10, 100, 3, 0, (7, 8), (6, 3), None, False, (6, 7)),
    ("surge int scales canary up", 10, 20, 2, 0, (10, 10), (0, 0), None, False, (2, 10)),
    ("surge percent scales canary up", 10, 20, "20%", 0, (10, 10), (0, 0), None, False, (2, 10)),
    ("extra stable replicas scale down", 10, 20, "20%", 0, (10, 10), (2, 2), None, False, (2, 8)),
    ("never past max surge", 10, 30, 2, 0, (10, 10), (0, 0), None, False, (2, 10)),
    ("unavailable int shrinks stable", 10, 20, 0, 2, (10, 10), (0, 0), None, False, (0, 8)),
    ("unavailable percent shrinks stable", 10, 20, 0, "20%", (10, 10), (0, 0), None, False, (0, 8)),
    ("never past max unavailable", 10, 30, 0, 2, (10, 10), (0, 0), None, False, (0, 8)),
    ("surge and unavailable together", 10, 50, 2, 1, (10, 10), (0, 0), None, False, (2, 9)),
    ("weight 0 scales canary to zero", 10, 0, 1, 1, (10, 10), (1, 1), None, False, (0, 10)),
    ("weight 100 scales stable to zero", 10, 100, 1, 1, (1, 1), (10, 10), None, False, (10, 0)),
    ("one replica never drops new to zero", 1, 20, 1, 0, (1, 1), (0, 0), None, False, (1, 1)),
    ("one replica never drops canary at 90", 1, 90, 1, 0, (1, 1), (0, 0), None, False, (1, 1)),
    ("stable grows before canary", 10, 30, 1, 0, (1, 1), (0, 0), (3, 3), False, (1, 7)),
    ("shrink both canary and stable", 10, 30, 0, 3, (8, 5), (4, 4), None, False, (3, 7)),
    ("older RSs drain first", 10, 30, 0, 1, (8, 6), (4, 2), (3, 3), False, (4, 8)),
    ("uneven weight does not round past surge", 10, 5, 0, 1, (10, 10), (0, 0), None, False, (0, 9)),
    ("uneven weight, second pass", 10, 5, 0, 1, (9, 9), (0, 0), None, False, (1, 9)),
    ("both zero percent -> one unavailable", 10, 10, "0%", "0%", (10, 10), (0, 0), None, False, (0, 9)),
    ("surge 1 while stable unavailable", 4, 100, 1, 0, (4, 1), (0, 0), None, False, (1, 4)),
    ("scale down within surge", 3, 99, 0, 2, (3, 3), (0, 0), None, False, (0, 1)),
    ("scale down within surge, second pass", 3, 99, 0, 2, (1, 1), (0, 0), None, False, (2, 1)),
    ("unavailable honoured with stable unavailable", 4, 100, 1, 0, (4, 1), (1, 1), None, False, (1, 3)),
    ("abort: surge stable before draining canary", 4, 0, 1, 0, (0, 0), (4, 4), None, False, (4, 1)),
    ("abort: wait for the surged stable pod", 4, 0, 1, 0, (1, 0), (4, 4), None, False, (4, 1)),
    ("abort: drain one canary per available stable", 4, 0, 1, 0, (1, 1), (4, 4), None, False, (3, 1)),
    ("promote full ignores the weight", 4, 1, 4, 4, (4, 4), (0, 0), None, True, (4, 0)),
    ("promote full still honours surge", 4, 1, 3, 0, (4, 4), (0, 0), None, True, (3, 4)),
    ("strings without % are percentages", 10, 20, "20", "0", (10, 10), (0, 0), None, False, (2, 10)),
    ("defaults 25/25 on ten pods", 10, 10, "25", "25", (10, 10), (0, 0), None, False, (1, 9)),
]


@pytest.mark.parametrize(
    (
        "replicas",
        "weight",
        "max_surge",
        "max_unavailable",
        "stable",
        "canary",
        "older",
        "promote_full",
        "expected",
    ),
    [case[1:] for case in BASIC_CASES],
    ids=[case[0] for case in BASIC_CASES],
)
def test_basic_canary_counts(
    *,
    replicas: int,
    weight: int,
    max_surge: int | str,
    max_unavailable: int | str,
    stable: tuple[int, int],
    canary: tuple[int, int],
    older: tuple[int, int] | None,
    promote_full: bool,
    expected: tuple[int, int],
) -> None:
    target = canary_target(
        steps=[{"setWeight": weight}],
        step_index=0,
        stable_rs="stable",
        current_pod_hash="canary",
        promote_full=promote_full,
        aborted=False,
        traffic_routed=False,
        abort_scale_down_delay_seconds=None,
    )
    surge, unavailable = surge_and_unavailable(max_surge, max_unavailable, replicas)
    counts = basic_canary_counts(
        replicas=replicas,
        weight=target.weight,
        max_surge=surge,
        max_unavailable=unavailable,
        new_rs=rs("canary", *canary),
        stable_rs=rs("stable", *stable),
        other_rss=[rs("older", *older)] if older else [],
    )
    assert counts == expected


@pytest.mark.parametrize(("replicas", "weight"), [(2, 75), (10, 95)])
def test_split_upstream_fallback_quirk(replicas: int, weight: int) -> None:
    # Without surge, when the ceiling is every pod and floor/ceiling tie, Argo has no candidate
    # left and falls back to (0, replicas); we reproduce it rather than diverge from Argo's counts.
    assert approximate_split(replicas, weight, 0) == (0, replicas)


def test_basic_canary_without_distinct_stable_targets_everything_to_new() -> None:
    new = rs("stable", 9, 9)
    assert basic_canary_counts(
        replicas=10, weight=10, max_surge=0, max_unavailable=1, new_rs=new, stable_rs=None
    ) == (10, 0)
    assert basic_canary_counts(
        replicas=10, weight=10, max_surge=0, max_unavailable=1, new_rs=new, stable_rs=new
    ) == (10, 0)


def test_new_deployment_where_new_and_stable_are_one_replica_set() -> None:
    same = rs("stable", 10, 0)
    assert basic_canary_counts(
        replicas=10, weight=10, max_surge=0, max_unavailable=1, new_rs=same, stable_rs=same
    ) == (10, 0)


@pytest.mark.parametrize(
    ("steps", "index", "kwargs", "expected"),
    [
        ([{"setWeight": 20}, {"pause": {}}], 1, {}, CanaryTarget(20)),
        ([{"pause": {}}, {"setWeight": 20}], 0, {}, CanaryTarget(0)),
        ([{"setWeight": 20}], 1, {}, CanaryTarget(100)),
        ([{"setWeight": 20}], 0, {"aborted": True}, CanaryTarget(0)),
        ([{"setWeight": 20}], 0, {"promote_full": True}, CanaryTarget(100)),
        ([{"setWeight": 20}], 0, {"stable_rs": ""}, CanaryTarget(100)),
        ([{"setWeight": 20}], 0, {"current_pod_hash": "stable"}, CanaryTarget(100)),
        # setCanaryScale only with traffic routing
        ([{"setCanaryScale": {"replicas": 9}}, {"setWeight": 20}], 1, {}, CanaryTarget(20)),
        (
            [{"setCanaryScale": {"replicas": 9}}, {"setWeight": 20}],
            1,
            {"traffic_routed": True},
            CanaryTarget(0, 9),
        ),
        ([{"setCanaryScale": {"weight": 200}}], 0, {"traffic_routed": True}, CanaryTarget(200)),
        (
            [
                {"setCanaryScale": {"replicas": 9}},
                {"setWeight": 20},
                {"setCanaryScale": {"matchTrafficWeight": True}},
            ],
            2,
            {"traffic_routed": True},
            CanaryTarget(20),
        ),
        # aborted: ignored unless abortScaleDownDelaySeconds is explicitly 0
        (
            [{"setCanaryScale": {"replicas": 1}}],
            0,
            {"traffic_routed": True, "aborted": True},
            CanaryTarget(0),
        ),
        (
            [{"setCanaryScale": {"replicas": 1}}],
            0,
            {"traffic_routed": True, "aborted": True, "abort_scale_down_delay_seconds": 0},
            CanaryTarget(0, 1),
        ),
    ],
)
def test_canary_target(
    steps: list[dict[str, object]], index: int, kwargs: dict[str, object], expected: CanaryTarget
) -> None:
    arguments: dict[str, object] = {
        "stable_rs": "stable",
        "current_pod_hash": "canary",
        "promote_full": False,
        "aborted": False,
        "traffic_routed": False,
        "abort_scale_down_delay_seconds": None,
        **kwargs,
    }
    assert canary_target(steps=steps, step_index=index, **arguments) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("replicas", "weight", "expected"),
    [(10, 0, 0), (10, 20, 2), (10, 25, 3), (10, 33, 4), (10, 99, 10), (10, 100, 10), (3, 1, 1)],
)
def test_weight_to_replicas(replicas: int, weight: int, expected: int) -> None:
    assert weight_to_replicas(replicas, weight) == expected


TRAFFIC_CASES = [
    # name, replicas, target, dynamic, recorded (canary, stable) or None, aborted, minPods -> (canary, stable)
    ("stable stays at 100%", 10, CanaryTarget(10), False, None, False, None, (1, 10)),
    ("explicit canary replicas", 1, CanaryTarget(0, 9), False, None, False, None, (9, 1)),
    ("canary scale weight", 4, CanaryTarget(200), False, None, False, None, (8, 4)),
    ("minPods raises canary", 10, CanaryTarget(5), False, None, False, 2, (2, 10)),
    ("minPods capped at replicas", 3, CanaryTarget(5), False, None, False, 5, (3, 3)),
    ("dynamic: stable follows weight", 10, CanaryTarget(10), True, (10, 90), False, None, (1, 9)),
    ("dynamic: stable waits for traffic", 10, CanaryTarget(20), True, (10, 90), False, None, (2, 9)),
    ("dynamic abort keeps canary for traffic", 10, CanaryTarget(0), True, (20, 80), True, None, (2, 10)),
    ("dynamic abort follows traffic down", 10, CanaryTarget(0), True, (10, 90), True, None, (1, 10)),
    ("dynamic without recorded weights", 10, CanaryTarget(30), True, None, False, None, (3, 7)),
    ("dynamic with minPods on both", 10, CanaryTarget(95), True, None, False, 2, (10, 2)),
]


@pytest.mark.parametrize(
    ("replicas", "target", "dynamic", "recorded", "aborted", "minimum", "expected"),
    [case[1:] for case in TRAFFIC_CASES],
    ids=[case[0] for case in TRAFFIC_CASES],
)
def test_traffic_routed_counts(
    *,
    replicas: int,
    target: CanaryTarget,
    dynamic: bool,
    recorded: tuple[int, int] | None,
    aborted: bool,
    minimum: int | None,
    expected: tuple[int, int],
) -> None:
    weights = (
        None if recorded is None else {"canary": {"weight": recorded[0]}, "stable": {"weight": recorded[1]}}
    )
    assert (
        traffic_routed_counts(
            replicas=replicas,
            target=target,
            dynamic_stable_scale=dynamic,
            recorded_weights=weights,
            aborted=aborted,
            min_pods_per_replica_set=minimum,
        )
        == expected
    )


def test_min_pods_leaves_zero_alone() -> None:
    assert min_pods(0, 10, 3) == 0
    assert min_pods(1, 10, None) == 1


@pytest.mark.parametrize(
    ("available", "desired", "threshold", "met"),
    [
        (3, 3, None, True),
        (2, 3, None, False),
        (2, 5, {"type": "Pods", "value": 2}, True),
        (1, 5, {"type": "Pods", "value": 2}, False),
        (1, 1, {"type": "Pods", "value": 5}, True),
        (3, 5, {"type": "Percent", "value": 50}, True),
        (2, 5, {"type": "Percent", "value": 50}, False),
    ],
)
def test_progress_threshold(
    available: int, desired: int, threshold: dict[str, object] | None, met: bool
) -> None:
    assert progress_threshold_met(available, desired, threshold) is met
