# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""``rollouts workflow`` against the devcluster, run as a user runs it (a subprocess).

The controller (a real ``rollouts controller`` process) runs the WorkflowRuns the command
creates; the command follows them and exits 0 for Succeeded, 1 for Failed, 2 for bad input
(and then creates nothing). ``logs``, ``get``, ``list`` and ``terminate`` act on those runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from kubernetes import client
from plugin_helpers import Terminal
from test_controller_harness import ControllerProcess, controller, rollout_crds, wait_for
from workflow_fixtures import PIPELINE, finished, run_pods, workflow_controller, workflow_pod_env

from analysis.workflows.runs import PLURAL
from analysis.workflows.status import GROUP, VERSION
from rollouts.devcluster import DevCluster

FAILING = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: failing-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: alpine, command: [sh, -c], args: ["echo about to fail; exit 3"]}
"""
SLEEPING = FAILING.replace("failing-", "sleeping-").replace("echo about to fail; exit 3", "sleep 120")


def workflow_cli(devcluster: DevCluster, namespace: str, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rollouts.cli", "workflow", *argv]
    command += ["--kubeconfig", str(devcluster.kubeconfig), "-n", namespace]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def runs(api_client: Any, namespace: str) -> list[dict[str, Any]]:
    listed = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL
    )
    return list(listed["items"])


def test_run_wait_exits_0_for_a_succeeding_workflow_and_logs_get_list_show_it(
    devcluster: DevCluster, api_client: Any, namespace: str, workflow_controller: ControllerProcess
) -> None:
    result = workflow_cli(devcluster, namespace, "run", str(PIPELINE), "-p", "rows=2", "--wait")
    assert result.returncode == 0, result.stderr + result.stdout
    [run] = runs(api_client, namespace)
    name = run["metadata"]["name"]
    assert f"Name:               {name}\n" in result.stdout
    assert "Status:             Succeeded\n" in result.stdout
    assert "total: 30\n" in result.stdout
    assert " └─✔ load " in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour

    logs = workflow_cli(devcluster, namespace, "logs", name)
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    load_pod = next(
        pod.metadata.name for pod in run_pods(api_client, namespace, name) if "-load-" in pod.metadata.name
    )
    assert f"{load_pod}: loaded total=30" in lines
    assert any(line.endswith(": fetched 2 rows") for line in lines)
    assert any(line.endswith(f": pipeline {name} finished: Succeeded") for line in lines)

    one = workflow_cli(devcluster, namespace, "logs", name, "load")
    assert one.stdout.splitlines() == [f"{load_pod}: loaded total=30"]

    got = workflow_cli(devcluster, namespace, "get", name)
    assert got.returncode == 0 and "Status:             Succeeded" in got.stdout
    listed = workflow_cli(devcluster, namespace, "list")
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "AGE", "DURATION", "PRIORITY", "MESSAGE"]
    assert row.split()[:2] == [name, "Succeeded"]


def test_run_wait_exits_1_for_a_failing_workflow(
    devcluster: DevCluster,
    api_client: Any,
    namespace: str,
    workflow_controller: ControllerProcess,
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "failing.yaml"
    manifest.write_text(FAILING)
    result = workflow_cli(devcluster, namespace, "run", str(manifest), "--wait")
    assert result.returncode == 1, result.stderr + result.stdout
    assert "Status:             Failed" in result.stdout
    assert "main: Error (exit code 3)" in result.stdout


def test_bad_input_exits_2_and_creates_nothing(
    devcluster: DevCluster, api_client: Any, namespace: str, tmp_path: Path, rollout_crds: list[str]
) -> None:
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(FAILING.replace("entrypoint: main", "entrypoint: missing"))
    result = workflow_cli(devcluster, namespace, "run", str(manifest), "--wait")
    assert result.returncode == 2
    assert "template name 'missing' undefined" in result.stderr
    assert runs(api_client, namespace) == []


def test_terminate_stops_a_running_workflow(
    devcluster: DevCluster,
    api_client: Any,
    namespace: str,
    workflow_controller: ControllerProcess,
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "sleeping.yaml"
    manifest.write_text(SLEEPING)
    created = workflow_cli(devcluster, namespace, "run", str(manifest), "-o", "name")
    assert created.returncode == 0, created.stderr
    name = created.stdout.strip()
    wait_for(lambda: run_pods(api_client, namespace, name), "the step's pod")
    result = workflow_cli(devcluster, namespace, "terminate", name)
    assert (result.returncode, result.stdout) == (0, f"workflow {name} terminated\n")
    status = finished(api_client, namespace, name)
    assert (status.phase, status.message) == ("Failed", "Stopped with strategy 'Terminate'")
    missing = workflow_cli(devcluster, namespace, "terminate", "no-such-run")
    assert missing.returncode == 1
    assert 'workflowruns.workflows.rollouts.dev "no-such-run" not found' in missing.stderr


def test_run_local_needs_no_cluster_and_exits_with_the_outcome(tmp_path: Path) -> None:
    def local(manifest: Path, *argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "rollouts.cli", "workflow", "run", str(manifest), "--local"]
        command += ["--workdir", str(tmp_path / "work"), *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    succeeded = local(PIPELINE, "-p", "rows=4")
    assert succeeded.returncode == 0, succeeded.stderr
    assert "Namespace:          (local)" in succeeded.stdout
    assert "  total: 100\n" in succeeded.stdout
    failing = tmp_path / "failing.yaml"
    failing.write_text(FAILING)
    failed = local(failing, "-o", "json")
    assert failed.returncode == 1
    assert '"phase": "Failed"' in failed.stdout


def test_run_watch_redraws_the_tree_in_place_on_a_terminal(
    devcluster: DevCluster,
    api_client: Any,
    namespace: str,
    workflow_controller: ControllerProcess,
    tmp_path: Path,
) -> None:
    """In a pseudo-terminal: frames overwrite each other (cursor up, no screen clear), coloured
    icons; with NO_COLOR the same redraws without colour."""
    manifest = tmp_path / "slow.yaml"
    manifest.write_text(FAILING.replace("failing-", "slow-").replace("echo about to fail; exit 3", "sleep 2"))
    environ = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    environ["TERM"] = "xterm-256color"
    argv = [sys.executable, "-m", "rollouts.cli", "workflow", "run", str(manifest), "--watch"]
    argv += ["--kubeconfig", str(devcluster.kubeconfig), "-n", namespace]
    terminal = Terminal(argv, environ)
    try:
        terminal.expect("Status:")
        assert terminal.wait() == 0
    finally:
        terminal.close()
    output = terminal.output
    assert re.search(r"\x1b\[\d+F", output), "frames are not redrawn in place"
    assert "\x1b[2J" not in output
    assert "\x1b[32m✔\x1b[0m" in output
    assert "Running" in output and "Succeeded" in output

    plain = Terminal(argv, {**environ, "NO_COLOR": "1"})
    try:
        assert plain.wait() == 0
    finally:
        plain.close()
    assert "\x1b[32m" not in plain.output
    assert "✔ slow-" in plain.output
