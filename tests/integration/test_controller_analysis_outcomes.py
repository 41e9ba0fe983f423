# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""How a Rollout reacts to what its AnalysisRuns measure, end to end on the devcluster.

One ``rollouts controller`` runs both controllers. Prometheus is Debian's, scraping an exporter
the test drives; the web metric reads a stdlib HTTP server the test runs. Each test changes the
world in the middle of a canary (the error rate rises, Prometheus stops, the served value
changes) and then checks three records: the AnalysisRun's status (phases, values, messages,
counters), the Rollout's status and the Events both controllers posted. Completion of a canary
through a passing step analysis and the inconclusive pause → promote are covered in
``test_rollout_analysis.py``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus import Exporter, PrometheusServer
from test_controller_harness import (
    GROUP,
    VERSION,
    WAIT,
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)
from test_prometheus_provider import _start, exporter, prometheus
from test_rollout_analysis import hash_of, ratio

NAME = "web"
REPLICAS = 2
RETAINED = 10
"""Measurements a run keeps per metric by default (older ones are trimmed, counters are not)."""


# --------------------------------------------------------------------------------------------
# Helpers


@contextlib.contextmanager
def held_port(port: int) -> Iterator[None]:
    """Keep ``port`` bound without listening: connections to it are refused, and no other
    process of a busy test session can start listening on it meanwhile."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past its TIME_WAIT connections
        sock.bind(("127.0.0.1", port))
        yield


def create_template(cluster: Cluster, name: str, metrics: list[dict[str, Any]], args: list[str]) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name},
        "spec": {"args": [{"name": arg} for arg in args], "metrics": metrics},
    }
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysistemplates", body
    )


def analysis(template: str, **args: str) -> dict[str, Any]:
    """A Rollout's reference to ``template`` with literal argument values."""
    return {
        "templates": [{"templateName": template}],
        "args": [{"name": name, "value": value} for name, value in args.items()],
    }


def analysis_run(cluster: Cluster, name: str) -> dict[str, Any]:
    found: dict[str, Any] = cluster.custom.get_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysisruns", name
    )
    return found


def run_names(cluster: Cluster) -> list[str]:
    listed: dict[str, Any] = cluster.custom.list_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysisruns"
    )
    return sorted(item["metadata"]["name"] for item in listed["items"])


def update_to_canary(cluster: Cluster, strategy: dict[str, Any]) -> tuple[str, str]:
    """Deploy the Rollout, wait for the initial Healthy, then start the update; the two hashes."""
    cluster.create_rollout(rollout_manifest(NAME, strategy, replicas=REPLICAS))
    stable_hash, canary_hash = hash_of("nginx:1.27"), hash_of("nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=stable_hash), "the initial deploy")
    assert run_names(cluster) == []  # the initial deploy runs no analysis
    cluster.set_image(NAME, "nginx:1.28")
    return stable_hash, canary_hash


def measurements(run: dict[str, Any], metric: str) -> list[dict[str, Any]]:
    results = (run.get("status") or {}).get("metricResults") or []
    found: dict[str, Any] = next((result for result in results if result["name"] == metric), {})
    listed: list[dict[str, Any]] = found.get("measurements") or []
    return listed


def metric_result(run: dict[str, Any], metric: str) -> dict[str, Any]:
    return next(result for result in run["status"]["metricResults"] if result["name"] == metric)


def rollout_events(cluster: Cluster, reason: str) -> list[tuple[str, str]]:
    return [
        (event.type, event.message)
        for event in cluster.events(reason)
        if event.involved_object.kind == "Rollout" and event.involved_object.name == NAME
    ]


def assert_aborted_to_stable(
    cluster: Cluster,
    stable_hash: str,
    canary_hash: str,
    *,
    kind: str,
    phase: str,
    run_name: str,
    patience: float = WAIT,
) -> dict[str, Any]:
    """The Rollout is Degraded with Argo's abort message naming the run's own message, the
    canary is scaled to zero and the stable serves every replica; returns the Rollout status."""
    status = wait_for(
        settled(cluster, NAME, "Degraded", stableRS=stable_hash), f"the abort after {run_name}", patience
    )
    run = analysis_run(cluster, run_name)
    assert run["status"]["phase"] == phase
    failed = "failed" if phase == "Failed" else "error"
    assert status["abort"] is True
    assert status["message"] == (
        f"RolloutAborted: Rollout aborted update to revision 2: "
        f"{kind} analysis phase {failed}: {run['status']['message']}"
    )
    wait_for(
        lambda: (
            cluster.counts() == {f"{NAME}-{canary_hash}": (0, 0), f"{NAME}-{stable_hash}": (REPLICAS,) * 2}
        ),
        "the canary scaled down and the stable serving every replica",
    )
    # the Rollout may never have seen the run Running (a run can end in its first reconcile)
    reported = f"{'Step' if kind == 'Step-based' else kind} Analysis Run '{run_name}' Status New: '{phase}'"
    wait_for(
        lambda: any(
            kind_ == "Warning" and message.startswith(reported)
            for kind_, message in rollout_events(cluster, f"AnalysisRun{phase}")
        ),
        f"the Rollout's AnalysisRun{phase} Event",
    )
    wait_for(lambda: rollout_events(cluster, "RolloutAborted"), "the RolloutAborted Event")
    return status


# --------------------------------------------------------------------------------------------
# Prometheus


def success_ratio_metric(**fields: Any) -> dict[str, Any]:
    return {
        "name": "success-ratio",
        "interval": "1s",
        "successCondition": "result[0] >= 0.95",
        "provider": {"prometheus": {"address": "{{args.address}}", "query": ratio("{{args.revision}}")}},
        **fields,
    }


def test_an_error_rate_rising_mid_canary_fails_the_background_run_and_aborts(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer, exporter: Exporter
) -> None:
    exporter.record("200", 100, revision="canary")
    prometheus.wait_for_value('sum(http_requests_total{revision="canary"})', 100)
    create_template(cluster, "success-ratio", [success_ratio_metric(failureLimit=1)], ["address", "revision"])
    background = analysis("success-ratio", address=prometheus.address, revision="canary")
    strategy = {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}], "analysis": background}}
    stable_hash, canary_hash = update_to_canary(cluster, strategy)
    run_name = f"{NAME}-{canary_hash}-2"

    def healthy_measurements() -> bool:
        taken = measurements(analysis_run(cluster, run_name), "success-ratio") if run_names(cluster) else []
        return len(taken) >= 2

    wait_for(healthy_measurements, "two measurements of the healthy canary")
    paused = wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the canary at its pause")
    assert paused["canary"]["currentBackgroundAnalysisRunStatus"] == {"name": run_name, "status": "Running"}
    exporter.record("503", 300, revision="canary")  # 100 good of 400: the ratio drops to 0.25

    status = assert_aborted_to_stable(
        cluster, stable_hash, canary_hash, kind="Background", phase="Failed", run_name=run_name
    )
    run = analysis_run(cluster, run_name)
    assert (
        run["status"]["message"]
        == 'Metric "success-ratio" assessed Failed due to failed (2) > failureLimit (1)'
    )
    assert status["canary"]["currentBackgroundAnalysisRunStatus"] == {
        "name": run_name,
        "status": "Failed",
        "message": run["status"]["message"],
    }
    result = metric_result(run, "success-ratio")
    assert (result["phase"], result["failed"]) == ("Failed", 2)
    assert result["successful"] >= 2 and result["count"] == result["successful"] + 2
    taken = measurements(run, "success-ratio")
    assert len(taken) == min(result["count"], RETAINED)
    healthy = len(taken) - 2
    assert [measurement["phase"] for measurement in taken] == ["Successful"] * healthy + ["Failed"] * 2
    assert {measurement["value"] for measurement in taken[:healthy]} == {"[1]"}
    assert [measurement["value"] for measurement in taken[healthy:]] == ["[0.25]", "[0.25]"]
    assert run["status"]["runSummary"] == {"count": 1, "failed": 1}


def test_prometheus_stopping_mid_canary_errors_the_step_run_after_the_error_limit_and_aborts(
    controller: ControllerProcess, cluster: Cluster, exporter: Exporter, tmp_path: Path
) -> None:
    # its own Prometheus, as this test stops it
    doomed = _start(PrometheusServer(tmp_path / "prometheus", targets=(f"127.0.0.1:{exporter.port}",)))
    try:
        exporter.record("200", 10, revision="stable")
        doomed.wait_for_value('sum(http_requests_total{revision="stable"})', 10)
        # no count: measured every second until something ends it; the error limit is the default 4
        create_template(cluster, "success-ratio", [success_ratio_metric()], ["address", "revision"])
        step = {"analysis": analysis("success-ratio", address=doomed.address, revision="stable")}
        stable_hash, canary_hash = update_to_canary(cluster, {"canary": {"steps": [{"setWeight": 50}, step]}})
        run_name = f"{NAME}-{canary_hash}-2-1"
        wait_for(
            lambda: (
                run_name in run_names(cluster)
                and len(measurements(analysis_run(cluster, run_name), "success-ratio")) >= 1
            ),
            "a measurement while Prometheus is up",
        )
    finally:
        doomed.stop()

    with held_port(doomed.port):  # refused from now on: nothing else may start listening there
        status = assert_aborted_to_stable(
            cluster,
            stable_hash,
            canary_hash,
            kind="Step-based",
            phase="Error",
            run_name=run_name,
            patience=2 * WAIT,  # five errors 10 s apart come first (a hang guard, not a limit)
        )
    run = analysis_run(cluster, run_name)
    result = metric_result(run, "success-ratio")
    assert (result["phase"], result["error"], result["consecutiveError"]) == ("Error", 5, 5)
    assert result["count"] == result["successful"] >= 1  # errors do not count
    taken = measurements(run, "success-ratio")
    assert len(taken) == min(result["successful"] + 5, RETAINED)
    errors = taken[-5:]
    assert [m["phase"] for m in taken] == ["Successful"] * (len(taken) - 5) + ["Error"] * 5
    # the first error may be taken while Prometheus shuts down; the later ones find nothing there
    assert all(error.get("message") for error in errors), errors
    query = f'Post "{doomed.address}/api/v1/query": '  # Go's wording, then the transport's reason
    assert all(error["message"].startswith(query) for error in errors[1:]), errors
    assert all("value" not in error for error in errors)
    assert run["status"]["message"] == (
        'Metric "success-ratio" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        f'"Error Message: {errors[-1]["message"]}"'
    )
    assert status["canary"]["currentStepAnalysisRunStatus"]["status"] == "Error"


def test_an_empty_query_result_passes_a_guarded_condition_and_errors_an_unguarded_one(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer
) -> None:
    # no series has this revision: Prometheus answers an empty vector, which reads as []
    absent = ratio("never-deployed")
    guarded = {
        "name": "guarded",
        "successCondition": "len(result) == 0 || result[0] >= 0.95",
        "provider": {"prometheus": {"address": "{{args.address}}", "query": absent}},
    }
    unguarded = {
        "name": "unguarded",
        "consecutiveErrorLimit": 0,
        "successCondition": "result[0] >= 0.95",
        "provider": {"prometheus": {"address": "{{args.address}}", "query": absent}},
    }
    create_template(cluster, "empty", [guarded, unguarded], ["address"])
    step = {"analysis": analysis("empty", address=prometheus.address)}
    stable_hash, canary_hash = update_to_canary(cluster, {"canary": {"steps": [{"setWeight": 50}, step]}})
    run_name = f"{NAME}-{canary_hash}-2-1"

    assert_aborted_to_stable(
        cluster, stable_hash, canary_hash, kind="Step-based", phase="Error", run_name=run_name
    )
    run = analysis_run(cluster, run_name)
    (kept,) = measurements(run, "guarded")
    assert (kept["phase"], kept["value"]) == ("Successful", "[]")
    assert metric_result(run, "guarded")["phase"] == "Successful"
    (broken,) = measurements(run, "unguarded")
    assert broken["phase"] == "Error"
    assert broken["message"] == (
        'could not evaluate successCondition "result[0] >= 0.95": '
        "metric result is nil or empty: no data returned from the metric provider"
    )
    assert run["status"]["message"] == (
        'Metric "unguarded" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): '
        f'"Error Message: {broken["message"]}"'
    )
    assert run["status"]["runSummary"] == {"count": 2, "successful": 1, "error": 1}


def test_a_count_that_is_not_an_integer_errors_the_run_naming_the_field_and_aborts(
    controller: ControllerProcess, cluster: Cluster, prometheus: PrometheusServer
) -> None:
    # valid in the template (an arg may fill it), unreadable once the Rollout's value is substituted
    create_template(
        cluster, "counted", [success_ratio_metric(count="{{args.count}}")], ["address", "revision", "count"]
    )
    step = {"analysis": analysis("counted", address=prometheus.address, revision="idle", count="x")}
    stable_hash, canary_hash = update_to_canary(cluster, {"canary": {"steps": [{"setWeight": 50}, step]}})
    run_name = f"{NAME}-{canary_hash}-2-1"
    assert_aborted_to_stable(
        cluster, stable_hash, canary_hash, kind="Step-based", phase="Error", run_name=run_name
    )
    status = analysis_run(cluster, run_name)["status"]
    assert status["message"] == 'Analysis spec invalid: metrics[0]: invalid count "x": not an integer'
    assert not status.get("metricResults")  # nothing was measured


# --------------------------------------------------------------------------------------------
# Web


@dataclass
class HealthEndpoint:
    """A local HTTP server answering ``GET /health`` with ``{"data": {"rate": <rate>}}``; it
    records the ``X-Revision`` header of every request, so the test sees what was sent."""

    rate: float
    seen: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> HealthEndpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if urllib.parse.urlsplit(self.path).path != "/health":
                    self.send_error(404)
                    return
                endpoint.seen.append(self.headers.get("X-Revision", ""))
                body = json.dumps({"data": {"rate": endpoint.rate}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/health"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[HealthEndpoint]:
    server = HealthEndpoint(rate=0.99).start()
    try:
        yield server
    finally:
        server.stop()


def create_web_template(cluster: Cluster) -> None:
    web = {
        "name": "health",
        "count": 2,
        "interval": "1s",
        "successCondition": "result >= 0.95",
        "provider": {
            "web": {
                "url": "{{args.url}}",
                "headers": [{"key": "X-Revision", "value": "{{args.revision}}"}],
                "jsonPath": "{$.data.rate}",
            }
        },
    }
    create_template(cluster, "health", [web], ["url", "revision"])


def test_a_web_metric_step_lets_the_canary_complete(
    controller: ControllerProcess, cluster: Cluster, endpoint: HealthEndpoint
) -> None:
    create_web_template(cluster)
    step = {"analysis": analysis("health", url=endpoint.url, revision="fresh")}
    _, canary_hash = update_to_canary(cluster, {"canary": {"steps": [{"setWeight": 50}, step]}})
    wait_for(
        settled(cluster, NAME, "Healthy", stableRS=canary_hash, currentPodHash=canary_hash),
        "the promotion after the web analysis",
    )
    run = analysis_run(cluster, f"{NAME}-{canary_hash}-2-1")
    assert run["status"]["phase"] == "Successful"
    taken = measurements(run, "health")
    assert [(m["phase"], m["value"]) for m in taken] == [("Successful", "0.99")] * 2
    result = metric_result(run, "health")
    assert (result["count"], result["successful"]) == (2, 2)
    assert endpoint.seen == ["fresh", "fresh"]  # one request per measurement, header resolved
    wait_for(
        lambda: (
            (
                "Normal",
                f"Step Analysis Run '{NAME}-{canary_hash}-2-1' Status New: 'Successful' Previous: 'Running'",
            )
            in rollout_events(cluster, "AnalysisRunSuccessful")
        ),
        "the Rollout's AnalysisRunSuccessful Event",
    )


def test_a_web_metric_step_below_its_condition_aborts_the_canary(
    controller: ControllerProcess, cluster: Cluster, endpoint: HealthEndpoint
) -> None:
    endpoint.rate = 0.42
    create_web_template(cluster)
    step = {"analysis": analysis("health", url=endpoint.url, revision="stale")}
    stable_hash, canary_hash = update_to_canary(cluster, {"canary": {"steps": [{"setWeight": 50}, step]}})
    run_name = f"{NAME}-{canary_hash}-2-1"
    assert_aborted_to_stable(
        cluster, stable_hash, canary_hash, kind="Step-based", phase="Failed", run_name=run_name
    )
    run = analysis_run(cluster, run_name)
    assert run["status"]["message"] == 'Metric "health" assessed Failed due to failed (1) > failureLimit (0)'
    assert [(m["phase"], m["value"]) for m in measurements(run, "health")] == [("Failed", "0.42")]
    assert endpoint.seen == ["stale"]  # the failing metric ended the run: no second request
