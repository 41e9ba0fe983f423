"""The experiment step's Experiment object and its traffic destinations (§3.10).

Two pure decisions, kept apart from `runs` (which decides *that* an Experiment exists and reacts
to its phase) because each needs inputs the pass does not otherwise carry:

* `experiment_manifest` builds the object Argo's ``GetExperimentFromTemplate`` builds. It needs
  the pod templates of newRS and stableRS, which the planner's ReplicaSet views do not keep (they
  are kept small on purpose), so the shell reads the two ReplicaSets and calls it when it applies
  `CreateExperiment`. A step it cannot build from (an unknown ``specRef``, a malformed template
  or argument) raises `ExperimentSpecError` with the reason — the only exception it raises — and
  the shell reports it as Argo reports a reconcile error, without creating anything.
* `experiment_destinations` turns a Running Experiment's template Services into the extra
  weighted destinations the routers receive (§3.6).

Which old Experiments are deleted is decided with AnalysisRuns' rule in `retention`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from analysis.composition import CompositionError, resolve_caller_args
from analysis.models import ManifestError
from rollouts.models.steps import RolloutExperimentStep, RolloutExperimentTemplate
from rollouts.planner.actions import CreateExperiment, ExperimentDestination
from rollouts.planner.inputs import (
    POD_HASH_LABEL,
    REVISION_ANNOTATION,
    ExperimentView,
    RolloutView,
    as_int,
    as_mapping,
)

__all__ = [
    "ExperimentSpecError",
    "experiment_destinations",
    "experiment_manifest",
]

INVALID_SPEC_REF: Final = "Invalid template step SpecRef: must be canary or stable"


class ExperimentSpecError(ValueError):
    """The experiment step cannot be turned into an Experiment; the message says why."""


def _template(
    step_template: RolloutExperimentTemplate, source: Mapping[str, Any], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """One ``spec.templates[]`` entry from the step's template and the ReplicaSet it refers to."""
    rs_spec = as_mapping(source.get("spec"))
    pod_template = copy.deepcopy(dict(as_mapping(rs_spec.get("template"))))
    selector_source = raw.get("selector") if step_template.selector is not None else rs_spec.get("selector")
    selector = copy.deepcopy(dict(as_mapping(selector_source)))
    template: dict[str, Any] = {"name": step_template.name}
    if step_template.replicas is not None:
        template["replicas"] = step_template.replicas
    min_ready = as_int(rs_spec.get("minReadySeconds"), 0)
    if min_ready:
        template["minReadySeconds"] = min_ready
    metadata = step_template.metadata
    if metadata is not None and (metadata.labels or metadata.annotations):
        pod_metadata = dict(as_mapping(pod_template.get("metadata")))
        if metadata.labels:
            pod_metadata["labels"] = {**as_mapping(pod_metadata.get("labels")), **metadata.labels}
            selector["matchLabels"] = {**as_mapping(selector.get("matchLabels")), **metadata.labels}
        if metadata.annotations:
            pod_metadata["annotations"] = {
                **as_mapping(pod_metadata.get("annotations")),
                **metadata.annotations,
            }
        pod_template["metadata"] = pod_metadata
    template["selector"] = selector
    template["template"] = pod_template
    if step_template.weight is not None or step_template.service is not None:
        name = step_template.service.name if step_template.service is not None else None
        template["service"] = {"name": name} if name else {}
    return template


def _analyses(
    step: RolloutExperimentStep, rollout: Mapping[str, Any], action: CreateExperiment
) -> list[dict[str, Any]]:
    """The step's analyses with the Rollout's args resolved to plain values (§6.4)."""
    analyses: list[dict[str, Any]] = []
    for analysis in step.analyses or []:
        try:
            args = resolve_caller_args(
                analysis.args or [],
                rollout,
                stable_hash=action.stable_hash or None,
                latest_hash=action.pod_hash or None,
            )
        except CompositionError as error:
            raise ExperimentSpecError(f"analysis {analysis.name!r}: {error}") from None
        entry: dict[str, Any] = {"name": analysis.name, "templateName": analysis.template_name}
        if analysis.cluster_scope is not None:
            entry["clusterScope"] = analysis.cluster_scope
        if args:
            entry["args"] = [arg.to_dict() for arg in args]
        if analysis.required_for_completion is not None:
            entry["requiredForCompletion"] = analysis.required_for_completion
        analyses.append(entry)
    return analyses


def experiment_manifest(
    rollout: Mapping[str, Any],
    action: CreateExperiment,
    new_rs: Mapping[str, Any],
    stable_rs: Mapping[str, Any],
) -> dict[str, Any]:
    """The Experiment for ``action``'s step (§3.10), from the ReplicaSets as the API returns them.

    Raises `ExperimentSpecError` (and nothing else) when the step cannot be built from.
    """
    ro = RolloutView(rollout)
    try:
        step = RolloutExperimentStep.from_dict(action.experiment)
    except ManifestError as error:
        raise ExperimentSpecError(str(error)) from None
    raw_templates = [as_mapping(entry) for entry in action.experiment.get("templates") or []]
    templates = []
    for step_template, raw in zip(step.templates, raw_templates, strict=True):
        if step_template.spec_ref == "canary":
            source = new_rs
        elif step_template.spec_ref == "stable":
            source = stable_rs
        else:
            raise ExperimentSpecError(INVALID_SPEC_REF)
        templates.append(_template(step_template, source, raw))
    spec: dict[str, Any] = {"templates": templates}
    if step.duration is not None:
        spec["duration"] = step.duration
    if ro.spec.get("progressDeadlineSeconds") is not None:
        spec["progressDeadlineSeconds"] = ro.progress_deadline_seconds
    if step.dry_run:
        spec["dryRun"] = [entry.to_dict() for entry in step.dry_run]
    if step.analysis_run_metadata is not None:
        spec["analysisRunMetadata"] = step.analysis_run_metadata.to_dict()
    if step.scale_down_delay_seconds is not None:
        spec["scaleDownDelaySeconds"] = step.scale_down_delay_seconds
    analyses = _analyses(step, rollout, action)
    if analyses:
        spec["analyses"] = analyses
    labels = {k: v for k, v in as_mapping(ro.metadata.get("labels")).items() if isinstance(v, str)}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Experiment",
        "metadata": {
            "name": action.name,
            "namespace": ro.namespace,
            "labels": {**labels, POD_HASH_LABEL: action.pod_hash},
            "annotations": {REVISION_ANNOTATION: str(action.revision)},
            "ownerReferences": [ro.owner_reference()],
        },
        "spec": spec,
    }


def experiment_destinations(
    step: Mapping[str, Any], experiment: ExperimentView | None
) -> tuple[ExperimentDestination, ...]:
    """Argo's ``calculateWeightDestinationsFromExperiment``: while the step's Experiment is
    Running, each template status whose step template has a ``weight`` is a destination."""
    if experiment is None or experiment.phase != "Running":
        return ()
    weights = {
        as_mapping(entry).get("name"): as_mapping(entry).get("weight")
        for entry in as_mapping(step.get("experiment")).get("templates") or []
    }
    destinations = []
    for template in experiment.templates:
        weight = weights.get(template.name)
        if weight is None or isinstance(weight, bool) or not isinstance(weight, int):
            continue  # validation demands an int; a template without one gets no traffic
        destinations.append(ExperimentDestination(template.service_name, template.pod_template_hash, weight))
    return tuple(destinations)
