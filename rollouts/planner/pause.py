"""Pause and abort bookkeeping for one pass (§3.1 "Status write" step 3, §2.3).

During a pass the pipeline only *records intent* — add this pause reason, drop that one, clear
them all, abort with a message, un-abort — in a `PauseChanges`. At the end, `apply` folds the
intent into the new status in one place, with Argo's precedence:

1. an abort (new or still standing) wins: ``abort: true``, ``abortedAt`` kept from the first time
   (a fresh timestamp every pass would hot-loop the reconcile), and every pause condition dropped;
2. otherwise the abort fields are cleared, and unless the conditions were cleared outright,
   pause conditions = previous - removed + added (added ones start ``now`` and set
   ``controllerPause``); an empty list leaves ``controllerPause`` false.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from rollouts.planner.inputs import RolloutView, format_time

__all__ = [
    "BLUE_GREEN_PAUSE",
    "CANARY_PAUSE_STEP",
    "INCONCLUSIVE_ANALYSIS",
    "INCONCLUSIVE_EXPERIMENT",
    "PauseChanges",
]

CANARY_PAUSE_STEP: Final = "CanaryPauseStep"
BLUE_GREEN_PAUSE: Final = "BlueGreenPause"
INCONCLUSIVE_ANALYSIS: Final = "InconclusiveAnalysisRun"
INCONCLUSIVE_EXPERIMENT: Final = "InconclusiveExperiment"


@dataclass
class PauseChanges:
    """Pause/abort intent accumulated during one pass; applied once by `apply`."""

    previously_aborted: bool
    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    clear: bool = False
    add_abort: bool = False
    remove_abort: bool = False
    abort_message: str = ""

    @classmethod
    def for_rollout(cls, ro: RolloutView) -> PauseChanges:
        changes = cls(previously_aborted=ro.aborted)
        if ro.is_fully_promoted and ro.aborted:
            changes.remove_abort = True  # a fully promoted rollout cannot stay aborted (§3.1 2.6)
        return changes

    @property
    def aborted(self) -> bool:
        if self.remove_abort:
            return False
        return self.add_abort or self.previously_aborted

    def abort(self, message: str) -> None:
        self.add_abort = True
        self.abort_message = message

    def apply(self, ro: RolloutView, status: dict[str, Any], now: datetime) -> None:
        """Write ``abort``/``abortedAt``/``pauseConditions``/``controllerPause`` into ``status``."""
        aborted_at = ro.status.get("abortedAt") or format_time(now)
        for key in ("abort", "abortedAt", "pauseConditions", "controllerPause"):
            status.pop(key, None)
        if self.add_abort or (not self.remove_abort and self.previously_aborted):
            status["abort"] = True
            status["abortedAt"] = aborted_at
            return
        if self.clear:
            return
        conditions, added = _merged_pause_conditions(ro.pause_conditions, self.remove, self.add, now)
        if conditions:
            status["pauseConditions"] = conditions
            status["controllerPause"] = ro.controller_pause or added


def _merged_pause_conditions(
    previous: Sequence[Mapping[str, Any]], remove: Sequence[str], add: Sequence[str], now: datetime
) -> tuple[list[dict[str, Any]], bool]:
    """Previous minus removed plus added (new ones start ``now``); also whether any was added.

    A reason that already existed is not re-added even when it is also being removed, as upstream.
    """
    existing = {c.get("reason") for c in previous}
    kept = [dict(c) for c in previous if c.get("reason") not in remove]
    fresh = [reason for reason in dict.fromkeys(add) if reason not in existing]
    stamp = format_time(now)
    kept.extend({"reason": reason, "startTime": stamp} for reason in fresh)
    return kept, bool(fresh)
