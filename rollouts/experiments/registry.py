"""The kopf side of the Experiment controller: indexes of its children and handlers that only wake.

`register` adds to the operator's registry (the one ``rollouts controller`` builds for Rollouts
and AnalysisRuns, so all three share one process, one API client and its request metrics):

* three indexes — ReplicaSets, Services and AnalysisRuns whose controller is an Experiment,
  keyed by (namespace, experiment), holding `children` projections;
* an ``on.event`` handler for Experiments feeding one loop per Experiment (the AnalysisRun
  controller's `RunLoops`: a task that sleeps until woken, until the plan's timer, or until the
  resync, and reconciles the freshest copy), and handlers for the children that wake the
  owning Experiment's loop. kopf updates an index before it calls the handlers of the same
  event, so a woken loop reads the new projection;
* the ``experiment_reconcile`` histogram, the ``experiment_reconcile_error`` counter and a
  scrape-time collector for ``experiment_info`` / ``experiment_phase`` (§10.1).

Handlers are coroutines (waking an asyncio loop must happen on its own thread) and return
nothing (kopf would store a return value in the object).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

import kopf
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from analysis.controller.loops import RunLoops
from rollouts.controller.kube import KubeClient
from rollouts.experiments.children import (
    ReplicaSetRecord,
    RunRecord,
    ServiceRecord,
    experiment_key,
    project_replica_set,
    project_run,
    project_service,
)
from rollouts.experiments.shell import ExperimentReconciler
from rollouts.planner.inputs import as_mapping, as_str

__all__ = ["EXPERIMENTS", "ExperimentCollector", "ExperimentMetrics", "IndexedChildren", "register"]

EXPERIMENTS: Final = ("argoproj.io", "v1alpha1", "experiments")
REPLICA_SETS: Final = ("apps", "v1", "replicasets")
SERVICES: Final = ("v1", "services")
ANALYSIS_RUNS: Final = ("argoproj.io", "v1alpha1", "analysisruns")
_INDEXES: Final = ("experiment_replica_sets", "experiment_services", "experiment_runs")
EXPERIMENT_PHASES: Final = ("Pending", "Error", "Successful", "Running", "Inconclusive")
"""§10.1: the ``experiment_phase`` series (Argo has no Failed one)."""


class IndexedChildren:
    """`shell.ChildSource` over kopf's indexes (bound when the operator starts)."""

    def __init__(self) -> None:
        self._indexes: Mapping[str, Any] = {}

    def bind(self, indexes: Mapping[str, Any]) -> None:
        self._indexes = indexes

    def _lookup(self, index: str, namespace: str, experiment: str) -> list[Any]:
        found = self._indexes.get(index)
        store = found.get((namespace, experiment)) if found is not None else None
        return list(store) if store is not None else []

    def replica_sets(self, namespace: str, experiment: str) -> list[ReplicaSetRecord]:
        return self._lookup("experiment_replica_sets", namespace, experiment)

    def services(self, namespace: str, experiment: str) -> list[ServiceRecord]:
        return self._lookup("experiment_services", namespace, experiment)

    def runs(self, namespace: str, experiment: str) -> list[RunRecord]:
        return self._lookup("experiment_runs", namespace, experiment)


class ExperimentMetrics:
    """``experiment_reconcile`` and ``experiment_reconcile_error`` (§10.1)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.reconcile = Histogram(
            "experiment_reconcile",
            "Experiments reconciliation performance.",
            ["namespace", "name"],
            buckets=(0.01, 0.15, 0.25, 0.5, 1.0),
            registry=registry,
        )
        self.errors = Counter(
            "experiment_reconcile_error",
            "Error occurring during the experiment",
            ["namespace", "name"],
            registry=registry,
        )

    def observe(self, namespace: str, name: str, seconds: float, *, failed: bool) -> None:
        self.reconcile.labels(namespace=namespace, name=name).observe(seconds)
        if failed:
            self.errors.labels(namespace=namespace, name=name).inc()


class ExperimentCollector(Collector):
    """``experiment_info`` and ``experiment_phase`` from the Experiments the loops hold."""

    def __init__(self, experiments: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._experiments = experiments

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "experiment_info", "Information about Experiment.", labels=["namespace", "name", "phase"]
        )
        phases = GaugeMetricFamily(
            "experiment_phase",
            "Information on the state of the experiment (DEPRECATED - use experiment_info)",
            labels=["namespace", "name", "phase"],
        )
        for body in self._experiments():
            metadata = as_mapping(body.get("metadata"))
            namespace, name = as_str(metadata.get("namespace")), as_str(metadata.get("name"))
            phase = as_str(as_mapping(body.get("status")).get("phase")) or "Pending"
            info.add_metric([namespace, name, phase], 1)
            for candidate in EXPERIMENT_PHASES:
                phases.add_metric([namespace, name, candidate], 1 if candidate == phase else 0)
        yield info
        yield phases


def register(
    registry: kopf.OperatorRegistry,
    client: KubeClient,
    metrics_registry: CollectorRegistry,
    *,
    clock: Callable[[], datetime],
    resync_seconds: float = 900.0,
) -> RunLoops:
    """Add the Experiment controller to ``registry``; the returned loops are for introspection."""
    children = IndexedChildren()
    reconciler = ExperimentReconciler(
        client, children, clock=clock, metrics=ExperimentMetrics(metrics_registry)
    )
    loops = RunLoops(reconciler, clock, resync_seconds, kind="Experiment")
    metrics_registry.register(ExperimentCollector(loops.runs))

    @kopf.on.startup(id="experiment_controller_bind", registry=registry)
    async def _bind(**kwargs: Any) -> None:
        children.bind({name: kwargs[name] for name in _INDEXES})

    @kopf.on.cleanup(id="experiment_controller_cleanup", registry=registry)
    async def _stop(**_: Any) -> None:
        await loops.stop_all()

    @kopf.index(*REPLICA_SETS, id="experiment_replica_sets", registry=registry)
    async def experiment_replica_sets(body: kopf.Body, **_: Any) -> dict[Any, ReplicaSetRecord] | None:
        key = experiment_key(body)
        return None if key is None else {key: project_replica_set(body)}

    @kopf.index(*SERVICES, id="experiment_services", registry=registry)
    async def experiment_services(body: kopf.Body, **_: Any) -> dict[Any, ServiceRecord] | None:
        key = experiment_key(body)
        return None if key is None else {key: project_service(body)}

    @kopf.index(*ANALYSIS_RUNS, id="experiment_runs", registry=registry)
    async def experiment_runs(body: kopf.Body, **_: Any) -> dict[Any, RunRecord] | None:
        key = experiment_key(body)
        return None if key is None else {key: project_run(body)}

    @kopf.on.event(*EXPERIMENTS, id="experiment_controller", registry=registry)
    async def _experiment(event: Mapping[str, Any], **_: Any) -> None:
        body = event["object"]
        if event.get("type") == "DELETED":
            metadata = as_mapping(body.get("metadata"))
            reconciler.forget(as_str(metadata.get("namespace")), as_str(metadata.get("name")))
        loops.event(event.get("type"), body)

    async def _child(body: kopf.Body, **_: Any) -> None:
        key = experiment_key(body)
        if key is not None:
            loops.wake(*key)

    for resource in (REPLICA_SETS, SERVICES, ANALYSIS_RUNS):
        kopf.on.event(*resource, id=f"experiment_child_{resource[-1]}", registry=registry)(_child)

    return loops
