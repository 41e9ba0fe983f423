"""A dashboard action to the exact patches the plugin sends, via the planner's operations.

The buttons and ``kubectl rollouts promote|abort|retry|pause|resume|restart|undo`` share
`rollouts.planner.operations`, so a click is byte-for-byte the CLI's mutation. An action that
cannot apply (undo with no history, say) raises `ActionError` with the planner's message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rollouts.planner import operations
from rollouts.planner.inputs import RolloutView
from rollouts.planner.operations import OperationError, Patches

__all__ = ["ActionError", "patches_for"]


class ActionError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def patches_for(
    action: str,
    rollout: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    replica_sets: Sequence[Mapping[str, Any]] = (),
    revision: int = 0,
    now: datetime,
) -> Patches:
    """The patches for ``action`` on ``rollout``; ``replica_sets`` (owned ones) matter for undo."""
    try:
        if action == "promote":
            return operations.promote_full(rollout) if body.get("full") else operations.promote(rollout)
        if action == "abort":
            return operations.abort(rollout)
        if action == "retry":
            return operations.retry(rollout)
        if action == "pause":
            return operations.pause(rollout)
        if action == "resume":
            return operations.resume(rollout)
        if action == "restart":
            return operations.restart(rollout, now=now)
        if action == "undo":
            if RolloutView(rollout).spec.get("workloadRef"):
                raise ActionError(
                    400, "undo of a Rollout with workloadRef is not offered here: use `kubectl rollouts undo`"
                )
            return operations.undo(rollout, replica_sets, to_revision=revision)
    except OperationError as error:
        raise ActionError(409, str(error)) from None
    raise ActionError(404, f"unknown action {action!r}")
