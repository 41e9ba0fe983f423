"""One scheduling pass: walk the template tree from the root and bring every node one step on.

This is the pure heart of the engine, shaped like Argo's operator: ``execute`` is called for
the root on every pass and recurses through steps and DAGs (``steps``, ``dags``). A node that is
already fulfilled is returned as is; otherwise the pass creates it, or looks at its children and
decides its phase. Nothing here does I/O: leaf nodes become ``StartPod`` actions, observations
come back through ``scheduler.apply_report``, and time is the ``now`` of the pass. Because node
IDs and pod names are functions of node names, running a pass twice over the same status yields
the same result, which is what lets the engine be level-triggered and restartable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from analysis.workflows import dags, steps
from analysis.workflows.actions import Action, StartPod, StopPod
from analysis.workflows.names import display_name, node_id, pod_name
from analysis.workflows.retries import RetryError, decide, parse_duration, parse_time
from analysis.workflows.scopes import BindError, bind_inputs, input_variables, leaf_variables, merge
from analysis.workflows.spec import (
    Arguments,
    Outputs,
    Parameter,
    RetryStrategy,
    Template,
    TemplateRef,
    WorkflowSpec,
)
from analysis.workflows.status import NodeFlag, NodeStatus, WorkflowStatus
from analysis.workflows.substitution import Scope, SubstitutionError, evaluate_expression, substitute_tree
from analysis.workflows.targets import Call, Context, ResolveError, Target
from analysis.workflows.validation import Library

__all__ = ["Execution", "Invocation", "rfc3339"]

DEADLINE_MESSAGE = "Step exceeded its deadline"
POD_DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
_NODE_TYPES = {
    "container": "Pod",
    "script": "Pod",
    "resource": "Pod",
    "suspend": "Suspend",
    "steps": "Steps",
    "dag": "DAG",
}


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Invocation:
    """One call of a template: the node's name, what it runs, with what, and where it hangs."""

    name: str
    target: Target
    arguments: Arguments | None
    boundary_id: str | None
    call: Call

    def attempt(self, index: int) -> Invocation:
        """Attempt ``index`` of a retried invocation: ``<name>(<index>)``, not hooked itself."""
        return replace(self, name=f"{self.name}({index})", call=replace(self.call, hooked=False))


class Execution:
    """The state of one pass; ``scheduler.schedule`` creates it, runs the root and reads the result."""

    def __init__(
        self,
        name: str,
        spec: WorkflowSpec,
        status: WorkflowStatus,
        now: datetime,
        *,
        library: Library,
        globals_: Scope,
    ) -> None:
        self.name = name
        self.spec = spec
        self.status = status
        self.nodes = status.nodes
        self.now = now
        self.library = library
        self.globals = globals_
        self.actions: list[Action] = []
        self.wakes: list[datetime] = []
        self.stopping: str | None = None
        """Why no new work starts (deadline passed, shutdown), or None."""
        self.workflow_deadline: datetime | None = None
        self.active_pods = sum(1 for node in self.nodes.values() if node.type == "Pod" and not node.fulfilled)

    # -- nodes ----------------------------------------------------------------------------------

    def node(self, name: str) -> NodeStatus | None:
        return self.nodes.get(node_id(self.name, name))

    def create(
        self,
        name: str,
        type_: str,
        *,
        boundary_id: str | None,
        target: Target | None = None,
        phase: str = "Pending",
        message: str | None = None,
        template_name: str | None = None,
        flag: NodeFlag | None = None,
    ) -> NodeStatus:
        boundary = self.nodes.get(boundary_id) if boundary_id else None
        node = NodeStatus(
            id=node_id(self.name, name),
            name=name,
            display_name=display_name(name, boundary.name if boundary else None),
            type=type_,
            template_name=template_name
            if template_name is not None
            else (target.template_name if target else None),
            template_ref=target.template_ref if target else None,
            template_scope=target.context.label if target else None,
            phase=phase,
            message=message,
            boundary_id=boundary_id,
            started_at=rfc3339(self.now),
            node_flag=flag,
        )
        if node.fulfilled:
            node.finished_at = node.started_at
        self.nodes[node.id] = node
        return node

    def finish(
        self, node: NodeStatus, phase: str, message: str | None = None, outputs: Outputs | None = None
    ) -> NodeStatus:
        node.phase = phase
        node.message = message
        if outputs is not None:
            node.outputs = outputs
        node.finished_at = rfc3339(self.now)
        return node

    def wake(self, moment: datetime) -> None:
        self.wakes.append(moment)

    def outbound(self, node: NodeStatus) -> list[str]:
        """The last nodes of a node's sub-graph, which the next group or dependent links from."""
        if node.type == "Retry":
            if node.children:
                return self.outbound(self.nodes[node.children[-1]])
            return [node.id]
        if node.type == "TaskGroup":
            found: list[str] = []
            for child in node.children or []:
                found += self.outbound(self.nodes[child])
            return found or [node.id]
        if node.type in ("Steps", "DAG"):
            return list(node.outbound_nodes or []) or [node.id]
        return [node.id]

    # -- templates ------------------------------------------------------------------------------

    def resolve(
        self, context: Context, name: str | None, ref: TemplateRef | None, inline: Template | None = None
    ) -> Target:
        if inline is not None:
            return Target(inline, context)
        if ref is not None:
            scope_kind = "cluster" if ref.cluster_scope else "namespaced"
            key = f"{scope_kind}/{ref.name}/{ref.template}"
            stored = (self.status.stored_templates or {}).get(key)
            library = self.library.get((bool(ref.cluster_scope), ref.name))
            library_context = Context(library or WorkflowSpec(), f"{scope_kind}/{ref.name}")
            if stored is not None:
                return Target(Template.model_validate(stored), library_context, ref)
            template = library.template(ref.template) if library else None
            if template is None:
                raise ResolveError(f"template reference {ref.name}.{ref.template} not found")
            if self.status.stored_templates is None:
                self.status.stored_templates = {}
            self.status.stored_templates[key] = template.model_dump(by_alias=True, exclude_none=True)
            return Target(template, library_context, ref)
        template = context.spec.template(name or "")
        if template is None:
            raise ResolveError(f"template name '{name}' undefined")
        return Target(template, context)

    def retry_strategy(self, template: Template) -> RetryStrategy | None:
        return template.retry_strategy or self.spec.retry_strategy

    # -- execution ------------------------------------------------------------------------------

    def execute(
        self, name: str, target: Target, arguments: Arguments | None, boundary_id: str | None, call: Call
    ) -> NodeStatus | None:
        """Bring the node ``name`` one step on; None when it may not start yet (parallelism)."""
        node = self.node(name)
        if node is not None and node.fulfilled:
            return node
        invocation = Invocation(name, target, arguments, boundary_id, call)
        strategy = self.retry_strategy(target.template)
        if strategy is not None:
            return self.execute_retry(invocation, strategy, node)
        return self.execute_body(invocation, node)

    def execute_body(
        self,
        invocation: Invocation,
        node: NodeStatus | None,
        *,
        retry: Scope | None = None,
        flag: NodeFlag | None = None,
    ) -> NodeStatus | None:
        name, target, call = invocation.name, invocation.target, invocation.call
        arguments, boundary_id = invocation.arguments, invocation.boundary_id
        template = target.template
        type_ = _NODE_TYPES.get(template.type, "Pod")
        if node is None:
            if self.spec.suspend and not call.exit_handler:
                return None  # `argo suspend`: nothing new starts until resumed
            if (
                type_ == "Pod"
                and self.spec.parallelism
                and self.active_pods >= self.spec.parallelism
                and not (self.stopping and not call.exit_handler)
            ):
                return None
            flag = flag or (NodeFlag(hooked=True) if call.hooked else None)
            try:
                inputs = bind_inputs(template, arguments, self.globals)
            except BindError as error:
                return self.create(
                    name,
                    type_,
                    boundary_id=boundary_id,
                    target=target,
                    phase="Error",
                    message=str(error),
                    flag=flag,
                )
            node = self.create(name, type_, boundary_id=boundary_id, target=target, flag=flag)
            node.inputs = inputs if (inputs.parameters or inputs.artifacts) else None
            if type_ == "Pod":
                self.active_pods += 1
        if node.fulfilled:
            return node
        if type_ == "Pod":
            return self.execute_pod(node, target, call, retry)
        if type_ == "Suspend":
            return self.execute_suspend(node, target, call)
        if node.phase == "Pending":
            node.phase = "Running"
        if type_ == "Steps":
            return steps.execute_steps(self, node, target, call)
        return dags.execute_dag(self, node, target, call)

    def body_scope(self, node: NodeStatus, retry: Scope | None = None) -> Scope:
        """Globals and the node's bound inputs: what a template body sees (callee stage)."""
        scope = merge(self.globals.child(), input_variables(node.inputs))
        if retry is not None:
            merge(scope, retry)
        return scope

    def execute_pod(self, node: NodeStatus, target: Target, call: Call, retry: Scope | None) -> NodeStatus:
        template = target.template
        pod = pod_name(self.name, node.name, target.template_name or "")
        if self.stopping and not call.exit_handler:
            return self.stop(node, pod, self.stopping)
        scope = self.body_scope(node, retry)
        scope.values.update(leaf_variables(template, pod, node.name))
        try:
            body = substitute_tree(template.model_dump(by_alias=True, exclude_none=True), scope)
            deadline_seconds = parse_duration(body.get("activeDeadlineSeconds"), "activeDeadlineSeconds")
            timeout = parse_duration(body.get("timeout"), "timeout")
        except (SubstitutionError, RetryError) as error:
            self.finish(node, "Error", str(error))
            return node
        started = parse_time(node.started_at) or self.now
        limits = [
            started + timedelta(seconds=value) for value in (deadline_seconds, timeout) if value is not None
        ]
        own_deadline = min(limits) if limits else None
        if own_deadline is not None and self.now >= own_deadline:
            return self.stop(node, pod, POD_DEADLINE_MESSAGE)
        if own_deadline is not None:
            self.wake(own_deadline)
        if node.phase == "Pending":
            if node.inputs is not None:
                body["inputs"] = node.inputs.model_dump(by_alias=True, exclude_none=True)
            deadlines = [moment for moment in (own_deadline, self.workflow_deadline) if moment is not None]
            if call.exit_handler:
                deadlines = [own_deadline] if own_deadline else []
            self.actions.append(
                StartPod(
                    node_id=node.id,
                    node_name=node.name,
                    pod_name=pod,
                    template=body,
                    capture_result=call.capture_result or template.script is not None,
                    deadline=min(deadlines) if deadlines else None,
                )
            )
        return node

    def stop(self, node: NodeStatus, pod: str, message: str) -> NodeStatus:
        self.finish(node, "Failed", message)
        self.actions.append(StopPod(node.id, pod, message))
        return node

    def execute_suspend(self, node: NodeStatus, target: Target, call: Call) -> NodeStatus:
        if node.phase == "Pending":
            node.phase = "Running"
        if self.stopping and not call.exit_handler:
            return self.finish(node, "Failed", self.stopping)
        suspend = target.template.suspend
        try:
            raw = substitute_tree(suspend.duration, self.body_scope(node)) if suspend else None
            seconds = parse_duration(raw, "suspend.duration")
        except (SubstitutionError, RetryError) as error:
            return self.finish(node, "Error", str(error))
        if seconds is not None:
            end = (parse_time(node.started_at) or self.now) + timedelta(seconds=seconds)
            if self.now >= end:
                return self.finish(node, "Succeeded", outputs=suspend_outputs(target.template, {}))
            self.wake(end)
        return node

    def execute_retry(
        self, invocation: Invocation, strategy: RetryStrategy, node: NodeStatus | None
    ) -> NodeStatus | None:
        if node is None:
            node = self.create(
                invocation.name,
                "Retry",
                boundary_id=invocation.boundary_id,
                target=invocation.target,
                phase="Running",
                flag=NodeFlag(hooked=True) if invocation.call.hooked else None,
            )
        attempts = [self.nodes[child] for child in node.children or []]
        if attempts and not attempts[-1].fulfilled:
            index = len(attempts) - 1
            last = self.execute_body(
                invocation.attempt(index), attempts[-1], retry=retry_scope(index, attempts[:-1])
            )
            if last is None or not last.fulfilled:
                return node
        if attempts:
            try:
                allows = self.retry_expression(strategy, attempts)
                decision = decide(
                    strategy, attempts, self.now, stopping=self.stopping is not None, expression_allows=allows
                )
            except (RetryError, SubstitutionError) as error:
                return self.finish(node, "Error", str(error))
            last = attempts[-1]
            if decision.action == "succeed":
                return self.finish(node, decision.phase or "Succeeded", last.message, last.outputs)
            if decision.action == "fail":
                return self.finish(node, decision.phase or "Failed", decision.message, last.outputs)
            if decision.action == "wait":
                node.message = decision.message
                if decision.wait_until is not None:
                    self.wake(decision.wait_until)
                return node
        node.message = None
        index = len(attempts)
        attempt = self.execute_body(
            invocation.attempt(index), None, retry=retry_scope(index, attempts), flag=NodeFlag(retried=True)
        )
        if attempt is not None:
            node.add_child(attempt.id)
        return node

    def retry_expression(self, strategy: RetryStrategy, attempts: list[NodeStatus]) -> bool | None:
        if not strategy.expression:
            return None
        scope = merge(self.globals.child(), retry_scope(len(attempts), attempts))
        value = evaluate_expression(strategy.expression, scope)
        if not isinstance(value, bool):
            raise SubstitutionError(f"retryStrategy.expression {strategy.expression!r} must be a boolean")
        return value


def retry_scope(index: int, previous: list[NodeStatus]) -> Scope:
    """``retries`` and ``lastRetry.*`` for attempt ``index`` (first attempt: zero values)."""
    values = {
        "retries": str(index),
        "lastRetry.exitCode": "0",
        "lastRetry.status": "",
        "lastRetry.duration": "0",
        "lastRetry.message": "",
    }
    if previous:
        last = previous[-1]
        started, finished = parse_time(last.started_at), parse_time(last.finished_at)
        values.update(
            {
                "lastRetry.exitCode": (last.outputs.exit_code if last.outputs else None) or "0",
                "lastRetry.status": last.phase,
                "lastRetry.message": last.message or "",
                "lastRetry.duration": str(int((finished - started).total_seconds()))
                if started and finished
                else "0",
            }
        )
    return Scope(values)


def suspend_outputs(template: Template, supplied: dict[str, str]) -> Outputs | None:
    """Outputs of a resumed or expired suspend node: supplied values, else ``valueFrom.default``."""
    declared = template.outputs.parameters if template.outputs else None
    if not declared:
        return None
    parameters: list[Parameter] = []
    for parameter in declared:
        default = parameter.value_from.default if parameter.value_from else None
        value = supplied.get(parameter.name, default if default is not None else parameter.value)
        parameters.append(Parameter(name=parameter.name, value=value, global_name=parameter.global_name))
    return Outputs(parameters=parameters)
