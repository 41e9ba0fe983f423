"""The workflow engine on the devcluster: one real Pod per leaf step (the kubelet runs their commands).

Each workflow also runs with the local executor, and both runs must give the same node phases,
messages and outputs: the two executors share the scheduler and the wrapper, and only differ in
how a step is isolated and how its report travels (termination message of the ``wait`` container).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from workflow_manifests import STEPS

from analysis.workflows.engine import run_locally
from analysis.workflows.executors.pods import RUN_LABEL, PodSettings
from analysis.workflows.runs import PLURAL, run_on_cluster
from analysis.workflows.spec import Workflow
from analysis.workflows.status import GROUP, VERSION, WorkflowStatus
from rollouts.crds.install import install_crds


@pytest.fixture(scope="module")
def crds(api_client: Any) -> None:
    install_crds(api_client)


def settings(tmp_path: Path) -> PodSettings:
    # the devcluster runs the init/wait containers on this host: the test's own Python has our package
    interpreter = Path(sys.executable).absolute()
    assert Path("/tmp") not in interpreter.parents, (
        f"{interpreter} is under /tmp, which the devcluster's containers see privately: "
        "run the tests from a checkout and virtualenv outside /tmp (.ci/run does this itself)"
    )
    return PodSettings(
        runner_command=(sys.executable, "-m", "analysis.workflows.executors.podside"),
        repository_host_path=str(tmp_path / "repository"),
    )


def summary(status: WorkflowStatus) -> dict[str, tuple[str, str | None, dict[str, Any]]]:
    """Node name (without the workflow name) → phase, message, outputs without artifact keys."""
    found = {}
    for node in status.nodes.values():
        outputs = node.outputs.model_dump(by_alias=True, exclude_none=True) if node.outputs else {}
        for artifact in outputs.get("artifacts", []):
            artifact.pop("local", None)
        found[node.display_name] = (node.phase, node.message, outputs)
    return found


def both(
    manifest: str, api_client: Any, namespace: str, tmp_path: Path
) -> tuple[str, WorkflowStatus, WorkflowStatus]:
    workflow = Workflow.from_dict(yaml.safe_load(manifest))
    name, remote = run_on_cluster(
        api_client, workflow, namespace, settings=settings(tmp_path), poll_interval=0.5
    )
    local_workflow = workflow.model_copy(
        update={"metadata": workflow.metadata.model_copy(update={"name": name})}
    )
    _, local = run_locally(local_workflow, tmp_path / "local", poll_interval=0.1)
    return name, remote, local


def test_steps_with_parameters_results_and_artifacts_match_the_local_run(
    api_client: Any, namespace: str, crds: None, tmp_path: Path
) -> None:
    name, remote, local = both(STEPS, api_client, namespace, tmp_path)
    assert remote.phase == "Succeeded", remote.message
    assert summary(remote) == summary(local)
    nodes = {node.display_name: node for node in remote.nodes.values()}
    assert nodes["consume"].outputs.parameters[0].value == "hello from-stdout 42 rows"
    assert nodes["skipped"].phase == "Skipped"
    stored = client.CustomObjectsApi(api_client).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )
    assert stored["status"]["phase"] == "Succeeded"
    assert (
        stored["status"]["nodes"][nodes["consume"].id]["outputs"]["parameters"][0]["value"]
        == "hello from-stdout 42 rows"
    )
    pods = (
        client.CoreV1Api(api_client)
        .list_namespaced_pod(namespace, label_selector=f"{RUN_LABEL}={name}")
        .items
    )
    assert sorted(pod.metadata.annotations["workflows.argoproj.io/node-name"] for pod in pods) == sorted(
        node.name for node in remote.nodes.values() if node.type == "Pod"
    )
    assert all(pod.metadata.owner_references[0].kind == "WorkflowRun" for pod in pods)
    assert {pod.status.phase for pod in pods} == {"Succeeded"}


def test_parallel_branches_writing_the_same_tmp_path_retry_and_deadline(
    api_client: Any, namespace: str, crds: None, tmp_path: Path
) -> None:
    _, remote, local = both(
        """
metadata: {generateName: dag-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: false
      tasks:
      - {name: B, template: write, arguments: {parameters: [{name: value, value: b}]}}
      - {name: C, template: write, arguments: {parameters: [{name: value, value: c}]}}
      - name: D
        template: check
        dependencies: [B, C]
        arguments:
          parameters:
          - {name: joined, value: "{{tasks.B.outputs.parameters.out}}{{tasks.C.outputs.parameters.out}}"}
      - {name: flaky, template: flaky}
      - {name: slow, template: slow}
  - name: write
    inputs: {parameters: [{name: value}]}
    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out}}]}
    container:
      image: busybox
      command: [sh, -c]
      args: ["echo {{inputs.parameters.value}} > /tmp/out; sleep 2; cat /tmp/out"]
  - name: check
    inputs: {parameters: [{name: joined}]}
    container: {image: busybox, command: [sh, -c], args: ["test {{inputs.parameters.joined}} = bc"]}
  - name: flaky
    retryStrategy: {limit: 2}
    container: {image: busybox, command: [sh, -c], args: ["test {{retries}} -ge 1"]}
  - name: slow
    activeDeadlineSeconds: 2
    container: {image: busybox, command: [sleep, "60"]}
""",
        api_client,
        namespace,
        tmp_path,
    )
    expected = {
        "B": "Succeeded",
        "C": "Succeeded",
        "D": "Succeeded",
        "flaky": "Succeeded",
        "flaky(0)": "Failed",
        "flaky(1)": "Succeeded",
        "slow": "Failed",
    }
    for status in (remote, local):
        phases = {
            node.display_name: node.phase for node in status.nodes.values() if node.display_name in expected
        }
        assert phases == expected
        slow = next(node for node in status.nodes.values() if node.display_name == "slow")
        assert slow.message == "Pod was active on the node longer than the specified deadline"
        assert status.phase == "Failed"
    assert summary(remote)["B"][2]["parameters"] == [{"name": "out", "value": "b"}]
    assert summary(remote)["flaky(0)"][1] == "main: Error (exit code 1)"


def test_resource_templates_create_objects_and_wait_for_their_conditions(
    api_client: Any, namespace: str, crds: None, tmp_path: Path
) -> None:
    workflow = Workflow.from_dict(
        yaml.safe_load("""
metadata: {generateName: k8s-jobs-}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: false
      tasks:
      - {name: config, template: config}
      - {name: good, template: job, arguments: {parameters: [{name: code, value: "0"}]}}
      - {name: bad, template: job, arguments: {parameters: [{name: code, value: "3"}]}}
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
    inputs: {parameters: [{name: code}]}
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
              - {name: main, image: busybox, command: [sh, -c, "exit {{inputs.parameters.code}}"]}
      successCondition: status.succeeded > 0
      failureCondition: status.failed > 0
    outputs:
      parameters:
      - {name: job, valueFrom: {jsonPath: "{.metadata.name}"}}
""")
    )
    _, status = run_on_cluster(
        api_client, workflow, namespace, settings=settings(tmp_path), poll_interval=0.5
    )
    nodes = {node.display_name: node for node in status.nodes.values()}
    assert (nodes["good"].phase, nodes["bad"].phase) == ("Succeeded", "Failed")
    assert nodes["bad"].message == "failure condition 'status.failed > 0' evaluated true"
    made = nodes["config"].outputs.parameters[0].value
    config_map = client.CoreV1Api(api_client).read_namespaced_config_map(made, namespace)
    assert config_map.metadata.owner_references[0].kind == "WorkflowRun"
    job = client.BatchV1Api(api_client).read_namespaced_job(
        nodes["good"].outputs.parameters[0].value, namespace
    )
    assert job.status.succeeded == 1
    assert status.phase == "Failed"
