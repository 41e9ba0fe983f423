"""AnalysisRuns and Experiments a canary owns (§3.9, §3.10): which to create, cancel, react to.

The planner never builds a run's spec (template merging and argument resolution belong to the
`analysis` package); it decides *that* a run of a kind must exist, under which name, and how the
Rollout reacts to the phase of the runs it recorded in status:

* ``Inconclusive`` -> pause with ``InconclusiveAnalysisRun`` / ``InconclusiveExperiment``;
* ``Failed``/``Error`` -> abort, with Argo's message (``Step-based analysis phase failed: ...``);
* ``Successful`` -> the analysis/experiment step completes (decided in `steps`).

Runs are identified by the names recorded in ``status.canary`` and looked up in `Observed`; a
recorded run the shell could not find counts as absent, so it is re-created. New runs get
Argo's names, with a ``.N`` suffix when the base name is taken. Every other run the Rollout owns
is terminated and, once finished, pruned by the history limits (`reconcile_other_runs`, shared
with blue-green).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from rollouts.planner.actions import (
    CreateAnalysisRun,
    CreateExperiment,
    DeleteAnalysisRun,
    DeleteExperiment,
    TerminateAnalysisRun,
    TerminateExperiment,
)
from rollouts.planner.context import PassContext
from rollouts.planner.inputs import AnalysisRunView, ExperimentView, as_int, as_list, as_mapping, as_str
from rollouts.planner.pause import (
    BLUE_GREEN_PAUSE,
    CANARY_PAUSE_STEP,
    INCONCLUSIVE_ANALYSIS,
    INCONCLUSIVE_EXPERIMENT,
)
from rollouts.planner.retention import children_to_delete, run_history_limits
from rollouts.planner.steps import current_step, step_kind

__all__ = [
    "create_run",
    "current_experiment",
    "needs_new_run",
    "react_to_run",
    "reconcile_canary_analysis",
    "reconcile_experiment",
    "reconcile_other_runs",
    "recorded_run",
    "run_status",
    "terminate_run",
]

COMPLETED_PHASES: Final = frozenset({"Successful", "Failed", "Error", "Inconclusive"})
_RECORDED_RUNS: Final = (
    ("canary", "currentStepAnalysisRunStatus"),
    ("canary", "currentBackgroundAnalysisRunStatus"),
    ("blueGreen", "prePromotionAnalysisRunStatus"),
    ("blueGreen", "postPromotionAnalysisRunStatus"),
)
_ABORT_PHASES: Final = {"Failed": "failed", "Error": "error"}
_ABORT_PREFIX: Final = {
    "Step": "Step-based",
    "Background": "Background",
    "PrePromotion": "Blue/green pre-promotion",
    "PostPromotion": "Blue/green post-promotion",
}


def recorded_run(ctx: PassContext, status_key: str, section: str = "canary") -> AnalysisRunView | None:
    """The run whose name ``status.<section>.<status_key>`` records, if the shell observed it."""
    name = as_str(as_mapping(as_mapping(ctx.ro.status.get(section)).get(status_key)).get("name"))
    return ctx.observed.analysis_runs.get(name) if name else None


def run_status(run: AnalysisRunView | None) -> dict[str, Any] | None:
    """``RolloutAnalysisRunStatus`` as Go serializes it: name and status always, message if set."""
    if run is None:
        return None
    recorded: dict[str, Any] = {"name": run.name, "status": run.phase}
    if run.message:
        recorded["message"] = run.message
    return recorded


def terminate_run(ctx: PassContext, run: AnalysisRunView | None) -> None:
    if run is not None and not run.terminating and run.phase not in COMPLETED_PHASES:
        ctx.actions.append(TerminateAnalysisRun(run.name))


def reconcile_other_runs(ctx: PassContext, current: Iterable[AnalysisRunView | None], *, prune: bool) -> None:
    """The tail of Argo's ``reconcileAnalysisRuns``: every run neither recorded in the previous
    status nor current in this pass is terminated, and with ``prune`` the finished ones beyond
    the history limits (or whose ReplicaSet is gone) are deleted (§3.9 retention).

    Argo prunes nothing in a pass that aborts or promotes fully, so those pass ``prune=False``.
    A run recorded in the previous status but no longer current is left for the next pass, when
    the status written now no longer names it.
    """
    status = ctx.ro.status
    kept = {run.name for run in current if run is not None}
    kept.update(
        as_str(as_mapping(as_mapping(status.get(section)).get(key)).get("name"))
        for section, key in _RECORDED_RUNS
    )
    others = [run for name, run in ctx.observed.analysis_runs.items() if name not in kept]
    for run in others:
        terminate_run(ctx, run)
    if prune:
        for run in children_to_delete(others, ctx.all_rss, *run_history_limits(ctx.ro)):
            ctx.actions.append(DeleteAnalysisRun(run.name))


def needs_new_run(ctx: PassContext, run: AnalysisRunView | None) -> bool:
    """Argo's ``needsNewAnalysisRun``: none yet; the user resumed an inconclusive pause; or a retry."""
    if run is None:
        return True
    ro = ctx.ro
    resumed = (
        ro.controller_pause
        and ro.pause_condition(CANARY_PAUSE_STEP) is None
        and ro.pause_condition(BLUE_GREEN_PAUSE) is None
    )
    if resumed and run.phase == "Inconclusive":
        return True
    return bool(ro.status.get("abortedAt"))


def _free_name(ctx: PassContext, base: str) -> str:
    if base not in ctx.observed.analysis_runs:
        return base
    suffix = 1
    while f"{base}.{suffix}" in ctx.observed.analysis_runs:
        suffix += 1
    return f"{base}.{suffix}"


def create_run(
    ctx: PassContext, kind: str, base_name: str, analysis: Mapping[str, Any], index: int | None
) -> AnalysisRunView:
    name = _free_name(ctx, base_name)
    ctx.actions.append(CreateAnalysisRun(name, kind, analysis, ctx.current_pod_hash, ctx.revision, index))
    return AnalysisRunView(name)


def react_to_run(
    ctx: PassContext, run: AnalysisRunView | None, kind: str, previous: Mapping[str, Any]
) -> None:
    """Pause or abort on a run's phase, and emit ``AnalysisRun<Phase>`` when it changed.

    ``kind`` is the run's ``rollout-type`` (Step, Background, PrePromotion, PostPromotion).
    """
    if run is None:
        return
    if run.phase and run.phase != as_str(previous.get("status")):
        before = as_str(previous.get("status")) or "NoPreviousStatus"
        ctx.event(
            f"AnalysisRun{run.phase}",
            f"{kind} Analysis Run '{run.name}' Status New: '{run.phase}' Previous: '{before}'",
            warning=run.phase in _ABORT_PHASES,
        )
    if run.phase == "Inconclusive":
        ctx.pause.add.append(INCONCLUSIVE_ANALYSIS)
    elif run.phase in _ABORT_PHASES:
        ctx.pause.abort(f"{_ABORT_PREFIX[kind]} analysis phase {_ABORT_PHASES[run.phase]}: {run.message}")


def reconcile_canary_analysis(ctx: PassContext, canary_status: dict[str, Any]) -> None:
    """Step and background runs for this pass; records them in ``canary_status``."""
    ro = ctx.ro
    step_run = recorded_run(ctx, "currentStepAnalysisRunStatus")
    background_run = recorded_run(ctx, "currentBackgroundAnalysisRunStatus")
    if ctx.pause.aborted:
        terminate_run(ctx, step_run)
        terminate_run(ctx, background_run)
        reconcile_other_runs(ctx, (step_run, background_run), prune=False)
        canary_status["currentStepAnalysisRunStatus"] = run_status(step_run)
        canary_status["currentBackgroundAnalysisRunStatus"] = run_status(background_run)
        return
    if ro.is_fully_promoted or ro.promote_full or ctx.stable_rs is None:
        terminate_run(ctx, step_run)
        terminate_run(ctx, background_run)
        reconcile_other_runs(ctx, (), prune=not ro.promote_full)
        canary_status.pop("currentStepAnalysisRunStatus", None)
        canary_status.pop("currentBackgroundAnalysisRunStatus", None)
        return
    previous = as_mapping(ro.status.get("canary"))
    step_run = _step_run(ctx, step_run)
    background_run = _background_run(ctx, background_run)
    react_to_run(ctx, step_run, "Step", as_mapping(previous.get("currentStepAnalysisRunStatus")))
    react_to_run(
        ctx, background_run, "Background", as_mapping(previous.get("currentBackgroundAnalysisRunStatus"))
    )
    reconcile_other_runs(ctx, (step_run, background_run), prune=True)
    canary_status["currentStepAnalysisRunStatus"] = run_status(step_run)
    canary_status["currentBackgroundAnalysisRunStatus"] = run_status(background_run)


def _step_run(ctx: PassContext, current: AnalysisRunView | None) -> AnalysisRunView | None:
    ro = ctx.ro
    step, index = current_step(ro.steps, ro.current_step_index)
    if ro.pause_conditions or ro.aborted:
        return current
    if step is None or index is None or step_kind(step) != "analysis":
        terminate_run(ctx, current)
        return None
    analysis = as_mapping(step.get("analysis"))
    if not as_list(analysis.get("templates")) or not needs_new_run(ctx, current):
        return current
    base = f"{ro.name}-{ctx.current_pod_hash}-{ctx.revision}-{index}"
    return create_run(ctx, "Step", base, analysis, index)


def _background_run(ctx: PassContext, current: AnalysisRunView | None) -> AnalysisRunView | None:
    ro = ctx.ro
    analysis = as_mapping(as_mapping(ro.canary).get("analysis"))
    if not as_list(analysis.get("templates")):
        terminate_run(ctx, current)
        return None
    _, index = current_step(ro.steps, ro.current_step_index)
    starting = analysis.get("startingStep")
    before_start = starting is not None and index is not None and index < as_int(starting, 0)
    if ro.is_fully_promoted or not ro.stable_rs or not ro.current_pod_hash or before_start:
        return None
    if not needs_new_run(ctx, current):
        return current
    base = f"{ro.name}-{ctx.current_pod_hash}-{ctx.revision}"
    return create_run(ctx, "Background", base, analysis, None)


def current_experiment(ctx: PassContext) -> ExperimentView | None:
    """The Experiment ``status.canary.currentExperiment`` names, if the shell observed it."""
    name = as_str(as_mapping(ctx.ro.status.get("canary")).get("currentExperiment"))
    return ctx.observed.experiments.get(name) if name else None


def _terminate_experiment(ctx: PassContext, experiment: ExperimentView | None) -> None:
    if experiment is not None and not experiment.terminating and experiment.phase not in COMPLETED_PHASES:
        ctx.actions.append(TerminateExperiment(experiment.name))


def _step_experiment(ctx: PassContext, index: int, step: Mapping[str, Any]) -> ExperimentView | None:
    """The step's Experiment: an unfinished one already named ``<base>[-N]`` is ours from an
    earlier pass whose status write was lost (Argo's collision handling reuses it); otherwise a
    new one under the first free name. ``None`` while stableRS or newRS does not exist yet."""
    ro = ctx.ro
    if ctx.stable_rs is None or ctx.new_rs is None:
        return None
    base = f"{ro.name}-{ctx.current_pod_hash}-{ctx.revision}-{index}"
    name, suffix = base, 0
    while (existing := ctx.observed.experiments.get(name)) is not None:
        if existing.phase not in COMPLETED_PHASES and not existing.terminating:
            return existing
        suffix += 1
        name = f"{base}-{suffix}"
    ctx.actions.append(
        CreateExperiment(
            name,
            index,
            as_mapping(step.get("experiment")),
            ctx.current_pod_hash,
            ctx.stable_rs.pod_hash,
            ctx.revision,
            new_rs_name=ctx.new_rs.name,
            stable_rs_name=ctx.stable_rs.name,
        )
    )
    ctx.event("ExperimentCreated", f"Created Experiment '{name}'", with_write=True)
    return ExperimentView(name)


def reconcile_experiment(ctx: PassContext, canary_status: dict[str, Any]) -> str:
    """The experiment step (§3.10); returns the current Experiment's phase ('' if none).

    As Argo's ``reconcileExperiments``: on abort or promote-full every unfinished Experiment is
    terminated; while an inconclusive analysis holds the rollout nothing changes; otherwise the
    step's Experiment is created or reacted to, every other unfinished one is terminated, and
    finished ones are pruned (`retention.children_to_delete`).
    """
    ro = ctx.ro
    current = current_experiment(ctx)
    step, index = current_step(ro.steps, ro.current_step_index)
    on_experiment_step = step is not None and index is not None and step_kind(step) == "experiment"
    if ctx.pause.aborted or ro.promote_full:
        for experiment in ctx.observed.experiments.values():
            _terminate_experiment(ctx, experiment)
        canary_status.pop("currentExperiment", None)
        return ""
    if ro.pause_condition(INCONCLUSIVE_ANALYSIS) is not None:
        if current is not None:
            canary_status["currentExperiment"] = current.name
        return current.phase if current is not None and on_experiment_step else ""
    if step is not None and index is not None and on_experiment_step:
        current = current or _step_experiment(ctx, index, step)
    else:
        current = None
    others = [e for e in ctx.observed.experiments.values() if current is None or e.name != current.name]
    for experiment in others:
        _terminate_experiment(ctx, experiment)
    for experiment in children_to_delete(others, ctx.all_rss, *run_history_limits(ro)):
        ctx.actions.append(DeleteExperiment(experiment.name))
    if current is None:
        canary_status.pop("currentExperiment", None)
        return ""
    if current.phase == "Inconclusive":
        ctx.pause.add.append(INCONCLUSIVE_EXPERIMENT)
    elif current.phase in _ABORT_PHASES:
        ctx.pause.abort(f"Experiment analysis phase is {_ABORT_PHASES[current.phase]}: {current.message}")
    canary_status["currentExperiment"] = current.name
    return current.phase
