"""One controller pass over a WorkflowRun (``analysis.workflows.reconcile``), without a cluster.

Pods are given as the pod watch would hold them (projections), so restarts, vanished pods,
shutdowns and unreadable specs are decided here exactly as the controller decides them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from analysis.workflows.reconcile import (
    OVERSIZED_REPORT,
    REPORT_GRACE,
    SILENT_WAIT,
    invalid_status,
    logs_needed,
    plan_pass,
    project_pod,
    status_of,
    workflow_of,
)
from analysis.workflows.spec import Workflow

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TWO_STEPS = """
metadata: {name: wf, namespace: ns, uid: u-1}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: echo}
    - - {name: second, template: echo}
  - name: echo
    container: {image: alpine, command: [echo, hi]}
"""


def workflow(text: str = TWO_STEPS) -> Workflow:
    return Workflow.from_dict(yaml.safe_load(text))


def pod(name: str, node_id: str, phase: str, *, report: str | None = None) -> dict[str, Any]:
    statuses = []
    if report is not None:
        statuses = [
            {"name": "main", "state": {"terminated": {"exitCode": 0}}},
            {"name": "wait", "state": {"terminated": {"exitCode": 0, "message": report}}},
        ]
    body = {
        "metadata": {"name": name, "annotations": {"workflows.argoproj.io/node-id": node_id}},
        "spec": {"nodeName": "node-1"},
        "status": {"phase": phase, "containerStatuses": statuses},
    }
    return project_pod(body)


def test_the_first_pass_starts_the_first_step_and_nothing_else() -> None:
    step = plan_pass(workflow(), None, {}, NOW)
    assert step.status.phase == "Running"
    assert [action.node_name for action in step.create] == ["wf[0].first"]
    assert step.delete == ()


def test_a_step_whose_pod_exists_is_not_created_again() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    pods = {action.pod_name: pod(action.pod_name, action.node_id, "Pending")}
    again = plan_pass(workflow(), first.status, pods, NOW + timedelta(seconds=1))
    assert again.create == ()


def test_a_finished_pod_completes_its_node_and_starts_the_next_step() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    report = '{"phase": "Succeeded", "outputs": {"exitCode": "0"}}'
    pods = {action.pod_name: pod(action.pod_name, action.node_id, "Succeeded", report=report)}
    step = plan_pass(workflow(), first.status, pods, NOW + timedelta(seconds=2))
    node = step.status.nodes[action.node_id]
    assert (node.phase, node.host_node_name, node.finished_at) == (
        "Succeeded",
        "node-1",
        "2026-01-01T00:00:02Z",
    )
    assert [created.node_name for created in step.create] == ["wf[1].second"]


def test_a_running_node_whose_pod_vanished_is_an_error() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    running = plan_pass(
        workflow(), first.status, {action.pod_name: pod(action.pod_name, action.node_id, "Running")}, NOW
    )
    assert running.status.nodes[action.node_id].phase == "Running"
    gone = plan_pass(workflow(), running.status, {}, NOW + timedelta(seconds=3))
    assert gone.status.nodes[action.node_id].phase == "Error"
    assert gone.status.nodes[action.node_id].message == "pod deleted"
    assert gone.status.phase == "Failed"  # a steps node with an errored child fails


def test_a_pending_node_without_a_pod_is_created_again_after_a_restart() -> None:
    """The controller died between creating the status and the pod: the pod is created now."""
    first = plan_pass(workflow(), None, {}, NOW)
    again = plan_pass(workflow(), first.status, {}, NOW + timedelta(seconds=5))
    assert [action.pod_name for action in again.create] == [first.create[0].pod_name]


def test_terminate_fails_the_running_node_and_deletes_its_pod() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    pods = {action.pod_name: pod(action.pod_name, action.node_id, "Running")}
    running = plan_pass(workflow(), first.status, pods, NOW)
    stopping = workflow().model_copy(deep=True)
    stopping.spec.shutdown = "Terminate"
    step = plan_pass(stopping, running.status, pods, NOW + timedelta(seconds=1))
    assert [stop.pod_name for stop in step.delete] == [action.pod_name]
    assert step.status.phase == "Failed"
    assert step.status.message == "Stopped with strategy 'Terminate'"


def test_a_pod_already_being_deleted_is_not_deleted_again() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    running_pod = pod(action.pod_name, action.node_id, "Running")
    running = plan_pass(workflow(), first.status, {action.pod_name: running_pod}, NOW)
    running_pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:01Z"
    stopping = workflow().model_copy(deep=True)
    stopping.spec.shutdown = "Stop"
    assert plan_pass(stopping, running.status, {action.pod_name: running_pod}, NOW).delete == ()


def test_a_finished_run_is_left_alone() -> None:
    final = invalid_status("boom", NOW)
    step = plan_pass(workflow(), final, {}, NOW)
    assert step.status is final and step.create == () and step.wake_at is None


def test_an_oversized_report_is_an_error_with_the_reason() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    pods = {action.pod_name: pod(action.pod_name, action.node_id, "Succeeded", report='{"inLog": true}')}
    step = plan_pass(workflow(), first.status, pods, NOW)
    assert step.status.nodes[action.node_id].message == OVERSIZED_REPORT


def test_resource_steps_are_handed_to_the_shell_not_created_as_pods() -> None:
    manifest = """
metadata: {name: wf}
spec:
  entrypoint: make
  templates:
  - name: make
    resource: {action: create, manifest: "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}"}
"""
    step = plan_pass(workflow(manifest), None, {}, NOW)
    assert step.create == ()
    assert [action.node_name for action in step.resources] == ["wf"]
    again = plan_pass(workflow(manifest), step.status, {}, NOW + timedelta(seconds=9))
    assert [action.node_name for action in again.resources] == ["wf"]  # until the step ends
    assert [node.phase for node in again.status.nodes.values()] == ["Pending"]


def test_an_unreadable_spec_is_reported_not_raised() -> None:
    found = workflow_of({"metadata": {"name": "wf"}, "spec": {"entrypoint": 3, "templates": "x"}})
    assert isinstance(found, str) and "spec.entrypoint" in found and "spec.templates" in found
    status = invalid_status(found, NOW)
    assert status.phase == "Error" and status.conditions is not None
    assert status.conditions[0].type == "SpecError"


def test_a_validation_problem_ends_the_run_in_error_with_argos_message() -> None:
    broken = workflow(
        TWO_STEPS.replace("template: echo}\n    - - {name: second", "template: nope}\n    - - {name: second")
    )
    step = plan_pass(broken, None, {}, NOW)
    assert step.status.phase == "Error"
    assert "template name 'nope' undefined" in (step.status.message or "")


def test_the_stored_status_is_read_back_as_written() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    stored = {"status": first.status.model_dump(by_alias=True)}
    assert status_of(stored) == first.status
    assert status_of({}) is None


def test_a_silent_wait_container_is_given_up_on_after_the_grace_period() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    silent = pod(action.pod_name, action.node_id, "Running")
    silent["status"]["containerStatuses"] = [
        {"name": "main", "state": {"terminated": {"exitCode": 0, "finishedAt": "2026-01-01T00:00:10Z"}}},
        {"name": "wait", "state": {"running": {}}},
    ]
    pods = {action.pod_name: silent}
    waiting = plan_pass(workflow(), first.status, pods, NOW + timedelta(seconds=20))
    assert waiting.status.nodes[action.node_id].phase == "Running"
    assert waiting.delete == ()
    assert waiting.wake_at == NOW + timedelta(seconds=10) + REPORT_GRACE

    given_up = plan_pass(workflow(), waiting.status, pods, waiting.wake_at)
    node = given_up.status.nodes[action.node_id]
    assert (node.phase, node.message) == ("Error", SILENT_WAIT)
    assert [stop.pod_name for stop in given_up.delete] == [action.pod_name]


def test_an_oversized_report_is_read_from_the_wait_log_when_the_shell_has_it() -> None:
    first = plan_pass(workflow(), None, {}, NOW)
    action = first.create[0]
    pods = {action.pod_name: pod(action.pod_name, action.node_id, "Succeeded", report='{"inLog": true}')}
    assert logs_needed(pods) == [action.pod_name]
    big = "x" * 5000
    log = (
        f'step output\nrollouts-workflow-report: {{"phase": "Succeeded", "outputs": {{"result": "{big}"}}}}\n'
    )
    step = plan_pass(workflow(), first.status, pods, NOW, wait_logs={action.pod_name: log})
    node = step.status.nodes[action.node_id]
    assert node.phase == "Succeeded"
    assert node.outputs is not None and node.outputs.result == big
