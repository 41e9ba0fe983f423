"""`plan_experiment`: one pass over one Experiment, as a pure function of (Experiment, children, now).

The pass follows Argo's ``reconcile``: validate the spec (an invalid one only gets its
``InvalidSpec`` condition and a Warning Event), reconcile every template (`templates`), then
every analysis (`analyses`), then compute phase and conditions (`status`) from the new
statuses. The result is the list of writes in the order the shell must send them, the whole new
status with its merge patch against the old one (``None``: write nothing), and the earliest
moment a timer must wake the experiment (duration end, a template's progress deadline, a
scale-down deadline). Everything is derived from the object and the status timestamps, so a
restarted controller that plans again from what it reads arrives at the same decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.experiments.actions import Action, EmitRolloutEvent
from rollouts.experiments.analyses import reconcile_analysis
from rollouts.experiments.inputs import COMPLETED_PHASES, ExperimentObject, Observed
from rollouts.experiments.status import (
    experiment_conditions,
    experiment_phase,
    new_condition,
    set_condition,
)
from rollouts.experiments.templates import TemplateOutcome, reconcile_template
from rollouts.experiments.validation import invalid_spec_message
from rollouts.planner.actions import EmitEvent, merge_patch
from rollouts.planner.inputs import as_list, as_mapping, as_str

__all__ = ["ExperimentPlan", "plan_experiment"]


@dataclass(frozen=True)
class ExperimentPlan:
    """What one pass decided."""

    actions: tuple[Action, ...]
    """Writes and Events, in order (Events last: they describe the writes)."""
    status: dict[str, Any]
    """The whole new status."""
    status_patch: dict[str, Any] | None
    """Merge patch of ``status`` against the old one; ``None`` when nothing changed."""
    wake_at: datetime | None
    """When a timer must run the next pass (``None``: only events wake it)."""


def _finish(
    experiment: ExperimentObject,
    status: dict[str, Any],
    actions: list[Action],
    wake_at: datetime | None,
) -> ExperimentPlan:
    old = dict(experiment.status)
    patch = merge_patch(old, status)
    is_event = [isinstance(a, EmitEvent | EmitRolloutEvent) for a in actions]
    ordered = [a for a, event in zip(actions, is_event, strict=True) if not event]
    ordered += [a for a, event in zip(actions, is_event, strict=True) if event]
    return ExperimentPlan(tuple(ordered), status, patch or None, wake_at)


def _invalid_plan(experiment: ExperimentObject, message: str, now: datetime) -> ExperimentPlan:
    status = dict(experiment.status)
    previous = next(
        (
            as_mapping(c)
            for c in as_list(status.get("conditions"))
            if as_mapping(c).get("type") == "InvalidSpec"
        ),
        None,
    )
    actions: list[Action] = []
    if previous is None or previous.get("message") != message:
        condition = new_condition("InvalidSpec", "True", "InvalidSpec", message, now)
        set_condition(status, condition, replace=True)
        actions.append(EmitEvent("InvalidSpec", message, warning=True))
    return _finish(experiment, status, actions, None)


def _wake_at(
    experiment: ExperimentObject, status: dict[str, Any], outcomes: list[TemplateOutcome]
) -> datetime | None:
    """Argo's requeue — the duration's end and the templates' progress deadlines, none while
    terminating — and the scale-down deadlines, whichever comes first."""
    after = ExperimentObject({**experiment.obj, "status": status})
    moments = [o.scale_down_at for o in outcomes if o.scale_down_at is not None]
    if not after.terminating:
        moments += [o.deadline_at for o in outcomes if o.deadline_at is not None]
        available, seconds = after.available_at, after.duration_seconds
        if available is not None and seconds is not None:
            moments.append(available + timedelta(seconds=seconds, milliseconds=1))
    return min(moments) if moments else None


def plan_experiment(obj: Mapping[str, Any], observed: Observed, now: datetime) -> ExperimentPlan:
    """Plan one pass (see the module docstring). Never raises on a malformed Experiment."""
    experiment = ExperimentObject(obj)
    message = invalid_spec_message(obj)
    if message is not None:
        return _invalid_plan(experiment, message, now)
    outcomes: list[TemplateOutcome] = []
    for index, template in enumerate(experiment.templates):
        try:
            outcomes.append(reconcile_template(experiment, template, observed, now))
        except ValueError as error:  # a pod template Go's encoder rejects cannot be hashed
            return _invalid_plan(experiment, f"spec.templates[{index}].template: Invalid value: {error}", now)
    status = dict(experiment.status)
    actions: list[Action] = []
    for outcome in outcomes:
        actions.extend(outcome.actions)
    status["templateStatuses"] = [outcome.status for outcome in outcomes]
    if experiment.analyses:
        analysis_outcomes = [reconcile_analysis(experiment, a, observed) for a in experiment.analyses]
        for analysis_outcome in analysis_outcomes:
            actions.extend(analysis_outcome.actions)
        status["analysisRuns"] = [analysis_outcome.status for analysis_outcome in analysis_outcomes]
    before = experiment.phase
    experiment_phase(experiment, status, now)
    experiment_conditions(experiment, status, now)
    after = as_str(status.get("phase"))
    if after != before:
        actions.append(
            EmitEvent(
                f"Experiment{after}",
                f"Experiment transitioned from {before} -> {after}",
                warning=after in COMPLETED_PHASES - {"Successful"},
            )
        )
    return _finish(experiment, status, actions, _wake_at(experiment, status, outcomes))
