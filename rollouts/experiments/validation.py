"""Is the Experiment spec usable? (§8.1: otherwise ``InvalidSpec`` and no other processing.)

Argo's checks run first, in its order and with its messages (a missing or empty selector,
``minReadySeconds`` longer than the progress deadline, an empty or repeated template name). A
few more turn what would otherwise be an exception or a silent misbehaviour into the same
condition: a template or selector that is not an object, a pod template that is missing or not
an object, a ``duration`` Go cannot parse, an analysis without a name or a template name, or
two analyses with one name (their statuses would overwrite each other).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from analysis.values import DurationError, parse_go_duration
from rollouts.experiments.inputs import ExperimentObject
from rollouts.planner.inputs import as_int, as_mapping, as_str

__all__ = ["Messages", "invalid_spec_message"]


class Messages:
    """Argo's InvalidSpec messages for Experiments (``utils/conditions``), and ours."""

    MISSING_FIELD: Final = "Rollout has missing field '{field}'"
    SELECT_ALL: Final = (
        "This experiment is selecting all pods at index {index}. A non-empty selector is required."
    )
    MIN_READY_LONGER: Final = (
        "MinReadySeconds cannot be longer than ProgressDeadlineSeconds. Check template index {index}"
    )
    EMPTY_NAME: Final = "Experiment {experiment} has empty template name at index {index}"
    REPEATED_NAME: Final = "Experiment {experiment} has repeated template name '{name}' in templates"
    NOT_AN_OBJECT: Final = "spec.templates[{index}]: Invalid value: must be an object"
    NOT_A_LIST: Final = "spec.{field}: Invalid value: must be a list"
    BAD_DURATION: Final = 'spec.duration: Invalid value: "{value}": {error}'
    ANALYSIS_FIELD: Final = "spec.analyses[{index}].{field}: Required value"
    REPEATED_ANALYSIS: Final = "Experiment {experiment} has repeated analysis name '{name}' in analyses"


def _selector_empty(selector: Mapping[str, Any]) -> bool:
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def _template_message(experiment: ExperimentObject, index: int, template: Any, seen: set[str]) -> str | None:
    if not isinstance(template, Mapping):
        return Messages.NOT_AN_OBJECT.format(index=index)
    selector = template.get("selector")
    if not isinstance(selector, Mapping):
        return Messages.MISSING_FIELD.format(field=f".Spec.Templates[{index}].Selector")
    if _selector_empty(selector):
        return Messages.SELECT_ALL.format(index=index)
    if as_int(template.get("minReadySeconds"), 0) > experiment.progress_deadline_seconds:
        return Messages.MIN_READY_LONGER.format(index=index)
    name = as_str(template.get("name"))
    if not name:
        return Messages.EMPTY_NAME.format(experiment=experiment.name, index=index)
    if name in seen:
        return Messages.REPEATED_NAME.format(experiment=experiment.name, name=name)
    seen.add(name)
    if not isinstance(template.get("template"), Mapping):
        return Messages.MISSING_FIELD.format(field=f".Spec.Templates[{index}].Template")
    return None


def invalid_spec_message(obj: Mapping[str, Any]) -> str | None:
    """The first problem with the Experiment's spec, or ``None`` when it can run."""
    experiment = ExperimentObject(obj)
    for name in ("templates", "analyses"):
        if experiment.spec.get(name) is not None and not isinstance(experiment.spec.get(name), list):
            return Messages.NOT_A_LIST.format(field=name)
    seen: set[str] = set()
    for index, template in enumerate(experiment.spec.get("templates") or []):
        message = _template_message(experiment, index, template, seen)
        if message is not None:
            return message
    if experiment.duration_text:
        try:
            parse_go_duration(experiment.duration_text)
        except DurationError as error:
            return Messages.BAD_DURATION.format(value=experiment.duration_text, error=error)
    names: set[str] = set()
    for index, analysis in enumerate(experiment.spec.get("analyses") or []):
        if not isinstance(analysis, Mapping):
            return Messages.ANALYSIS_FIELD.format(index=index, field="name")
        entry = as_mapping(analysis)
        for field in ("name", "templateName"):
            if not as_str(entry.get(field)):
                return Messages.ANALYSIS_FIELD.format(index=index, field=field)
        name = as_str(entry.get("name"))
        if name in names:
            return Messages.REPEATED_ANALYSIS.format(experiment=experiment.name, name=name)
        names.add(name)
    return None
