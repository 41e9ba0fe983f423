# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""AnalysisRuns reconciled by ``rollouts controller`` on the devcluster, measured for real.

Prometheus metrics query Debian's Prometheus scraping the test exporter; Job metrics create
batch/v1 Jobs whose pods the devcluster's kubelet runs as local processes, so ``exit 0`` and
``exit 1`` are real exit codes. Each test creates a run directly (no Rollout) and waits for the
phase the reference says it must reach.
"""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client
from prometheus import Exporter, PrometheusServer
from test_controller_harness import (
    GROUP,
    VERSION,
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    wait_for,
)
from test_prometheus_provider import exporter, prometheus, success_rate

from analysis.assessment import parse_time

COMPLETED = ("Successful", "Failed", "Error", "Inconclusive")


def create_run(cluster: Cluster, name: str, metrics: list[dict[str, Any]], **spec: Any) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AnalysisRun",
        "metadata": {"name": name},
        "spec": {"metrics": metrics, **spec},
    }
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, cluster.namespace, "analysisruns", body)


def run(cluster: Cluster, name: str) -> dict[str, Any]:
    found: dict[str, Any] = cluster.custom.get_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysisruns", name
    )
    return found


def completed(cluster: Cluster, name: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status = run(cluster, name).get("status") or {}
        return status if status.get("phase") in COMPLETED else None

    return wait_for(done, f"AnalysisRun {name} to complete")


def events(cluster: Cluster, name: str) -> list[tuple[str, str, str]]:
    items = cluster.core.list_namespaced_event(cluster.namespace).items
    return [(e.type, e.reason, e.message) for e in items if e.involved_object.name == name]


def query_count(prometheus: PrometheusServer) -> float:
    """Instant queries Prometheus has answered, from its own /metrics (reading it is not one)."""
    with urllib.request.urlopen(f"{prometheus.address}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line.startswith("prometheus_http_requests_total{") and 'handler="/api/v1/query"' in line
    )


def prometheus_metric(address: str, query: str, **fields: Any) -> dict[str, Any]:
    return {"name": "rate", "provider": {"prometheus": {"address": address, "query": query}}, **fields}


def test_a_healthy_success_rate_makes_the_run_successful(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 100, revision="healthy")
    prometheus.wait_for_value('sum(http_requests_total{revision="healthy"})', 100)
    metric = prometheus_metric(
        prometheus.address,
        success_rate("healthy"),
        interval="1s",
        count=2,
        successCondition="result[0] >= 0.95",
    )
    queries_before = query_count(prometheus)
    create_run(cluster, "healthy", [metric])
    status = completed(cluster, "healthy")
    assert query_count(prometheus) - queries_before == 2  # exactly one query per measurement
    assert status["phase"] == "Successful", status
    result = status["metricResults"][0]
    assert (result["count"], result["successful"], len(result["measurements"])) == (2, 2, 2)
    assert result["metadata"]["ResolvedPrometheusQuery"] == success_rate("healthy")
    assert status["runSummary"] == {"count": 1, "successful": 1}
    # one status write per measurement, one query per measurement
    assert controller.requests(kind="analysisruns", verb="PATCH", name="healthy") == 2
    wait_for(
        lambda: (
            ("Normal", "AnalysisRunSuccessful", "Analysis Completed. Result: Successful")
            in events(cluster, "healthy")
        ),
        "the completion Event",
    )
    assert ("Normal", "MetricSuccessful", "Metric 'rate' Completed. Result: Successful") in events(
        cluster, "healthy"
    )
    # Argo's state metrics on the controller's /metrics, plus the measured value per metric
    labels = {("namespace", cluster.namespace), ("name", "healthy")}
    metrics = controller.metrics()
    assert metrics[("analysis_run_info", frozenset({*labels, ("phase", "Successful")}))] == 1.0
    value = metrics[
        ("analysis_run_metric_value", frozenset({*labels, ("metric", "rate"), ("type", "Prometheus")}))
    ]
    assert value == float(status["metricResults"][0]["measurements"][-1]["value"].strip("[]"))


def test_failures_past_the_failure_limit_fail_the_run(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 40, revision="broken")
    exporter.record("503", 60, revision="broken")
    prometheus.wait_for_value('sum(http_requests_total{revision="broken"})', 100)
    metric = prometheus_metric(
        prometheus.address,
        success_rate("broken"),
        interval="1s",
        count=5,
        failureLimit=1,
        successCondition="result[0] >= 0.95",
    )
    create_run(cluster, "broken", [metric])
    status = completed(cluster, "broken")
    assert status["phase"] == "Failed"
    assert status["message"] == 'Metric "rate" assessed Failed due to failed (2) > failureLimit (1)'
    assert status["metricResults"][0]["failed"] == 2
    wait_for(
        lambda: (
            ("Warning", "AnalysisRunFailed", "Analysis Completed. Result: Failed")
            in events(cluster, "broken")
        ),
        "the Warning Event",
    )


def test_neither_condition_met_is_inconclusive(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer
) -> None:
    metric = prometheus_metric(
        prometheus.address,
        "vector(0.5)",
        count=1,
        successCondition="result[0] >= 0.95",
        failureCondition="result[0] < 0.1",
    )
    create_run(cluster, "unsure", [metric])
    status = completed(cluster, "unsure")
    assert status["phase"] == "Inconclusive"
    assert status["metricResults"][0]["measurements"][0]["value"] == "[0.5]"


@contextlib.contextmanager
def refused_address() -> Iterator[str]:
    """An address that refuses connections for as long as the block runs.

    The port stays bound (never listening) by this socket, so no other process of a busy test
    session can start listening on it in between: every connection is refused at once, rather
    than reaching some other server and waiting out the provider's 30 s timeout.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_every_measurement_erroring_is_error_not_successful(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    with refused_address() as unreachable:
        metric = prometheus_metric(
            unreachable, "vector(1)", count=1, consecutiveErrorLimit=0, successCondition="result[0] == 1"
        )
        create_run(cluster, "unreachable", [metric])
        status = completed(cluster, "unreachable")
    assert status["phase"] == "Error", status
    result = status["metricResults"][0]
    assert result["error"] == 1 and "count" not in result
    assert result["measurements"][0]["phase"] == "Error"
    assert unreachable in result["measurements"][0]["message"]


def test_a_malformed_interval_ends_the_run_error_naming_it(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer
) -> None:
    metric = prometheus_metric(prometheus.address, "vector(1)", interval="ten seconds")
    create_run(cluster, "malformed", [metric])
    status = completed(cluster, "malformed")
    assert status["phase"] == "Error"
    assert status["message"].startswith("Analysis spec invalid:"), status["message"]
    assert "ten seconds" in status["message"]
    assert "metricResults" not in status or status["metricResults"] == []


def job_metric(name: str, exit_code: int) -> dict[str, Any]:
    return {
        "name": name,
        "provider": {
            "job": {
                "metadata": {"labels": {"purpose": "smoke"}},
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                {
                                    "name": "check",
                                    "image": "busybox",
                                    "command": ["sh", "-c", f"exit {exit_code}"],
                                }
                            ],
                        }
                    },
                },
            }
        },
    }


@pytest.mark.parametrize(("exit_code", "phase"), [(0, "Successful"), (1, "Failed")])
def test_a_job_metric_follows_the_exit_code(
    controller: ControllerProcess, cluster: Cluster, api_client: Any, exit_code: int, phase: str
) -> None:
    name = f"job-exit-{exit_code}"
    create_run(cluster, name, [job_metric("smoke", exit_code)])
    status = completed(cluster, name)
    assert status["phase"] == phase, status
    measurement = status["metricResults"][0]["measurements"][0]
    uid = run(cluster, name)["metadata"]["uid"]
    assert measurement["metadata"] == {"job-name": f"{uid}.smoke.1", "job-namespace": cluster.namespace}
    job = client.BatchV1Api(api_client).read_namespaced_job(f"{uid}.smoke.1", cluster.namespace)
    assert job.metadata.labels == {"purpose": "smoke", "analysisrun.argoproj.io/uid": uid}
    assert job.metadata.annotations["analysisrun.argoproj.io/metric-name"] == "smoke"
    assert job.metadata.owner_references[0].name == name


def test_a_long_metric_name_is_cut_to_fit_the_job_name(
    controller: ControllerProcess, cluster: Cluster, api_client: Any
) -> None:
    metric_name = "error-rate-of-the-canary-compared-with-the-stable-revision-x"  # 60 characters
    create_run(cluster, "long-metric", [job_metric(metric_name, 0)])
    status = completed(cluster, "long-metric")
    assert status["phase"] == "Successful", status
    uid = run(cluster, "long-metric")["metadata"]["uid"]
    # upstream's name: the metric part cut so the name, copied into the pods' job-name labels, fits 63
    expected = f"{uid}.error-rate-of-the-canary.1"
    assert len(expected) == 63
    measurement = status["metricResults"][0]["measurements"][0]
    assert measurement["metadata"] == {"job-name": expected, "job-namespace": cluster.namespace}
    job = client.BatchV1Api(api_client).read_namespaced_job(expected, cluster.namespace)
    assert job.metadata.annotations["analysisrun.argoproj.io/metric-name"] == metric_name
    [pod] = (
        client.CoreV1Api(api_client)
        .list_namespaced_pod(cluster.namespace, label_selector=f"job-name={expected}")
        .items
    )
    assert pod.metadata.labels["batch.kubernetes.io/job-name"] == expected
    assert pod.metadata.labels["analysisrun.argoproj.io/uid"] == uid


def test_a_job_whose_image_cannot_be_pulled_is_inconclusive(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    metric = job_metric("pull", 0)
    metric["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]["image"] = "example/denied:1"
    create_run(cluster, "unpullable", [metric])
    status = completed(cluster, "unpullable")
    # upstream: a pod stuck on a pull is a terminal problem, the measurement Inconclusive
    assert status["phase"] == "Inconclusive", status
    measurement = status["metricResults"][0]["measurements"][0]
    assert measurement["phase"] == "Inconclusive"
    # upstream's text: "Pod <pod>, container <c> has terminal error (<reason>): <waiting message>\n"
    assert measurement["message"].startswith("Pod "), measurement["message"]
    assert ", container check has terminal error (" in measurement["message"]
    assert 'image "example/denied:1"' in measurement["message"]


def test_a_restarted_controller_neither_skips_nor_repeats_measurements(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer
) -> None:
    metric = prometheus_metric(
        prometheus.address, "vector(1)", interval="2s", count=4, successCondition="result[0] == 1"
    )
    create_run(cluster, "restarted", [metric])

    def measured() -> int:
        results = (run(cluster, "restarted").get("status") or {}).get("metricResults") or []
        return len(results[0].get("measurements") or []) if results else 0

    wait_for(lambda: measured() >= 1, "the first measurement")
    controller.kill()
    time.sleep(3)  # a measurement falls due while no controller runs
    controller.start()
    status = completed(cluster, "restarted")
    assert status["phase"] == "Successful"
    measurements = status["metricResults"][0]["measurements"]
    assert len(measurements) == 4 and status["metricResults"][0]["count"] == 4
    begin = parse_time(status["startedAt"])
    assert begin is not None
    # measurements keep to the grid startedAt + k·2s: the one missed while down is taken once,
    # late, and the next falls on the next grid point; no grid slot is measured twice
    slots = []
    for measurement in measurements:
        moment = parse_time(measurement["startedAt"])
        assert moment is not None
        slots.append(int((moment - begin) / timedelta(seconds=2)))
    assert slots == sorted(set(slots)), slots
    assert slots[0] == 0


def test_terminating_a_run_deletes_its_running_job(
    controller: ControllerProcess, cluster: Cluster, api_client: Any
) -> None:
    metric = job_metric("slow", 0)
    metric["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["sleep", "300"]
    create_run(cluster, "terminated", [metric])

    def running_job() -> str | None:
        results = (run(cluster, "terminated").get("status") or {}).get("metricResults") or []
        measurements = results[0].get("measurements") or [] if results else []
        return measurements[0]["metadata"]["job-name"] if measurements else None

    job_name = wait_for(running_job, "the Job to be created")
    cluster.custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        cluster.namespace,
        "analysisruns",
        "terminated",
        {"spec": {"terminate": True}},
        _content_type="application/merge-patch+json",
    )
    status = completed(cluster, "terminated")
    # upstream's consequence (§6.8): a Job still running at termination ends Inconclusive
    assert status["phase"] == "Inconclusive"
    assert status["message"] == (
        'Metric "slow" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0): '
        '"Error Message: Metric Terminated"'
    )
    measurement = status["metricResults"][0]["measurements"][0]
    assert (measurement["phase"], measurement["message"]) == ("Inconclusive", "Metric Terminated")
    batch = client.BatchV1Api(api_client)

    def job_gone() -> bool:
        names = [job.metadata.name for job in batch.list_namespaced_job(cluster.namespace).items]
        return job_name not in names

    wait_for(job_gone, "the Job deleted")
