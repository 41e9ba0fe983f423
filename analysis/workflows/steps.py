"""Steps templates: groups run one after another, the steps of a group in parallel (§2.5, §6.2).

Node shapes follow Argo: the Steps node links to its first StepGroup ``<steps>[0]``; each group
links to its steps (loop iterations directly); every outbound node of group ``i`` links to group
``i+1``. A group is fulfilled when all its children (and their exit hooks) are; it fails with
``child '<id>' failed`` when a child failed without a matching ``continueOn``, and the Steps node
fails with the same message without starting later groups.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from analysis.workflows.invocations import is_looped, plan, resolve_arguments, run_child
from analysis.workflows.scopes import merge, node_variables
from analysis.workflows.spec import Arguments, ContinueOn, Outputs, Parameter, Template, WorkflowStep
from analysis.workflows.status import NodeStatus
from analysis.workflows.substitution import Scope, evaluate_expression, substitute
from analysis.workflows.targets import Call, ResolveError, Target, references_result, template_text

if TYPE_CHECKING:
    from analysis.workflows.executions import Execution

__all__ = ["FAIL_FAST_MESSAGE", "continues", "execute_steps", "failure_message"]

FAIL_FAST_MESSAGE = "template has failed or errored children and failFast enabled"


def continues(continue_on: ContinueOn | None, phase: str) -> bool:
    """Does ``continueOn`` let the parent carry on past a child in ``phase``?"""
    if continue_on is None:
        return False
    return bool(continue_on.failed) if phase == "Failed" else bool(continue_on.error) and phase == "Error"


def failure_message(node: NodeStatus) -> str:
    return f"child '{node.id}' failed"


def execute_steps(run: Execution, node: NodeStatus, target: Target, call: Call) -> NodeStatus:
    template = target.template
    scope = run.body_scope(node)
    text = template_text(template)
    previous: NodeStatus | None = None
    last_children: list[NodeStatus] = []
    for index, group in enumerate(template.steps or []):
        group_name = f"{node.name}[{index}]"
        group_node = run.node(group_name)
        if group_node is None:
            group_node = run.create(group_name, "StepGroup", boundary_id=node.id, phase="Running")
            _link(run, node, previous, group_node)
        children = _execute_group(
            run, group_node, group, steps_node=node, scope=scope, target=target, call=call, text=text
        )
        last_children = children
        if not group_node.fulfilled:
            return node
        if group_node.phase in ("Failed", "Error"):
            node.outbound_nodes = _outbound(run, children)
            return run.finish(node, "Failed" if group_node.phase == "Failed" else "Error", group_node.message)
        for step in group:
            merge(scope, _step_variables(run, group_node, step, target))
        previous = group_node
    node.outbound_nodes = _outbound(run, last_children) or None
    try:
        outputs = template_outputs(template, scope)
    except ValueError as error:
        return run.finish(node, "Error", str(error))
    return run.finish(node, "Succeeded", outputs=outputs)


def _link(run: Execution, node: NodeStatus, previous: NodeStatus | None, group_node: NodeStatus) -> None:
    if previous is None:
        node.add_child(group_node.id)
        return
    sources = _outbound(run, [run.nodes[child] for child in previous.children or []])
    for source in sources or [previous.id]:
        run.nodes[source].add_child(group_node.id)


def _outbound(run: Execution, children: list[NodeStatus]) -> list[str]:
    found: list[str] = []
    for child in children:
        found += run.outbound(child)
    return found


def _execute_group(
    run: Execution,
    group_node: NodeStatus,
    group: list[WorkflowStep],
    *,
    steps_node: NodeStatus,
    scope: Scope,
    target: Target,
    call: Call,
    text: str,
) -> list[NodeStatus]:
    template = target.template
    children: list[NodeStatus] = []
    pending = False
    failed: NodeStatus | None = None
    not_started = False
    for step in group:
        base = f"{group_node.name}.{step.name}"
        if group_node.fulfilled:
            children += [
                run.nodes[child]
                for child in group_node.children or []
                if run.nodes[child].name == base or run.nodes[child].name.startswith(base + "(")
            ]
            continue
        step_scope = merge(scope.child(), Scope({"steps.name": step.name}))
        planned = plan(step, base, step_scope)
        if isinstance(planned, tuple):
            existing = run.node(base) or run.create(
                base,
                "Skipped",
                boundary_id=steps_node.id,
                phase=planned[0],
                message=planned[1],
                template_name=step.template,
            )
            group_node.add_child(existing.id)
            planned_nodes = [existing]
            if existing.phase in ("Failed", "Error") and not continues(step.continue_on, existing.phase):
                failed = failed or existing
        else:
            planned_nodes = []
            child_call = Call(
                capture_result=references_result(text, "steps", step.name), exit_handler=call.exit_handler
            )
            for child in planned:
                exists = run.node(child.name) is not None
                if not exists and not _may_start(run, template, group_node, failed):
                    not_started = True
                    continue
                node, hook_done = run_child(
                    run,
                    child,
                    step,
                    boundary_id=steps_node.id,
                    context=target.context,
                    call=child_call,
                    prefix="steps",
                )
                if node is None:
                    not_started = True
                    continue
                group_node.add_child(node.id)
                planned_nodes.append(node)
                if not node.fulfilled or not hook_done:
                    pending = True
                elif node.phase in ("Failed", "Error") and not continues(step.continue_on, node.phase):
                    failed = failed or node
        children += planned_nodes
    if group_node.fulfilled:
        return children
    if pending or (not_started and not (failed and template.fail_fast)):
        return children
    if failed is not None:
        message = FAIL_FAST_MESSAGE if not_started else failure_message(failed)
        run.finish(group_node, "Failed", message)
    else:
        run.finish(group_node, "Succeeded")
    return children


def _may_start(run: Execution, template: Template, group_node: NodeStatus, failed: NodeStatus | None) -> bool:
    if failed is not None and template.fail_fast:
        return False
    if template.parallelism:
        active = sum(1 for child in group_node.children or [] if not run.nodes[child].fulfilled)
        return active < template.parallelism
    return True


def _step_variables(run: Execution, group_node: NodeStatus, step: WorkflowStep, target: Target) -> Scope:
    base = f"{group_node.name}.{step.name}"
    if is_looped(step):
        iterations = [
            run.nodes[child]
            for child in group_node.children or []
            if run.nodes[child].name.startswith(base + "(")
        ]
        iterations.sort(key=lambda node: _index(node.name))
        holder = run.node(base)
        if holder is not None:  # the loop failed to expand
            return node_variables(f"steps.{step.name}", holder, None)
        summary = NodeStatus(id="", name=base, display_name=step.name, type="StepGroup", phase="Succeeded")
        return node_variables(f"steps.{step.name}", summary, None, iterations)
    node = run.node(base)
    if node is None:
        return Scope()
    return node_variables(f"steps.{step.name}", node, declared_outputs(run, step, target))


def _index(name: str) -> int:
    inner = name[name.rfind("(") + 1 :]
    return int(inner.split(":", 1)[0]) if inner.split(":", 1)[0].isdigit() else 0


def declared_outputs(run: Execution, step: WorkflowStep, target: Target) -> Outputs | None:
    try:
        return run.resolve(target.context, step.template, step.template_ref, step.inline).template.outputs
    except ResolveError:
        return None


def template_outputs(template: Template, scope: Scope) -> Outputs | None:
    """Outputs of a steps/dag template from its children (``valueFrom.parameter|expression``, ``from``)."""
    declared = template.outputs
    if declared is None or not (declared.parameters or declared.artifacts):
        return None
    parameters: list[Parameter] = []
    for parameter in declared.parameters or []:
        source = parameter.value_from
        try:
            if source is not None and source.parameter is not None:
                value = substitute(source.parameter, scope)
            elif source is not None and source.expression is not None:
                result = evaluate_expression(source.expression, scope)
                value = result if isinstance(result, str) else _json(result)
            else:
                value = substitute(parameter.value or "", scope)
        except ValueError:
            if source is None or source.default is None:
                raise
            value = source.default
        parameters.append(Parameter(name=parameter.name, value=value, global_name=parameter.global_name))
    artifacts = resolve_arguments(Arguments(artifacts=declared.artifacts), scope)
    return Outputs(parameters=parameters or None, artifacts=artifacts.artifacts if artifacts else None)


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
