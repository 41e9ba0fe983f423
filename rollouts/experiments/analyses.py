"""One experiment analysis per pass (§8.3): when its AnalysisRun is created, stopped, mirrored.

Until every template is available (``status.availableAt``) a run is never created; the shell only
checks that the referenced AnalysisTemplate exists, and a missing one is an ``Error`` here. After
that, the run ``<experiment>-<analysis>`` is created once, with ``{{templates.<t>.podTemplateHash}}``,
``{{templates.<t>.replicaset.name}}``, ``{{experiment.availableAt}}`` and
``{{experiment.finishedAt}}`` resolved in its argument values (§6.4: only ``value`` survives; any
other placeholder is an error, as in Argo). A run this Experiment already owns under that name (or
a collision-suffixed one) is recorded instead of created again, so a controller killed between
creating a run and writing the status does not start a second one. While the experiment is
terminating, a running run gets ``spec.terminate`` and its recorded phase is left as it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from analysis.composition import CompositionError, fill_template, parse_template
from rollouts.experiments.actions import Action, CreateExperimentRun, EmitRolloutEvent
from rollouts.experiments.inputs import INSTANCE_ID_LABEL, ExperimentObject, Observed, RunView
from rollouts.planner.actions import EmitEvent, TerminateAnalysisRun
from rollouts.planner.inputs import as_bool, as_list, as_mapping, as_str, format_time

__all__ = ["AnalysisOutcome", "reconcile_analysis", "resolve_arg_values", "run_name"]

WARNING_PHASES: Final = frozenset({"Failed", "Error", "Inconclusive"})


@dataclass
class AnalysisOutcome:
    status: dict[str, Any]
    actions: list[Action] = field(default_factory=list)


def run_name(experiment: ExperimentObject, analysis: str) -> str:
    return f"{experiment.name}-{analysis}"


def _placeholder_values(experiment: ExperimentObject, observed: Observed) -> dict[str, str]:
    values: dict[str, str] = {}
    available = experiment.available_at
    if available is not None:
        values["experiment.availableAt"] = format_time(available)
        seconds = experiment.duration_seconds
        if seconds is not None:
            values["experiment.finishedAt"] = format_time(available + timedelta(seconds=seconds))
    for template in experiment.templates:
        name = as_str(template.get("name"))
        rs = observed.replica_set(experiment.name, name)
        if rs is not None:
            values[f"templates.{name}.podTemplateHash"] = rs.pod_hash
            values[f"templates.{name}.replicaset.name"] = rs.name
    return values


def resolve_arg_values(
    analysis: Mapping[str, Any], experiment: ExperimentObject, observed: Observed
) -> list[dict[str, str]]:
    """The analysis args as plain values with the experiment placeholders filled
    (`CompositionError` naming an unknown one); an arg without a value stays valueless."""
    values = _placeholder_values(experiment, observed)
    resolved: list[dict[str, str]] = []
    for entry in as_list(analysis.get("args")):
        arg = as_mapping(entry)
        out = {"name": as_str(arg.get("name"))}
        if isinstance(arg.get("value"), str):
            out["value"] = fill_template(parse_template(arg["value"]), values)
        resolved.append(out)
    return resolved


def _owned_run(experiment: ExperimentObject, analysis: str, observed: Observed) -> RunView | None:
    """A run this Experiment created for ``analysis`` since it became available (the newest
    collision suffix). Older runs belong to an earlier attempt (``retry experiment`` wipes the
    status): a new run is created then, under the next free name."""
    base = run_name(experiment, analysis)
    pattern = re.compile(re.escape(base) + r"(?:\.(\d+))?")
    available = experiment.available_at
    found: list[tuple[int, RunView]] = []
    for name, run in observed.runs.items():
        match = pattern.fullmatch(name)
        current = run.created_at is None or available is None or run.created_at >= available
        if match and current:
            found.append((int(match.group(1) or 0), run))
    return max(found, key=lambda pair: pair[0])[1] if found else None


def _create(
    experiment: ExperimentObject, analysis: Mapping[str, Any], observed: Observed, outcome: AnalysisOutcome
) -> None:
    name = as_str(analysis.get("name"))
    status = outcome.status
    try:
        args = resolve_arg_values(analysis, experiment, observed)
    except CompositionError as error:
        status["phase"] = "Error"
        status["message"] = f"Failed to create AnalysisRun for analysis '{name}': {error}"
        return
    metadata = as_mapping(experiment.spec.get("analysisRunMetadata"))
    labels = {k: v for k, v in as_mapping(metadata.get("labels")).items() if isinstance(v, str)}
    instance = experiment.labels.get(INSTANCE_ID_LABEL)
    if instance:
        labels[INSTANCE_ID_LABEL] = instance
    annotations = {k: v for k, v in as_mapping(metadata.get("annotations")).items() if isinstance(v, str)}
    run = run_name(experiment, name)
    outcome.actions.append(
        CreateExperimentRun(
            analysis=name,
            name=run,
            template_name=as_str(analysis.get("templateName")),
            cluster_scope=as_bool(analysis.get("clusterScope")),
            args=args,
            dry_run=[as_mapping(rule) for rule in as_list(experiment.spec.get("dryRun"))],
            measurement_retention=[
                as_mapping(rule) for rule in as_list(experiment.spec.get("measurementRetention"))
            ],
            metadata={
                "name": run,
                "namespace": experiment.namespace,
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [experiment.owner_reference()],
            },
        )
    )
    status["analysisRun"] = run
    status["phase"] = "Pending"
    status.pop("message", None)


def _follow(experiment: ExperimentObject, observed: Observed, outcome: AnalysisOutcome) -> None:
    """A recorded run: stop it while terminating, else copy its phase and message."""
    status = outcome.status
    name = as_str(status.get("analysisRun"))
    run = observed.runs.get(name)
    if run is None:
        status["phase"] = "Error"
        status["message"] = f'analysisruns.argoproj.io "{name}" not found'
        return
    if experiment.terminating:
        if not run.completed and not run.terminate:
            outcome.actions.append(TerminateAnalysisRun(name))
            outcome.actions.append(
                EmitEvent("AnalysisRunTerminating", f"Terminating {status.get('name')} ({name})")
            )
        return
    status["phase"] = run.phase or "Pending"
    if run.message:
        status["message"] = run.message
    else:
        status.pop("message", None)


def reconcile_analysis(
    experiment: ExperimentObject, analysis: Mapping[str, Any], observed: Observed
) -> AnalysisOutcome:
    """Writes and the new ``analysisRuns[]`` entry for one analysis (a valid spec only)."""
    name = as_str(analysis.get("name"))
    # analysisRun and phase are required by the schema: "" until there is a run (as Go writes them)
    previous = dict(experiment.run_status(name) or {"name": name, "analysisRun": "", "phase": ""})
    outcome = AnalysisOutcome(status=dict(previous))
    status = outcome.status
    error = observed.analysis_errors.get(name)
    recorded = as_str(previous.get("analysisRun"))
    if as_str(previous.get("phase")) in ("Successful", "Failed", "Error", "Inconclusive"):
        pass  # completed: nothing more to learn
    elif experiment.available_at is None or (not recorded and error is not None):
        if error is not None:
            status["phase"] = "Error"
            status["message"] = error
    elif not recorded:
        owned = _owned_run(experiment, name, observed)
        if owned is not None:
            status["analysisRun"] = owned.name
            _follow(experiment, observed, outcome)
        elif not experiment.terminating:
            _create(experiment, analysis, observed, outcome)
    else:
        _follow(experiment, observed, outcome)
    _phase_events(experiment, name, as_str(previous.get("phase")), outcome)
    return outcome


def _phase_events(experiment: ExperimentObject, name: str, before: str, outcome: AnalysisOutcome) -> None:
    after = as_str(outcome.status.get("phase"))
    if not after or after == before:
        return
    message = f"AnalysisRun '{name}' transitioned from {before} -> {after}"
    if as_str(outcome.status.get("message")):
        message += f": {outcome.status['message']}"
    outcome.actions.append(EmitEvent(f"AnalysisRun{after}", message, warning=after in WARNING_PHASES))
    rollout = experiment.rollout_owner()
    if rollout is not None:
        outcome.actions.append(
            EmitRolloutEvent(
                as_str(rollout.get("name")), as_str(rollout.get("uid")), f"AnalysisRun{after}", message
            )
        )
