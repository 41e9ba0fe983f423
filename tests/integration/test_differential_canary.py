# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Differential: canaries run under Argo Rollouts v1.10.1's controller and under ours (see
``differential.py``). The recordings must be equal but for the listed differences."""

from __future__ import annotations

from typing import Any

from differential import Run, argo_binary, assert_same, at_step, paused_by, phase, run_both, sides
from test_controller_harness import rollout_crds, rollout_manifest

from rollouts.planner import operations

NAME = "web"
STEPS: list[dict[str, Any]] = [{"setWeight": 40}, {"pause": {}}, {"setWeight": 80}, {"pause": {}}]


def test_canary_deploy_update_promote_abort_retry(sides: Any) -> None:
    """Initial deploy, an update through two indefinite pauses, promote, then an update that is
    aborted and retried: the hash names the ReplicaSets, every step's counts and status equal."""

    def scenario(run: Run) -> None:
        run.create(rollout_manifest(NAME, {"canary": {"steps": STEPS}}, replicas=5))
        run.checkpoint("initial deploy", until=phase("Healthy"))
        run.cluster.set_image(NAME, "nginx:1.28")
        run.checkpoint("first pause", until=paused_by("CanaryPauseStep"))
        run.operate(operations.promote)
        run.checkpoint("second pause", until=at_step(3))
        run.operate(operations.promote)
        run.checkpoint("promoted", until=phase("Healthy"))
        run.cluster.set_image(NAME, "nginx:1.29")
        run.checkpoint("paused again", until=paused_by("CanaryPauseStep"))
        run.operate(operations.abort)
        run.checkpoint("aborted", until=phase("Degraded"))
        run.operate(operations.retry)
        run.checkpoint("retried", until=paused_by("CanaryPauseStep"))

    assert_same(run_both(sides, NAME, scenario))


def test_spec_paused_on_a_healthy_rollout(sides: Any) -> None:
    """Issue 13 item 6: `pause` (spec.paused) on a Healthy rollout, then `resume`."""

    def scenario(run: Run) -> None:
        run.create(rollout_manifest(NAME, {"canary": {"steps": STEPS}}, replicas=3))
        run.checkpoint("initial deploy", until=phase("Healthy"))
        run.operate(operations.pause)
        run.checkpoint("paused", until=phase("Paused"))
        run.operate(operations.resume)
        run.checkpoint("resumed", until=phase("Healthy"))

    assert_same(run_both(sides, NAME, scenario))
