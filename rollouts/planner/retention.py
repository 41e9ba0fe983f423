"""Which finished AnalysisRuns and Experiments a Rollout deletes (§3.9, §3.10 retention).

Argo prunes both kinds with the same rule (``FilterAnalysisRunsToDelete`` and
``FilterExperimentsToDelete`` differ only in the type they take), so the rule lives here once,
over anything that has a name, a phase, a pod-hash label, a creation time and a deletion mark.
The callers decide which children are candidates: never a current one (those are recorded in
the Rollout's status) and never one another owner controls (the shell only observes children
whose controller reference is this Rollout).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final, Protocol, TypeVar

from rollouts.planner.inputs import ReplicaSetView, RolloutView, as_int, as_mapping

__all__ = ["DEFAULT_RUN_HISTORY_LIMIT", "Prunable", "children_to_delete", "run_history_limits"]

DEFAULT_RUN_HISTORY_LIMIT: Final = 5
_UNSUCCESSFUL: Final = frozenset({"Failed", "Error", "Inconclusive"})


class Prunable(Protocol):
    """What pruning reads of a child (`AnalysisRunView`, `ExperimentView`)."""

    @property
    def name(self) -> str: ...

    @property
    def phase(self) -> str: ...

    @property
    def pod_hash(self) -> str | None: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def deleting(self) -> bool: ...


P = TypeVar("P", bound=Prunable)


def run_history_limits(ro: RolloutView) -> tuple[int, int]:
    """``spec.analysis.successfulRunHistoryLimit`` / ``unsuccessfulRunHistoryLimit`` (default 5 each)."""
    analysis = as_mapping(ro.spec.get("analysis"))
    return (
        as_int(analysis.get("successfulRunHistoryLimit"), DEFAULT_RUN_HISTORY_LIMIT),
        as_int(analysis.get("unsuccessfulRunHistoryLimit"), DEFAULT_RUN_HISTORY_LIMIT),
    )


def children_to_delete(
    others: Iterable[P],
    replica_sets: Sequence[ReplicaSetView],
    limit_successful: int,
    limit_unsuccessful: int,
) -> list[P]:
    """Non-current children to delete, newest first.

    One without a pod-hash label, or whose ReplicaSet is gone or being deleted, goes at once;
    otherwise the newest ``limit_*`` Successful (resp. Failed/Error/Inconclusive) ones stay.
    Unfinished ones with a live ReplicaSet are never deleted (they are terminated instead); one
    already being deleted counts towards the limits but is not deleted again.
    """
    rs_deleting: dict[str, bool] = {}
    for rs in replica_sets:
        if rs.pod_hash:
            rs_deleting[rs.pod_hash] = rs.deleting
    kept_successful = kept_unsuccessful = 0
    doomed: list[P] = []
    for child in sorted(others, key=lambda c: (c.created_at, c.name), reverse=True):
        if child.pod_hash is None or rs_deleting.get(child.pod_hash, True):
            doomed.append(child)
        elif child.phase == "Successful":
            if kept_successful < limit_successful:
                kept_successful += 1
            else:
                doomed.append(child)
        elif child.phase in _UNSUCCESSFUL:
            if kept_unsuccessful < limit_unsuccessful:
                kept_unsuccessful += 1
            else:
                doomed.append(child)
    return [child for child in doomed if not child.deleting]
