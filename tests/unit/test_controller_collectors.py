"""Argo's state metrics read from objects at scrape time: names, labels, phases, bounded series."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from rollouts.controller.collectors import StateCollector, metrics_phase, traffic_router


def rollout(name: str = "web", reason: str = "NewReplicaSetAvailable", **canary: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"replicas": 4, "strategy": {"canary": canary}},
        "status": {
            "availableReplicas": 3,
            "updatedReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "True", "reason": reason}],
        },
    }


def run() -> dict[str, Any]:
    return {
        "metadata": {"name": "web-abc-2-1", "namespace": "shop"},
        "spec": {
            "metrics": [
                {"name": "error-rate", "provider": {"prometheus": {"query": "q"}}},
                {"name": "smoke", "provider": {"job": {}}},
            ],
            "dryRun": [{"metricName": "smoke"}],
        },
        "status": {
            "phase": "Running",
            "metricResults": [
                {
                    "name": "error-rate",
                    "phase": "Running",
                    "measurements": [{"value": "[0.02]"}, {"value": "[0.04]"}, {"phase": "Error"}],
                }
            ],
        },
    }


def scrape(rollouts: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[str]:
    registry = CollectorRegistry()
    registry.register(StateCollector(lambda: rollouts, lambda: runs))
    return [line for line in generate_latest(registry).decode().splitlines() if not line.startswith("#")]


@pytest.mark.parametrize(
    ("reason", "phase"),
    [
        ("NewReplicaSetAvailable", "Completed"),
        ("RolloutPaused", "Paused"),
        ("ReplicaSetCreateError", "Error"),
        ("ProgressDeadlineExceeded", "Timeout"),
        ("RolloutAborted", "Abort"),
        ("ReplicaSetUpdated", "Progressing"),
        ("", "Progressing"),
    ],
)
def test_metrics_phase_from_the_progressing_reason(reason: str, phase: str) -> None:
    assert metrics_phase(rollout(reason=reason)) == phase


def test_invalid_spec_wins() -> None:
    body = rollout()
    body["status"]["conditions"].append({"type": "InvalidSpec", "status": "True"})
    assert metrics_phase(body) == "InvalidSpec"


def test_the_last_configured_router_wins() -> None:
    assert traffic_router(rollout()) == ""
    assert traffic_router(rollout(trafficRouting={"nginx": {}, "istio": {}})) == "Nginx"
    assert traffic_router(rollout(trafficRouting={"smi": {}})) == "SMI"


def test_rollout_series_keep_argos_names_and_labels() -> None:
    lines = scrape([rollout(trafficRouting={"istio": {}})], [])
    assert (
        'rollout_info{name="web",namespace="shop",phase="Completed",strategy="canary",'
        'traffic_router="Istio"} 1.0' in lines
    )
    assert 'rollout_phase{name="web",namespace="shop",phase="Completed",strategy="canary"} 1.0' in lines
    assert 'rollout_phase{name="web",namespace="shop",phase="Paused",strategy="canary"} 0.0' in lines
    assert 'rollout_info_replicas_available{name="web",namespace="shop"} 3.0' in lines
    assert 'rollout_info_replicas_unavailable{name="web",namespace="shop"} 1.0' in lines
    assert 'rollout_info_replicas_desired{name="web",namespace="shop"} 4.0' in lines
    assert 'rollout_info_replicas_updated{name="web",namespace="shop"} 1.0' in lines


def test_analysis_series_with_the_latest_value_per_metric() -> None:
    lines = scrape([], [run()])
    assert 'analysis_run_info{name="web-abc-2-1",namespace="shop",phase="Running"} 1.0' in lines
    assert (
        'analysis_run_metric_type{metric="error-rate",name="web-abc-2-1",namespace="shop",'
        'type="Prometheus"} 1.0' in lines
    )
    assert (
        'analysis_run_metric_phase{dry_run="false",metric="error-rate",name="web-abc-2-1",namespace="shop",'
        'phase="Running",type="Prometheus"} 1.0'
    ) in lines
    assert (
        'analysis_run_metric_phase{dry_run="true",metric="smoke",name="web-abc-2-1",namespace="shop",'
        'phase="Pending",type="Job"} 1.0'
    ) in lines
    assert (
        'analysis_run_metric_value{metric="error-rate",name="web-abc-2-1",namespace="shop",'
        'type="Prometheus"} 0.04' in lines
    )
    assert not any(line.startswith('analysis_run_metric_value{metric="smoke"') for line in lines)


def test_series_follow_the_objects_and_stay_bounded() -> None:
    many = [rollout(name=f"r{i}") for i in range(50)]
    lines = scrape(many, [])
    # per rollout: 1 info + 6 phases + 4 replica gauges, whatever the history
    assert len(lines) == 50 * 11
    assert scrape([], []) == []  # a deleted object leaves no series behind


def test_malformed_objects_do_not_break_a_scrape() -> None:
    lines = scrape(
        [{"metadata": None, "spec": "x"}], [{"status": {"metricResults": [None]}, "spec": {"metrics": [7]}}]
    )
    assert any(line.startswith("rollout_info{") for line in lines)
    assert any(line.startswith("analysis_run_info{") for line in lines)
