"""Rollout conditions (§2.2): the reasons and messages clients match on, and the set/remove rules.

Conditions are plain dicts in the API's camelCase shape, and the helpers never mutate their
input: they return the new list, plus whether anything changed when the caller needs to emit an
Event only on change. The timestamp rules are Argo's exactly:

* setting a condition whose type already exists with the same status *and* reason is a no-op;
* with the same status but a new reason, ``lastTransitionTime`` is kept;
* a set condition moves to the end of the list (Argo filters and appends), which keeps our
  status byte-identical with what its clients have seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from rollouts.planner.inputs import format_time

__all__ = [
    "AVAILABLE",
    "COMPLETED",
    "HEALTHY",
    "INVALID_SPEC",
    "PAUSED",
    "PROGRESSING",
    "REPLICA_FAILURE",
    "Condition",
    "Reason",
    "find_condition",
    "new_condition",
    "remove_condition",
    "set_condition",
]

Condition = dict[str, Any]

# condition types
PROGRESSING: Final = "Progressing"
AVAILABLE: Final = "Available"
PAUSED: Final = "Paused"
COMPLETED: Final = "Completed"
HEALTHY: Final = "Healthy"
INVALID_SPEC: Final = "InvalidSpec"
REPLICA_FAILURE: Final = "ReplicaFailure"


class Reason:
    """Reasons (and their message formats) exactly as Argo writes them; clients match on them."""

    NEW_RS_CREATED: Final = "NewReplicaSetCreated"
    NEW_RS_CREATED_MESSAGE: Final = 'Created new replica set "{rs}"'
    FOUND_NEW_RS: Final = "FoundNewReplicaSet"
    FOUND_NEW_RS_MESSAGE: Final = 'Found new replica set "{rs}"'
    RS_UPDATED: Final = "ReplicaSetUpdated"
    RS_PROGRESSING_MESSAGE: Final = 'ReplicaSet "{rs}" is progressing.'
    ROLLOUT_PROGRESSING_MESSAGE: Final = 'Rollout "{name}" is progressing.'
    RS_NOT_AVAILABLE: Final = "ReplicaSetNotAvailable"
    NEW_RS_AVAILABLE: Final = "NewReplicaSetAvailable"
    RS_COMPLETED_MESSAGE: Final = 'ReplicaSet "{rs}" has successfully progressed.'
    TIMED_OUT: Final = "ProgressDeadlineExceeded"
    RS_TIMED_OUT_MESSAGE: Final = 'ReplicaSet "{rs}" has timed out progressing.'
    ROLLOUT_TIMED_OUT_MESSAGE: Final = 'Rollout "{name}" has timed out progressing.'
    ABORTED: Final = "RolloutAborted"
    ABORTED_MESSAGE: Final = "Rollout aborted update to revision {revision}"
    RS_CREATE_ERROR: Final = "ReplicaSetCreateError"
    RS_CREATE_ERROR_MESSAGE: Final = 'Failed to create new replica set "{rs}": {error}'
    PAUSED: Final = "RolloutPaused"
    PAUSED_MESSAGE: Final = "Rollout is paused"
    RESUMED: Final = "RolloutResumed"
    RESUMED_MESSAGE: Final = "Rollout is resumed"
    RETRY: Final = "RolloutRetry"
    RETRY_MESSAGE: Final = "Retrying Rollout after abort"
    AVAILABLE: Final = "AvailableReason"
    AVAILABLE_MESSAGE: Final = "Rollout has minimum availability"
    NOT_AVAILABLE_MESSAGE: Final = "Rollout does not have minimum availability"
    COMPLETED: Final = "RolloutCompleted"
    NOT_COMPLETED: Final = "RolloutNotCompleted"
    HEALTHY: Final = "RolloutHealthy"
    HEALTHY_MESSAGE: Final = "Rollout is healthy"
    NOT_HEALTHY_MESSAGE: Final = "Rollout is not healthy"
    INVALID_SPEC: Final = "InvalidSpec"
    INVALID_SPEC_MESSAGE: Final = 'The Rollout "{name}" is invalid: {error}'


def new_condition(kind: str, status: str, reason: str, message: str, now: datetime) -> Condition:
    """A fresh condition with both timestamps at ``now`` (key order as Go serializes it)."""
    stamp = format_time(now)
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def find_condition(conditions: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions if c.get("type") == kind), None)


def set_condition(
    conditions: Sequence[Mapping[str, Any]], condition: Condition
) -> tuple[list[Condition], bool]:
    """Return ``(new list, changed)`` after setting ``condition`` by Argo's rules (module docstring)."""
    current = find_condition(conditions, condition["type"])
    if current is not None and (current.get("status"), current.get("reason")) == (
        condition["status"],
        condition["reason"],
    ):
        return [dict(c) for c in conditions], False
    updated = dict(condition)
    if current is not None and current.get("status") == condition["status"]:
        updated["lastTransitionTime"] = current.get("lastTransitionTime", updated["lastTransitionTime"])
    return [*remove_condition(conditions, condition["type"]), updated], True


def remove_condition(conditions: Sequence[Mapping[str, Any]], kind: str) -> list[Condition]:
    return [dict(c) for c in conditions if c.get("type") != kind]
