"""The canary step state machine (§3.3): which step is current, what it asks for, when it is done.

Steps stay the raw dicts of ``spec.strategy.canary.steps`` (exactly one kind per step). The
functions here answer the questions the pipeline asks each pass and nothing else: they do not
scale, pause or advance anything. Advancing is the pipeline's job, and it moves at most one step
per pass, as upstream does.

A pause step completes in one of two ways: the user resumed it (``status.controllerPause`` is
still true but the ``CanaryPauseStep`` condition is gone) or its duration, counted from the
condition's ``startTime``, has elapsed. Both are derived from status alone, so a restarted
controller resumes exactly where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from rollouts.planner.inputs import as_bool, as_int, as_list, as_mapping, as_str, parse_time
from rollouts.planner.units import pause_duration_seconds

__all__ = [
    "STEP_KINDS",
    "StepFacts",
    "active_set_canary_scale",
    "current_set_weight",
    "current_step",
    "pause_expires_at",
    "pause_step_completed",
    "step_completed",
    "step_description",
    "step_kind",
]

CANARY_PAUSE_STEP: Final = "CanaryPauseStep"

# Order matters only for malformed steps with several kinds: the first one found wins.
STEP_KINDS: Final = (
    "setWeight",
    "pause",
    "experiment",
    "analysis",
    "setCanaryScale",
    "setHeaderRoute",
    "setMirrorRoute",
    "plugin",
)


def step_kind(step: Mapping[str, Any]) -> str:
    """The kind of a step (``""`` for a step with none of the known fields)."""
    return next((kind for kind in STEP_KINDS if step.get(kind) is not None), "")


def current_step(
    steps: Sequence[Mapping[str, Any]], index: int | None
) -> tuple[Mapping[str, Any] | None, int | None]:
    """``(step, index)``: no steps -> ``(None, None)``; past the last step -> ``(None, index)``.

    A missing ``status.currentStepIndex`` counts as 0, as upstream.
    """
    if not steps:
        return None, None
    position = index if index is not None else 0
    if position >= len(steps) or position < 0:
        return None, position
    return steps[position], position


def current_set_weight(
    steps: Sequence[Mapping[str, Any]], index: int | None, *, aborted: bool, max_weight: int = 100
) -> int:
    """The last ``setWeight`` at or before the current step; 0 before any; max when past the end."""
    if aborted:
        return 0
    step, position = current_step(steps, index)
    if step is None or position is None:
        return max_weight
    for earlier in reversed(steps[: position + 1]):
        if earlier.get("setWeight") is not None:
            return as_int(earlier.get("setWeight"), 0)
    return 0


def active_set_canary_scale(
    steps: Sequence[Mapping[str, Any]],
    index: int | None,
    *,
    traffic_routed: bool,
    aborted: bool,
    abort_scale_down_delay_seconds: int | None,
) -> Mapping[str, Any] | None:
    """The ``setCanaryScale`` in force at the current step, if any (§3.5).

    Only with traffic routing; a later ``matchTrafficWeight: true`` cancels an earlier override;
    while aborted it is ignored unless ``abortScaleDownDelaySeconds`` is explicitly 0 (the user
    asked to leave the canary up).
    """
    if not traffic_routed:
        return None
    if aborted and abort_scale_down_delay_seconds != 0:
        return None
    step, position = current_step(steps, index)
    if step is None or position is None:
        return None
    for earlier in reversed(steps[: position + 1]):
        scale = earlier.get("setCanaryScale")
        if scale is None:
            continue
        scale = as_mapping(scale)
        return None if as_bool(scale.get("matchTrafficWeight")) else scale
    return None


def step_description(step: Mapping[str, Any]) -> str:
    """The text Argo puts in ``RolloutStepCompleted`` events (``setWeight: 20``, ``pause: 10s``...)."""
    kind = step_kind(step)
    value = step.get(kind)
    if kind == "setWeight":
        return f"setWeight: {value}"
    if kind == "pause":
        duration = as_mapping(value).get("duration")
        return "pause" if duration is None else f"pause: {duration}"
    if kind in ("experiment", "analysis"):
        return kind
    if kind == "setCanaryScale":
        scale = as_mapping(value)
        if scale.get("weight") is not None:
            return f"setCanaryScale{{weight: {scale['weight']}}}"
        if as_bool(scale.get("matchTrafficWeight")):
            return "setCanaryScale{matchTrafficWeight: true}"
        if scale.get("replicas") is not None:
            return f"setCanaryScale{{replicas: {scale['replicas']}}}"
        return "invalid"
    if kind in ("setHeaderRoute", "setMirrorRoute", "plugin"):
        return f"{kind}: {as_str(as_mapping(value).get('name'))}"
    return "invalid"


def pause_expires_at(step: Mapping[str, Any], pause_condition: Mapping[str, Any] | None) -> datetime | None:
    """When a timed pause step ends (condition start + duration); ``None`` for untimed or unstarted."""
    seconds = pause_duration_seconds(as_mapping(step.get("pause")).get("duration"))
    started = parse_time(as_mapping(pause_condition).get("startTime"))
    if seconds is None or seconds < 0 or started is None:
        return None
    return started + timedelta(seconds=seconds)


def pause_step_completed(
    step: Mapping[str, Any],
    pause_condition: Mapping[str, Any] | None,
    *,
    controller_pause: bool,
    now: datetime,
) -> bool:
    """A pause step is done when the user resumed it, or its duration elapsed strictly before ``now``."""
    if controller_pause and pause_condition is None:
        return True
    expires = pause_expires_at(step, pause_condition)
    return expires is not None and now > expires


@dataclass(frozen=True)
class StepFacts:
    """What the pass learned that decides whether the current step is complete (§3.3 table)."""

    at_desired_counts: bool = False
    weight_verified: bool | None = None
    experiment_phase: str = ""
    analysis_phase: str = ""
    plugin_phase: str = ""
    plugin_disabled: bool = False


def step_completed(
    step: Mapping[str, Any] | None,
    facts: StepFacts,
    *,
    spec_paused: bool,
    pause_condition: Mapping[str, Any] | None,
    controller_pause: bool,
    now: datetime,
) -> bool:
    """Whether the current step is complete this pass (never while ``spec.paused``)."""
    if spec_paused or step is None:
        return False
    kind = step_kind(step)
    if kind == "pause":
        return pause_step_completed(step, pause_condition, controller_pause=controller_pause, now=now)
    if kind == "setCanaryScale":
        return facts.at_desired_counts
    if kind == "setWeight":
        return facts.at_desired_counts and facts.weight_verified is not False
    if kind == "experiment":
        return facts.experiment_phase == "Successful"
    if kind == "analysis":
        return facts.analysis_phase == "Successful"
    if kind in ("setHeaderRoute", "setMirrorRoute"):
        return True
    if kind == "plugin":
        return facts.plugin_disabled or facts.plugin_phase in ("Successful", "Failed")
    return False


def analysis_templates(step: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The template references of an ``analysis`` step (empty list when malformed)."""
    return [as_mapping(t) for t in as_list(as_mapping(step.get("analysis")).get("templates"))]
