"""What the pure scheduler and the impure executors say to each other.

The scheduler returns a :class:`Decision`: the new status, :class:`StartPod` / :class:`StopPod`
actions and the next instant at which time alone changes something (a backoff ends, a suspend
expires, a deadline passes). Executors answer with :class:`PodReport` values, which
``scheduler.apply_report`` folds into the status. Actions are idempotent by pod name: the
scheduler repeats ``StartPod`` for every node still Pending, and executors ignore a pod they
already run, so a restarted engine loses nothing and duplicates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analysis.workflows.spec import Outputs
from analysis.workflows.status import WorkflowStatus

__all__ = ["Action", "Decision", "PodReport", "StartPod", "StopPod"]


@dataclass(frozen=True)
class StartPod:
    """Run one leaf node (container, script or resource template)."""

    node_id: str
    node_name: str
    pod_name: str
    template: dict[str, Any]
    """The fully substituted template (JSON form), its ``inputs`` bound to values."""
    capture_result: bool
    """Keep stdout as ``outputs.result`` (always for scripts; for containers when referenced)."""
    deadline: datetime | None
    """When the pod must be gone: the nearer of its own ``activeDeadlineSeconds`` and the workflow's."""


@dataclass(frozen=True)
class StopPod:
    """Kill a running leaf node; the scheduler already recorded its final phase and message."""

    node_id: str
    pod_name: str
    message: str


Action = StartPod | StopPod


@dataclass(frozen=True)
class PodReport:
    """What an executor observed about one leaf node."""

    node_id: str
    phase: str
    """Pending, Running, Succeeded, Failed or Error."""
    message: str | None = None
    outputs: Outputs | None = None
    host_node_name: str | None = None
    pod_ip: str | None = None


@dataclass(frozen=True)
class Decision:
    status: WorkflowStatus
    actions: tuple[Action, ...]
    wake_at: datetime | None
    """The next instant at which the scheduler should run again even if nothing is reported."""
