"""Spec validation with Argo's rules and messages (reference §12.2), before anything runs.

A workflow that fails here never starts: the run goes to phase ``Error`` with these messages, and
the CLI prints them. Every problem is collected (not just the first), each prefixed by its place in
Argo's notation (``templates.<t>.steps[<i>].<name>``), so one round of fixes is enough.

Checked: entrypoint and template references (``template name 'x' undefined``, ``template reference
<name>.<template> not found``), exactly one template type and the types our executors run, leaf-only
fields, unique step and task names, DAG dependencies (undefined, cycles, ``depends`` with
``dependencies``, ``continueOn`` with ``depends``), ``depends`` syntax, workflow arguments, unknown
fields (strict mode, as ``argo submit --strict``), and every ``{{...}}`` tag with a validated root
against what is in scope where it is written (``failed to resolve {{tag}}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.models.base import KubeModel
from analysis.workflows.conditions import ConditionError, depends_operands
from analysis.workflows.spec import DAGTask, Template, TemplateRef, Workflow, WorkflowSpec, WorkflowStep
from analysis.workflows.substitution import find_tags, is_validated

__all__ = ["Library", "ValidationError", "validate_workflow", "workflow_problems"]

_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
_PARAMETER_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
_SUPPORTED = frozenset({"container", "script", "resource", "suspend", "steps", "dag"})
_STEP_FIELDS = ("id", "ip", "status", "exitCode", "startedAt", "finishedAt", "hostNodeName", "outputs.result")
_MAX_WORKFLOW_NAME = 63

Library = Mapping[tuple[bool, str], WorkflowSpec]
"""Template libraries by ``(clusterScope, name)``: WorkflowTemplates and ClusterWorkflowTemplates."""


class ValidationError(ValueError):
    """A workflow Argo would reject; ``problems`` lists every message."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class _Where:
    """The templates a reference is resolved in: the workflow's own, or a library's."""

    spec: WorkflowSpec
    label: str


@dataclass
class _Checker:
    workflow_spec: WorkflowSpec
    library: Library | None
    problems: list[str] = field(default_factory=list)
    globals: set[str] = field(default_factory=set)
    seen: set[tuple[str, str]] = field(default_factory=set)

    def report(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    # -- references -----------------------------------------------------------------------------

    def resolve(
        self,
        holder: WorkflowStep | None,
        name: str | None,
        ref: TemplateRef | None,
        where: _Where,
        place: str,
    ) -> tuple[Template, _Where] | None:
        if holder is not None and holder.inline is not None:
            return holder.inline, where
        if ref is not None:
            if self.library is None:
                return None
            library = self.library.get((bool(ref.cluster_scope), ref.name))
            template = library.template(ref.template) if library else None
            if template is None or library is None:
                self.report(f"{place}: template reference {ref.name}.{ref.template} not found")
                return None
            return template, _Where(library, f"{'cluster' if ref.cluster_scope else 'namespaced'}/{ref.name}")
        if name is None:
            return None
        template = where.spec.template(name)
        if template is None:
            self.report(f"{place}: template name '{name}' undefined")
            return None
        return template, where

    def invocation_targets(
        self, step: WorkflowStep, where: _Where, place: str
    ) -> tuple[Template, _Where] | None:
        chosen = [
            key
            for key, value in (
                ("template", step.template),
                ("templateRef", step.template_ref),
                ("inline", step.inline),
            )
            if value
        ]
        if len(chosen) != 1:
            self.report(f"{place} must have exactly one of template, templateRef or inline")
            return None
        return self.resolve(step, step.template, step.template_ref, where, place)

    # -- templates ------------------------------------------------------------------------------

    def template(self, template: Template, where: _Where) -> None:
        key = (where.label, template.name or "<inline>")
        if key in self.seen:
            return
        self.seen.add(key)
        place = f"templates.{template.name}"
        types = template.types
        if not types:
            self.report(f"{place} template type unspecified")
            return
        if len(types) > 1:
            self.report(f"{place} multiple template types specified")
            return
        kind = types[0]
        if kind not in _SUPPORTED:
            self.report(f"{place}.{kind} templates are not supported by this engine yet")
            return
        if not template.is_leaf:
            if template.active_deadline_seconds is not None:
                self.report(f"{place}.activeDeadlineSeconds is only valid for leaf templates")
        elif template.parallelism is not None:
            self.report(f"{place}.parallelism is only valid for steps and dag templates")
        for body in (template.container, template.script):
            if body is not None and not (body.image or "").strip():
                self.report(f"{place}.{kind}.image may not be empty")
        if template.resource is not None and template.resource.action not in (
            "get",
            "create",
            "apply",
            "delete",
            "replace",
            "patch",
        ):
            self.report(f"{place}.resource.action must be one of get, create, apply, delete, replace, patch")
        self.parameters(template, place)
        inputs = self.input_names(template)
        if template.steps is not None:
            self.steps(template, where, place, inputs)
        elif template.dag is not None:
            self.dag(template, where, place, inputs)
        else:
            leaf = template.model_dump(by_alias=True, exclude_none=True)
            self.tags(leaf, inputs | self.leaf_names(template), place)

    def parameters(self, template: Template, place: str) -> None:
        for kind in ("inputs", "outputs"):
            section = getattr(template, kind)
            for parameter in (section.parameters or []) if section else []:
                if not _PARAMETER_NAME.match(parameter.name):
                    self.report(f"{place}.{kind}.parameters.{parameter.name} has an invalid name")
            for artifact in (section.artifacts or []) if section else []:
                if not _PARAMETER_NAME.match(artifact.name):
                    self.report(f"{place}.{kind}.artifacts.{artifact.name} has an invalid name")
        if template.is_leaf and template.outputs:
            for parameter in template.outputs.parameters or []:
                source = parameter.value_from
                if parameter.value is None and (
                    source is None
                    or not (
                        source.path or source.json_path or source.jq_filter or source.supplied is not None
                    )
                ):
                    self.report(f"{place}.outputs.parameters.{parameter.name} needs value or valueFrom")

    def input_names(self, template: Template) -> set[str]:
        names = {"inputs.parameters", "node.name"}
        for parameter in (template.inputs.parameters or []) if template.inputs else []:
            names.add(f"inputs.parameters.{parameter.name}")
        for artifact in (template.inputs.artifacts or []) if template.inputs else []:
            names.add(f"inputs.artifacts.{artifact.name}")
        if template.retry_strategy or self.workflow_spec.retry_strategy:
            names |= {
                "retries",
                "lastRetry.exitCode",
                "lastRetry.status",
                "lastRetry.duration",
                "lastRetry.message",
            }
        return names

    def leaf_names(self, template: Template) -> set[str]:
        names = {"pod.name"}
        for artifact in (template.inputs.artifacts or []) if template.inputs else []:
            names.add(f"inputs.artifacts.{artifact.name}.path")
        for kind in ("parameters", "artifacts"):
            for item in (getattr(template.outputs, kind) or []) if template.outputs else []:
                names.add(f"outputs.{kind}.{item.name}.path")
        return names

    def tags(self, value: Any, names: set[str], place: str) -> None:
        for text in _strings(value):
            for tag in find_tags(text):
                name = tag.strip()
                if tag.startswith("=") or not is_validated(name):
                    continue
                if name in names or name in self.globals or _dynamic_global(name):
                    continue
                if any(known.endswith(".*") and name.startswith(known[:-1]) for known in names):
                    continue
                self.report(f"{place} failed to resolve {{{{{name}}}}}")

    # -- steps ----------------------------------------------------------------------------------

    def invocation_names(self, prefix: str, step: WorkflowStep, where: _Where, place: str) -> set[str]:
        """Variables a later sibling may use about ``step`` (``steps.S.*`` / ``tasks.T.*``)."""
        base = f"{prefix}.{step.name}"
        names = {f"{base}.{suffix}" for suffix in _STEP_FIELDS}
        looped = step.with_items is not None or step.with_param is not None or step.with_sequence is not None
        if looped:
            names.add(f"{base}.outputs.parameters")
        target = self.invocation_targets(step, where, place)
        if target is None:
            names.add(f"{base}.*")
            return names
        template, _ = target
        outputs = template.outputs
        for parameter in (outputs.parameters or []) if outputs else []:
            names.add(f"{base}.outputs.parameters.{parameter.name}")
        for artifact in (outputs.artifacts or []) if outputs else []:
            names.add(f"{base}.outputs.artifacts.{artifact.name}")
        return names

    def invocation(self, step: WorkflowStep, where: _Where, place: str, names: set[str]) -> None:
        if not _NAME.match(step.name):
            self.report(f"{place}.name '{step.name}' is invalid: use letters, digits and '-'")
        looped = [
            key
            for key, value in (
                ("withItems", step.with_items),
                ("withParam", step.with_param),
                ("withSequence", step.with_sequence),
            )
            if value is not None
        ]
        if len(looped) > 1:
            self.report(f"{place} only one of withItems, withParam, withSequence can be specified")
        scope = set(names)
        if looped:
            scope |= {"item", "item.*"}
        fields = {
            "arguments": step.arguments.model_dump(by_alias=True, exclude_none=True)
            if step.arguments
            else None,
            "when": step.when,
            "withParam": step.with_param,
            "withSequence": step.with_sequence.model_dump(by_alias=True, exclude_none=True)
            if step.with_sequence
            else None,
        }
        self.tags(fields, scope, place)
        for parameter in (step.arguments.parameters or []) if step.arguments else []:
            if parameter.value is None and parameter.value_from is None:
                self.report(f"{place}.arguments.parameters.{parameter.name}.value is required")
        target = self.invocation_targets(step, where, place)
        if target is not None:
            self.template(*target)
            self.supplied(step, target[0], place)
        hook = step.exit_hook
        if hook is not None:
            found = self.resolve(None, hook.template, hook.template_ref, where, f"{place}.onExit")
            if found is not None:
                self.template(*found)

    def supplied(self, step: WorkflowStep, template: Template, place: str) -> None:
        given = (
            {parameter.name for parameter in (step.arguments.parameters or [])} if step.arguments else set()
        )
        for parameter in (template.inputs.parameters or []) if template.inputs else []:
            has_value = parameter.value is not None or parameter.default is not None or parameter.value_from
            if not has_value and parameter.name not in given:
                self.report(f"{place} inputs.parameters.{parameter.name} was not supplied")
        given_artifacts = {a.name for a in (step.arguments.artifacts or [])} if step.arguments else set()
        for artifact in (template.inputs.artifacts or []) if template.inputs else []:
            has_location = artifact.raw is not None or artifact.local is not None or artifact.model_extra
            if not (artifact.optional or has_location or artifact.name in given_artifacts):
                self.report(f"{place} inputs.artifacts.{artifact.name} was not supplied")

    def steps(self, template: Template, where: _Where, place: str, inputs: set[str]) -> None:
        seen: set[str] = set()
        available = set(inputs)
        every: set[str] = set(inputs)
        for index, group in enumerate(template.steps or []):
            group_names: set[str] = set()
            for step in group:
                step_place = f"{place}.steps[{index}].{step.name}"
                if step.name in seen:
                    self.report(f"{place}.steps[{index}].name '{step.name}' is not unique")
                seen.add(step.name)
                self.invocation(step, where, step_place, available | {"steps.name"})
                group_names |= self.invocation_names("steps", step, where, step_place)
            available |= group_names
            every |= group_names
        if template.outputs:
            self.tags(
                template.outputs.model_dump(by_alias=True, exclude_none=True), every, f"{place}.outputs"
            )

    # -- dag ------------------------------------------------------------------------------------

    def dag(self, template: Template, where: _Where, place: str, inputs: set[str]) -> None:
        assert template.dag is not None
        tasks = {task.name: task for task in template.dag.tasks}
        if len(tasks) != len(template.dag.tasks):
            for name in {
                t.name for t in template.dag.tasks if [u.name for u in template.dag.tasks].count(t.name) > 1
            }:
                self.report(f"{place}.tasks.{name} is not unique")
        uses_depends = any(task.depends for task in tasks.values())
        if uses_depends and any(task.dependencies for task in tasks.values()):
            self.report(f"{place} cannot use both 'depends' and 'dependencies' in the same DAG template")
        graph: dict[str, list[str]] = {}
        for task in template.dag.tasks:
            graph[task.name] = self.task_dependencies(task, tasks, place)
            if (task.depends or task.dependencies) and task.name[:1].isdigit():
                self.report(
                    f"{place}.tasks.{task.name} name cannot begin with a digit when using dependencies"
                )
        cycle = _cycle(graph)
        if cycle:
            self.report(f"{place}.tasks dependency cycle detected: {'->'.join(cycle)}")
            return
        every = set(inputs)
        for task in template.dag.tasks:
            ancestors = _ancestors(task.name, graph)
            names = set(inputs) | {"tasks.name"}
            for ancestor in ancestors:
                names |= self.invocation_names("tasks", tasks[ancestor], where, f"{place}.tasks.{ancestor}")
            self.invocation(task, where, f"{place}.tasks.{task.name}", names)
            every |= self.invocation_names("tasks", task, where, f"{place}.tasks.{task.name}")
        if template.outputs:
            self.tags(
                template.outputs.model_dump(by_alias=True, exclude_none=True), every, f"{place}.outputs"
            )

    def task_dependencies(self, task: DAGTask, tasks: Mapping[str, DAGTask], place: str) -> list[str]:
        found: list[str] = list(task.dependencies or [])
        if task.depends:
            if task.continue_on is not None:
                self.report(f"{place}.tasks.{task.name} continueOn cannot be used with depends")
            try:
                operands = depends_operands(task.depends)
            except ConditionError as error:
                self.report(f"{place}.tasks.{task.name} {error}")
                operands = []
            for name, result in operands:
                found.append(name)
                dependency = tasks.get(name)
                looped = dependency is not None and (
                    dependency.with_items is not None
                    or dependency.with_param is not None
                    or dependency.with_sequence is not None
                )
                if result in ("AnySucceeded", "AllFailed") and dependency is not None and not looped:
                    self.report(
                        f"{place}.tasks.{task.name} depends on {name}.{result}, "
                        f"which is only valid for a task with withItems, withParam or withSequence"
                    )
        unique: list[str] = []
        for name in found:
            if name not in tasks:
                self.report(f"{place}.tasks.{task.name} dependency '{name}' not defined")
            elif name not in unique:
                unique.append(name)
        return unique


def _unknown_fields(value: Any, path: str) -> Iterable[str]:
    """Paths of fields no model declares (``KubeModel`` keeps them as extra), nested lists included.

    Free-form objects of the Kubernetes API (a container's ``resources``, ``env`` entries) are typed
    as dicts here and never reported: only Argo's own structure is strict.
    """
    if isinstance(value, KubeModel):
        if type(value).__name__ not in _OPEN_TYPES:
            for key in value.model_extra or {}:
                yield f"{path}.{key}"
        for name, info in type(value).model_fields.items():
            yield from _unknown_fields(getattr(value, name), f"{path}.{info.alias or name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unknown_fields(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, KubeModel | list):
                yield from _unknown_fields(item, f"{path}.{key}")


_OPEN_TYPES = ("Container", "ScriptTemplate", "Template", "WorkflowSpec")
"""Models that mirror Kubernetes objects or carry pod settings we pass through unread."""


def _dynamic_global(name: str) -> bool:
    """Globals whose keys cannot be known statically (labels, timestamps, exported outputs)."""
    prefixes = (
        "workflow.labels.",
        "workflow.annotations.",
        "workflow.creationTimestamp.",
        "workflow.outputs.parameters.",
        "workflow.outputs.artifacts.",
    )
    return name.startswith(prefixes)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "inline":
                yield from _strings(item)


def _cycle(graph: Mapping[str, list[str]]) -> list[str] | None:
    """A dependency cycle as ``[A, B, A]``, or None. Depth-first, in task order."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dependency in graph.get(node, []):
            if state.get(dependency) == 1:
                return [*path[path.index(dependency) :], dependency]
            if dependency not in state:
                found = visit(dependency)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _ancestors(name: str, graph: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    pending = list(graph.get(name, []))
    while pending:
        current = pending.pop()
        if current not in seen:
            seen.add(current)
            pending.extend(graph.get(current, []))
    return seen


def _global_names(spec: WorkflowSpec, has_exit_handler: bool) -> set[str]:
    names = {
        "workflow.name",
        "workflow.namespace",
        "workflow.uid",
        "workflow.serviceAccountName",
        "workflow.mainEntrypoint",
        "workflow.parameters",
        "workflow.parameters.json",
        "workflow.labels.json",
        "workflow.annotations.json",
        "workflow.creationTimestamp",
        "workflow.priority",
        "workflow.duration",
        "workflow.scheduledTime",
        "workflow.status",
    }
    if has_exit_handler:
        names.add("workflow.failures")
    for parameter in (spec.arguments.parameters or []) if spec.arguments else []:
        names.add(f"workflow.parameters.{parameter.name}")
    return names


def workflow_problems(
    workflow: Workflow, library: Library | None = None, *, strict: bool = True, submitted: bool = True
) -> list[str]:
    """Every problem of ``workflow``; empty when it may run.

    ``library`` resolves ``templateRef`` (None skips those checks); ``strict`` reports unknown
    fields; ``submitted`` requires values for workflow arguments (templates may leave them out).
    """
    spec = workflow.spec
    checker = _Checker(spec, library)
    name = workflow.metadata.name or ""
    if len(name) > _MAX_WORKFLOW_NAME:
        checker.report(f"workflow name {name!r} must not be more than {_MAX_WORKFLOW_NAME} characters long")
    if strict:
        for path in _unknown_fields(workflow.spec, "spec"):
            checker.report(f"unknown field {path}")
    if spec.workflow_template_ref is not None and spec.templates:
        checker.report("spec.templates must be empty when spec.workflowTemplateRef is set")
    if not spec.entrypoint and submitted:
        checker.report("spec.entrypoint is required")
    seen: set[str] = set()
    for template in spec.templates or []:
        if not template.name or not _NAME.match(template.name) or len(template.name) > 128:
            checker.report(f"template name {template.name!r} is invalid: use letters, digits and '-'")
        elif template.name in seen:
            checker.report(f"template name '{template.name}' is not unique")
        seen.add(template.name or "")
    for parameter in (spec.arguments.parameters or []) if spec.arguments else []:
        if submitted and parameter.value is None and parameter.value_from is None:
            checker.report(f"spec.arguments.parameters.{parameter.name}.value is required")
        if parameter.enum is not None:
            if not parameter.enum:
                checker.report(
                    f"spec.arguments.parameters.{parameter.name}.enum should contain at least one value"
                )
            elif parameter.value is not None and parameter.value not in parameter.enum:
                checker.report(f"spec.arguments.parameters.{parameter.name}.value should be present in enum")
    exit_hook = spec.exit_hook
    checker.globals = _global_names(spec, exit_hook is not None)
    where = _Where(spec, f"local/{name}")
    if spec.entrypoint:
        found = checker.resolve(None, spec.entrypoint, None, where, "spec.entrypoint")
        if found:
            checker.template(*found)
    if exit_hook is not None:
        found = checker.resolve(None, exit_hook.template, exit_hook.template_ref, where, "spec.onExit")
        if found:
            checker.template(*found)
    for template in spec.templates or []:
        if template.name:
            checker.template(template, where)
    return checker.problems


def validate_workflow(workflow: Workflow, library: Library | None = None, *, strict: bool = True) -> None:
    """Raise :class:`ValidationError` listing every problem of ``workflow``."""
    problems = workflow_problems(workflow, library, strict=strict)
    if problems:
        raise ValidationError(problems)
