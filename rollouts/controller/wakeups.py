"""The kopf registry: indexes of compact child projections, and event handlers that only wake.

Nothing here decides anything. Each watched kind has an index whose values are `observe`
projections keyed by the owning Rollout, and an ``on.event`` handler that wakes the loop(s) the
object concerns: its controlling Rollout, the Rollouts that name a Service, the Rollouts whose
selector matches an orphan ReplicaSet, the Rollout whose ``workloadRef`` names a Deployment (only
Deployments are watched; a ReplicaSet or PodTemplate target is re-read on the Rollout's own
events and on resync), and the Rollouts whose ``trafficRouting`` names a routing object. kopf
updates an index before it calls the handlers for the same event, so a woken loop reads the new
projection.

Routing objects (Ingress, Istio VirtualService/DestinationRule, Gateway API routes, SMI
TrafficSplit) keep no index: the routers read them afresh on every pass, so an event only has to
wake the Rollouts that name the object — a stable Ingress created after its Rollout is then used
at once instead of on the next retry. Their selectors carry no version, so kopf watches the
version the cluster prefers. A kind whose CRD is not installed is tolerated by kopf itself: it
logs "Unresolved resources cannot be served" once, watches nothing for it, and starts watching
if the CRD appears later (it watches CRDs).

Rollout events feed the loop itself, including status-only changes (``status.abort``,
``pauseConditions``, ``currentStepIndex``, ``promoteFull`` patched by Argo's plugin or Argo CD),
which wake it exactly like spec changes do. Handlers return nothing (kopf would store a return
value in the object's status) and are coroutines: kopf runs plain functions in worker threads,
and waking an asyncio loop must happen on its own thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import kopf

import traffic
from rollouts.controller.loop import Loops
from rollouts.controller.observe import (
    ChildRecord,
    ReplicaSetRecord,
    ServiceRecord,
    child_index_key,
    controller_owner,
    project_child,
    project_replica_set,
    project_service,
    replica_set_index_key,
)
from rollouts.planner.inputs import as_mapping, as_str

__all__ = ["IndexedChildren", "build_registry"]

ROLLOUTS = ("argoproj.io", "v1alpha1", "rollouts")
ANALYSIS_RUNS = ("argoproj.io", "v1alpha1", "analysisruns")
EXPERIMENTS = ("argoproj.io", "v1alpha1", "experiments")
REPLICA_SETS = ("apps", "v1", "replicasets")
SERVICES = ("v1", "services")
DEPLOYMENTS = ("apps", "v1", "deployments")
# (group, plural) of every kind a router reads; no version (see the module doc).
ROUTING_KINDS = (
    ("networking.k8s.io", "ingresses"),
    ("networking.istio.io", "virtualservices"),
    ("networking.istio.io", "destinationrules"),
    ("gateway.networking.k8s.io", "httproutes"),
    ("gateway.networking.k8s.io", "grpcroutes"),
    ("gateway.networking.k8s.io", "tcproutes"),
    ("gateway.networking.k8s.io", "tlsroutes"),
    ("split.smi-spec.io", "trafficsplits"),
)
RoutingKey = tuple[str, str, str, str]
"""(group, plural, namespace, name) of a routing object, whatever its version."""


class IndexedChildren:
    """`loop.ChildSource` over kopf's indexes (bound once the operator has created them)."""

    def __init__(self) -> None:
        self._indexes: Mapping[str, Any] = {}

    def bind(self, indexes: Mapping[str, Any]) -> None:
        self._indexes = indexes

    def _lookup(self, index: str, key: object) -> Iterable[Any]:
        found = self._indexes.get(index)
        if found is None:
            return ()
        store = found.get(key)
        return list(store) if store is not None else ()

    def replica_sets(self, namespace: str, rollout: str) -> list[ReplicaSetRecord]:
        return list(self._lookup("rollout_replica_sets", ("owned", namespace, rollout)))

    def orphan_replica_sets(self, namespace: str) -> list[ReplicaSetRecord]:
        return list(self._lookup("rollout_replica_sets", ("orphan", namespace, "")))

    def services(self, namespace: str) -> dict[str, ServiceRecord]:
        return {record.name: record for record in self._lookup("namespace_services", namespace)}

    def analysis_runs(self, namespace: str, rollout: str) -> list[ChildRecord]:
        return list(self._lookup("rollout_analysis_runs", (namespace, rollout)))

    def experiments(self, namespace: str, rollout: str) -> list[ChildRecord]:
        return list(self._lookup("rollout_experiments", (namespace, rollout)))


def _namespace(body: Mapping[str, Any]) -> str:
    return as_str(as_mapping(body.get("metadata")).get("namespace"))


def routing_keys(rollout: Mapping[str, Any] | None) -> set[RoutingKey]:
    """The routing objects ``rollout``'s routers read; none if it routes no traffic or its
    configuration is refused (the loop reports that itself)."""
    canary = as_mapping(as_mapping(as_mapping(as_mapping(rollout).get("spec")).get("strategy")).get("canary"))
    if canary.get("trafficRouting") is None:
        return set()
    try:
        routing = traffic.Routing.from_rollout(as_mapping(rollout))
        refs = [ref for router in traffic.configured(routing) for ref in router.reads(routing)]
    except traffic.RoutingError:
        return set()
    return {(ref.api_version.rpartition("/")[0], ref.plural, ref.namespace, ref.name) for ref in refs}


def _wake_owner(loops: Loops, body: Mapping[str, Any]) -> None:
    key = child_index_key(body)
    if key is not None:
        loops.wake(*key)


def build_registry(loops: Loops, children: IndexedChildren, login: Any) -> kopf.OperatorRegistry:
    """A fresh registry (no module-level state, so several controllers can run in one process)."""
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    async def _login(**_: Any) -> kopf.ConnectionInfo:
        info: kopf.ConnectionInfo = login()
        return info

    @kopf.on.startup(registry=registry)
    async def _bind(**kwargs: Any) -> None:
        children.bind(
            {
                name: kwargs[name]
                for name in (
                    "rollout_replica_sets",
                    "namespace_services",
                    "rollout_analysis_runs",
                    "rollout_experiments",
                )
            }
        )

    @kopf.on.cleanup(registry=registry)
    async def _stop(**_: Any) -> None:
        await loops.stop_all()

    @kopf.index(*REPLICA_SETS, id="rollout_replica_sets", registry=registry)
    async def rollout_replica_sets(body: kopf.Body, **_: Any) -> dict[Any, ReplicaSetRecord] | None:
        key = replica_set_index_key(body)
        return None if key is None else {key: project_replica_set(body)}

    @kopf.index(*SERVICES, id="namespace_services", registry=registry)
    async def namespace_services(body: kopf.Body, **_: Any) -> dict[str, ServiceRecord]:
        return {_namespace(body): project_service(body)}

    @kopf.index(*ANALYSIS_RUNS, id="rollout_analysis_runs", registry=registry)
    async def rollout_analysis_runs(body: kopf.Body, **_: Any) -> dict[Any, ChildRecord] | None:
        key = child_index_key(body)
        return None if key is None else {key: project_child(body)}

    @kopf.index(*EXPERIMENTS, id="rollout_experiments", registry=registry)
    async def rollout_experiments(body: kopf.Body, **_: Any) -> dict[Any, ChildRecord] | None:
        key = child_index_key(body)
        return None if key is None else {key: project_child(body)}

    @kopf.on.event(*ROLLOUTS, registry=registry)
    async def _rollout(event: Mapping[str, Any], **_: Any) -> None:
        loops.event(event.get("type"), event["object"])

    @kopf.on.event(*REPLICA_SETS, registry=registry)
    async def _replica_set(body: kopf.Body, **_: Any) -> None:
        metadata = as_mapping(body.get("metadata"))
        if controller_owner(metadata) is None:
            labels = {k: v for k, v in as_mapping(metadata.get("labels")).items() if isinstance(v, str)}
            for loop in loops.in_namespace(_namespace(body)):
                if loop.selects(labels):
                    loop.wake()
            return
        key = replica_set_index_key(body)
        if key is not None:
            loops.wake(key[1], key[2])

    @kopf.on.event(*SERVICES, registry=registry)
    async def _service(body: kopf.Body, **_: Any) -> None:
        name = as_str(as_mapping(body.get("metadata")).get("name"))
        for loop in loops.in_namespace(_namespace(body)):
            if loop.references_service(name):
                loop.wake()

    async def _routing_object(body: kopf.Body, resource: kopf.Resource, **_: Any) -> None:
        metadata = as_mapping(body.get("metadata"))
        key = (resource.group, resource.plural, _namespace(body), as_str(metadata.get("name")))
        for loop in loops.in_namespace(_namespace(body)):
            if key in routing_keys(loop.rollout):
                loop.wake()

    for group, plural in ROUTING_KINDS:
        kopf.on.event(group, plural, registry=registry)(_routing_object)

    @kopf.on.event(*DEPLOYMENTS, registry=registry)
    async def _deployment(body: kopf.Body, **_: Any) -> None:
        """A workloadRef target changed: its Rollout re-reads it (and records its generation)."""
        name = as_str(as_mapping(body.get("metadata")).get("name"))
        for loop in loops.in_namespace(_namespace(body)):
            if loop.references_workload("Deployment", name):
                loop.wake()

    @kopf.on.event(*ANALYSIS_RUNS, registry=registry)
    async def _analysis_run(body: kopf.Body, **_: Any) -> None:
        _wake_owner(loops, body)

    @kopf.on.event(*EXPERIMENTS, registry=registry)
    async def _experiment(body: kopf.Body, **_: Any) -> None:
        _wake_owner(loops, body)

    return registry
