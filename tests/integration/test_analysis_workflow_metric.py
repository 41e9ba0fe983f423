# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""Canaries gated by a ``workflow`` metric, run end to end by one ``rollouts controller`` process.

The controller creates the step's AnalysisRun, the AnalysisRun controller creates a WorkflowRun
for the metric, the same process's workflow controller runs its steps as pods (the devcluster's
kubelet runs them as local processes, so the probes' HTTP requests and exit codes are real), and
the verdict goes back up to the Rollout. The workflow is the one in
``examples/canary-workflow-analysis.yaml``; its probes hit a small HTTP server this test runs on
loopback, which answers 200, or 500 on ``/healthz`` to make the smoke test fail.

Argo Workflows' own CRDs (the devcluster's ``argo-workflows`` add-on) serve the WorkflowTemplate
a metric may reference, and the ``argoproj.io`` Workflows of ``executor: argo``. No Argo
controller can run here, so for those the test writes the Workflow's status as Argo would.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_analysisrun_controller import completed, create_run, run
from test_controller_harness import (
    GROUP,
    VERSION,
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    settled,
    wait_for,
)
from workflow_fixtures import (
    argo_crds,
    argo_workflows,
    workflow_controller,
    workflow_pod_env,
    write_status,
)

from analysis.providers.job import METRIC_NAME_ANNOTATION, RUN_UID_LABEL
from analysis.workflows.runs import PLURAL
from analysis.workflows.status import GROUP as WORKFLOW_GROUP
from analysis.workflows.status import VERSION as WORKFLOW_VERSION
from rollouts.hashes import pod_template_hash

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "canary-workflow-analysis.yaml"
WAIT = 240.0


class Target:
    """The service the smoke test probes: 200 everywhere, or 500 on ``/healthz`` when broken."""

    def __init__(self) -> None:
        self.broken = False
        self.paths: list[str] = []
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                target.paths.append(self.path)
                failing = target.broken and self.path == "/healthz"
                self.send_response(500 if failing else 200)
                self.end_headers()
                self.wfile.write(b"down" if failing else b"ok")

            def log_message(self, *_: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target() -> Iterator[Target]:
    served = Target()
    try:
        yield served
    finally:
        served.close()


def workflow_runs(cluster: Cluster) -> list[dict[str, Any]]:
    listed = cluster.custom.list_namespaced_custom_object(
        WORKFLOW_GROUP, WORKFLOW_VERSION, cluster.namespace, PLURAL
    )
    items: list[dict[str, Any]] = listed["items"]
    return items


def start_example(cluster: Cluster, target: Target) -> tuple[str, str, str]:
    """Create the example (probes aimed at ``target``), deploy, update; returns name and hashes."""
    template, rollout, service = yaml.safe_load_all(EXAMPLE.read_text(encoding="utf-8"))
    step_args = rollout["spec"]["strategy"]["canary"]["steps"][1]["analysis"]["args"]
    step_args[:] = [{"name": "base-url", "value": target.url}, {"name": "requests", "value": "3"}]
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysistemplates", template
    )
    cluster.core.create_namespaced_service(cluster.namespace, service)
    cluster.create_rollout(rollout)
    name = rollout["metadata"]["name"]
    stable_hash = pod_template_hash(rollout["spec"]["template"], None)
    wait_for(settled(cluster, name, "Healthy", stableRS=stable_hash), "the initial deploy")
    rollout["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    canary_hash = pod_template_hash(rollout["spec"]["template"], None)
    cluster.set_image(name, "nginx:1.28")
    return name, stable_hash, canary_hash


def test_a_passing_smoke_workflow_lets_the_canary_complete(
    workflow_controller: ControllerProcess, cluster: Cluster, target: Target
) -> None:
    name, _, canary_hash = start_example(cluster, target)
    wait_for(
        settled(cluster, name, "Healthy", stableRS=canary_hash, currentPodHash=canary_hash),
        "the promotion after the smoke test",
        timeout=WAIT,
    )
    analysis = run(cluster, f"{name}-{canary_hash}-2-1")
    assert analysis["status"]["phase"] == "Successful"
    result = analysis["status"]["metricResults"][0]
    assert (result["name"], result["count"], result["successful"]) == ("smoke-test", 1, 1)
    measurement = result["measurements"][0]
    assert json.loads(measurement["value"]) == {"score": 1.0}
    (workflow,) = workflow_runs(cluster)
    assert measurement["metadata"] == {
        "workflow-name": workflow["metadata"]["name"],
        "workflow-namespace": cluster.namespace,
    }
    assert workflow["metadata"]["labels"][RUN_UID_LABEL] == analysis["metadata"]["uid"]
    assert workflow["metadata"]["annotations"][METRIC_NAME_ANNOTATION] == "smoke-test"
    owner = workflow["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == (
        "AnalysisRun",
        analysis["metadata"]["name"],
        True,
    )
    assert workflow["spec"]["arguments"]["parameters"] == [
        {"name": "base-url", "value": target.url},
        {"name": "requests", "value": "3"},
    ]
    nodes = {node["displayName"]: node for node in workflow["status"]["nodes"].values()}
    assert workflow["status"]["phase"] == "Succeeded"
    assert {nodes[step]["phase"] for step in ("health", "homepage", "summary")} == {"Succeeded"}
    assert nodes[f"{workflow['metadata']['name']}.onExit"]["phase"] == "Succeeded"
    assert sorted(set(target.paths)) == ["/", "/healthz"]  # the probes really asked the canary


def test_a_failing_smoke_workflow_aborts_the_canary(
    workflow_controller: ControllerProcess, cluster: Cluster, target: Target
) -> None:
    target.broken = True
    name, stable_hash, canary_hash = start_example(cluster, target)
    status = wait_for(settled(cluster, name, "Degraded", stableRS=stable_hash), "the abort", timeout=WAIT)
    assert status["abort"] is True
    run_name = f"{name}-{canary_hash}-2-1"
    assert status["canary"]["currentStepAnalysisRunStatus"]["name"] == run_name
    assert status["canary"]["currentStepAnalysisRunStatus"]["status"] == "Failed"
    assert 'Metric "smoke-test" assessed Failed due to failed (1) > failureLimit (0)' in status["message"]
    measurement = run(cluster, run_name)["status"]["metricResults"][0]["measurements"][0]
    assert measurement["phase"] == "Failed"
    (workflow,) = workflow_runs(cluster)
    workflow_name = workflow["metadata"]["name"]
    assert measurement["message"].startswith(f"workflow {workflow_name} Failed: ")
    assert measurement["message"].endswith("health(2): main: Error (exit code 1)")  # three tries
    assert json.loads(measurement["value"]) == {}
    nodes = {node["displayName"]: node for node in workflow["status"]["nodes"].values()}
    assert nodes["health"]["message"] == "No more retries left"
    assert nodes[f"{workflow_name}.onExit"]["phase"] == "Succeeded"  # the exit handler still ran
    assert "summary" not in nodes


SLOW_WORKFLOW = {
    "entrypoint": "main",
    "templates": [
        {"name": "main", "container": {"image": "busybox", "command": ["sh", "-c", "sleep 120"]}},
    ],
}


def test_terminating_the_analysis_run_terminates_its_workflow(
    workflow_controller: ControllerProcess, cluster: Cluster
) -> None:
    metric = {"name": "slow", "provider": {"workflow": {"spec": SLOW_WORKFLOW}}}
    create_run(cluster, "slow", [metric])

    def running() -> dict[str, Any] | None:
        found = workflow_runs(cluster)
        return found[0] if found and (found[0].get("status") or {}).get("phase") == "Running" else None

    workflow = wait_for(running, "the workflow to run", timeout=WAIT)
    name = workflow["metadata"]["name"]
    cluster.custom.patch_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysisruns", "slow", {"spec": {"terminate": True}}
    )
    status = completed(cluster, "slow")
    measurement = status["metricResults"][0]["measurements"][0]
    assert (measurement["phase"], measurement["message"]) == ("Inconclusive", "Metric Terminated")

    def stopped() -> dict[str, Any] | None:
        found = cluster.custom.get_namespaced_custom_object(
            WORKFLOW_GROUP, WORKFLOW_VERSION, cluster.namespace, PLURAL, name
        )
        return found if (found.get("status") or {}).get("phase") == "Failed" else None

    stopped_run = wait_for(stopped, "the workflow to stop", timeout=WAIT)
    assert stopped_run["spec"]["shutdown"] == "Terminate"
    assert stopped_run["status"]["message"] == "Stopped with strategy 'Terminate'"


def test_an_invalid_workflow_is_an_error_measurement_and_creates_nothing(
    workflow_controller: ControllerProcess, cluster: Cluster
) -> None:
    broken = {"templates": [{"name": "main", "steps": [[{"name": "a", "template": "missing"}]]}]}
    metric = {"name": "broken", "consecutiveErrorLimit": 0, "provider": {"workflow": {"spec": broken}}}
    create_run(cluster, "broken", [metric])
    status = completed(cluster, "broken")
    assert status["phase"] == "Error"
    measurement = status["metricResults"][0]["measurements"][0]
    assert measurement["phase"] == "Error"
    assert "invalid workflow: " in measurement["message"]
    assert "spec.entrypoint is required" in measurement["message"]
    assert "missing" in measurement["message"]
    assert workflow_runs(cluster) == []


def test_measurement_retention_deletes_the_oldest_workflow_runs(
    workflow_controller: ControllerProcess, cluster: Cluster
) -> None:
    quick = {
        "entrypoint": "main",
        "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}],
    }
    metric = {"name": "quick", "interval": "1s", "count": 3, "provider": {"workflow": {"spec": quick}}}
    create_run(cluster, "kept", [metric], measurementRetention=[{"metricName": "quick", "limit": 1}])
    status = completed(cluster, "kept")
    assert status["phase"] == "Successful"
    (measurement,) = status["metricResults"][0]["measurements"]
    assert status["metricResults"][0]["count"] == 3

    def only_the_last() -> list[str] | None:
        names = [found["metadata"]["name"] for found in workflow_runs(cluster)]
        return names if names == [measurement["metadata"]["workflow-name"]] else None

    names = wait_for(only_the_last, "the older WorkflowRuns to be deleted", timeout=WAIT)
    assert names[0].endswith("-3")


def test_a_workflow_template_reference_runs_the_template_with_the_metric_arguments(
    workflow_controller: ControllerProcess, cluster: Cluster, argo_crds: None
) -> None:
    template = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "echo"},
        "spec": {
            "entrypoint": "main",
            "arguments": {"parameters": [{"name": "word", "value": "default"}]},
            "templates": [
                {
                    "name": "main",
                    "outputs": {
                        "parameters": [
                            {"name": "word", "globalName": "word", "valueFrom": {"path": "/tmp/word"}}
                        ]
                    },
                    "container": {
                        "image": "busybox",
                        "command": ["sh", "-c", "printf %s '{{workflow.parameters.word}}' > /tmp/word"],
                    },
                }
            ],
        },
    }
    cluster.custom.create_namespaced_custom_object(
        "argoproj.io", "v1alpha1", cluster.namespace, "workflowtemplates", template
    )
    metric = {
        "name": "echo",
        "successCondition": 'result.word == "hello"',
        "provider": {
            "workflow": {
                "workflowTemplateRef": {"name": "echo"},
                "arguments": {"parameters": [{"name": "word", "value": "{{args.word}}"}]},
            }
        },
    }
    create_run(cluster, "referenced", [metric], args=[{"name": "word", "value": "hello"}])
    status = completed(cluster, "referenced")
    assert status["phase"] == "Successful", status
    assert json.loads(status["metricResults"][0]["measurements"][0]["value"]) == {"word": "hello"}
    (workflow,) = workflow_runs(cluster)
    assert workflow["spec"]["arguments"] == {"parameters": [{"name": "word", "value": "hello"}]}
    assert workflow["spec"]["templates"] == template["spec"]["templates"]

    absent = {"name": "absent", "provider": {"workflow": {"workflowTemplateRef": {"name": "absent"}}}}
    create_run(cluster, "dangling", [{**absent, "consecutiveErrorLimit": 0}])
    status = completed(cluster, "dangling")
    assert status["phase"] == "Error"
    message = status["metricResults"][0]["measurements"][0]["message"]
    assert message.endswith("WorkflowTemplate 'absent' not found")


def argo_metric(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "provider": {"workflow": {"spec": SLOW_WORKFLOW, "executor": "argo"}}, **fields}


def test_executor_argo_delegates_to_an_argo_workflow_and_follows_it(
    workflow_controller: ControllerProcess, cluster: Cluster, argo_crds: None, api_client: Any
) -> None:
    create_run(cluster, "delegated", [argo_metric("scored", successCondition="result.score > 0.9")])
    (created,) = wait_for(lambda: argo_workflows(api_client, cluster.namespace), "the Argo Workflow")
    name = created["metadata"]["name"]
    analysis = run(cluster, "delegated")
    assert created["spec"] == SLOW_WORKFLOW
    assert created["metadata"]["labels"][RUN_UID_LABEL] == analysis["metadata"]["uid"]
    assert created["metadata"]["ownerReferences"][0]["name"] == "delegated"
    running = analysis["status"]["metricResults"][0]["measurements"][0]
    assert running["phase"] == "Running"
    assert running["metadata"]["workflow-executor"] == "argo"

    write_status(api_client, cluster.namespace, name, {"phase": "Running"})
    outputs = {"parameters": [{"name": "score", "value": "0.97"}]}
    write_status(api_client, cluster.namespace, name, {"phase": "Succeeded", "outputs": outputs})
    status = completed(cluster, "delegated")
    assert status["phase"] == "Successful", status
    assert json.loads(status["metricResults"][0]["measurements"][0]["value"]) == {"score": 0.97}
    assert workflow_runs(cluster) == []  # our engine ran nothing

    create_run(cluster, "stopped", [argo_metric("stopped")])

    def second() -> str | None:
        names = [found["metadata"]["name"] for found in argo_workflows(api_client, cluster.namespace)]
        return next((found for found in names if found != name), None)

    stopped = wait_for(second, "the second Argo Workflow")
    cluster.custom.patch_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysisruns", "stopped", {"spec": {"terminate": True}}
    )
    measurement = completed(cluster, "stopped")["metricResults"][0]["measurements"][0]
    assert (measurement["phase"], measurement["message"]) == ("Inconclusive", "Metric Terminated")
    found = cluster.custom.get_namespaced_custom_object(
        "argoproj.io", "v1alpha1", cluster.namespace, "workflows", stopped
    )
    assert found["spec"]["shutdown"] == "Terminate"
