"""DAG templates: tasks start when their dependencies allow (reference §2.6, §5.8, §6.2).

Only the targets (``dag.target``, else every task nothing depends on) and their ancestors run.
A task is considered once every task its ``dependencies``/``depends`` name is fulfilled; then the
expression decides: true runs it (``when`` next), false records an ``Omitted`` node. With
``failFast`` (the default) an unhandled failure stops new tasks from starting; a failure is
handled when the failed task continues on it or another task's ``depends`` asks for it
(``X.Failed``, ``X.Errored``, ``X.AllFailed``). The DAG's phase comes from its target branches:
a target's own phase, or for an omitted target the worst unhandled phase among its ancestors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analysis.workflows.conditions import ConditionError, depends_operands, evaluate_depends
from analysis.workflows.invocations import Planned, is_looped, plan, run_child
from analysis.workflows.scopes import merge, node_variables
from analysis.workflows.spec import DAGTask
from analysis.workflows.status import NodeStatus
from analysis.workflows.steps import continues, declared_outputs, failure_message, template_outputs
from analysis.workflows.substitution import Scope, SubstitutionError, substitute
from analysis.workflows.targets import Call, Target, references_result, template_text

if TYPE_CHECKING:
    from analysis.workflows.executions import Execution

__all__ = ["OMITTED_MESSAGE", "execute_dag"]

OMITTED_MESSAGE = "omitted: depends condition not met"
_FAILURE_RESULTS = {"Failed": ("Failed", "AllFailed"), "Error": ("Errored",)}


def _dependencies(task: DAGTask) -> list[str]:
    names = list(task.dependencies or [])
    if task.depends:
        names += [name for name, _ in depends_operands(task.depends)]
    return list(dict.fromkeys(names))


def _expression(task: DAGTask) -> str | None:
    if task.depends:
        return task.depends
    if task.dependencies:
        return " && ".join(task.dependencies)
    return None


class _Dag:
    def __init__(self, run: Execution, node: NodeStatus, target: Target, call: Call) -> None:
        self.run = run
        self.node = node
        self.target = target
        self.call = call
        dag = target.template.dag
        assert dag is not None
        self.tasks = {task.name: task for task in dag.tasks}
        self.dependencies = {task.name: _dependencies(task) for task in dag.tasks}
        self.fail_fast = dag.fail_fast is not False
        self.scope = run.body_scope(node)
        self.text = template_text(target.template)
        self.captures = references_result
        self.visited: dict[str, NodeStatus | None] = {}
        self.blocked = False
        """A task could not start because of failFast."""
        self.pending_hooks = False
        """A fulfilled task still waits for its exit hook."""

    def task_node(self, name: str) -> NodeStatus | None:
        return self.run.node(f"{self.node.name}.{name}")

    def targets(self) -> list[str]:
        dag = self.target.template.dag
        assert dag is not None
        if dag.target:
            return substitute(dag.target, self.scope).split()
        depended = {name for names in self.dependencies.values() for name in names}
        return [name for name in self.tasks if name not in depended]

    def handled(self, name: str, node: NodeStatus) -> bool:
        if continues(self.tasks[name].continue_on, node.phase):
            return True
        wanted = _FAILURE_RESULTS.get(node.phase, ())
        for task in self.tasks.values():
            if task.depends and any(
                operand == name and result in wanted for operand, result in depends_operands(task.depends)
            ):
                return True
        return False

    def unhandled_failure(self) -> NodeStatus | None:
        for name in self.tasks:
            node = self.task_node(name)
            if node is not None and node.phase in ("Failed", "Error") and not self.handled(name, node):
                return node
        return None

    def outcome(self, name: str, result: str | None) -> bool:
        node = self.task_node(name)
        if node is None:
            return False
        phase = node.phase
        if result is None:
            return phase in ("Succeeded", "Skipped") or continues(self.tasks[name].continue_on, phase)
        if result in ("AnySucceeded", "AllFailed"):
            children = [self.run.nodes[child] for child in node.children or []]
            if result == "AnySucceeded":
                return any(child.phase == "Succeeded" for child in children)
            return bool(children) and all(child.phase == "Failed" for child in children)
        return phase == {"Errored": "Error"}.get(result, result)

    def variables(self, name: str) -> Scope:
        node = self.task_node(name)
        task = self.tasks[name]
        if node is None:
            return Scope()
        if is_looped(task) and node.type == "TaskGroup":
            iterations = [self.run.nodes[child] for child in node.children or []]
            return node_variables(f"tasks.{name}", node, None, iterations)
        return node_variables(f"tasks.{name}", node, declared_outputs(self.run, task, self.target))

    def ancestors_scope(self, name: str) -> Scope:
        scope = merge(self.scope.child(), Scope({"tasks.name": name}))
        seen: set[str] = set()
        pending = list(self.dependencies[name])
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            merge(scope, self.variables(current))
            pending += self.dependencies[current]
        return scope

    def visit(self, name: str) -> NodeStatus | None:
        if name in self.visited:
            return self.visited[name]
        self.visited[name] = None
        existing = self.task_node(name)
        if existing is not None and existing.fulfilled:
            self.visited[name] = existing
            return existing
        dependency_nodes = [self.visit(dependency) for dependency in self.dependencies[name]]
        if any(node is None or not node.fulfilled for node in dependency_nodes):
            self.visited[name] = existing
            return existing
        node = self.start(name, dependency_nodes) if existing is None else self.advance(name, existing)
        self.visited[name] = node
        return node

    def start(self, name: str, dependency_nodes: list[NodeStatus | None]) -> NodeStatus | None:
        task = self.tasks[name]
        if self.fail_fast and self.unhandled_failure() is not None:
            self.blocked = True
            return None
        base = f"{self.node.name}.{name}"
        expression = _expression(task)
        if expression is not None:
            try:
                allowed = evaluate_depends(expression, self.outcome)
            except ConditionError as error:
                node = self.run.create(
                    base,
                    "Skipped",
                    boundary_id=self.node.id,
                    phase="Error",
                    message=str(error),
                    template_name=task.template,
                )
                self.link(node, dependency_nodes)
                return node
            if not allowed:
                node = self.run.create(
                    base,
                    "Skipped",
                    boundary_id=self.node.id,
                    phase="Omitted",
                    message=OMITTED_MESSAGE,
                    template_name=task.template,
                )
                self.link(node, dependency_nodes)
                return node
        parallelism = self.target.template.parallelism
        if parallelism:
            active = sum(1 for child in self.tasks if (n := self.task_node(child)) and not n.fulfilled)
            if active >= parallelism:
                return None
        started = self.advance(name, None)
        if started is not None:
            self.link(started, dependency_nodes)
        return started

    def link(self, node: NodeStatus, dependency_nodes: list[NodeStatus | None]) -> None:
        if not dependency_nodes:
            self.node.add_child(node.id)
            return
        for dependency in dependency_nodes:
            if dependency is None:
                continue
            for source in self.run.outbound(dependency):
                self.run.nodes[source].add_child(node.id)

    def advance(self, name: str, existing: NodeStatus | None) -> NodeStatus | None:
        task = self.tasks[name]
        base = f"{self.node.name}.{name}"
        scope = self.ancestors_scope(name)
        planned = plan(task, base, scope)
        child_call = Call(
            capture_result=self.captures(self.text, "tasks", name),
            exit_handler=self.call.exit_handler,
        )
        if isinstance(planned, tuple):
            return existing or self.run.create(
                base,
                "Skipped",
                boundary_id=self.node.id,
                phase=planned[0],
                message=planned[1],
                template_name=task.template,
            )
        if not is_looped(task):
            node, hook_done = run_child(
                self.run,
                planned[0],
                task,
                boundary_id=self.node.id,
                context=self.target.context,
                call=child_call,
                prefix="tasks",
            )
            if node is not None and node.fulfilled and not hook_done:
                self.pending_hooks = True
            return node
        return self.loop(task, planned, existing, base=base, child_call=child_call)

    def loop(
        self,
        task: DAGTask,
        planned: list[Planned],
        existing: NodeStatus | None,
        *,
        base: str,
        child_call: Call,
    ) -> NodeStatus:
        if existing is None:
            if not planned:
                return self.run.create(
                    base,
                    "Skipped",
                    boundary_id=self.node.id,
                    phase="Skipped",
                    message="Skipped, empty params",
                    template_name=task.template,
                )
            existing = self.run.create(
                base, "TaskGroup", boundary_id=self.node.id, phase="Running", template_name=task.template
            )
        group = existing
        pending = False
        failed: NodeStatus | None = None
        parallelism = self.target.template.parallelism
        for child in planned:
            if self.run.node(child.name) is None and parallelism:
                active = sum(1 for c in group.children or [] if not self.run.nodes[c].fulfilled)
                if active >= parallelism:
                    pending = True
                    continue
            node, hook_done = run_child(
                self.run,
                child,
                task,
                boundary_id=self.node.id,
                context=self.target.context,
                call=child_call,
                prefix="tasks",
            )
            if node is None:
                pending = True
                continue
            group.add_child(node.id)
            if not node.fulfilled or not hook_done:
                pending = True
            elif node.phase in ("Failed", "Error") and not continues(task.continue_on, node.phase):
                failed = failed or node
        if not pending:
            if failed is not None:
                self.run.finish(group, failed.phase, failure_message(failed))
            else:
                self.run.finish(group, "Succeeded")
        return group

    def branch_failure(self, name: str, seen: set[str]) -> NodeStatus | None:
        """The node that fails a target branch: the target itself, or for an omitted target the
        first unhandled failure among its ancestors; None when the branch succeeded."""
        node = self.task_node(name)
        if node is None:
            return None
        if node.phase in ("Failed", "Error"):
            return None if continues(self.tasks[name].continue_on, node.phase) else node
        if node.phase != "Omitted":
            return None
        for dependency in self.dependencies[name]:
            if dependency in seen:
                continue
            seen.add(dependency)
            dependency_node = self.task_node(dependency)
            if (
                dependency_node is not None
                and dependency_node.phase in ("Failed", "Error")
                and not continues(self.tasks[dependency].continue_on, dependency_node.phase)
            ):
                return dependency_node
            found = self.branch_failure(dependency, seen)
            if found is not None:
                return found
        return None

    def assess(self, targets: list[str]) -> None:
        running = (
            any((node := self.task_node(name)) is not None and not node.fulfilled for name in self.tasks)
            or self.pending_hooks
        )
        if running:
            return
        target_nodes = [self.task_node(name) for name in targets]
        outbound: list[str] = []
        for node in target_nodes:
            if node is not None:
                outbound += self.run.outbound(node)
        self.node.outbound_nodes = outbound or None
        if any(node is None for node in target_nodes):
            if not self.blocked:
                return
            failure = self.unhandled_failure()
            self.run.finish(
                self.node,
                failure.phase if failure else "Failed",
                failure_message(failure) if failure else "DAG could not complete",
            )
            return
        for name in targets:
            failure = self.branch_failure(name, set())
            if failure is not None:
                self.run.finish(self.node, failure.phase, failure_message(failure))
                return
        scope = self.scope.child()
        for name in self.tasks:
            merge(scope, self.variables(name))
        try:
            outputs = template_outputs(self.target.template, scope)
        except (ValueError, SubstitutionError) as error:
            self.run.finish(self.node, "Error", str(error))
            return
        self.run.finish(self.node, "Succeeded", outputs=outputs)


def execute_dag(run: Execution, node: NodeStatus, target: Target, call: Call) -> NodeStatus:
    dag = _Dag(run, node, target, call)
    try:
        targets = dag.targets()
    except SubstitutionError as error:
        return run.finish(node, "Error", str(error))
    unknown = [name for name in targets if name not in dag.tasks]
    if unknown:
        return run.finish(node, "Error", f"target '{unknown[0]}' is not a task of this DAG")
    for name in targets:
        dag.visit(name)
    dag.assess(targets)
    return node
