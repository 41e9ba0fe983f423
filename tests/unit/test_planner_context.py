"""Pass context: ReplicaSet roles, sizing writes, Service switching rules, revision sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from planner_world import canary_rollout

from rollouts.planner.actions import (
    EmitEvent,
    PatchReplicaSet,
    PatchRollout,
    ScaleReplicaSet,
    SetServiceSelector,
)
from rollouts.planner.context import PassContext
from rollouts.planner.inputs import Observed, ReplicaSetView, ServiceView

NOW = datetime(2024, 1, 1, 12, tzinfo=UTC)


def rs(
    name: str, *, spec: int = 2, available: int = 2, revision: str | None = "1", age: int = 0, **extra: Any
) -> ReplicaSetView:
    annotations = dict(extra.pop("annotations", {}))
    if revision is not None:
        annotations["rollout.argoproj.io/revision"] = revision
    return ReplicaSetView(
        name=name,
        pod_hash=name,
        spec_replicas=spec,
        available=available,
        created_at=NOW - timedelta(minutes=age),
        annotations=annotations,
        **extra,
    )


def context(replica_sets: list[ReplicaSetView], *, desired: str = "new", **status: Any) -> PassContext:
    rollout = canary_rollout([{"setWeight": 50}], replicas=2)
    rollout["metadata"]["annotations"] = {"team": "a", "rollout.argoproj.io/revision": "1"}
    rollout["status"] = status
    services = {"svc": ServiceView("svc", {"app": "web", "rollouts-pod-template-hash": "old"}, "web")}
    return PassContext.start(
        rollout, Observed(replica_sets, desired_pod_hash=desired, services=services), NOW
    )


def test_roles() -> None:
    ctx = context([rs("old", age=10), rs("mid", age=5), rs("new")], stableRS="old")
    assert ctx.new_rs is not None and ctx.new_rs.name == "new"
    assert ctx.stable_rs is not None and ctx.stable_rs.name == "old"
    assert [r.name for r in ctx.other_rss] == ["mid"]
    assert [r.name for r in ctx.older_rss] == ["old", "mid"]
    assert ctx.distinct_stable
    same = context([rs("new")], stableRS="new")
    assert same.stable_rs is same.new_rs
    assert not same.distinct_stable


def test_scale_writes_the_desired_replicas_annotation_and_an_event() -> None:
    ctx = context([rs("new", spec=1)])
    assert ctx.new_rs is not None
    assert ctx.scale(ctx.new_rs, 2)
    scale, event = ctx.actions
    assert scale == ScaleReplicaSet("new", 2, 1, {"rollout.argoproj.io/desired-replicas": "2"})
    assert event == EmitEvent(
        "ScalingReplicaSet", "Scaled up ReplicaSet new (revision 1) from 1 to 2", with_write=True
    )


def test_scale_to_same_size_only_refreshes_a_stale_annotation() -> None:
    current = rs("new", annotations={"rollout.argoproj.io/desired-replicas": "2"})
    ctx = context([current])
    assert not ctx.scale(current, 2)
    assert ctx.actions == []
    stale = rs("new", annotations={"rollout.argoproj.io/desired-replicas": "5"})
    ctx = context([stale])
    assert not ctx.scale(stale, 2)
    assert [type(a) for a in ctx.actions] == [ScaleReplicaSet]


def test_scale_to_zero_drops_the_deadline_unless_kept() -> None:
    delayed = rs("old", annotations={"scale-down-deadline": "2024-01-01T12:00:30Z"})
    ctx = context([delayed])
    ctx.scale(delayed, 0)
    assert ctx.actions[0].annotations["scale-down-deadline"] is None  # type: ignore[union-attr]
    ctx = context([delayed])
    ctx.scale(delayed, 0, keep_deadline=True)
    assert "scale-down-deadline" not in ctx.actions[0].annotations  # type: ignore[union-attr]


def test_point_service_adoption_waits_for_full_availability() -> None:
    ctx = context([rs("new", spec=2, available=1)])
    ctx.observed.services["free"] = ServiceView("free", {"app": "web"})  # type: ignore[index]
    ctx.point_service("free", ctx.new_rs, require_available=True)
    assert ctx.actions == []
    ctx.point_service("svc", ctx.new_rs, require_available=True)  # already ours: one pod is enough
    switch = ctx.actions[0]
    assert switch == SetServiceSelector("svc", "new", None)
    assert ctx.actions[1] == EmitEvent(
        "SwitchService", "Switched selector for service 'svc' from 'old' to 'new'", with_write=True
    )


def test_point_service_needs_one_available_pod() -> None:
    ctx = context([rs("new", spec=2, available=0)])
    ctx.point_service("svc", ctx.new_rs, require_available=True)
    assert ctx.actions == []
    ctx.point_service("svc", ctx.new_rs, require_available=False)
    assert ctx.actions


def test_revision_sync_raises_revision_keeps_history_and_copies_annotations() -> None:
    rollback = rs("new", revision="1", annotations={"rollout.argoproj.io/revision-history": "0"})
    ctx = context([rs("old", revision="3", age=5), rollback])
    ctx.sync_new_rs_revision()
    patch, rollout_patch, event = ctx.actions
    assert patch == PatchReplicaSet(
        "new",
        {
            "metadata": {
                "annotations": {
                    "team": "a",
                    "rollout.argoproj.io/revision": "4",
                    "rollout.argoproj.io/revision-history": "0,1",
                }
            }
        },
    )
    assert rollout_patch == PatchRollout({"metadata": {"annotations": {"rollout.argoproj.io/revision": "4"}}})
    assert event == EmitEvent("RolloutUpdated", "Rollout updated to revision 4", with_write=True)
    assert ctx.revision == 4


def test_revision_sync_is_silent_when_current() -> None:
    current = rs("new", revision="1", annotations={"team": "a"})
    ctx = context([current])
    ctx.sync_new_rs_revision()
    assert ctx.actions == []


def test_revision_sync_fixes_min_ready_seconds() -> None:
    ctx = context([rs("new", revision="1", annotations={"team": "a"}, min_ready_seconds=9)])
    ctx.sync_new_rs_revision()
    assert ctx.actions == [PatchReplicaSet("new", {"spec": {"minReadySeconds": 0}})]


def test_rollback_window() -> None:
    replica_sets = [rs("target", age=30), rs("between", age=20), rs("stable", age=10)]
    rollout_ctx = context(replica_sets, desired="target", stableRS="stable")
    assert not rollout_ctx.rollback_within_window()  # no window configured
    rollout = canary_rollout([{"setWeight": 50}], replicas=2)
    rollout["spec"]["rollbackWindow"] = {"revisions": 2}
    rollout["status"] = {"stableRS": "stable"}
    ctx = PassContext.start(rollout, Observed(replica_sets, desired_pod_hash="target"), NOW)
    assert ctx.rollback_within_window()
    rollout["spec"]["rollbackWindow"] = {"revisions": 1}
    ctx = PassContext.start(rollout, Observed(replica_sets, desired_pod_hash="target"), NOW)
    assert not ctx.rollback_within_window()
