"""One long-lived reconcile loop per Rollout, woken by watch events or by the planner's timers.

The loop is an asyncio task rather than a kopf daemon because kopf guards every daemon with a
finalizer on the object: a Rollout could then not be deleted while the controller is down, and a
Rollout migrated from Argo Rollouts would be patched just for kopf's bookkeeping. The loop:

1. sleeps until woken (`RolloutLoop.wake`, called by the `wakeups` handlers through `Loops`,
   the `analysis.controller.loops.KeyedLoops` the other controllers use too), until the earliest
   `Requeue` of the last plan, or until the resync period passes (a re-plan from the cache that
   sends nothing when nothing changed, so a lost event can never strand a Rollout);
2. takes the freshest Rollout (the watch's copy or the one our last write returned, whichever
   has the higher resourceVersion) and the children kopf indexed, merged with our own writes;
3. adopts orphan ReplicaSets its selector matches, resolves ``workloadRef`` in memory, lists pods
   only while a restart needs them, fetches recorded runs the cache has not seen;
4. calls `plan_rollout` and hands the plan to `apply`; a pass whose world moved under it
   (conflict, stale cache) runs again at once, a failed pass backs off exponentially.

Only one pass of one Rollout runs at a time, so a Rollout's writes are never interleaved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from analysis.controller.loops import KeyedLoops
from rollouts.controller import apicalls
from rollouts.controller.apply import Applier, Outcome, Unsupported, Written
from rollouts.controller.events import added_to_informer_event
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.observe import (
    ChildRecord,
    ReplicaSetRecord,
    ServiceRecord,
    adoptable,
    desired_hashes,
    matches_selector,
    observe,
    pod_view,
    project_child,
    project_replica_set,
    referenced_services,
    with_workload,
)
from rollouts.controller.schedule import failure_backoff, next_pass
from rollouts.controller.writeback import newer
from rollouts.planner import EmitEvent, Observed, PatchRollout, Plan, plan_rollout, pods_needed
from rollouts.planner.context import PassContext
from rollouts.planner.duration import finished_attempts
from rollouts.planner.inputs import RolloutView, as_int, as_mapping, as_str
from rollouts.planner.status import format_selector, invalid_spec_plan
from rollouts.planner.validation import first_error

__all__ = ["ChildSource", "Loops", "RolloutLoop", "Shell"]

log = logging.getLogger(__name__)

WORKLOAD_GENERATION_ANNOTATION: Final = "rollout.argoproj.io/workload-generation"


class ChildSource(Protocol):
    """Where a loop reads its children from (kopf's indexes, in `wakeups`)."""

    def replica_sets(self, namespace: str, rollout: str) -> Iterable[ReplicaSetRecord]: ...

    def orphan_replica_sets(self, namespace: str) -> Iterable[ReplicaSetRecord]: ...

    def services(self, namespace: str) -> Mapping[str, ServiceRecord]: ...

    def analysis_runs(self, namespace: str, rollout: str) -> Iterable[ChildRecord]: ...

    def experiments(self, namespace: str, rollout: str) -> Iterable[ChildRecord]: ...


@dataclass
class Shell:
    """What every loop shares: the API client, the applier, the cache, the clock, the metrics."""

    client: KubeClient
    applier: Applier
    children: ChildSource
    metrics: ControllerMetrics
    clock: Callable[[], datetime]
    resync_seconds: float = 900.0


def _strip(body: Mapping[str, Any]) -> dict[str, Any]:
    """The Rollout as kept in memory: without ``managedFields`` (often larger than the object)."""
    result = dict(body)
    metadata = dict(as_mapping(result.get("metadata")))
    metadata.pop("managedFields", None)
    result["metadata"] = metadata
    return result


def _version(body: Mapping[str, Any] | None) -> str:
    return as_str(as_mapping(as_mapping(body).get("metadata")).get("resourceVersion")) if body else ""


class RolloutLoop:
    """The reconcile loop of one Rollout (see the module docstring)."""

    def __init__(self, namespace: str, name: str, shell: Shell) -> None:
        self.namespace = namespace
        self.name = name
        self._shell = shell
        self._watched: dict[str, Any] | None = None
        self._written_rollout: dict[str, Any] | None = None
        self._written = Written()
        self._wake = asyncio.Event()
        self._stopped = False
        self._next_at: float | None = None
        self._failures = 0
        self._idle_replans = 0
        self._reported: set[tuple[int, Unsupported]] = set()
        self._announced = False
        self.task: asyncio.Task[None] | None = None

    # -- fed by the watch handlers
    def observe(self, body: Mapping[str, Any]) -> None:
        self._watched = _strip(body)
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    @property
    def rollout(self) -> dict[str, Any] | None:
        """The freshest copy: ours if a write returned a newer resourceVersion than the watch's."""
        if self._written_rollout is not None and (
            self._watched is None or newer(_version(self._written_rollout), _version(self._watched))
        ):
            return self._written_rollout
        self._written_rollout = None
        return self._watched

    def selects(self, labels: Mapping[str, str]) -> bool:
        """Whether this Rollout's selector matches ``labels`` (orphan ReplicaSet wake-ups)."""
        body = self.rollout
        return body is not None and matches_selector(
            labels, as_mapping(as_mapping(body.get("spec")).get("selector"))
        )

    def references_service(self, service: str) -> bool:
        body = self.rollout
        return body is not None and service in referenced_services(RolloutView(body))

    def references_workload(self, kind: str, name: str) -> bool:
        body = self.rollout
        reference = as_mapping(as_mapping(as_mapping(body).get("spec")).get("workloadRef"))
        return bool(reference) and reference.get("kind") == kind and reference.get("name") == name

    # -- the loop
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopped:
            deadline = (
                self._next_at if self._next_at is not None else loop.time() + self._shell.resync_seconds
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(deadline - loop.time(), 0))
            self._wake.clear()
            if self._stopped:
                break
            self._next_at = await self._pass_safely(loop.time())

    async def _pass_safely(self, started: float) -> float | None:
        """One pass; returns the loop time of the next timed pass (``None``: resync only)."""
        shell = self._shell
        metric_started = time.perf_counter()
        try:
            outcome = await self.reconcile()
        except Exception as error:  # a failed pass must never end the loop
            self._failures += 1
            delay = failure_backoff(self._failures)
            log.warning(
                "%s/%s: reconcile failed (retry in %.0fs): %s", self.namespace, self.name, delay, error
            )
            log.debug("reconcile failure", exc_info=True)
            shell.metrics.reconcile_errors.labels(namespace=self.namespace, name=self.name).inc()
            return started + delay
        finally:
            shell.metrics.reconcile.labels(namespace=self.namespace, name=self.name).observe(
                time.perf_counter() - metric_started
            )
        self._failures = 0
        decision = next_pass(outcome, now=shell.clock(), idle_replans=self._idle_replans)
        if decision.spinning:
            log.warning("%s/%s: re-planning without progress; pausing", self.namespace, self.name)
        self._idle_replans = decision.idle_replans
        if decision.at_once:
            self.wake()
            return None
        return None if decision.after is None else asyncio.get_running_loop().time() + decision.after

    async def reconcile(self) -> Outcome | None:
        """Plan and apply one pass from the freshest state; ``None`` when there is nothing to do."""
        rollout = self.rollout
        if rollout is None:
            return None
        shell = self._shell
        if not self._announced:
            # Argo's informer AddFunc: once per Rollout and controller process, before any pass
            self._announced = True
            await shell.applier.emit(rollout, added_to_informer_event(self.namespace, self.name))
        if RolloutView(rollout).deleting:
            return None
        now = shell.clock()
        outcome = Outcome()
        if await self._adopt_orphans(rollout, outcome):
            outcome.replan = True
            return outcome
        workload: Mapping[str, Any] | None = None
        if as_mapping(rollout.get("spec")).get("workloadRef") is not None:
            workload, resolved = await self._resolve_workload(rollout, outcome)
            if isinstance(resolved, str):
                plan = invalid_spec_plan(PassContext.start(rollout, Observed(), now), resolved)
            elif workload is None:
                return outcome
            else:
                plan = await self._plan(resolved, now)
        else:
            plan = await self._plan(rollout, now)
        applied = await shell.applier.apply(plan, rollout, self._written, workload=workload)
        if applied.status_written and plan.status is not None:
            for attempt in finished_attempts(as_mapping(rollout.get("status")), plan.status, now):
                shell.metrics.observe_attempt(attempt)
        if applied.rollout is not None:
            self._written_rollout = _strip(applied.rollout)
        if applied.unsupported is not None:
            await self._report_unsupported(rollout, applied.unsupported)
        applied.writes += outcome.writes
        return applied

    async def _plan(self, rollout: dict[str, Any], now: datetime) -> Plan:
        shell = self._shell
        ro = RolloutView(rollout)
        replica_sets = self._written.replica_sets.merge(
            shell.children.replica_sets(self.namespace, self.name)
        )
        services = {
            record.name: record
            for record in self._written.services.merge(shell.children.services(self.namespace).values())
        }
        runs = await self._recorded_children(
            ro,
            self._written.runs.merge(shell.children.analysis_runs(self.namespace, self.name)),
            "analysisruns",
        )
        experiments = await self._recorded_children(
            ro,
            self._written.experiments.merge(shell.children.experiments(self.namespace, self.name)),
            "experiments",
        )
        pods = await self._pods(rollout, now) if pods_needed(rollout, now) else None
        try:
            hashes = desired_hashes(ro)
        except ValueError as error:
            return self._template_error_plan(rollout, services, str(error), now)
        observed = observe(
            rollout,
            replica_sets=replica_sets,
            services=services,
            runs=runs,
            experiments=experiments,
            pods=pods,
            hashes=hashes,
        )
        return plan_rollout(rollout, observed, now)

    def _template_error_plan(
        self, rollout: dict[str, Any], services: Mapping[str, ServiceRecord], error: str, now: datetime
    ) -> Plan:
        """A template the Go encoder rejects cannot get a hash: report it as ``InvalidSpec``."""
        observed = Observed(services={name: record.view for name, record in services.items()})
        ro = RolloutView(rollout)
        message = first_error(ro, observed) or f"spec.template: Invalid value: {error}"
        return invalid_spec_plan(PassContext.start(rollout, observed, now), message)

    async def _recorded_children(
        self, ro: RolloutView, cached: list[ChildRecord], resource: str
    ) -> list[ChildRecord]:
        """Runs/experiments recorded in status but not (yet) in the cache are fetched live (§3.1)."""
        status = ro.status
        recorded = [
            as_str(as_mapping(as_mapping(status.get(section)).get(key)).get("name"))
            for section, key in (
                ("canary", "currentStepAnalysisRunStatus"),
                ("canary", "currentBackgroundAnalysisRunStatus"),
                ("blueGreen", "prePromotionAnalysisRunStatus"),
                ("blueGreen", "postPromotionAnalysisRunStatus"),
            )
        ]
        if resource == "experiments":
            recorded = [as_str(as_mapping(status.get("canary")).get("currentExperiment"))]
        known = {record.name for record in cached}
        result = list(cached)
        for name in recorded:
            if not name or name in known:
                continue
            path = f"/apis/argoproj.io/v1alpha1/namespaces/{self.namespace}/{resource}/{name}"
            try:
                body = await self._shell.client.send(
                    apicalls.get_object(path, resource, self.namespace, name)
                )
            except ApiError as error:
                if error.status != 404:
                    raise
                continue
            result.append(project_child(body))
        return result

    async def _pods(self, rollout: Mapping[str, Any], now: datetime) -> list[Any]:
        ro = RolloutView(rollout)
        selector = format_selector(as_mapping(ro.spec.get("selector")))
        body = await self._shell.client.send(apicalls.list_pods(self.namespace, selector))
        names = {rs.name for rs in self._shell.children.replica_sets(self.namespace, self.name)}
        views = [pod_view(item, ro.min_ready_seconds, now) for item in as_mapping(body).get("items", [])]
        return [view for view in views if view is not None and view.replica_set in names]

    async def _adopt_orphans(self, rollout: Mapping[str, Any], outcome: Outcome) -> bool:
        """Claim orphan ReplicaSets the selector matches, as controller-ref adoption does."""
        ro = RolloutView(rollout)
        orphans = adoptable(rollout, self._shell.children.orphan_replica_sets(self.namespace))
        owner = ro.owner_reference()
        adopted = False
        for record in orphans:
            request = apicalls.adopt_replica_set(self.namespace, record.name, record.uid, owner)
            try:
                body = await self._shell.client.send(request)
            except ApiError as error:
                if error.status in (404, 409, 422):
                    continue  # deleted, or claimed by someone else meanwhile
                raise
            outcome.writes += 1
            self._written.replica_sets.remember(project_replica_set(body))
            log.info("%s/%s: adopted ReplicaSet %s", self.namespace, self.name, record.name)
            adopted = True
        return adopted

    async def _resolve_workload(
        self, rollout: dict[str, Any], outcome: Outcome
    ) -> tuple[Mapping[str, Any] | None, dict[str, Any] | str]:
        """Read the ``workloadRef`` target: (workload, the Rollout resolved from it), or (None, an
        InvalidSpec field error) when it cannot be used; (None, rollout) after recording its
        generation, which ends the pass."""
        reference = as_mapping(as_mapping(rollout.get("spec")).get("workloadRef"))
        api_version, kind, name = (as_str(reference.get(k)) for k in ("apiVersion", "kind", "name"))
        located = apicalls.workload_path(self.namespace, api_version, kind, name)
        if located is None:
            supported = ", ".join(f"{k} ({v})" for v, k in apicalls.WORKLOAD_KINDS)
            return (
                None,
                f'spec.workloadRef: Unsupported value: "{api_version}/{kind}": supported: {supported}',
            )
        path, plural = located
        try:
            workload = await self._shell.client.send(apicalls.get_object(path, plural, self.namespace, name))
        except ApiError as error:
            if error.status != 404:
                raise
            return None, f'spec.workloadRef: Not found: {kind} "{name}" does not exist in {self.namespace}'
        generation = str(as_int(as_mapping(workload.get("metadata")).get("generation"), 0))
        annotations = as_mapping(as_mapping(rollout.get("metadata")).get("annotations"))
        if annotations.get(WORKLOAD_GENERATION_ANNOTATION) != generation:
            patch = {"metadata": {"annotations": {WORKLOAD_GENERATION_ANNOTATION: generation}}}
            body = await self._shell.client.send(
                apicalls.patch_rollout(self.namespace, self.name, PatchRollout(patch))
            )
            outcome.writes += 1
            self._written_rollout = _strip(body)
            outcome.replan = True
            return None, rollout
        return workload, with_workload(rollout, workload)

    async def _report_unsupported(self, rollout: Mapping[str, Any], unsupported: Unsupported) -> None:
        """One Warning Event per generation and cause, not one per retry."""
        key = (RolloutView(rollout).generation, unsupported)
        if key in self._reported:
            return
        self._reported.add(key)
        log.warning("%s/%s: %s", self.namespace, self.name, unsupported.message)
        await self._shell.applier.emit(
            rollout, EmitEvent(unsupported.reason, unsupported.message, warning=True)
        )


class Loops(KeyedLoops[RolloutLoop]):
    """The running Rollout loops, keyed by (namespace, name); created on a Rollout's first event."""

    def __init__(self, shell: Shell) -> None:
        super().__init__("Rollout", lambda namespace, name: RolloutLoop(namespace, name, shell))

    def rollouts(self) -> list[dict[str, Any]]:
        """The freshest copy of every Rollout held; safe to call from the metrics thread."""
        return [body for loop in self.loops() if (body := loop.rollout) is not None]
