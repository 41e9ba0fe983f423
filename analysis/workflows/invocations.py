"""Caller-side work shared by steps and DAG tasks (reference §4.3 stage 2, §5.1, §5.2).

For one step or task: resolve its loop source, expand it into children named
``<name>(<index>:<summary>)`` with ``item`` in scope, evaluate ``when`` per child, substitute the
arguments (artifacts by reference through ``from``), then hand each child to
``Execution.execute`` and run its exit hook once it is done. Steps and DAGs differ only in where
the children hang (the StepGroup, or a TaskGroup) and how their completion is judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analysis.workflows.conditions import ConditionError, evaluate_when
from analysis.workflows.loops import LoopError, item_variables, iteration_name, param_items, sequence_items
from analysis.workflows.scopes import merge, node_variables
from analysis.workflows.spec import Arguments, Artifact, Parameter, WorkflowStep
from analysis.workflows.status import NodeStatus
from analysis.workflows.substitution import Scope, SubstitutionError, find_tags, substitute, substitute_tree
from analysis.workflows.targets import Call, Context, ResolveError

if TYPE_CHECKING:
    from analysis.workflows.executions import Execution

__all__ = ["Planned", "is_looped", "plan", "resolve_arguments", "run_child"]


@dataclass
class Planned:
    """One child a step or task will have."""

    name: str
    scope: Scope
    outcome: tuple[str, str] | None = None
    """(phase, message) of a child created already finished: skipped by ``when``, or an error."""


def is_looped(step: WorkflowStep) -> bool:
    return step.with_items is not None or step.with_param is not None or step.with_sequence is not None


def _items(step: WorkflowStep, scope: Scope) -> list[Any]:
    if step.with_items is not None:
        return list(step.with_items)
    if step.with_param is not None:
        return param_items(substitute(step.with_param, scope))
    sequence = step.with_sequence
    assert sequence is not None
    fields = substitute_tree(sequence.model_dump(by_alias=True, exclude_none=True), scope)
    return list(
        sequence_items(fields.get("count"), fields.get("start"), fields.get("end"), fields.get("format"))
    )


def _when(step: WorkflowStep, scope: Scope) -> tuple[str, str] | None:
    if not step.when:
        return None
    try:
        text = substitute(step.when, scope)
        if evaluate_when(text):
            return None
    except (SubstitutionError, ConditionError) as error:
        return ("Error", str(error))
    return ("Skipped", f"when '{text}' evaluated false")


def plan(step: WorkflowStep, base: str, scope: Scope) -> list[Planned] | tuple[str, str]:
    """The children of ``step``, or (phase, message) when the step cannot even expand."""
    if not is_looped(step):
        return [Planned(base, scope, _when(step, scope))]
    try:
        items = _items(step, scope)
    except (SubstitutionError, LoopError) as error:
        if step.when and "{{item" not in step.when:
            skipped = _when(step, scope)
            if skipped is not None:
                return skipped
        return ("Error", str(error))
    children: list[Planned] = []
    for index, item in enumerate(items):
        child_scope = scope.child().update(item_variables(item))
        child_scope.objects["item"] = item
        children.append(Planned(iteration_name(base, index, item), child_scope, _when(step, child_scope)))
    return children


def _single_tag(text: str) -> str | None:
    stripped = text.strip()
    tags = find_tags(stripped)
    if len(tags) == 1 and stripped == "{{" + tags[0] + "}}":
        return tags[0].strip()
    return None


def resolve_arguments(arguments: Arguments | None, scope: Scope) -> Arguments | None:
    """Arguments with variables substituted and artifact references replaced by the artifacts."""
    if arguments is None:
        return None
    parameters: list[Parameter] = []
    for parameter in arguments.parameters or []:
        if parameter.value is None:
            parameters.append(parameter)
            continue
        tag = _single_tag(parameter.value)
        if tag is not None and tag in scope.objects and scope.objects[tag] is None:
            continue  # an output of a skipped producer: the callee's default applies (§4.4)
        parameters.append(parameter.model_copy(update={"value": substitute(parameter.value, scope)}))
    artifacts: list[Artifact] = []
    for artifact in arguments.artifacts or []:
        if artifact.from_expression:
            raise SubstitutionError(f"artifact {artifact.name}: fromExpression is not supported yet")
        if artifact.from_:
            tag = _single_tag(artifact.from_) or artifact.from_
            found = scope.artifacts.get(tag)
            if found is None:
                if artifact.optional:
                    continue
                raise SubstitutionError(f"failed to resolve {{{{{tag}}}}}")
            artifacts.append(Artifact.model_validate({**found, "name": artifact.name}))
        else:
            artifacts.append(
                Artifact.model_validate(
                    substitute_tree(artifact.model_dump(by_alias=True, exclude_none=True), scope)
                )
            )
    return Arguments(parameters=parameters or None, artifacts=artifacts or None)


def run_child(
    run: Execution,
    planned: Planned,
    step: WorkflowStep,
    *,
    boundary_id: str,
    context: Context,
    call: Call,
    prefix: str,
) -> tuple[NodeStatus | None, bool]:
    """Bring one child of a step/task on; returns it (None: not started) and whether its exit hook is done."""
    node = run.node(planned.name)
    if node is None or not node.fulfilled:
        if node is None and planned.outcome is not None:
            phase, message = planned.outcome
            node = run.create(
                planned.name,
                "Skipped",
                boundary_id=boundary_id,
                phase=phase,
                message=message,
                template_name=step.template,
            )
            return node, True
        try:
            target = run.resolve(context, step.template, step.template_ref, step.inline)
            arguments = resolve_arguments(step.arguments, planned.scope)
        except (ResolveError, SubstitutionError) as error:
            if node is None:
                node = run.create(
                    planned.name,
                    "Skipped",
                    boundary_id=boundary_id,
                    phase="Error",
                    message=str(error),
                    template_name=step.template,
                )
            return node, True
        node = run.execute(planned.name, target, arguments, boundary_id, call)
        if node is None or not node.fulfilled:
            return node, False
    return node, _exit_hook(
        run, node, step, boundary_id=boundary_id, context=context, scope=planned.scope, prefix=prefix
    )


def _exit_hook(
    run: Execution,
    node: NodeStatus,
    step: WorkflowStep,
    *,
    boundary_id: str,
    context: Context,
    scope: Scope,
    prefix: str,
) -> bool:
    hook = step.exit_hook
    if hook is None or node.type == "Skipped":
        return True
    name = f"{node.name}.onExit"
    existing = run.node(name)
    if existing is not None and existing.fulfilled:
        return True
    hook_scope = merge(scope.child(), node_variables(f"{prefix}.{step.name}", node, None))
    try:
        target = run.resolve(context, hook.template, hook.template_ref)
        arguments = resolve_arguments(hook.arguments, hook_scope)
    except (ResolveError, SubstitutionError) as error:
        if existing is None:
            existing = run.create(name, "Skipped", boundary_id=boundary_id, phase="Error", message=str(error))
            node.add_child(existing.id)
        return True
    hook_node = run.execute(name, target, arguments, boundary_id, Call(hooked=True))
    if hook_node is None:
        return False
    node.add_child(hook_node.id)
    return hook_node.fulfilled
