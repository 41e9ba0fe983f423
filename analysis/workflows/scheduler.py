"""The pure scheduler: (workflow, status, now) → (new status, actions, next wake-up).

:func:`schedule` is one pass of the engine (reference §6.2): validate on the first pass (a
workflow that fails validation ends in ``Error`` with every problem in ``status.message``), then
walk the tree from the root (``executions``), run the exit handler once the root is fulfilled,
and derive the workflow phase, message, progress and conditions. :func:`apply_report` folds an
executor's observation of one pod into the status; :func:`resume` completes suspended nodes.

The input status is never modified: each call works on a deep copy, so callers (tests, the
engine) can keep the previous status and compare.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from analysis.workflows.actions import Decision, PodReport, StopPod
from analysis.workflows.executions import DEADLINE_MESSAGE, Execution, rfc3339
from analysis.workflows.executions import suspend_outputs as _suspend_outputs
from analysis.workflows.invocations import resolve_arguments
from analysis.workflows.names import node_id, pod_name
from analysis.workflows.retries import parse_time
from analysis.workflows.scopes import global_scope
from analysis.workflows.spec import Outputs, Parameter, Template, Workflow
from analysis.workflows.status import FINAL_PHASES, NodeStatus, WorkflowCondition, WorkflowStatus
from analysis.workflows.targets import Call, Context, ResolveError
from analysis.workflows.validation import Library, workflow_problems

__all__ = ["apply_report", "resume", "schedule", "workflow_status_of"]

_ROOT_PHASES = {
    "Succeeded": "Succeeded",
    "Skipped": "Succeeded",
    "Omitted": "Succeeded",
    "Failed": "Failed",
    "Error": "Error",
}
_EXECUTABLE = frozenset({"Pod", "Suspend", "Container"})
_SHUTDOWN_STRATEGIES = frozenset({"Stop", "Terminate"})


def workflow_status_of(phase: str) -> str:
    """``{{workflow.status}}`` for a root phase (§6.2 item 3)."""
    return _ROOT_PHASES.get(phase, phase)


def schedule(
    workflow: Workflow, status: WorkflowStatus | None, now: datetime, library: Library | None = None
) -> Decision:
    """One pass; ``library`` holds the (Cluster)WorkflowTemplates ``templateRef`` may name."""
    status = status.model_copy(deep=True) if status is not None else WorkflowStatus()
    if status.phase in FINAL_PHASES:
        return Decision(status, (), None)
    name = workflow.metadata.name or ""
    if not status.phase:
        problems = (
            workflow_problems(workflow, library, strict=True)
            if library is not None
            else workflow_problems(workflow, None, strict=True)
        )
        if problems:
            status.phase = "Error"
            status.message = "; ".join(problems)
            status.started_at = status.finished_at = rfc3339(now)
            _conditions(status, spec_error=status.message)
            return Decision(status, (), None)
        status.phase = "Running"
        status.started_at = rfc3339(now)
    _publish_global_outputs(status)
    run = Execution(
        name, workflow.spec, status, now, library=library or {}, globals_=global_scope(workflow, status, now)
    )
    _deadline(run, workflow, status)
    root = _run_root(run, workflow)
    if root is not None and root.fulfilled:
        _finish_workflow(run, workflow, root)
    _publish_global_outputs(status)
    status.progress = _progress(status)
    _conditions(status)
    wake = min(run.wakes) if run.wakes and status.phase not in FINAL_PHASES else None
    return Decision(status, tuple(run.actions), wake)


def _run_root(run: Execution, workflow: Workflow) -> NodeStatus | None:
    spec = workflow.spec
    context = Context(spec, f"local/{run.name}")
    try:
        target = run.resolve(context, spec.entrypoint, None)
    except ResolveError as error:
        run.status.phase = "Error"
        run.status.message = str(error)
        run.status.finished_at = rfc3339(run.now)
        return None
    return run.execute(run.name, target, spec.arguments, None, Call())


def _deadline(run: Execution, workflow: Workflow, status: WorkflowStatus) -> None:
    """Workflow ``activeDeadlineSeconds`` and ``shutdown``: stop new work and fail what runs (§5.5, §5.10)."""
    spec = workflow.spec
    if spec.shutdown in _SHUTDOWN_STRATEGIES:
        run.stopping = f"Stopped with strategy '{spec.shutdown}'"
    elif spec.active_deadline_seconds is not None:
        started = parse_time(status.started_at) or run.now
        deadline = started.replace(microsecond=0) + timedelta(seconds=spec.active_deadline_seconds)
        run.workflow_deadline = deadline
        if run.now >= deadline:
            run.stopping = DEADLINE_MESSAGE
        else:
            run.wake(deadline)
    if run.stopping is None:
        return
    exit_ids = _exit_handler_ids(status, run.name)
    for node in status.nodes.values():
        if node.fulfilled or node.id in exit_ids or node.type not in ("Pod", "Suspend"):
            continue
        run.finish(node, "Failed", run.stopping)
        if node.type == "Pod":
            run.actions.append(StopPod(node.id, _pod_of(run, node), run.stopping))


def _pod_of(run: Execution, node: NodeStatus) -> str:
    template = node.template_ref.template if node.template_ref else node.template_name
    return pod_name(run.name, node.name, template or "")


def _exit_handler_ids(status: WorkflowStatus, name: str) -> set[str]:
    """IDs of the workflow exit handler node and everything under it."""
    root = status.nodes.get(node_id(name, f"{name}.onExit"))
    if root is None:
        return set()
    found = {root.id}
    for node in status.nodes.values():
        if node.name.startswith(f"{name}.onExit"):
            found.add(node.id)
    return found


def _failures(status: WorkflowStatus) -> str:
    failed = [
        {
            "displayName": node.display_name,
            "message": node.message or "",
            "templateName": node.template_name or "",
            "phase": node.phase,
            "podName": node.id,
            "finishedAt": node.finished_at or "",
        }
        for node in status.nodes.values()
        if node.phase in ("Failed", "Error") and node.type in ("Pod", "Suspend", "Skipped")
    ]
    return json.dumps(failed, separators=(",", ":"), ensure_ascii=False)


def _finish_workflow(run: Execution, workflow: Workflow, root: NodeStatus) -> None:
    status = run.status
    phase = workflow_status_of(root.phase)
    message = root.message
    hook = workflow.spec.exit_hook
    if hook is not None and workflow.spec.shutdown != "Terminate":
        run.globals = run.globals.child()
        run.globals.values["workflow.status"] = phase
        run.globals.values["workflow.failures"] = _failures(status)
        context = Context(workflow.spec, f"local/{run.name}")
        name = f"{run.name}.onExit"
        try:
            target = run.resolve(context, hook.template, hook.template_ref)
        except ResolveError as error:
            handler: NodeStatus | None = run.node(name) or run.create(
                name, "Skipped", boundary_id=None, phase="Error", message=str(error)
            )
        else:
            arguments = resolve_arguments(hook.arguments, run.globals)
            handler = run.execute(name, target, arguments, None, Call(exit_handler=True, hooked=True))
        if handler is None or not handler.fulfilled:
            return
        if phase == "Succeeded" and handler.phase in ("Failed", "Error"):
            phase, message = handler.phase, handler.message
    if run.stopping is not None and run.stopping != DEADLINE_MESSAGE and phase != "Succeeded":
        message = run.stopping
    status.phase = phase
    status.message = message or None
    status.finished_at = rfc3339(run.now)


def _publish_global_outputs(status: WorkflowStatus) -> None:
    """Output parameters with ``globalName`` become ``status.outputs`` (later values win)."""
    published: dict[str, Parameter] = {}
    for node in sorted(status.nodes.values(), key=lambda item: (item.finished_at or "", item.id)):
        if node.phase != "Succeeded" or node.outputs is None or node.type == "Retry":
            continue
        for parameter in node.outputs.parameters or []:
            if parameter.global_name and parameter.value is not None:
                published[parameter.global_name] = Parameter(
                    name=parameter.global_name, value=parameter.value
                )
    if published:
        outputs = status.outputs or Outputs()
        outputs.parameters = list(published.values())
        status.outputs = outputs


def _progress(status: WorkflowStatus) -> str:
    done = total = 0
    for node in status.nodes.values():
        if node.type not in _EXECUTABLE:
            continue
        total += 1
        finished = node.phase in ("Succeeded", "Skipped", "Omitted")
        done += finished
        node.progress = "1/1" if finished else "0/1"
    return f"{done}/{total}"


def _conditions(status: WorkflowStatus, spec_error: str | None = None) -> None:
    conditions: list[WorkflowCondition] = []
    if spec_error:
        conditions.append(WorkflowCondition(type="SpecError", status="True", message=spec_error))
    running = any(node.type == "Pod" and node.phase == "Running" for node in status.nodes.values())
    if status.phase not in FINAL_PHASES:
        conditions.append(WorkflowCondition(type="PodRunning", status="True" if running else "False"))
    else:
        conditions.append(WorkflowCondition(type="PodRunning", status="False"))
        conditions.append(WorkflowCondition(type="Completed", status="True"))
    status.conditions = conditions


def apply_report(status: WorkflowStatus, report: PodReport, now: datetime) -> WorkflowStatus:
    """Fold one executor observation into a copy of ``status``. Finished nodes never change again."""
    status = status.model_copy(deep=True)
    node = status.nodes.get(report.node_id)
    if node is None or node.fulfilled:
        return status
    node.phase = report.phase
    node.message = report.message or None
    if report.outputs is not None:
        node.outputs = report.outputs
    if report.host_node_name:
        node.host_node_name = report.host_node_name
    if report.pod_ip:
        node.pod_ip = report.pod_ip
    if node.fulfilled:
        node.finished_at = rfc3339(now)
    return status


def resume(
    status: WorkflowStatus,
    now: datetime,
    workflow: Workflow,
    node_name: str | None = None,
    supplied: dict[str, str] | None = None,
) -> WorkflowStatus:
    """Complete running Suspend nodes (all, or the one named), as ``argo resume`` does."""
    status = status.model_copy(deep=True)
    for node in status.nodes.values():
        if node.type != "Suspend" or node.fulfilled:
            continue
        if node_name is not None and node_name not in (node.name, node.display_name):
            continue
        template = _template_of(workflow, node)
        node.phase = "Succeeded"
        node.finished_at = rfc3339(now)
        node.outputs = _suspend_outputs(template, supplied or {}) if template else None
    return status


def _template_of(workflow: Workflow, node: NodeStatus) -> Template | None:
    if node.template_ref is not None:
        return None
    return workflow.spec.template(node.template_name or "")
