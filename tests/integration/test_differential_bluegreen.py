# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Differential: a blue-green Rollout under Argo Rollouts v1.10.1's controller and under ours (see
``differential.py``): Service selectors, preview, promotion and the scale-down delay."""

from __future__ import annotations

from typing import Any

from differential import Run, argo_binary, assert_same, paused_by, phase, run_both, scaled_down_but, sides
from test_controller_harness import rollout_crds, rollout_manifest

from rollouts.planner import operations

NAME = "shop"
STRATEGY = {
    "blueGreen": {
        "activeService": "shop-active",
        "previewService": "shop-preview",
        "autoPromotionEnabled": False,
        "scaleDownDelaySeconds": 5,
    }
}


def test_blue_green_preview_promote_and_scale_down(sides: Any) -> None:
    def scenario(run: Run) -> None:
        run.cluster.create_service("shop-active", NAME)
        run.cluster.create_service("shop-preview", NAME)
        run.create(rollout_manifest(NAME, STRATEGY, replicas=3))
        run.checkpoint("initial deploy", until=phase("Healthy"))
        run.cluster.set_image(NAME, "nginx:1.28")
        run.checkpoint("preview up, paused", until=paused_by("BlueGreenPause"))
        run.operate(operations.promote)
        run.checkpoint(
            "promoted, old scaled down",
            until=lambda view: phase("Healthy")(view) and scaled_down_but(1)(view),
        )

    assert_same(run_both(sides, NAME, scenario))
