"""Argo's state metrics (reference §10.1), read from the objects at scrape time.

``rollout_info``, ``rollout_info_replicas_*``, ``rollout_phase``, ``analysis_run_info``,
``analysis_run_metric_type`` and ``analysis_run_metric_phase`` keep Argo's names and labels so
existing alerts and Grafana boards work. Two additions users asked Argo for:
``analysis_run_metric_value``, the latest numeric measurement of each metric of each run, and
``rollout_abort_info{reason}``, why an aborted rollout aborted, as one of a few fixed categories
(`abort_reason`) read from its ``RolloutAborted`` condition — never the free-text message.

A custom collector is a pure generator over the objects the controller already holds (its
indexes), called by prometheus_client at scrape time: nothing is updated on the hot path, and
the series of a deleted object vanish with it. Labels are object and metric names only — never
pod names, measurement ids or messages — so cardinality follows the objects, not their history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from rollouts.planner.inputs import RolloutView, as_int, as_list, as_mapping, as_str

__all__ = [
    "ABORT_REASONS",
    "StateCollector",
    "abort_reason",
    "analysis_run_families",
    "metrics_phase",
    "rollout_families",
    "traffic_router",
]

ROLLOUT_PHASES = ("Completed", "Progressing", "Paused", "Timeout", "Error", "Abort")
RUN_PHASES = ("Pending", "Error", "Failed", "Successful", "Running", "Inconclusive")

# Argo checks the routers in this order and the last one configured wins
_ROUTERS = (("alb", "ALB"), ("ambassador", "Ambassador"), ("istio", "Istio"), ("nginx", "Nginx"),
            ("smi", "SMI"), ("appMesh", "AppMesh"))  # fmt: skip

_PROVIDER_TYPES = {
    "prometheus": "Prometheus",
    "web": "Web",
    "job": "Job",
    "kayenta": "Kayenta",
    "datadog": "Datadog",
    "newRelic": "NewRelic",
    "wavefront": "Wavefront",
    "cloudWatch": "CloudWatch",
    "graphite": "Graphite",
    "influxdb": "Influxdb",
    "skywalking": "SkyWalking",
    "plugin": "Plugin",
}


def metrics_phase(rollout: Mapping[str, Any]) -> str:
    """§10.1's metrics-only phase, from the conditions."""
    ro = RolloutView(rollout)
    conditions = {as_str(as_mapping(c).get("type")): as_mapping(c) for c in ro.conditions}
    if as_str(conditions.get("InvalidSpec", {}).get("status")) == "True":
        return "InvalidSpec"
    reason = as_str(conditions.get("Progressing", {}).get("reason"))
    return {
        "NewReplicaSetAvailable": "Completed",
        "RolloutPaused": "Paused",
        "ReplicaSetCreateError": "Error",
        "ProgressDeadlineExceeded": "Timeout",
        "RolloutAborted": "Abort",
    }.get(reason, "Progressing")


ABORT_REASONS = (
    "AnalysisRunFailed",
    "AnalysisRunError",
    "ExperimentFailed",
    "ProgressDeadlineExceeded",
    "UserAbort",
    "Other",
)


def abort_reason(rollout: Mapping[str, Any]) -> str | None:
    """Why ``rollout`` is aborted, as one of `ABORT_REASONS`; None while it is not aborted.

    The detail after "Rollout aborted update to revision N" in the Progressing condition says
    who aborted: the planner writes "<kind> analysis phase failed|error: ..." for a run,
    "Experiment analysis phase is ..." for an experiment and the timed-out message for a
    progress deadline; Argo's controller words a run's verdict "assessed Failed|Error". No
    detail means the abort came from outside the controller (``kubectl rollouts abort``).
    """
    ro = RolloutView(rollout)
    if not ro.aborted:
        return None
    conditions = {as_str(as_mapping(c).get("type")): as_mapping(c) for c in ro.conditions}
    progressing = conditions.get("Progressing", {})
    if as_str(progressing.get("reason")) == "ProgressDeadlineExceeded":
        return "ProgressDeadlineExceeded"
    message = as_str(progressing.get("message"))
    _, _, detail = message.partition(": ")
    if as_str(progressing.get("reason")) != "RolloutAborted" or not detail:
        # the controller writes its reason in the pass that sets ``abort``; without one, a user did
        return "UserAbort"
    if detail.startswith("Experiment"):
        return "ExperimentFailed"
    if "has timed out progressing" in detail:
        return "ProgressDeadlineExceeded"
    if "analysis phase failed" in detail or "assessed Failed" in detail:
        return "AnalysisRunFailed"
    if "analysis phase error" in detail or "assessed Error" in detail:
        return "AnalysisRunError"
    return "Other"


def traffic_router(rollout: Mapping[str, Any]) -> str:
    routing = as_mapping(RolloutView(rollout).traffic_routing)
    found = ""
    for key, label in _ROUTERS:
        if routing.get(key) is not None:
            found = label
    return found


def _strategy(ro: RolloutView) -> str:
    if ro.canary is not None:
        return "canary"
    return "blueGreen" if ro.blue_green is not None else "none"


def rollout_families(rollouts: Iterable[Mapping[str, Any]]) -> list[Metric]:
    info = GaugeMetricFamily(
        "rollout_info",
        "Information about rollout.",
        labels=["namespace", "name", "strategy", "traffic_router", "phase"],
    )
    phase_family = GaugeMetricFamily(
        "rollout_phase",
        "Information on the state of the rollout (DEPRECATED - use rollout_info)",
        labels=["namespace", "name", "strategy", "phase"],
    )
    replicas = {
        suffix: GaugeMetricFamily(f"rollout_info_replicas_{suffix}", help_text, labels=["namespace", "name"])
        for suffix, help_text in (
            ("available", "The number of available replicas per rollout."),
            ("unavailable", "The number of unavailable replicas per rollout."),
            ("desired", "The number of desired replicas per rollout."),
            ("updated", "The number of updated replicas per rollout."),
        )
    }
    abort_info = GaugeMetricFamily(
        "rollout_abort_info",
        "Why an aborted rollout aborted, as a fixed category (rollouts addition).",
        labels=["namespace", "name", "reason"],
    )
    for rollout in rollouts:
        ro = RolloutView(rollout)
        strategy, phase = _strategy(ro), metrics_phase(rollout)
        info.add_metric([ro.namespace, ro.name, strategy, traffic_router(rollout), phase], 1)
        for value in ROLLOUT_PHASES:
            phase_family.add_metric([ro.namespace, ro.name, strategy, value], 1 if value == phase else 0)
        available = as_int(ro.status.get("availableReplicas"), 0)
        counts = {
            "available": available,
            "unavailable": max(ro.replicas - available, 0),
            "desired": ro.replicas,
            "updated": as_int(ro.status.get("updatedReplicas"), 0),
        }
        for suffix, count in counts.items():
            replicas[suffix].add_metric([ro.namespace, ro.name], count)
        reason = abort_reason(rollout)
        if reason is not None:
            abort_info.add_metric([ro.namespace, ro.name, reason], 1)
    return [info, phase_family, *replicas.values(), abort_info]


def _provider_type(metric: Mapping[str, Any]) -> str:
    provider = as_mapping(metric.get("provider"))
    return next((_PROVIDER_TYPES.get(key, key) for key in provider), "")


def _dry_run(run: Mapping[str, Any], metric_name: str) -> bool:
    names = [
        as_str(as_mapping(entry).get("metricName"))
        for entry in as_list(as_mapping(run.get("spec")).get("dryRun"))
    ]
    return metric_name in names or ".*" in names


def _latest_number(result: Mapping[str, Any]) -> float | None:
    for measurement in reversed(as_list(result.get("measurements"))):
        text = as_str(as_mapping(measurement).get("value")).strip().strip("[]")
        try:
            return float(text)
        except ValueError:
            continue
    return None


def analysis_run_families(runs: Iterable[Mapping[str, Any]]) -> list[Metric]:
    info = GaugeMetricFamily(
        "analysis_run_info", "Information about analysis run.", labels=["namespace", "name", "phase"]
    )
    metric_type = GaugeMetricFamily(
        "analysis_run_metric_type",
        "Information on the type of a specific metric in the Analysis Runs.",
        labels=["namespace", "name", "metric", "type"],
    )
    metric_phase = GaugeMetricFamily(
        "analysis_run_metric_phase",
        "Information on the duration of a specific metric in the Analysis Run.",
        labels=["namespace", "name", "metric", "type", "dry_run", "phase"],
    )
    metric_value = GaugeMetricFamily(
        "analysis_run_metric_value",
        "The latest numeric measurement of a metric in the Analysis Run (rollouts addition).",
        labels=["namespace", "name", "metric", "type"],
    )
    for run in runs:
        metadata, status = as_mapping(run.get("metadata")), as_mapping(run.get("status"))
        namespace, name = as_str(metadata.get("namespace")), as_str(metadata.get("name"))
        info.add_metric([namespace, name, as_str(status.get("phase"), "Pending") or "Pending"], 1)
        results = {
            as_str(as_mapping(r).get("name")): as_mapping(r) for r in as_list(status.get("metricResults"))
        }
        for entry in as_list(as_mapping(run.get("spec")).get("metrics")):
            metric = as_mapping(entry)
            metric_name, kind = as_str(metric.get("name")), _provider_type(metric)
            metric_type.add_metric([namespace, name, metric_name, kind], 1)
            result = results.get(metric_name, {})
            current = as_str(result.get("phase")) or "Pending"
            dry_run = "true" if _dry_run(run, metric_name) else "false"
            for phase in RUN_PHASES:
                metric_phase.add_metric(
                    [namespace, name, metric_name, kind, dry_run, phase], 1 if phase == current else 0
                )
            value = _latest_number(result)
            if value is not None:
                metric_value.add_metric([namespace, name, metric_name, kind], value)
    return [info, metric_type, metric_phase, metric_value]


class StateCollector(Collector):
    """Register on the controller's registry with callables returning the objects it holds."""

    def __init__(
        self,
        rollouts: Callable[[], Iterable[Mapping[str, Any]]],
        analysis_runs: Callable[[], Iterable[Mapping[str, Any]]] = tuple,
    ) -> None:
        self._rollouts = rollouts
        self._analysis_runs = analysis_runs

    def collect(self) -> Iterator[Metric]:
        yield from rollout_families(self._rollouts())
        yield from analysis_run_families(self._analysis_runs())
