"""The Experiment controller's projections, index keys and scrape-time metrics (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from rollouts.experiments.children import experiment_key, project_replica_set, project_run, project_service
from rollouts.experiments.registry import ExperimentCollector, ExperimentMetrics, IndexedChildren

OWNER = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Experiment",
    "name": "ex",
    "uid": "u1",
    "controller": True,
}


def _meta(name: str, *owners: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "ns",
        "resourceVersion": "42",
        "ownerReferences": list(owners),
        **extra,
    }


def test_children_are_keyed_by_their_controlling_experiment() -> None:
    assert experiment_key({"metadata": _meta("ex-a", OWNER)}) == ("ns", "ex")
    not_controller = {**OWNER, "controller": False}
    rollout = {**OWNER, "kind": "Rollout"}
    other_group = {**OWNER, "apiVersion": "example.com/v1"}
    for owners in ((), (not_controller,), (rollout,), (other_group,)):
        assert experiment_key({"metadata": _meta("x", *owners)}) is None


def test_projections_keep_only_what_the_planner_reads() -> None:
    rs = project_replica_set(
        {
            "metadata": _meta(
                "ex-a",
                OWNER,
                labels={"rollouts-pod-template-hash": "abc"},
                annotations={"experiment.argoproj.io/template-name": "a"},
                managedFields=[{"big": "x" * 1000}],
            ),
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c"}]}}},
            "status": {"replicas": 2, "readyReplicas": 1, "availableReplicas": 1},
        }
    )
    assert (rs.name, rs.view.pod_hash, rs.view.spec_replicas, rs.view.available) == ("ex-a", "abc", 2, 1)
    assert (rs.resource_version, rs.owner_uid) == ("42", "u1")
    assert rs.view.annotations == {"experiment.argoproj.io/template-name": "a"}
    service = project_service(
        {"metadata": _meta("svc", OWNER, annotations={"experiment.argoproj.io/template-name": "a"})}
    )
    assert (service.view.name, service.view.template, service.owner_uid) == ("svc", "a", "u1")
    run = project_run(
        {
            "metadata": _meta("ex-smoke", OWNER, creationTimestamp="2026-03-01T12:00:00Z"),
            "spec": {"terminate": True, "metrics": [{"name": "m"}]},
            "status": {"phase": "Running", "message": "m"},
        }
    )
    assert run.view.phase == "Running" and run.view.terminate and run.view.message == "m"
    assert run.view.created_at == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_malformed_children_project_without_raising() -> None:
    assert project_run({"metadata": "x", "status": 3}).view.phase == ""
    assert project_service({}).owner_uid == ""
    assert project_replica_set({"spec": []}).view.spec_replicas == 1


def test_indexed_children_before_and_after_binding() -> None:
    children = IndexedChildren()
    assert children.replica_sets("ns", "ex") == []
    record = project_service({"metadata": _meta("svc", OWNER)})
    children.bind({"experiment_services": {("ns", "ex"): [record]}, "experiment_replica_sets": {}})
    assert children.services("ns", "ex") == [record]
    assert children.replica_sets("ns", "ex") == [] and children.runs("ns", "ex") == []


def test_experiment_metrics_follow_argo_names_and_phases() -> None:
    registry = CollectorRegistry()
    experiments = [
        {"metadata": {"namespace": "ns", "name": "a"}, "status": {"phase": "Running"}},
        {"metadata": {"namespace": "ns", "name": "b"}},
        {"metadata": {"namespace": "ns", "name": "c"}, "status": {"phase": "Failed"}},
    ]
    registry.register(ExperimentCollector(lambda: experiments))
    metrics = ExperimentMetrics(registry)
    metrics.observe("ns", "a", 0.02, failed=False)
    metrics.observe("ns", "a", 0.3, failed=True)
    text = generate_latest(registry).decode()
    assert 'experiment_info{name="a",namespace="ns",phase="Running"} 1.0' in text
    assert 'experiment_info{name="b",namespace="ns",phase="Pending"} 1.0' in text
    assert 'experiment_info{name="c",namespace="ns",phase="Failed"} 1.0' in text
    assert 'experiment_phase{name="a",namespace="ns",phase="Running"} 1.0' in text
    assert 'experiment_phase{name="a",namespace="ns",phase="Pending"} 0.0' in text
    phase_lines = [line for line in text.splitlines() if line.startswith("experiment_phase{")]
    assert len(phase_lines) == 15  # five phases per experiment
    assert not any('phase="Failed"' in line for line in phase_lines)  # Argo has no Failed series
    assert 'experiment_reconcile_count{name="a",namespace="ns"} 2.0' in text
    assert 'experiment_reconcile_error_total{name="a",namespace="ns"} 1.0' in text
