"""One planning pass: the ReplicaSet roles, the accumulated actions, and the writes they imply.

Argo's controller builds a "rollout context" per reconcile and lets each pipeline stage append
writes to it; `PassContext` is the same idea without the I/O. It is created, filled and thrown
away inside one call of `plan_canary`/`plan_bluegreen`, so its mutability never leaks: the caller
only ever sees the frozen `Plan`.

It owns the operations several stages share — identifying newRS/stableRS/others (§3.2), sizing a
ReplicaSet with its annotation and Event (§3.2 "Scaling an RS"), pointing a Service at a hash
(§3.8) — so the canary and blue-green pipelines say *what* to do in their own modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rollouts.planner.actions import (
    Action,
    EmitEvent,
    PatchReplicaSet,
    PatchRollout,
    Requeue,
    ScaleReplicaSet,
    SetServiceSelector,
)
from rollouts.planner.inputs import (
    DESIRED_REPLICAS_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    SCALE_DOWN_DEADLINE_ANNOTATION,
    Observed,
    ReplicaSetView,
    RolloutView,
)
from rollouts.planner.pause import PauseChanges
from rollouts.planner.scaledown import OldReplicaSetDecision, aborted_new_rs_decision

__all__ = ["PassContext"]

MANAGED_BY_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"
# Rollout annotations never copied onto its ReplicaSets (§3.2).
ANNOTATIONS_NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        DESIRED_REPLICAS_ANNOTATION,
        "notified.notifications.argoproj.io",
    }
)


@dataclass
class PassContext:
    """Inputs, ReplicaSet roles and accumulated decisions of one pass."""

    ro: RolloutView
    observed: Observed
    now: datetime
    pause: PauseChanges
    new_rs: ReplicaSetView | None = None
    stable_rs: ReplicaSetView | None = None
    all_rss: list[ReplicaSetView] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    revision: int = 0

    @classmethod
    def start(cls, rollout: Mapping[str, Any], observed: Observed, now: datetime) -> PassContext:
        ro = RolloutView(rollout)
        all_rss = sorted(observed.replica_sets, key=lambda rs: (rs.created_at, rs.name))
        new_rs = _find_new_rs(all_rss, observed)
        stable_rs = None
        if ro.stable_rs:
            if new_rs is not None and new_rs.pod_hash == ro.stable_rs:
                stable_rs = new_rs
            else:
                stable_rs = next(
                    (rs for rs in all_rss if rs is not new_rs and rs.pod_hash == ro.stable_rs), None
                )
        context = cls(
            ro=ro,
            observed=observed,
            now=now,
            pause=PauseChanges.for_rollout(ro),
            new_rs=new_rs,
            stable_rs=stable_rs,
            all_rss=all_rss,
            revision=ro.revision,
            conditions=[dict(c) for c in ro.conditions],
        )
        context.status = {
            "restartedAt": ro.status.get("restartedAt"),
            "canary": {"weights": ro.recorded_weights} if ro.recorded_weights is not None else {},
            "blueGreen": {},
        }
        return context

    # -- roles
    @property
    def older_rss(self) -> list[ReplicaSetView]:
        """Every owned ReplicaSet except newRS."""
        return [rs for rs in self.all_rss if rs is not self.new_rs]

    @property
    def other_rss(self) -> list[ReplicaSetView]:
        """Every owned ReplicaSet except newRS and stableRS."""
        return [rs for rs in self.all_rss if rs is not self.new_rs and rs is not self.stable_rs]

    @property
    def distinct_stable(self) -> bool:
        """A stable ReplicaSet exists and is not newRS (Argo's ``CheckStableRSExists``)."""
        return self.stable_rs is not None and (self.new_rs is None or self.stable_rs.name != self.new_rs.name)

    @property
    def current_pod_hash(self) -> str:
        return self.new_rs.pod_hash if self.new_rs is not None else self.observed.desired_pod_hash

    def rollback_within_window(self) -> bool:
        """§3.12: newRS is older than stable and fewer than ``rollbackWindow.revisions`` ReplicaSets
        (experiments' excluded) were created in between."""
        new_rs, stable_rs, window = self.new_rs, self.stable_rs, self.ro.rollback_window_revisions
        if new_rs is None or stable_rs is None or window <= 0 or not new_rs.created_at < stable_rs.created_at:
            return False
        between = sum(
            1
            for rs in self.all_rss
            if not rs.is_experiment_owned and new_rs.created_at < rs.created_at < stable_rs.created_at
        )
        return between < window

    def rs_by_hash(self, pod_hash: str) -> ReplicaSetView | None:
        if not pod_hash:
            return None
        return next((rs for rs in self.all_rss if rs.pod_hash == pod_hash), None)

    def replace_rs(self, updated: ReplicaSetView) -> None:
        """Swap in a view reflecting a write made earlier in this pass (e.g. a created newRS)."""
        self.all_rss = [updated if rs.name == updated.name else rs for rs in self.all_rss]
        if all(rs.name != updated.name for rs in self.all_rss):
            self.all_rss.append(updated)
        if self.new_rs is not None and self.new_rs.name == updated.name:
            self.new_rs = updated
        if self.stable_rs is not None and self.stable_rs.name == updated.name:
            self.stable_rs = updated

    # -- writes
    def event(self, reason: str, message: str, *, warning: bool = False, with_write: bool = False) -> None:
        self.actions.append(EmitEvent(reason, message, warning, with_write))

    def requeue(self, at: datetime, why: str) -> None:
        if at > self.now:
            self.actions.append(Requeue(at, why))

    def scale(self, rs: ReplicaSetView, replicas: int, *, keep_deadline: bool = False) -> bool:
        """Size ``rs`` to ``replicas``; ``True`` only if its size changed (then an Event is emitted).

        Always refreshes the ``desired-replicas`` annotation to ``spec.replicas``; a scale to zero
        also drops ``scale-down-deadline`` unless ``keep_deadline`` (an abort delay is pending).
        """
        target = str(self.ro.replicas)
        annotations: dict[str, str | None] = {}
        if rs.annotations.get(DESIRED_REPLICAS_ANNOTATION) != target:
            annotations[DESIRED_REPLICAS_ANNOTATION] = target
        drop_deadline = replicas == 0 and not keep_deadline and rs.has_scale_down_deadline
        if rs.has_scale_down_deadline and self.ro.replicas == 0:
            drop_deadline = True
        if drop_deadline:
            annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = None
        if rs.spec_replicas == replicas and not annotations:
            return False
        annotations[DESIRED_REPLICAS_ANNOTATION] = target
        self.actions.append(ScaleReplicaSet(rs.name, replicas, rs.spec_replicas, annotations))
        if rs.spec_replicas == replicas:
            return False
        direction = "up" if replicas > rs.spec_replicas else "down"
        self.event(
            "ScalingReplicaSet",
            f"Scaled {direction} ReplicaSet {rs.name} (revision {rs.revision or 0}) "
            f"from {rs.spec_replicas} to {replicas}",
            with_write=True,
        )
        return True

    def apply_decision(self, decision: OldReplicaSetDecision, *, keep_deadline: bool = False) -> bool:
        """Carry out a scale-down decision (annotate, time, resize); ``True`` if the size changed."""
        if decision.deadline is not None:
            self.set_deadline(decision.rs, decision.deadline)
        if decision.requeue_at is not None:
            self.requeue(decision.requeue_at, "scale-down delay")
        if decision.rs.spec_replicas == decision.replicas:
            return False
        return self.scale(decision.rs, decision.replicas, keep_deadline=keep_deadline)

    def size_new_rs(self, replicas: int, *, abort_delay_seconds: int | None) -> bool:
        """Size newRS; with ``abort_delay_seconds`` (an aborted update whose canary/preview waits
        before going away) hold it, start the delay once stable is whole, then scale it to 0."""
        new_rs = self.new_rs
        if new_rs is None:
            return False
        if abort_delay_seconds is not None:
            decision = aborted_new_rs_decision(
                new_rs,
                stable_available=self.stable_rs.available if self.stable_rs is not None else 0,
                replicas=self.ro.replicas,
                delay_seconds=abort_delay_seconds,
                now=self.now,
            )
            if decision is not None:
                return self.apply_decision(decision, keep_deadline=True)
        return self.scale(new_rs, replicas, keep_deadline=abort_delay_seconds is not None)

    def set_deadline(self, rs: ReplicaSetView, deadline: str | None) -> None:
        """Add (or with ``None`` remove) the ``scale-down-deadline`` annotation (§3.13)."""
        if deadline is None and not rs.has_scale_down_deadline:
            return
        self.actions.append(
            PatchReplicaSet(
                rs.name, {"metadata": {"annotations": {SCALE_DOWN_DEADLINE_ANNOTATION: deadline}}}
            )
        )
        annotations = dict(rs.annotations)
        if deadline is None:
            annotations.pop(SCALE_DOWN_DEADLINE_ANNOTATION, None)
        else:
            annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = deadline
        self.replace_rs(replace(rs, annotations=annotations))

    def point_service(
        self, service_name: str, target: ReplicaSetView | None, *, require_available: bool
    ) -> None:
        """Switch ``service_name``'s hash selector to ``target`` (§3.8 ``ensureSVCTargets``).

        With ``require_available`` (canary/stable/ping/pong) an unmanaged Service is only taken
        over once the target is fully available, and any switch needs one available pod.
        """
        service = self.observed.services.get(service_name)
        if not service_name or service is None or target is None:
            return
        if self.service_hash(service_name) == target.pod_hash:
            return
        if require_available:
            if not service.managed_by and target.available < target.spec_replicas:
                return
            if target.available < 1:
                return
        self._switch_service(service_name, target.pod_hash)

    def service_hash(self, service_name: str) -> str:
        """The hash ``service_name`` selects, counting switches already decided in this pass."""
        for action in reversed(self.actions):
            if isinstance(action, SetServiceSelector) and action.service == service_name:
                return action.pod_hash
        service = self.observed.services.get(service_name)
        return service.selected_hash if service is not None else ""

    def _switch_service(self, service_name: str, pod_hash: str) -> None:
        service = self.observed.services[service_name]
        switched_before = any(
            isinstance(a, SetServiceSelector) and a.service == service_name for a in self.actions
        )
        managed_by = None if service.managed_by == self.ro.name or switched_before else self.ro.name
        previous = self.service_hash(service_name)
        self.actions.append(SetServiceSelector(service_name, pod_hash, managed_by))
        self.event(
            "SwitchService",
            f"Switched selector for service '{service_name}' from '{previous}' to '{pod_hash}'",
            with_write=True,  # posted as the selector write lands, before a scale of the same pass
        )

    def switch_service_to_hash(self, service_name: str, pod_hash: str) -> None:
        """Unconditional switch used by blue-green once its own gates passed (§3.7)."""
        if (
            service_name not in self.observed.services
            or not pod_hash
            or self.service_hash(service_name) == pod_hash
        ):
            return
        self._switch_service(service_name, pod_hash)

    def sync_new_rs_revision(self) -> None:
        """Keep newRS's revision the highest, its copied annotations and ``minReadySeconds`` current,
        and the Rollout's revision annotation equal to it (§3.2 "Revision sync")."""
        rs = self.new_rs
        if rs is None:
            return
        wanted = max_revision(self.older_rss) + 1
        annotations: dict[str, str | None] = {
            key: value
            for key, value in self.ro.annotations.items()
            if key not in ANNOTATIONS_NOT_COPIED and rs.annotations.get(key) != value
        }
        current = rs.revision or 0
        revision = current
        if current < wanted:
            revision = wanted
            annotations[REVISION_ANNOTATION] = str(wanted)
            if rs.revision is not None:
                history = rs.annotations.get(REVISION_HISTORY_ANNOTATION, "")
                annotations[REVISION_HISTORY_ANNOTATION] = f"{history},{current}" if history else str(current)
        patch: dict[str, Any] = {}
        if annotations:
            patch["metadata"] = {"annotations": annotations}
        if rs.min_ready_seconds != self.ro.min_ready_seconds:
            patch["spec"] = {"minReadySeconds": self.ro.min_ready_seconds}
        if patch:
            self.actions.append(PatchReplicaSet(rs.name, patch))
            merged = {**rs.annotations, **{k: v for k, v in annotations.items() if v is not None}}
            self.replace_rs(replace(rs, annotations=merged))
        self.set_rollout_revision(revision)

    def set_rollout_revision(self, revision: int) -> None:
        """Record ``revision`` on the Rollout (metadata update + ``RolloutUpdated`` Event) if it moved."""
        if revision <= 0 or self.ro.annotations.get(REVISION_ANNOTATION) == str(revision):
            self.revision = max(self.revision, revision)
            return
        self.actions.append(PatchRollout({"metadata": {"annotations": {REVISION_ANNOTATION: str(revision)}}}))
        # Reports the revision write, so it is posted as that write lands (before the
        # NewReplicaSetCreated that follows it, Argo's order), not after the status patch.
        self.event("RolloutUpdated", f"Rollout updated to revision {revision}", with_write=True)
        self.revision = revision


def max_revision(replica_sets: list[ReplicaSetView]) -> int:
    return max((rs.revision or 0 for rs in replica_sets), default=0)


def _find_new_rs(all_rss: list[ReplicaSetView], observed: Observed) -> ReplicaSetView | None:
    if observed.new_rs_name:
        return next((rs for rs in all_rss if rs.name == observed.new_rs_name), None)
    if not observed.desired_pod_hash:
        return None
    return next((rs for rs in all_rss if rs.pod_hash == observed.desired_pod_hash), None)
