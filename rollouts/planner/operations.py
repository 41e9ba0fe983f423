"""User operations (§3.11, §13.3) as the exact object mutations Argo's CLI and Argo CD make.

Each function reads the Rollout as it is and returns the patches to send — a merge patch for
``spec`` (main resource), one for ``status`` (status subresource), or a JSON patch for undo — and
never sends them. The CLI, the dashboard and the controller's tests share these, so a promote
from our ``kubectl-rollouts`` is byte-for-byte the promote Argo's plugin would make, and the
controller reacts to it (and to the same edits made by Argo's own tools) in one way.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.planner.inputs import (
    POD_HASH_LABEL,
    REVISION_ANNOTATION,
    RolloutView,
    as_mapping,
    as_str,
    format_time,
)
from rollouts.planner.steps import current_step

__all__ = [
    "OperationError",
    "Patches",
    "abort",
    "pause",
    "promote",
    "promote_full",
    "restart",
    "resume",
    "retry",
    "skip_current_step",
    "undo",
]


class OperationError(ValueError):
    """The operation cannot apply to this Rollout (the message says why, for the user)."""


@dataclass(frozen=True)
class Patches:
    """What to send: ``spec`` and ``status`` merge patches, or a JSON patch (``json_patch``).

    ``message`` is the one-line outcome the CLI prints (e.g. ``skipped rollback ...``).
    """

    spec: Mapping[str, Any] | None = None
    status: Mapping[str, Any] | None = None
    json_patch: Sequence[Mapping[str, Any]] | None = None
    message: str = ""

    @property
    def empty(self) -> bool:
        return self.spec is None and self.status is None and self.json_patch is None


def _unpause(ro: RolloutView) -> dict[str, Any] | None:
    return {"spec": {"paused": False}} if ro.paused else None


def promote(rollout: Mapping[str, Any]) -> Patches:
    """``promote`` (default): resume, or skip the step under way — never both.

    With pause conditions they are cleared (also ``controllerPause`` and the step, when the pause
    came from an inconclusive step analysis); without, a canary moves to the next step.
    """
    ro = RolloutView(rollout)
    spec = _unpause(ro)
    status: dict[str, Any] | None = None
    _, index = current_step(ro.steps, ro.current_step_index)
    step_run = as_mapping(as_mapping(ro.status.get("canary")).get("currentStepAnalysisRunStatus"))
    next_index = min((index or 0) + 1, len(ro.steps))
    if ro.pause_conditions:
        status = {"pauseConditions": None}
        if (
            ro.canary is not None
            and index is not None
            and ro.controller_pause
            and as_str(step_run.get("status")) == "Inconclusive"
        ):
            status.update({"controllerPause": False, "currentStepIndex": next_index})
    elif ro.canary is not None and index is not None:
        status = {"pauseConditions": None, "currentStepIndex": next_index}
    return Patches(spec=spec, status=None if status is None else {"status": status})


def promote_full(rollout: Mapping[str, Any]) -> Patches:
    """``promote --full``: skip every remaining step, pause and analysis (``status.promoteFull``)."""
    ro = RolloutView(rollout)
    status = {"status": {"promoteFull": True}} if ro.current_pod_hash != ro.stable_rs else None
    return Patches(spec=_unpause(ro), status=status)


def skip_current_step(rollout: Mapping[str, Any]) -> Patches:
    """Argo CD's ``skip-current-step`` action: clear pauses and move past the current step."""
    ro = RolloutView(rollout)
    _, index = current_step(ro.steps, ro.current_step_index)
    if ro.canary is None or index is None or index >= len(ro.steps):
        raise OperationError(f'rollout "{ro.name}" has no canary step to skip')
    return Patches(status={"status": {"pauseConditions": None, "currentStepIndex": index + 1}})


def abort(rollout: Mapping[str, Any]) -> Patches:
    return Patches(status={"status": {"abort": True}})


def retry(rollout: Mapping[str, Any]) -> Patches:
    return Patches(status={"status": {"abort": False}})


def pause(rollout: Mapping[str, Any]) -> Patches:
    return Patches(spec={"spec": {"paused": True}})


def resume(rollout: Mapping[str, Any]) -> Patches:
    """Argo CD's ``resume``: unpause the spec if needed and clear every pause condition."""
    ro = RolloutView(rollout)
    return Patches(spec=_unpause(ro), status={"status": {"pauseConditions": None}})


def restart(rollout: Mapping[str, Any], *, now: datetime, delay: timedelta = timedelta(0)) -> Patches:
    """``restart [--in d]``: ``spec.restartAt`` = now (+ delay), RFC3339 UTC (§3.20)."""
    if delay < timedelta(0):
        raise OperationError("restart delay must not be negative")
    return Patches(spec={"spec": {"restartAt": format_time(now + delay)}})


def _revision(replica_set: Mapping[str, Any]) -> int | None:
    text = as_str(
        as_mapping(as_mapping(replica_set.get("metadata")).get("annotations")).get(REVISION_ANNOTATION)
    )
    return int(text) if text.isdigit() else None


def undo(
    rollout: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]], *, to_revision: int = 0
) -> Patches:
    """``undo [--to-revision N]``: put a previous ReplicaSet's pod template back into the Rollout.

    ``replica_sets`` are the Rollout's ReplicaSet manifests. Revision 0 means the previous one
    (the second highest). The hash label is removed from the template; a template that already
    matches is a no-op with Argo's message.
    """
    ro = RolloutView(rollout)
    if to_revision < 0:
        raise OperationError(f"unable to find specified revision {to_revision} in history")
    by_revision = {rev: rs for rs in replica_sets if (rev := _revision(rs)) is not None}
    if to_revision == 0:
        revisions = sorted(by_revision, reverse=True)
        if len(revisions) < 2:
            raise OperationError("no rollout history found")
        to_revision = revisions[1]
    chosen = by_revision.get(to_revision)
    if chosen is None:
        raise OperationError(f"unable to find specified revision {to_revision} in history")
    template = copy.deepcopy(dict(as_mapping(as_mapping(chosen.get("spec")).get("template"))))
    metadata = dict(as_mapping(template.get("metadata")))
    labels = {k: v for k, v in as_mapping(metadata.get("labels")).items() if k != POD_HASH_LABEL}
    metadata["labels"] = labels
    template["metadata"] = metadata
    if template == as_mapping(ro.spec.get("template")):
        return Patches(message=f"skipped rollback (current template already matches revision {to_revision})")
    return Patches(
        json_patch=[{"op": "replace", "path": "/spec/template", "value": template}],
        message=f"rollout '{ro.name}' undo",
    )
