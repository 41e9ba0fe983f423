# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""Delegation to a real Argo Workflows: ``rollouts workflow run --argo`` creates an ``argoproj.io``
Workflow and follows it; ``terminate --argo`` sets Argo's ``spec.shutdown``.

Argo's real CRDs are served (the devcluster's ``argo-workflows`` add-on: the schema-less CRDs
Argo itself installs by default, from the Go module pinned in ``rollouts.devcluster.addons.PINS``).
No Argo controller can run here (no container images), so this test plays Argo's controller: it
writes the Workflow's ``status`` (a phase, then nodes, then ``Succeeded``) the way Argo would, and
checks that we created the right object, rendered what its status says, exited with its outcome,
and terminated it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import yaml
from test_controller_harness import wait_for
from workflow_fixtures import argo_crds, argo_workflows, write_status

from analysis.workflows import delegate
from analysis.workflows.spec import Workflow
from rollouts.devcluster import DevCluster

MANIFEST = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: delegated-, labels: {team: data}}
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: world}]}
  templates:
  - name: main
    container: {image: alpine, command: [echo, "{{workflow.parameters.who}}"]}
"""


def cli(devcluster: DevCluster, namespace: str, *argv: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rollouts.cli",
        "workflow",
        *argv,
        "--kubeconfig",
        str(devcluster.kubeconfig),
        "-n",
        namespace,
    ]


def test_run_argo_creates_an_argo_workflow_and_follows_it_to_its_phase(
    devcluster: DevCluster, api_client: Any, namespace: str, argo_crds: None, tmp_path: Any
) -> None:
    manifest = tmp_path / "w.yaml"
    manifest.write_text(MANIFEST)
    command = cli(devcluster, namespace, "run", str(manifest), "--argo", "-p", "who=argo", "--wait")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        [created] = wait_for(lambda: argo_workflows(api_client, namespace), "the Argo Workflow")
        name = created["metadata"]["name"]
        assert name.startswith("delegated-")
        assert created["metadata"]["labels"] == {"team": "data"}
        expected = Workflow.from_dict(yaml.safe_load(MANIFEST)).spec.model_dump(
            by_alias=True, exclude_none=True
        )
        expected["arguments"]["parameters"][0]["value"] = "argo"
        assert created["spec"] == expected
        assert "ownerReferences" not in created["metadata"]

        write_status(api_client, namespace, name, {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z"})
        time.sleep(1.5)  # let the command see Running; it must keep following
        assert process.poll() is None
        node = {
            "id": name,
            "name": name,
            "displayName": name,
            "type": "Pod",
            "templateName": "main",
            "phase": "Succeeded",
            "startedAt": "2026-01-01T00:00:00Z",
            "finishedAt": "2026-01-01T00:00:04Z",
        }
        write_status(
            api_client,
            namespace,
            name,
            {
                "phase": "Succeeded",
                "startedAt": "2026-01-01T00:00:00Z",
                "finishedAt": "2026-01-01T00:00:04Z",
                "progress": "1/1",
                "nodes": {name: node},
            },
        )
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "Status:             Succeeded" in stdout
    assert f" ✔ {name}  main      {name}  4s" in stdout


def test_a_terminated_argo_workflow_exits_1_and_get_shows_it(
    devcluster: DevCluster, api_client: Any, namespace: str, argo_crds: None, tmp_path: Any
) -> None:
    manifest = tmp_path / "w.yaml"
    manifest.write_text(MANIFEST)
    command = cli(devcluster, namespace, "run", str(manifest), "--argo", "--wait")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        [created] = wait_for(lambda: argo_workflows(api_client, namespace), "the Argo Workflow")
        name = created["metadata"]["name"]
        terminated = run(cli(devcluster, namespace, "terminate", name, "--argo"))
        assert (terminated.returncode, terminated.stdout) == (0, f"workflow {name} terminated\n")
        assert delegate.get_argo_workflow(api_client, namespace, name)["spec"]["shutdown"] == "Terminate"

        message = "Stopped with strategy 'Terminate'"
        write_status(api_client, namespace, name, {"phase": "Failed", "message": message})
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, stderr
    assert "Status:             Failed (Terminated)" in stdout
    shown = run(cli(devcluster, namespace, "get", name, "--argo"))
    assert shown.returncode == 0, shown.stderr
    assert f"Message:            {message}" in shown.stdout


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
