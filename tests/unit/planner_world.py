"""A deterministic in-memory world for driving the pure planners pass after pass in unit tests.

It is not a Kubernetes fake: it only applies a `Plan`'s actions to plain views the way the shell
would (scale sets ``spec.replicas``, a status patch merges into ``status``) and lets "pods" become
available when the test says so. Real API behaviour is exercised by the integration tests on the
devcluster; this exists so multi-pass rules (one step per pass, pauses, promotion) are testable
without I/O.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.planner.actions import (
    CreateAnalysisRun,
    CreateExperiment,
    CreateReplicaSet,
    DeleteAnalysisRun,
    DeleteExperiment,
    DeleteReplicaSet,
    PatchReplicaSet,
    PatchRollout,
    Plan,
    ScaleReplicaSet,
    SetServiceSelector,
    TerminateAnalysisRun,
    TerminateExperiment,
)
from rollouts.planner.inputs import (
    POD_HASH_LABEL,
    AnalysisRunView,
    ExperimentView,
    Observed,
    ReplicaSetView,
    ServiceView,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def short_hash(value: object) -> str:
    """Stand-in for ``rollouts.hashes`` (the planner takes hashes as inputs, so any stable digest works)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:10]


def apply_merge_patch(target: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            apply_merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def canary_rollout(
    steps: list[dict[str, Any]] | None, *, replicas: int = 10, **canary: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
            "strategy": {"canary": {"steps": steps, **canary} if steps is not None else dict(canary)},
        },
    }


def blue_green_rollout(*, replicas: int = 3, **blue_green: Any) -> dict[str, Any]:
    rollout = canary_rollout(None, replicas=replicas)
    rollout["spec"]["strategy"] = {"blueGreen": {"activeService": "web-active", **blue_green}}
    return rollout


@dataclass
class World:
    """The Rollout plus its children as the shell would observe them."""

    rollout: dict[str, Any]
    planner: Callable[[Mapping[str, Any], Observed, datetime], Plan]
    now: datetime = T0
    replica_sets: dict[str, ReplicaSetView] = field(default_factory=dict)
    services: dict[str, ServiceView] = field(default_factory=dict)
    analysis_runs: dict[str, AnalysisRunView] = field(default_factory=dict)
    experiments: dict[str, ExperimentView] = field(default_factory=dict)
    plans: list[Plan] = field(default_factory=list)
    auto_ready: bool = True

    @property
    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.rollout.setdefault("status", {})
        return status

    def observed(self) -> Observed:
        spec = self.rollout["spec"]
        steps = spec["strategy"].get("canary", {}).get("steps")
        return Observed(
            replica_sets=list(self.replica_sets.values()),
            desired_pod_hash=short_hash(spec["template"]),
            step_hash=short_hash(steps) if "canary" in spec["strategy"] else "",
            services=dict(self.services),
            analysis_runs=dict(self.analysis_runs),
            experiments=dict(self.experiments),
        )

    def by_hash(self, pod_hash: str) -> ReplicaSetView:
        return next(rs for rs in self.replica_sets.values() if rs.pod_hash == pod_hash)

    def counts(self) -> dict[str, int]:
        """Spec replicas per ReplicaSet name."""
        return {name: rs.spec_replicas for name, rs in sorted(self.replica_sets.items())}

    def update_template(self, image: str) -> None:
        self.rollout["spec"]["template"]["spec"]["containers"][0]["image"] = image
        self.rollout["metadata"]["generation"] += 1

    def reconcile(self) -> Plan:
        plan = self.planner(copy.deepcopy(self.rollout), self.observed(), self.now)
        self.plans.append(plan)
        for action in plan.actions:
            self._apply(action)
        if plan.status_patch is not None:
            apply_merge_patch(self.status, plan.status_patch)
        if self.auto_ready:
            self.pods_ready()
        return plan

    def pods_ready(self) -> None:
        for name, rs in self.replica_sets.items():
            self.replica_sets[name] = replace(
                rs, replicas=rs.spec_replicas, ready=rs.spec_replicas, available=rs.spec_replicas
            )

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def run(self, passes: int = 40) -> None:
        """Reconcile until a pass writes nothing (or ``passes`` passes, which fails the caller's checks)."""
        for _ in range(passes):
            plan = self.reconcile()
            if plan.status_patch is None and not [a for a in plan.actions if not _is_timer_or_traffic(a)]:
                return
            self.advance(1)

    def _apply(self, action: object) -> None:
        if isinstance(action, CreateReplicaSet):
            metadata = action.manifest["metadata"]
            self.replica_sets[action.name] = ReplicaSetView(
                name=action.name,
                pod_hash=metadata["labels"][POD_HASH_LABEL],
                spec_replicas=0,
                created_at=self.now,
                annotations=dict(metadata["annotations"]),
            )
        elif isinstance(action, ScaleReplicaSet):
            rs = self.replica_sets[action.name]
            self.replica_sets[action.name] = replace(
                rs, spec_replicas=action.replicas, annotations=_merged(rs.annotations, action.annotations)
            )
        elif isinstance(action, PatchReplicaSet):
            rs = self.replica_sets[action.name]
            annotations = action.patch.get("metadata", {}).get("annotations", {})
            self.replica_sets[action.name] = replace(rs, annotations=_merged(rs.annotations, annotations))
        elif isinstance(action, DeleteReplicaSet):
            del self.replica_sets[action.name]
        elif isinstance(action, PatchRollout):
            if "spec" in action.patch:
                self.rollout["metadata"]["generation"] += 1
            apply_merge_patch(self.rollout, action.patch)
        elif isinstance(action, CreateAnalysisRun):
            self.analysis_runs[action.name] = AnalysisRunView(
                action.name, pod_hash=action.pod_hash, created_at=self.now
            )
        elif isinstance(action, TerminateAnalysisRun):
            self.analysis_runs[action.name] = replace(self.analysis_runs[action.name], terminating=True)
        elif isinstance(action, DeleteAnalysisRun):
            del self.analysis_runs[action.name]
        elif isinstance(action, CreateExperiment):
            self.experiments[action.name] = ExperimentView(
                action.name, pod_hash=action.pod_hash, created_at=self.now
            )
        elif isinstance(action, TerminateExperiment):
            self.experiments[action.name] = replace(self.experiments[action.name], terminating=True)
        elif isinstance(action, DeleteExperiment):
            del self.experiments[action.name]
        elif isinstance(action, SetServiceSelector):
            service = self.services[action.service]
            selector = {**service.selector, POD_HASH_LABEL: action.pod_hash}
            self.services[action.service] = ServiceView(
                service.name, selector, action.managed_by or service.managed_by
            )


def _merged(annotations: Mapping[str, str], patch: Mapping[str, str | None]) -> dict[str, str]:
    result = dict(annotations)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _is_timer_or_traffic(action: object) -> bool:
    from rollouts.planner.actions import EmitEvent, Requeue, SetTrafficWeight

    return isinstance(action, Requeue | SetTrafficWeight | EmitEvent)
