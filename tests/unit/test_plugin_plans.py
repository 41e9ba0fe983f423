"""``plan``: the step table computed with the controller's replica math (snapshots + numbers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from plugin_snapshots import assert_snapshot

from rollouts.planner.replicas import approximate_split
from rollouts.plugin.plans import PlanError, plan_rollout_steps, render_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example_rollouts() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Rollout":
                found.append((path.stem, doc))
    return found


@pytest.mark.parametrize(("stem", "rollout"), example_rollouts(), ids=[s for s, _ in example_rollouts()])
def test_examples_snapshot(stem: str, rollout: dict[str, Any]) -> None:
    assert_snapshot(f"plan-{stem}.txt", render_plan(plan_rollout_steps(rollout)))


def canary(replicas: int, steps: list[dict[str, Any]], **strategy: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web"},
        "spec": {"replicas": replicas, "strategy": {"canary": {"steps": steps, **strategy}}},
    }


def counts(rollout: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    return [(row.step, row.new, row.stable, row.weight) for row in plan_rollout_steps(rollout).rows]


def test_basic_canary_uses_the_split_of_the_replica_math() -> None:
    rows = counts(canary(3, [{"setWeight": 10}, {"setWeight": 50}], maxSurge=1, maxUnavailable=0))
    assert (rows[1][1], rows[1][2]) == approximate_split(3, 10, 1)
    assert rows == [("-", 0, 3, "0"), ("0", 1, 3, "25 (set 10)"), ("1", 2, 2, "50"), ("done", 3, 0, "100")]


def test_traffic_routed_canary_keeps_stable_at_full_size_until_promoted() -> None:
    rollout = canary(
        10,
        [
            {"setWeight": 5},
            {"setCanaryScale": {"replicas": 3}},
            {"pause": {"duration": "1h"}},
            {"setCanaryScale": {"matchTrafficWeight": True}},
        ],
        trafficRouting={"nginx": {"stableIngress": "web"}},
        canaryService="c",
        stableService="s",
        scaleDownDelaySeconds=45,
    )
    plan = plan_rollout_steps(rollout)
    assert counts(rollout) == [
        ("-", 0, 10, "0"),
        ("0", 1, 10, "5"),
        ("1", 3, 10, "5"),
        ("2", 3, 10, "5"),
        ("3", 1, 10, "5"),
        ("done", 10, 10, "100"),
        ("", 10, 0, "100"),
    ]
    assert plan.rows[3].waits_for == "1h"
    assert plan.rows[-1].action == "old stable scaled down after 45s"


def test_dynamic_stable_scale_shrinks_stable_with_the_weight() -> None:
    rollout = canary(
        4,
        [{"setWeight": 25}, {"setWeight": 75}],
        trafficRouting={"smi": {}},
        canaryService="c",
        stableService="s",
        dynamicStableScale=True,
    )
    assert counts(rollout)[1:3] == [("0", 1, 3, "25"), ("1", 3, 1, "75")]


def test_analysis_experiment_and_background_are_shown() -> None:
    rollout = canary(
        2,
        [
            {"analysis": {"templates": [{"templateName": "rate"}, {"templateName": "latency"}]}},
            {
                "experiment": {
                    "duration": "10m",
                    "templates": [{"name": "base", "specRef": "stable"}],
                    "analyses": [{"name": "a", "templateName": "rate"}],
                }
            },
            {"pause": {"duration": 30}},
        ],
        analysis={"templates": [{"templateName": "errors"}], "startingStep": 1},
    )
    plan = plan_rollout_steps(rollout)
    assert (plan.rows[1].waits_for, plan.rows[1].analysis) == ("analysis", "rate+latency")
    assert plan.rows[2].analysis == "experiment base for 10m, analysis rate"
    assert plan.rows[3].waits_for == "30s"
    assert plan.notes == ("background analysis errors runs from step 1 until promoted",)


def test_bluegreen_with_preview_count_and_analyses() -> None:
    rollout = {
        "metadata": {"name": "bg"},
        "spec": {
            "replicas": 4,
            "strategy": {
                "blueGreen": {
                    "activeService": "a",
                    "previewReplicaCount": 1,
                    "autoPromotionSeconds": 60,
                    "prePromotionAnalysis": {"templates": [{"templateName": "smoke"}]},
                    "postPromotionAnalysis": {"templates": [{"templateName": "rate"}]},
                    "scaleDownDelaySeconds": 10,
                }
            },
        },
    }
    plan = plan_rollout_steps(rollout)
    assert [(r.action, r.new, r.stable, r.weight, r.waits_for) for r in plan.rows] == [
        ("before the update", 0, 4, "0", "-"),
        ("preview ReplicaSet up (preview Service)", 1, 4, "0", "-"),
        ("pre-promotion analysis", 1, 4, "0", "analysis"),
        ("pause (BlueGreenPause)", 1, 4, "0", "60s"),
        ("preview scaled to full size", 4, 4, "0", "-"),
        ("switch the active Service", 4, 4, "100", "-"),
        ("post-promotion analysis", 4, 4, "100", "analysis"),
        ("promoted; old active scaled down after 10s", 4, 0, "100", "-"),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"strategy": {}}, "spec.strategy needs canary or blueGreen"),
        ({"strategy": {"canary": {"maxSurge": "lots"}}}, "maxSurge/maxUnavailable"),
        ({"strategy": {"canary": {"steps": [{"pause": {"duration": "soon"}}]}}}, "is not a duration"),
        ({"strategy": {"canary": {"steps": [{"wait": 1}]}}}, "steps[0] has no known step kind"),
    ],
)
def test_unplannable_manifests(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan_rollout_steps({"metadata": {"name": "x"}, "spec": spec})
