"""Differential tests: one scenario run once under Argo Rollouts' own controller and once under ours.

Argo's controller (v1.10.1, built from its Go module by ``rollouts.devcluster.oracle``) and ours
run side by side on the devcluster, each scoped to a namespace of its own (Argo with
``--namespaced``). A scenario is a function of a ``Run``: it creates objects and performs user
operations through ``rollouts.planner.operations`` (the patches Argo's plugin sends) and takes
``checkpoint``s; each checkpoint waits until the controller is quiet and records what a user can
observe. The two recordings must be equal except for the differences listed in ``DIFFERENCES``,
each with the reason we keep it (or the issue item that will remove it).

What is compared: the Rollout's phase, message, conditions (type/status/reason), replica counts,
step index, hashes, abort/pause state, canary weights and blue-green selectors; every ReplicaSet
by name (so the pod-template hash) with its replicas, availability and revision annotations;
Service selectors; AnalysisRuns and Experiments by phase; and the reasons of the Rollout's Events
in the order they were created, with their counts (client-go aggregates repeats into one Event).
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from test_controller_harness import GROUP, VERSION, Cluster, ControllerProcess, wait_for

from rollouts.devcluster import DevCluster, DevClusterError
from rollouts.devcluster.oracle import ensure_argo_controller
from rollouts.planner import operations

# A controller is quiet when nothing it owns changed for this long (and it observed the spec).
QUIET_SECONDS = 3.0
ARGO, OURS = "argo", "ours"


@dataclass
class ArgoControllerProcess(ControllerProcess):
    """Argo Rollouts' controller, out of cluster, scoped to one namespace."""

    binary: Path = Path()

    def command(self) -> list[str]:
        return [
            str(self.binary),
            "--kubeconfig",
            str(self.kubeconfig),
            "--namespaced",
            "--namespace",
            self.namespace,
            "--leader-elect=false",
            "--metricsPort",
            str(self.metrics_port),
            "--healthzPort",
            str(self.healthz_port),
            "--loglevel",
            "debug",
            *self.extra_args,
        ]


@pytest.fixture(scope="session")
def argo_binary() -> Path:
    try:
        return ensure_argo_controller(lambda message: print(f"oracle: {message}", flush=True))
    except DevClusterError as error:
        pytest.fail(f"Argo Rollouts' controller could not be built:\n{error}", pytrace=False)


def _fresh_namespace(core: Any, prefix: str) -> str:
    created = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(generate_name=prefix)))
    name: str = created.metadata.name

    def has_default_account() -> bool:
        try:
            core.read_namespaced_service_account("default", name)
        except ApiException as error:
            if error.status != 404:
                raise
            return False
        return True

    wait_for(has_default_account, f"the default ServiceAccount of {name}")
    return name


@dataclass
class Side:
    """One controller and its namespace."""

    name: str
    cluster: Cluster
    controller: ControllerProcess


@pytest.fixture
def sides(
    devcluster: DevCluster, api_client: Any, rollout_crds: list[str], argo_binary: Path, tmp_path: Path
) -> Iterator[dict[str, Side]]:
    core = client.CoreV1Api(api_client)
    made: dict[str, Side] = {}
    try:
        for name in (ARGO, OURS):
            namespace = _fresh_namespace(core, f"diff-{name}-")
            log = tmp_path / f"{name}-controller.log"
            process: ControllerProcess
            if name == ARGO:
                process = ArgoControllerProcess(devcluster.kubeconfig, namespace, log, binary=argo_binary)
            else:
                process = ControllerProcess(devcluster.kubeconfig, namespace, log)
            made[name] = Side(name, Cluster(api_client, namespace), process.start())
        yield made
    finally:
        for side in made.values():
            side.controller.stop()
            print(f"--- {side.name} controller log (tail) ---\n{side.controller.log_tail(80)}")
            core.delete_namespace(side.cluster.namespace, propagation_policy="Background")


# -- what a user observes


def _conditions(status: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    found = status.get("conditions") or []
    return sorted((str(c.get("type")), str(c.get("status")), str(c.get("reason"))) for c in found)


ROLLOUT_STATUS_FIELDS = (
    "phase",
    "message",
    "abort",
    "promoteFull",
    "controllerPause",
    "currentStepIndex",
    "currentPodHash",
    "currentStepHash",
    "stableRS",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
)


def rollout_view(rollout: Mapping[str, Any]) -> dict[str, Any]:
    status = rollout.get("status") or {}
    view: dict[str, Any] = {key: status.get(key) for key in ROLLOUT_STATUS_FIELDS}
    view["conditions"] = _conditions(status)
    view["pauseConditions"] = [p.get("reason") for p in status.get("pauseConditions") or []]
    canary = status.get("canary") or {}
    weights = canary.get("weights") or {}
    view["canaryWeights"] = {
        part: (weights.get(part) or {}).get("weight") for part in ("canary", "stable") if part in weights
    }
    blue_green = status.get("blueGreen") or {}
    view["blueGreen"] = {key: blue_green.get(key) for key in ("activeSelector", "previewSelector")}
    annotations = rollout.get("metadata", {}).get("annotations") or {}
    view["revision"] = annotations.get("rollout.argoproj.io/revision")
    return view


def _replica_set_view(rs: Any) -> dict[str, Any]:
    annotations = rs.metadata.annotations or {}
    return {
        "replicas": rs.spec.replicas or 0,
        "available": rs.status.available_replicas or 0,
        "hash": (rs.metadata.labels or {}).get("rollouts-pod-template-hash"),
        "revision": annotations.get("rollout.argoproj.io/revision"),
        "revisionHistory": annotations.get("rollout.argoproj.io/revision-history"),
        "scaleDownDeadline": "set" if "scale-down-deadline" in annotations else None,
    }


def _custom_phases(cluster: Cluster, plural: str) -> dict[str, Any]:
    items = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, cluster.namespace, plural)["items"]
    return {item["metadata"]["name"]: (item.get("status") or {}).get("phase") for item in items}


def observe(cluster: Cluster, rollout_name: str) -> dict[str, Any]:
    services = cluster.core.list_namespaced_service(cluster.namespace).items
    return {
        "rollout": rollout_view(cluster.rollout(rollout_name)),
        "replicaSets": {name: _replica_set_view(rs) for name, rs in sorted(cluster.replica_sets().items())},
        "services": {svc.metadata.name: dict(svc.spec.selector or {}) for svc in services},
        "analysisRuns": _custom_phases(cluster, "analysisruns"),
        "experiments": _custom_phases(cluster, "experiments"),
    }


def _event_order(event: Any) -> tuple[int, str]:
    # client-go and our recorder both name an Event "<object>.<unix nanoseconds in hex>".
    suffix = event.metadata.name.rpartition(".")[2]
    try:
        return int(suffix, 16), event.metadata.name
    except ValueError:
        return 0, event.metadata.name


def rollout_events(cluster: Cluster, name: str) -> list[tuple[str, int]]:
    """The Rollout's Event objects in the order they were created, as (``type reason: message``,
    count); the namespace is spelled ``<ns>``, since each side has its own."""
    events = [
        e for e in cluster.events() if e.involved_object.kind == "Rollout" and e.involved_object.name == name
    ]
    return [
        (f"{e.type} {e.reason}: {(e.message or '').replace(cluster.namespace, '<ns>')}", e.count or 1)
        for e in sorted(events, key=_event_order)
    ]


# client-go's spam filter lets a source post 25 Events about one object, then one per 5 minutes,
# and drops the rest; we post every one (docs/compatibility.md). Once Argo's side spent that
# budget, its later Events and counts are missing, so only the Events it did post are compared.
SPAM_BURST = 25


def comparable_events(
    argo: list[tuple[str, int]], ours: list[tuple[str, int]]
) -> tuple[list[str], list[str]]:
    if sum(count for _, count in argo) < SPAM_BURST:
        return [f"{text} x{count}" for text, count in argo], [f"{text} x{count}" for text, count in ours]
    # the objects Argo created within its burst (later ones trickle in as the bucket refills)
    within, spent = [], 0
    for text, count in argo:
        if spent >= SPAM_BURST:
            break
        within.append(text)
        spent += count
    return within, [text for text, _ in ours[: len(within)]]


def _fingerprint(cluster: Cluster, rollout_name: str) -> tuple[Any, ...]:
    rollout = cluster.rollout(rollout_name)
    sets = tuple(
        sorted(
            (name, rs.metadata.resource_version, rs.status.available_replicas or 0)
            for name, rs in cluster.replica_sets().items()
        )
    )
    generation_seen = (rollout.get("status") or {}).get("observedGeneration") == str(
        rollout["metadata"]["generation"]
    )
    return generation_seen, rollout["metadata"]["resourceVersion"], sets


# -- running a scenario


@dataclass
class Run:
    """A scenario's handle on one side: the cluster, the Rollout's name and the checkpoints."""

    side: Side
    rollout: str
    checkpoints: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def cluster(self) -> Cluster:
        return self.side.cluster

    def create(self, body: Mapping[str, Any]) -> None:
        self.cluster.create_rollout(json.loads(json.dumps(body)))

    def operate(self, operation: Callable[[Mapping[str, Any]], operations.Patches]) -> None:
        """A user operation, sent as Argo's plugin sends it (spec, status or JSON patch)."""
        patches = operation(self.cluster.rollout(self.rollout))
        if patches.spec is not None:
            self.cluster.patch_rollout(self.rollout, dict(patches.spec))
        if patches.status is not None:
            self.cluster.patch_status(self.rollout, dict(patches.status))
        if patches.json_patch is not None:
            self.cluster.json_patch_rollout(self.rollout, [dict(op) for op in patches.json_patch])

    def quiet(self, until: Check | None = None, timeout: float = 120.0) -> None:
        """Wait until the controller observed the spec, ``until`` holds for what a user observes
        (``observe``) and nothing changed for ``QUIET_SECONDS``."""
        deadline = time.monotonic() + timeout
        last: tuple[Any, ...] | None = None
        since = time.monotonic()
        while True:
            current = _fingerprint(self.cluster, self.rollout)
            view = observe(self.cluster, self.rollout)
            ready = current[0] and (until is None or until(view))
            if current != last or not ready:
                last, since = current, time.monotonic()
            elif time.monotonic() - since >= QUIET_SECONDS:
                return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{self.side.name}: the Rollout never settled; last view {view['rollout']!r}\n"
                    f"{self.side.controller.log_tail(40)}",
                    pytrace=False,
                )
            time.sleep(0.25)

    def checkpoint(self, label: str, until: Check | None = None) -> None:
        self.quiet(until)
        self.checkpoints.append((label, observe(self.cluster, self.rollout)))


Scenario = Callable[[Run], None]
Check = Callable[[dict[str, Any]], bool]


def phase(expected: str) -> Check:
    return lambda view: bool(view["rollout"]["phase"] == expected)


def paused_by(*reasons: str) -> Check:
    return lambda view: bool(view["rollout"]["pauseConditions"] == list(reasons))


def at_step(index: int) -> Check:
    return lambda view: bool(view["rollout"]["currentStepIndex"] == index)


def scaled_down_but(kept: int) -> Check:
    """Only ``kept`` ReplicaSets still have replicas (old ones scaled away after their delay)."""
    return lambda view: sum(1 for rs in view["replicaSets"].values() if rs["replicas"]) == kept


@dataclass(frozen=True)
class Difference:
    """A difference from Argo we accept, at a path of the recording (``*`` matches any key)."""

    path: tuple[str, ...]
    reason: str


# Every difference between Argo v1.10.1 and us that the differential scenarios tolerate. Anything
# not matched here fails the scenario. Keep docs/compatibility.md in step with this list.
DIFFERENCES: tuple[Difference, ...] = ()


def _matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return len(pattern) <= len(path) and all(p in ("*", q) for p, q in zip(pattern, path, strict=False))


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    else:
        yield path, value


def differences(
    argo: Mapping[str, Any], ours: Mapping[str, Any], allowed: tuple[Difference, ...] = DIFFERENCES
) -> list[str]:
    """Paths where the recordings differ and no allowed difference covers them."""
    left, right = dict(_leaves(argo)), dict(_leaves(ours))
    found = []
    for path in sorted(set(left) | set(right)):
        if left.get(path, "<absent>") == right.get(path, "<absent>"):
            continue
        if any(_matches(d.path, path) for d in allowed):
            continue
        argo_value, our_value = left.get(path, "<absent>"), right.get(path, "<absent>")
        found.append(f"{'.'.join(path)}: argo={argo_value!r} ours={our_value!r}")
    return found


def run_both(sides: Mapping[str, Side], rollout: str, scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Run ``scenario`` under Argo's controller, then under ours; return both recordings."""
    recordings: dict[str, dict[str, Any]] = {}
    for name in (ARGO, OURS):
        run = Run(sides[name], rollout)
        scenario(run)
        recordings[name] = {
            "checkpoints": {f"{i:02d} {label}": view for i, (label, view) in enumerate(run.checkpoints)},
            "events": rollout_events(run.cluster, rollout),
        }
    recordings[ARGO]["events"], recordings[OURS]["events"] = comparable_events(
        recordings[ARGO]["events"], recordings[OURS]["events"]
    )
    return recordings


def assert_same(recordings: Mapping[str, Mapping[str, Any]]) -> None:
    found = differences(recordings[ARGO], recordings[OURS])
    if found:
        argo_text = json.dumps(recordings[ARGO], indent=1, sort_keys=True, default=str).splitlines()
        ours_text = json.dumps(recordings[OURS], indent=1, sort_keys=True, default=str).splitlines()
        diff = "\n".join(difflib.unified_diff(argo_text, ours_text, "argo", "ours", lineterm="", n=2))
        pytest.fail("ours differs from Argo v1.10.1:\n" + "\n".join(found) + "\n\n" + diff, pytrace=False)
