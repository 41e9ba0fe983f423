"""Blue-green decisions (§3.7) as tables, and the pipeline pass by pass in a pure world."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from planner_world import T0, World, apply_merge_patch, blue_green_rollout

from rollouts.planner import operations
from rollouts.planner.actions import CreateAnalysisRun, EmitEvent, Requeue
from rollouts.planner.bluegreen import (
    completed_pause,
    fast_tracked,
    needs_controller_pause,
    plan_bluegreen,
    preview_replicas,
    scale_up_preview_checkpoint,
)
from rollouts.planner.inputs import AnalysisRunView, ReplicaSetView, RolloutView, ServiceView, format_time


def view(status: dict[str, Any] | None = None, *, paused: bool = False, **blue_green: Any) -> RolloutView:
    rollout = blue_green_rollout(**blue_green)
    rollout["spec"]["paused"] = paused
    rollout["status"] = status or {}
    return RolloutView(rollout)


def rs(
    name: str, spec: int = 3, available: int = 3, annotations: dict[str, str] | None = None
) -> ReplicaSetView:
    return ReplicaSetView(
        name=name,
        pod_hash=name,
        spec_replicas=spec,
        created_at=T0,
        available=available,
        annotations=annotations or {},
    )


@pytest.mark.parametrize(
    ("strategy", "status", "active", "paused", "expected"),
    [
        ({}, {}, rs("old"), False, 3),
        ({"previewReplicaCount": 1}, {"currentPodHash": "new"}, rs("old"), False, 1),
        ({"previewReplicaCount": 1}, {"currentPodHash": "other"}, rs("old"), False, 1),
        ({"previewReplicaCount": 1}, {"currentPodHash": "new"}, None, False, 3),
        ({"previewReplicaCount": 1}, {"currentPodHash": "new"}, rs("new"), False, 3),
        ({"previewReplicaCount": 1}, {"currentPodHash": "new", "promoteFull": True}, rs("old"), False, 3),
        (
            {"previewReplicaCount": 1},
            {"currentPodHash": "new", "blueGreen": {"scaleUpPreviewCheckPoint": True}},
            rs("old"),
            False,
            3,
        ),
        (
            {"previewReplicaCount": 1},
            {"currentPodHash": "new", "blueGreen": {"scaleUpPreviewCheckPoint": True}},
            rs("old"),
            True,
            1,
        ),
        (
            {"previewReplicaCount": 1},
            {
                "currentPodHash": "new",
                "blueGreen": {"scaleUpPreviewCheckPoint": True},
                "pauseConditions": [{"reason": "BlueGreenPause", "startTime": "2024-05-01T12:00:00Z"}],
            },
            rs("old"),
            False,
            1,
        ),
    ],
)
def test_preview_replicas(
    strategy: dict[str, Any],
    status: dict[str, Any],
    active: ReplicaSetView | None,
    paused: bool,
    expected: int,
) -> None:
    assert preview_replicas(view(status, paused=paused, **strategy), rs("new"), active) == expected


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({}, False),
        ({"autoPromotionEnabled": True}, False),
        ({"autoPromotionEnabled": False}, True),
        ({"autoPromotionSeconds": 30}, True),
        ({"autoPromotionEnabled": False, "autoPromotionSeconds": 30}, True),
    ],
)
def test_needs_controller_pause(strategy: dict[str, Any], expected: bool) -> None:
    assert needs_controller_pause(view(**strategy)) is expected


PAUSED_AT = {"reason": "BlueGreenPause", "startTime": format_time(T0)}


@pytest.mark.parametrize(
    ("strategy", "status", "seconds_later", "added_now", "expected"),
    [
        ({}, {}, 0, False, True),  # no controller pause needed
        ({"autoPromotionEnabled": False}, {}, 0, True, False),  # just added this pass
        (
            {"autoPromotionEnabled": False},
            {"pauseConditions": [PAUSED_AT], "controllerPause": True},
            99,
            False,
            False,
        ),
        ({"autoPromotionEnabled": False}, {"controllerPause": True}, 0, False, True),  # user resumed
        ({"autoPromotionEnabled": False}, {}, 0, False, False),  # never paused yet
        (
            {"autoPromotionSeconds": 30},
            {"pauseConditions": [PAUSED_AT], "controllerPause": True},
            30,
            False,
            False,
        ),
        (
            {"autoPromotionSeconds": 30},
            {"pauseConditions": [PAUSED_AT], "controllerPause": True},
            31,
            False,
            True,
        ),
        ({"autoPromotionSeconds": 30}, {"controllerPause": True}, 99, False, False),  # resume does not end it
        ({"autoPromotionSeconds": 30}, {"blueGreen": {"scaleUpPreviewCheckPoint": True}}, 0, False, True),
    ],
)
def test_completed_pause(
    strategy: dict[str, Any], status: dict[str, Any], seconds_later: int, added_now: bool, expected: bool
) -> None:
    now = T0 + timedelta(seconds=seconds_later)
    assert completed_pause(view(status, **strategy), pause_added_now=added_now, now=now) is expected


@pytest.mark.parametrize(
    ("new_rs", "status", "active_hash", "expected"),
    [
        (rs("new"), {}, "old", False),
        (rs("new", annotations={"scale-down-deadline": "2024-05-01T12:00:30Z"}), {}, "old", True),
        (rs("new"), {"promoteFull": True}, "old", True),
        (rs("new"), {}, "", True),
        (rs("new"), {}, "new", True),
    ],
)
def test_fast_tracked(
    new_rs: ReplicaSetView, status: dict[str, Any], active_hash: str, expected: bool
) -> None:
    assert fast_tracked(view(status), new_rs, active_hash) is expected


@pytest.mark.parametrize(
    ("strategy", "status", "available", "pre_done", "pause_done", "expected"),
    [
        ({}, {}, 1, True, True, False),
        ({"previewReplicaCount": 1}, {}, 1, True, True, True),
        ({"previewReplicaCount": 1}, {}, 0, True, True, False),
        ({"previewReplicaCount": 1}, {}, 1, False, True, False),
        ({"previewReplicaCount": 1}, {}, 1, True, False, False),
        (
            {"previewReplicaCount": 1},
            {"blueGreen": {"scaleUpPreviewCheckPoint": True}},
            0,
            False,
            False,
            True,
        ),
    ],
)
def test_scale_up_preview_checkpoint(
    *,
    strategy: dict[str, Any],
    status: dict[str, Any],
    available: int,
    pre_done: bool,
    pause_done: bool,
    expected: bool,
) -> None:
    latched = scale_up_preview_checkpoint(
        view(status, **strategy), rs("new", 1, available), pre_analysis_done=pre_done, pause_done=pause_done
    )
    assert latched is expected


def world(**blue_green: Any) -> World:
    w = World(blue_green_rollout(previewService="web-preview", **blue_green), plan_bluegreen)
    w.services = {name: ServiceView(name, {"app": "web"}) for name in ("web-active", "web-preview")}
    return w


def deployed(**blue_green: Any) -> World:
    w = world(**blue_green)
    w.run()
    w.update_template("nginx:1.28")
    return w


def selects(w: World) -> tuple[str, str]:
    return w.services["web-active"].selected_hash, w.services["web-preview"].selected_hash


def all_events(w: World) -> list[tuple[str, str]]:
    return [(a.reason, a.message) for p in w.plans for a in p.actions if isinstance(a, EmitEvent)]


def test_initial_deploy_switches_active_once_available() -> None:
    w = world()
    w.run()
    (only,) = w.replica_sets.values()
    assert only.spec_replicas == 3
    assert selects(w) == (only.pod_hash, only.pod_hash)
    assert w.status["stableRS"] == only.pod_hash
    assert w.status["blueGreen"] == {"activeSelector": only.pod_hash, "previewSelector": only.pod_hash}
    assert w.status["selector"] == f"app=web,rollouts-pod-template-hash={only.pod_hash}"
    assert w.status["phase"] == "Healthy"
    assert w.services["web-active"].managed_by == "web"


def test_manual_promotion_switches_active_then_delays_the_old_scale_down() -> None:
    w = deployed(autoPromotionEnabled=False)
    old = w.status["stableRS"]
    w.run()
    new = w.status["currentPodHash"]
    assert selects(w) == (old, new)
    assert w.by_hash(new).spec_replicas == 3
    assert (w.status["phase"], w.status["message"]) == ("Paused", "BlueGreenPause")
    assert ("RolloutPaused", "Rollout is paused (BlueGreenPause)") in all_events(w)

    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    assert selects(w) == (new, new)
    assert w.status["stableRS"] == new
    assert w.status["phase"] == "Healthy"
    old_rs = w.by_hash(old)
    assert old_rs.spec_replicas == 3
    deadline = old_rs.annotations["scale-down-deadline"]
    assert deadline > format_time(w.now)
    w.advance(31)
    w.run()
    assert w.by_hash(old).spec_replicas == 0
    assert "scale-down-deadline" not in w.by_hash(old).annotations


def test_auto_promotion_seconds_switches_by_itself() -> None:
    w = deployed(autoPromotionSeconds=20)
    old = w.status["stableRS"]
    w.run()
    assert w.status["message"] == "BlueGreenPause"
    requeues = [a for a in w.plans[-1].actions if isinstance(a, Requeue)]
    assert requeues
    w.advance(21)
    w.run()
    assert selects(w)[0] == w.status["currentPodHash"] != old
    assert w.status["phase"] == "Healthy"


def test_auto_promotion_without_delay_switches_without_pausing() -> None:
    w = deployed()
    w.run()
    assert selects(w)[0] == w.status["currentPodHash"]
    assert not any(reason == "RolloutPaused" for reason, _ in all_events(w))


def test_preview_replica_count_until_promotion() -> None:
    w = deployed(autoPromotionEnabled=False, previewReplicaCount=1)
    w.run()
    new = w.status["currentPodHash"]
    assert w.by_hash(new).spec_replicas == 1
    assert w.status["message"] == "BlueGreenPause"
    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    assert w.by_hash(new).spec_replicas == 3
    assert selects(w)[0] == new
    assert w.status["stableRS"] == new
    assert "scaleUpPreviewCheckPoint" not in w.status["blueGreen"]


def test_abort_keeps_active_on_stable_and_scales_preview_down_after_delay() -> None:
    w = deployed(autoPromotionEnabled=False, abortScaleDownDelaySeconds=10)
    old = w.status["stableRS"]
    w.run()
    new = w.status["currentPodHash"]
    apply_merge_patch(w.rollout, operations.abort(w.rollout).status or {})
    w.run()
    assert selects(w)[0] == old
    assert w.status["phase"] == "Degraded"
    assert w.status["message"] == "RolloutAborted: Rollout aborted update to revision 2"
    assert w.by_hash(new).spec_replicas == 3
    assert "scale-down-deadline" in w.by_hash(new).annotations
    w.advance(11)
    w.run()
    assert w.by_hash(new).spec_replicas == 0


def test_abort_scale_down_delay_zero_leaves_preview_up() -> None:
    w = deployed(autoPromotionEnabled=False, abortScaleDownDelaySeconds=0)
    w.run()
    new = w.status["currentPodHash"]
    apply_merge_patch(w.rollout, operations.abort(w.rollout).status or {})
    w.run()
    w.advance(3600)
    w.run()
    assert w.by_hash(new).spec_replicas == 3


def test_promote_full_skips_the_pause() -> None:
    w = deployed(autoPromotionEnabled=False)
    w.run()
    apply_merge_patch(w.rollout, operations.promote_full(w.rollout).status or {})
    w.run()
    assert w.status["stableRS"] == w.status["currentPodHash"] == selects(w)[0]
    assert any(message.endswith("Full promotion requested") for _, message in all_events(w))


def test_pre_promotion_analysis_gates_the_switch() -> None:
    analysis = {"templates": [{"templateName": "smoke"}]}
    w = deployed(prePromotionAnalysis=analysis)
    old = w.status["stableRS"]
    w.run()
    (run,) = [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)]
    assert run.kind == "PrePromotion"
    assert run.name.endswith("-pre")
    assert selects(w)[0] == old
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Successful")
    w.run()
    assert selects(w)[0] == w.status["currentPodHash"]
    assert w.status["stableRS"] == w.status["currentPodHash"]


def test_failed_pre_promotion_analysis_aborts() -> None:
    analysis = {"templates": [{"templateName": "smoke"}]}
    w = deployed(prePromotionAnalysis=analysis)
    w.run()
    (run,) = [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)]
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Failed", "error rate too high")
    w.run()
    assert w.status["abort"] is True
    assert w.status["message"].endswith("Blue/green pre-promotion analysis phase failed: error rate too high")


@pytest.mark.parametrize("preview_scaled_down", [False, True])
def test_retry_after_a_failed_pre_promotion_analysis_starts_a_new_run(preview_scaled_down: bool) -> None:
    """Argo's ``needsNewAnalysisRun``: a retry (``abortedAt`` still set, ``abort`` cleared) starts
    a new run at once, even while the aborted preview is still scaling back up."""
    analysis = {"templates": [{"templateName": "smoke"}]}
    w = deployed(prePromotionAnalysis=analysis, abortScaleDownDelaySeconds=5)
    w.run()
    (failed,) = [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)]
    w.analysis_runs[failed.name] = AnalysisRunView(failed.name, "Failed", "exit code 1")
    w.run()
    new = w.status["currentPodHash"]
    if preview_scaled_down:
        w.advance(6)
        w.run()
        assert w.by_hash(new).spec_replicas == 0
    assert w.status["abort"] is True
    w.plans.clear()
    apply_merge_patch(w.rollout, operations.retry(w.rollout).status or {})
    w.run()
    (retried,) = [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)]
    assert (retried.kind, retried.name) == ("PrePromotion", f"{failed.name}.1")
    assert not w.status.get("abort") and "abortedAt" not in w.status
    assert w.status["blueGreen"]["prePromotionAnalysisRunStatus"]["name"] == retried.name
    w.analysis_runs[retried.name] = AnalysisRunView(retried.name, "Successful")
    w.run()
    assert w.status["stableRS"] == new == selects(w)[0]
    assert w.status["phase"] == "Healthy"


def test_promote_after_an_inconclusive_pre_promotion_analysis_starts_a_new_run() -> None:
    analysis = {"templates": [{"templateName": "smoke"}]}
    w = deployed(prePromotionAnalysis=analysis)
    w.run()
    (first,) = [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)]
    w.analysis_runs[first.name] = AnalysisRunView(first.name, "Inconclusive")
    w.run()
    assert [c["reason"] for c in w.status["pauseConditions"]] == ["InconclusiveAnalysisRun"]
    w.run()  # still paused on the same run: no new one while the pause stands
    assert [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)] == [first]
    w.plans.clear()
    apply_merge_patch(w.rollout, operations.promote(w.rollout).status or {})
    w.run()
    (second,) = [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)]
    assert second.name == f"{first.name}.1"
    assert "pauseConditions" not in w.status


def test_post_promotion_analysis_gates_marking_stable() -> None:
    analysis = {"templates": [{"templateName": "smoke"}]}
    w = deployed(postPromotionAnalysis=analysis)
    old = w.status["stableRS"]
    w.run()
    new = w.status["currentPodHash"]
    assert selects(w)[0] == new
    assert w.status["stableRS"] == old
    assert (w.status["phase"], w.status["message"]) == ("Progressing", "waiting for analysis to complete")
    assert w.by_hash(old).spec_replicas == 3  # waits for the analysis, no delay configured
    (run,) = [a for p in w.plans for a in p.actions if isinstance(a, CreateAnalysisRun)]
    assert run.kind == "PostPromotion"
    w.analysis_runs[run.name] = AnalysisRunView(run.name, "Successful")
    w.run()
    assert w.status["stableRS"] == new
    assert w.status["phase"] == "Healthy"


def test_missing_active_service_is_invalid() -> None:
    w = world()
    del w.services["web-active"]
    w.reconcile()
    invalid = next(c for c in w.status["conditions"] if c["type"] == "InvalidSpec")
    assert invalid["message"] == (
        'The Rollout "web" is invalid: spec.strategy.blueGreen.activeService: Invalid value: "web-active": '
        'services "web-active" not found'
    )
