"""The workflow engine with the local executor: real subprocesses, each with its own /tmp and outputs.

These tests need no cluster (they do not use the devcluster fixtures); they run ``sh`` and
``python3`` from the host inside private mount namespaces (``unshare``), as the engine does for
``rollouts workflow run --local``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from workflow_manifests import STEPS

from analysis.workflows.engine import run_locally
from analysis.workflows.names import pod_name
from analysis.workflows.spec import Workflow
from analysis.workflows.status import WorkflowStatus


def run(manifest: str, tmp_path: Path) -> tuple[Workflow, WorkflowStatus]:
    return run_locally(Workflow.from_dict(yaml.safe_load(manifest)), tmp_path, poll_interval=0.1)


def by_display_name(status: WorkflowStatus) -> dict[str, tuple[str, str | None]]:
    return {node.display_name: (node.phase, node.message) for node in status.nodes.values()}


def test_steps_pass_parameters_results_and_artifacts(tmp_path: Path) -> None:
    workflow, status = run(STEPS, tmp_path)
    assert status.phase == "Succeeded", status.message
    nodes = {node.display_name: node for node in status.nodes.values()}
    generate, consume = nodes["generate"], nodes["consume"]
    assert nodes["skipped"].message == "when 'hello == bye' evaluated false"
    assert generate.outputs.parameters[0].value == "hello"  # one trailing newline trimmed
    assert generate.outputs.result == "from-stdout"
    assert generate.outputs.artifacts[0].local["key"].endswith("/report.tgz")
    assert consume.outputs.parameters[0].value == "hello from-stdout 42 rows"
    assert consume.outputs.result is None  # a container's stdout is kept only when referenced
    assert workflow.metadata.name.startswith("steps-") and len(workflow.metadata.name) == len("steps-") + 5


def test_parallel_dag_branches_writing_the_same_tmp_path_do_not_collide(tmp_path: Path) -> None:
    marker = Path("/tmp/out")
    assert not marker.exists()
    _, status = run(
        """
metadata: {name: diamond}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: write, arguments: {parameters: [{name: value, value: a}]}}
      - {name: B, template: write, dependencies: [A], arguments: {parameters: [{name: value, value: b}]}}
      - {name: C, template: write, dependencies: [A], arguments: {parameters: [{name: value, value: c}]}}
      - name: D
        template: join
        dependencies: [B, C]
        arguments:
          parameters:
          - name: joined
            value: >-
              {{tasks.A.outputs.parameters.out}}{{tasks.B.outputs.parameters.out}}{{tasks.C.outputs.parameters.out}}
  - name: write
    inputs: {parameters: [{name: value}]}
    outputs: {parameters: [{name: out, valueFrom: {path: /tmp/out}}]}
    container:
      image: busybox
      command: [sh, -c]
      # both branches write, wait for each other to have written, then read back their own value
      args: ["echo {{inputs.parameters.value}} > /tmp/out; sleep 1; cat /tmp/out"]
  - name: join
    inputs: {parameters: [{name: joined}]}
    container: {image: busybox, command: [sh, -c], args: ["test {{inputs.parameters.joined}} = abc"]}
""",
        tmp_path,
    )
    assert status.phase == "Succeeded", status.message
    outputs = {
        node.display_name: node.outputs.parameters[0].value
        for node in status.nodes.values()
        if node.display_name in "ABC"
    }
    assert outputs == {"A": "a", "B": "b", "C": "c"}
    starts = {node.display_name: node.started_at for node in status.nodes.values()}
    assert starts["B"] == starts["C"]  # started in the same pass: they did run side by side
    assert not marker.exists()  # the host's /tmp was never written


def test_retry_succeeds_on_the_second_attempt(tmp_path: Path) -> None:
    _, status = run(
        """
metadata: {name: retry}
spec:
  entrypoint: flaky
  templates:
  - name: flaky
    retryStrategy: {limit: 3, retryPolicy: Always, backoff: {duration: "1s"}}
    container: {image: busybox, command: [sh, -c], args: ["echo attempt {{retries}}; test {{retries}} -ge 1"]}
""",
        tmp_path,
    )
    assert status.phase == "Succeeded"
    assert by_display_name(status) == {
        "retry": ("Succeeded", None),
        "retry(0)": ("Failed", "main: Error (exit code 1)"),
        "retry(1)": ("Succeeded", None),
    }
    log = tmp_path / "retry" / pod_name("retry", "retry(1)", "flaky") / "main.log"
    assert log.read_text() == "attempt 1\n"


def test_workflow_deadline_kills_the_running_step_and_the_exit_handler_still_runs(tmp_path: Path) -> None:
    _, status = run(
        """
metadata: {name: deadline}
spec:
  entrypoint: main
  activeDeadlineSeconds: 2
  onExit: report
  templates:
  - name: main
    steps:
    - - {name: slow, template: slow}
  - name: slow
    container: {image: busybox, command: [sh, -c], args: ["echo $$ > /tmp/pid; sleep 60"]}
  - name: report
    container: {image: busybox, command: [sh, -c], args: ["echo {{workflow.status}}"]}
""",
        tmp_path,
    )
    assert status.phase == "Failed"
    nodes = by_display_name(status)
    assert nodes["slow"] == ("Failed", "Step exceeded its deadline")
    assert nodes["deadline.onExit"] == ("Succeeded", None)
    pid = int(next((tmp_path / "deadline").glob("deadline-slow-*/tmp/pid")).read_text())
    assert not running(pid)


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped by whoever inherited it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_template_deadline_and_a_missing_output_file(tmp_path: Path) -> None:
    _, status = run(
        """
metadata: {name: limits}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      failFast: false
      tasks:
      - {name: slow, template: slow}
      - {name: missing, template: missing}
  - name: slow
    activeDeadlineSeconds: 1
    container: {image: busybox, command: [sleep, "60"]}
  - name: missing
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/never-written}}]}
    container: {image: busybox, command: ["true"]}
""",
        tmp_path,
    )
    nodes = by_display_name(status)
    assert nodes["slow"] == ("Failed", "Pod was active on the node longer than the specified deadline")
    assert nodes["missing"] == (
        "Error",
        "output parameter p: open /tmp/never-written: no such file or directory",
    )
    assert status.phase == "Failed"


def test_a_step_whose_command_is_missing_fails_with_the_shell_message(tmp_path: Path) -> None:
    _, status = run(
        """
metadata: {name: nocmd}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [definitely-not-a-program-xyz]}
""",
        tmp_path,
    )
    assert (status.phase, status.message) == ("Failed", "main: Error (exit code 127)")
    log = (tmp_path / "nocmd" / "nocmd" / "main.log").read_text()
    assert "definitely-not-a-program-xyz" in log
