"""``status.duration``: when the current update started, how long it sat in manual pauses, how it
ended (reference §3.23) — and the finished attempts the shell turns into histograms.

Argo Rollouts v1.10.1 does not have the field (it came after that line); newer Argo and its
dashboards read it, and a v1.10 controller keeps it untouched, so writing it is an addition no
v1.10 user can trip over. Every value is a function of the observed status, the new status the
pass computed, the ReplicaSets and the clock — nothing is remembered outside the Rollout.

An *attempt* is one update: it starts when ``currentPodHash`` moves to a revision other than the
stable one (or on a retry after an abort) and ends once:

* ``Promoted`` / ``FastPromoted`` — stable becomes the current revision with newRS available
  (Fast when ``promote --full`` skipped the rest);
* ``RolledBack`` / ``FastRolledBack`` — the update was a return to an older ReplicaSet
  (Fast when its steps were skipped: inside ``rollbackWindow``, back into a scale-down delay, or
  ``promote --full``), or mid-flight the template went back to the stable revision (nothing
  left to deploy: Fast);
* ``Aborted`` — the user or an analysis aborted it;
* ``Superseded`` — a newer template replaced it mid-flight; only the metrics see this one, the
  status then describes the new attempt.

Manual pause time — ``spec.paused``, a pause step without duration, a blue-green waiting for
``promote`` (no ``autoPromotionSeconds``), an inconclusive analysis or experiment — is added
up in ``totalManualPauseDurationSeconds``; ``manualPauseStartedAt`` marks a pause in progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from rollouts.planner.inputs import (
    ReplicaSetView,
    RolloutView,
    as_int,
    as_list,
    as_mapping,
    as_str,
    format_time,
    parse_time,
)
from rollouts.planner.steps import current_step

__all__ = [
    "ABORTED",
    "FAST_PROMOTED",
    "FAST_ROLLED_BACK",
    "PROMOTED",
    "ROLLED_BACK",
    "SUPERSEDED",
    "FinishedAttempt",
    "RolloutFacts",
    "finished_attempts",
    "track_duration",
]

PROMOTED: Final = "Promoted"
FAST_PROMOTED: Final = "FastPromoted"
ABORTED: Final = "Aborted"
SUPERSEDED: Final = "Superseded"
ROLLED_BACK: Final = "RolledBack"
FAST_ROLLED_BACK: Final = "FastRolledBack"

_INCONCLUSIVE: Final = frozenset({"InconclusiveAnalysisRun", "InconclusiveExperiment"})


@dataclass(frozen=True)
class RolloutFacts:
    """What the pass knows beyond the two statuses."""

    new_rs: ReplicaSetView | None
    previous_stable_rs: ReplicaSetView | None
    steps_skipped: bool
    """newRS came back without its steps (rollbackWindow, scale-down delay, ``promote --full``)."""


@dataclass(frozen=True)
class FinishedAttempt:
    """One ended update, for the ``rollout_*duration_seconds`` histograms."""

    completion_status: str
    total_seconds: float
    manual_pause_seconds: float

    @property
    def progression_seconds(self) -> float:
        return max(self.total_seconds - self.manual_pause_seconds, 0.0)


def track_duration(
    ro: RolloutView, status: Mapping[str, Any], facts: RolloutFacts, now: datetime
) -> dict[str, Any] | None:
    """The ``duration`` the new ``status`` should carry (``None``: no update ever tracked)."""
    previous = dict(as_mapping(ro.status.get("duration")))
    current_hash = as_str(status.get("currentPodHash"))
    stable_hash = as_str(status.get("stableRS"))
    observed_hash = ro.current_pod_hash
    in_flight = _in_flight(previous)
    aborted = bool(status.get("abort"))
    duration = previous
    if current_hash != observed_hash and in_flight and current_hash == stable_hash:
        return _finish(duration, FAST_ROLLED_BACK, now)
    starting = current_hash != stable_hash and bool(stable_hash) and not aborted
    retried = previous.get("completionStatus") == ABORTED  # and no longer aborted: a retry
    if starting and (current_hash != observed_hash or retried):
        duration = {"rolloutStartedAt": format_time(now)}
    elif not in_flight:
        return duration or None
    if aborted:
        return _finish(duration, ABORTED, now)
    if current_hash == stable_hash and _new_rs_available(ro, facts):
        return _finish(duration, _completion(ro, duration, facts), now)
    return _track_pause(duration, _manually_paused(ro, status), now)


def finished_attempts(
    observed: Mapping[str, Any], written: Mapping[str, Any], now: datetime
) -> list[FinishedAttempt]:
    """The attempts a successful status write ended: the old one if it was in flight and the
    new status no longer continues it, plus a new one that was finished in the same write."""
    before = as_mapping(observed.get("duration"))
    after = as_mapping(written.get("duration"))
    ended: list[FinishedAttempt] = []
    same_attempt = bool(before) and before.get("rolloutStartedAt") == after.get("rolloutStartedAt")
    if _in_flight(before) and not same_attempt:
        ended.append(_attempt(before, SUPERSEDED, now))
    if after.get("finishedAt") and not (same_attempt and before.get("finishedAt")):
        ended.append(_attempt(after, as_str(after.get("completionStatus")), now))
    return ended


def _in_flight(duration: Mapping[str, Any]) -> bool:
    return bool(duration.get("rolloutStartedAt")) and not duration.get("finishedAt")


def _finish(duration: Mapping[str, Any], completion: str, now: datetime) -> dict[str, Any]:
    finished = _track_pause(duration, False, now)
    finished["finishedAt"] = format_time(now)
    finished["completionStatus"] = completion
    return finished


def _track_pause(duration: Mapping[str, Any], paused: bool, now: datetime) -> dict[str, Any]:
    updated = dict(duration)
    started = parse_time(updated.get("manualPauseStartedAt"))
    if paused and started is None:
        updated["manualPauseStartedAt"] = format_time(now)
    elif not paused and started is not None:
        total = as_int(updated.get("totalManualPauseDurationSeconds"), 0)
        updated["totalManualPauseDurationSeconds"] = total + max(int((now - started).total_seconds()), 0)
        del updated["manualPauseStartedAt"]
    return updated


def _manually_paused(ro: RolloutView, status: Mapping[str, Any]) -> bool:
    """Waiting for a person: ``spec.paused`` or a pause only a promote (or a retry) ends."""
    if ro.paused:
        return True
    for condition in as_list(status.get("pauseConditions")):
        reason = as_str(as_mapping(condition).get("reason"))
        if reason in _INCONCLUSIVE:
            return True
        if reason == "BlueGreenPause":
            return as_mapping(ro.blue_green).get("autoPromotionSeconds") is None
        if reason == "CanaryPauseStep":
            step, _ = current_step(ro.steps, as_int(status.get("currentStepIndex"), 0))
            return step is not None and as_mapping(step.get("pause")).get("duration") is None
    return False


def _new_rs_available(ro: RolloutView, facts: RolloutFacts) -> bool:
    return facts.new_rs is not None and facts.new_rs.available >= ro.replicas


def _completion(ro: RolloutView, duration: Mapping[str, Any], facts: RolloutFacts) -> str:
    started = parse_time(duration.get("rolloutStartedAt"))
    new_rs, previous_stable = facts.new_rs, facts.previous_stable_rs
    returning = new_rs is not None and (
        (started is not None and new_rs.created_at < started)
        or (previous_stable is not None and new_rs.created_at < previous_stable.created_at)
    )
    if returning:
        return FAST_ROLLED_BACK if facts.steps_skipped or ro.promote_full else ROLLED_BACK
    return FAST_PROMOTED if ro.promote_full else PROMOTED


def _attempt(duration: Mapping[str, Any], completion: str, now: datetime) -> FinishedAttempt:
    started = parse_time(duration.get("rolloutStartedAt")) or now
    ended = parse_time(duration.get("finishedAt")) or now
    manual = float(as_int(duration.get("totalManualPauseDurationSeconds"), 0))
    pause_started = parse_time(duration.get("manualPauseStartedAt"))
    if pause_started is not None:
        manual += max((ended - pause_started).total_seconds(), 0.0)
    return FinishedAttempt(completion, max((ended - started).total_seconds(), 0.0), manual)
