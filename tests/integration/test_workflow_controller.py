# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""WorkflowRuns run by ``rollouts controller`` itself (a real subprocess on the devcluster).

The example pipeline (a DAG with workflow parameters, output parameters, a retried step and an
exit handler) is run by the controller and by the local executor, and both runs must give the
same node names, phases, messages and outputs. The controller is SIGKILLed mid-run and started
again: it must finish the run from the stored status and the pods it finds, creating exactly one
pod per step. ``spec.shutdown: Terminate`` must stop a running run and delete its pod.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from test_controller_harness import ControllerProcess, controller, rollout_crds, wait_for
from workflow_fixtures import (
    WAIT,
    finished,
    pipeline,
    run_pods,
    run_status,
    workflow_controller,
    workflow_pod_env,
)

from analysis.workflows.engine import run_locally
from analysis.workflows.runs import PLURAL, submit
from analysis.workflows.spec import Workflow
from analysis.workflows.status import GROUP, VERSION, WorkflowStatus


def summary(status: WorkflowStatus) -> dict[str, tuple[str, str, str | None, dict[str, Any]]]:
    return {
        node.name: (
            node.type,
            node.phase,
            node.message,
            node.outputs.model_dump(by_alias=True, exclude_none=True) if node.outputs else {},
        )
        for node in status.nodes.values()
    }


def test_the_controller_runs_the_pipeline_like_the_local_executor(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess, tmp_path: Path
) -> None:
    workflow = pipeline(rows="4")
    name = submit(api_client, workflow, namespace)["metadata"]["name"]
    remote = finished(api_client, namespace, name)
    named = workflow.model_copy(update={"metadata": workflow.metadata.model_copy(update={"name": name})})
    _, local = run_locally(named, tmp_path / "local", poll_interval=0.1)

    assert remote.phase == "Succeeded", remote.message
    assert summary(remote) == summary(local)
    assert remote.outputs is not None and remote.outputs.parameters is not None
    assert [(p.name, p.value) for p in remote.outputs.parameters] == [("total", "100")]
    nodes = {node.display_name: node for node in remote.nodes.values()}
    assert nodes["metadata(0)"].phase == "Failed"
    assert nodes["metadata"].phase == "Succeeded"
    assert nodes[f"{name}.onExit"].phase == "Succeeded"
    pods = run_pods(api_client, namespace, name)
    pod_nodes = [node for node in remote.nodes.values() if node.type == "Pod"]
    assert len(pods) == len(pod_nodes) == 7
    assert all(pod.metadata.owner_references[0].name == name for pod in pods)


def test_a_controller_killed_mid_run_finishes_the_run_without_duplicate_pods(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    name = submit(api_client, pipeline(delay="4"), namespace)["metadata"]["name"]

    def fetch_running() -> bool:
        status = run_status(api_client, namespace, name)
        return status is not None and any(
            node.display_name == "fetch" and node.phase == "Running" for node in status.nodes.values()
        )

    wait_for(fetch_running, "the fetch step to run", timeout=WAIT)
    workflow_controller.kill()
    first_pod = {pod.metadata.name: pod.metadata.uid for pod in run_pods(api_client, namespace, name)}
    workflow_controller.start()
    status = finished(api_client, namespace, name)

    assert status.phase == "Succeeded", status.message
    pods = {pod.metadata.name: pod.metadata.uid for pod in run_pods(api_client, namespace, name)}
    assert len(pods) == len([node for node in status.nodes.values() if node.type == "Pod"]) == 7
    assert all(pods[pod] == uid for pod, uid in first_pod.items()), "a pod was replaced"


def test_shutdown_terminate_stops_the_run_and_deletes_its_pod(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    name = submit(api_client, pipeline(delay="60"), namespace)["metadata"]["name"]
    wait_for(lambda: run_pods(api_client, namespace, name), "the fetch pod", timeout=WAIT)
    client.CustomObjectsApi(api_client).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, {"spec": {"shutdown": "Terminate"}}
    )
    status = finished(api_client, namespace, name)

    assert status.phase == "Failed"
    assert status.message == "Stopped with strategy 'Terminate'"
    assert not any(node.name.endswith(".onExit") for node in status.nodes.values())
    wait_for(lambda: not run_pods(api_client, namespace, name), "the fetch pod to be deleted", timeout=WAIT)


RESOURCES = """
metadata: {generateName: resources-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: false
      tasks:
      - {name: config, template: config}
      - {name: bad, template: job}
  - name: config
    resource:
      action: create
      setOwnerReference: true
      manifest: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {generateName: made-by-workflow-}
        data: {ready: "yes"}
      successCondition: data.ready == yes
    outputs:
      parameters:
      - {name: name, valueFrom: {jsonPath: "{.metadata.name}"}}
  - name: job
    resource:
      action: create
      manifest: |
        apiVersion: batch/v1
        kind: Job
        metadata: {generateName: workflow-job-}
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              containers:
              - {name: main, image: busybox, command: [sh, -c, "exit 3"]}
      successCondition: status.succeeded > 0
      failureCondition: status.failed > 0
"""


def test_the_controller_runs_resource_steps_and_waits_for_their_conditions(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    name = submit(api_client, Workflow.from_dict(yaml.safe_load(RESOURCES)), namespace)["metadata"]["name"]
    status = finished(api_client, namespace, name)

    nodes = {node.display_name: node for node in status.nodes.values()}
    assert nodes["config"].phase == "Succeeded"
    assert nodes["bad"].phase == "Failed"
    assert nodes["bad"].message == "failure condition 'status.failed > 0' evaluated true"
    assert status.phase == "Failed"
    made = nodes["config"].outputs.parameters[0].value
    config_map = client.CoreV1Api(api_client).read_namespaced_config_map(made, namespace)
    assert config_map.metadata.owner_references[0].name == name
    assert run_pods(api_client, namespace, name) == []  # resource steps run no pod


BIG_OUTPUT = """
metadata: {generateName: big-}
spec:
  entrypoint: main
  templates:
  - name: main
    script:
      image: python:3.11
      command: [python3]
      source: print("y" * 6000)
"""


def test_outputs_too_large_for_the_termination_message_are_read_from_the_wait_log(
    api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    name = submit(api_client, Workflow.from_dict(yaml.safe_load(BIG_OUTPUT)), namespace)["metadata"]["name"]
    status = finished(api_client, namespace, name)
    assert status.phase == "Succeeded", status.message
    [node] = status.nodes.values()
    assert node.outputs is not None and node.outputs.result == "y" * 6000
