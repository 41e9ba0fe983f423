"""The Experiment's phase, message, ``availableAt`` and conditions after a pass (§8.2, §8.3).

Computed from the new template and analysis statuses in Argo's order: a first pass only moves
``""`` to ``Pending``; completed phases never change; otherwise the templates' worst status and
the analyses' worst phase are combined as `experiment_phase` describes. Conditions follow Argo's
``calculateExperimentConditions``; a condition whose status and reason are unchanged keeps its
timestamps, so an idle experiment's status never changes and is never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from rollouts.experiments.inputs import COMPLETED_PHASES, ExperimentObject
from rollouts.planner.inputs import as_bool, as_list, as_mapping, as_str, format_time

__all__ = [
    "REQUIRED_ANALYSES_COMPLETED",
    "assess_analyses",
    "assess_templates",
    "experiment_conditions",
    "experiment_phase",
    "set_condition",
]

REQUIRED_ANALYSES_COMPLETED: Final = "Required AnalysisRuns completed"
_TEMPLATE_ORDER: Final = ("Successful", "Running", "Progressing", "Error", "Failed")
_ANALYSIS_ORDER: Final = ("Successful", "Running", "Pending", "Inconclusive", "Error", "Failed")
_TEMPLATE_PHASE: Final = {
    "Progressing": "Pending",
    "Failed": "Failed",
    "Error": "Error",
    "Successful": "Successful",
}


def _rank(order: Sequence[str], value: str) -> int:
    """Go's ``IsWorse`` index: an unknown value ranks as the best one."""
    return order.index(value) if value in order else 0


def assess_templates(
    templates: Sequence[Mapping[str, Any]], statuses: Sequence[Mapping[str, Any]]
) -> tuple[str, str]:
    """The worst template status as an experiment phase (Progressing → Pending), with its message."""
    by_name = {as_str(status.get("name")): status for status in statuses}
    worst, message = "Successful", ""
    for template in templates:
        status = by_name.get(as_str(template.get("name")))
        value = as_str(as_mapping(status).get("status")) if status is not None else "Progressing"
        if _rank(_TEMPLATE_ORDER, value) > _rank(_TEMPLATE_ORDER, worst):
            worst = value
            message = as_str(as_mapping(status).get("message"))
    return _TEMPLATE_PHASE.get(worst, "Running"), message


def _required_successful(
    analyses: Sequence[Mapping[str, Any]], by_name: Mapping[str, Mapping[str, Any]]
) -> bool:
    required = [as_str(a.get("name")) for a in analyses if as_bool(a.get("requiredForCompletion"))]
    return bool(required) and all(
        as_str(as_mapping(by_name.get(name)).get("phase")) == "Successful" for name in required
    )


def assess_analyses(
    analyses: Sequence[Mapping[str, Any]], statuses: Sequence[Mapping[str, Any]]
) -> tuple[str, str]:
    """The analyses' worst phase (Successful when there are none; Pending reads as Running)."""
    by_name = {as_str(status.get("name")): status for status in statuses}
    worst, message = "Successful", ""
    for analysis in analyses:
        status = as_mapping(by_name.get(as_str(analysis.get("name"))))
        phase = as_str(status.get("phase"))
        if _rank(_ANALYSIS_ORDER, phase) > _rank(_ANALYSIS_ORDER, worst):
            worst, message = phase, as_str(status.get("message"))
    if _required_successful(analyses, by_name) and _rank(_ANALYSIS_ORDER, worst) < _rank(
        _ANALYSIS_ORDER, "Running"
    ):
        return "Successful", REQUIRED_ANALYSES_COMPLETED
    return ("Running" if worst == "Pending" else worst), message


def experiment_phase(experiment: ExperimentObject, status: dict[str, Any], now: datetime) -> None:
    """Set ``phase``, ``message`` and ``availableAt`` of the new ``status`` (§8.3 "Phase")."""
    previous = experiment.phase
    if previous == "":
        status["phase"] = "Pending"
        return
    if previous not in ("Pending", "Running"):
        return
    spec = experiment.spec
    templates = [as_mapping(t) for t in as_list(spec.get("templates"))]
    analyses = [as_mapping(a) for a in as_list(spec.get("analyses"))]
    template_statuses = [as_mapping(s) for s in as_list(status.get("templateStatuses"))]
    run_statuses = [as_mapping(s) for s in as_list(status.get("analysisRuns"))]
    template_phase, template_message = assess_templates(templates, template_statuses)
    analyses_phase, analyses_message = assess_analyses(analyses, run_statuses)
    if template_phase == "Running" and not status.get("availableAt"):
        status["availableAt"] = format_time(now)
    has_required = any(as_bool(a.get("requiredForCompletion")) for a in analyses)
    required_done = _required_successful(analyses, {as_str(s.get("name")): s for s in run_statuses})
    use_analyses: bool
    if template_phase in COMPLETED_PHASES:
        use_analyses = template_phase == "Successful" and (analyses_phase in COMPLETED_PHASES or has_required)
    else:
        failed = analyses_phase in COMPLETED_PHASES and analyses_phase != "Successful"
        use_analyses = failed or required_done
    phase, message = (
        (analyses_phase, analyses_message) if use_analyses else (template_phase, template_message)
    )
    status["phase"] = phase
    if message:
        status["message"] = message
    else:
        status.pop("message", None)


def set_condition(status: dict[str, Any], condition: dict[str, Any], *, replace: bool = False) -> None:
    """Argo's ``SetExperimentCondition``: unchanged status and reason keep the old condition (unless
    ``replace``); an unchanged status keeps its ``lastTransitionTime``."""
    conditions = [as_mapping(c) for c in as_list(status.get("conditions"))]
    current = next((c for c in conditions if c.get("type") == condition["type"]), None)
    if current is not None:
        same_status = current.get("status") == condition["status"]
        if same_status and current.get("reason") == condition["reason"] and not replace:
            return
        if same_status:
            condition["lastTransitionTime"] = current.get("lastTransitionTime")
    status["conditions"] = [dict(c) for c in conditions if c.get("type") != condition["type"]] + [condition]


def new_condition(kind: str, status: str, reason: str, message: str, now: datetime) -> dict[str, Any]:
    stamp = format_time(now)
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def remove_condition(status: dict[str, Any], kind: str) -> None:
    conditions = [
        dict(as_mapping(c)) for c in as_list(status.get("conditions")) if as_mapping(c).get("type") != kind
    ]
    if conditions:
        status["conditions"] = conditions
    else:
        status.pop("conditions", None)


def _progressed(before: Sequence[Any], after: Sequence[Any]) -> bool:
    """Argo's ``ExperimentProgressing``: more templates tracked, or any count changed."""
    old = {as_str(as_mapping(s).get("name")): as_mapping(s) for s in before}
    new = {as_str(as_mapping(s).get("name")): as_mapping(s) for s in after}
    if len(old) < len(new):
        return True
    counts = ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    return any(
        name in new and any(old[name].get(key) != new[name].get(key) for key in counts) for name in old
    )


def experiment_conditions(experiment: ExperimentObject, status: dict[str, Any], now: datetime) -> None:
    """The ``Progressing`` condition of the new status, and a cleared ``InvalidSpec``."""
    name = experiment.name
    remove_condition(status, "InvalidSpec")
    if as_str(status.get("phase")) in COMPLETED_PHASES:
        message = f'Experiment "{name}" has successfully ran and completed.'
        set_condition(status, new_condition("Progressing", "False", "ExperimentCompleted", message, now))
    elif _progressed(
        as_list(experiment.status.get("templateStatuses")), as_list(status.get("templateStatuses"))
    ):
        message = f'Experiment "{name}" is progressing.'
        set_condition(
            status, new_condition("Progressing", "True", "ReplicaSetUpdated", message, now), replace=True
        )
    elif experiment.available_at is not None and not experiment.passed_duration(now):
        message = f'Experiment "{name}" is running.'
        set_condition(status, new_condition("Progressing", "True", "NewReplicaSetAvailable", message, now))
