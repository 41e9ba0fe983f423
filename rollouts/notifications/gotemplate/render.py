"""Rendering a parsed template against data, with Go's semantics and hard budgets.

The walk follows ``text/template``'s execution rules: ``.`` is the current data and changes in
``range``/``with``; variables are scoped to the enclosing block and ``$`` is the root; a missing
map key is ``<no value>`` while a field of nil is an error (``nil pointer evaluating …``); the
value of a pipeline is passed as the last argument of the next command. Budgets (steps, output
size) turn a runaway template into a `TemplateError` instead of a stuck or bloated controller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from rollouts.notifications.gotemplate import nodes
from rollouts.notifications.gotemplate.errors import TemplateError
from rollouts.notifications.gotemplate.functions import FUNCTIONS, SHORT_CIRCUIT
from rollouts.notifications.gotemplate.values import METHODS, MISSING, GoTime, go_string, is_true, type_name

__all__ = ["Limits", "render"]


@dataclass(frozen=True)
class Limits:
    max_steps: int = 200_000
    """Nodes and commands evaluated, range iterations included."""
    max_output: int = 1 << 20
    """Characters of output."""


DEFAULT_LIMITS: Final = Limits()


class _BreakLoop(Exception):  # noqa: N818 - control flow, not an error
    pass


class _ContinueLoop(Exception):  # noqa: N818 - control flow, not an error
    pass


def render(
    tree: tuple[nodes.Node, ...],
    data: Any,
    source: str,
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    run = _Run(source, data, {**FUNCTIONS, **(functions or {})}, limits)
    run.execute(tree, data)
    return "".join(run.out)


class _Run:
    def __init__(
        self, source: str, data: Any, functions: Mapping[str, Callable[..., Any]], limits: Limits
    ) -> None:
        self.source = source
        self.functions = functions
        self.limits = limits
        self.out: list[str] = []
        self.size = 0
        self.steps = 0
        self.variables: list[tuple[str, Any]] = [("$", data)]

    def fail(self, message: str, offset: int) -> TemplateError:
        return TemplateError.at(message, self.source, offset)

    def step(self, offset: int) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise self.fail(f"template exceeded its budget of {self.limits.max_steps} steps", offset)

    def write(self, text: str, offset: int) -> None:
        self.size += len(text)
        if self.size > self.limits.max_output:
            raise self.fail(f"template output exceeds {self.limits.max_output} characters", offset)
        self.out.append(text)

    def execute(self, body: tuple[nodes.Node, ...], dot: Any) -> None:
        for node in body:
            if isinstance(node, nodes.TextNode):
                self.write(node.text, 0)
            elif isinstance(node, nodes.Output):
                self.step(node.pipeline.offset)
                value = self.pipeline(node.pipeline, dot)
                if not node.pipeline.variables:
                    try:
                        self.write(go_string(value), node.pipeline.offset)
                    except TemplateError as error:
                        raise self.fail(error.message, node.pipeline.offset) from None
            elif isinstance(node, nodes.Branch):
                self.branch(node, dot)
            else:
                raise _BreakLoop() if node.kind == "break" else _ContinueLoop()

    def scoped(self, body: tuple[nodes.Node, ...], dot: Any) -> None:
        mark = len(self.variables)
        try:
            self.execute(body, dot)
        finally:
            del self.variables[mark:]

    def branch(self, node: nodes.Branch, dot: Any) -> None:
        self.step(node.pipeline.offset)
        mark = len(self.variables)
        try:
            if node.kind == "range":
                self.range(node, dot)
                return
            value = self.pipeline(node.pipeline, dot, declare=node.kind != "range")
            if is_true(value):
                self.scoped(node.body, value if node.kind == "with" else dot)
            else:
                self.scoped(node.otherwise, dot)
        finally:
            del self.variables[mark:]

    def range(self, node: nodes.Branch, dot: Any) -> None:
        pipeline = node.pipeline
        value = self.pipeline(nodes.Pipeline((), False, pipeline.commands, pipeline.offset), dot)
        if isinstance(value, Mapping):
            items: list[tuple[Any, Any]] = [(key, value[key]) for key in sorted(value, key=str)]
        elif isinstance(value, Sequence) and not isinstance(value, str):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(index, index) for index in range(max(value, 0))]
        elif value is None or value is MISSING:
            items = []
        else:
            raise self.fail(f"range can't iterate over {go_string(value)}", pipeline.offset)
        if not items:
            self.scoped(node.otherwise, dot)
            return
        for key, item in items:
            self.step(pipeline.offset)
            mark = len(self.variables)
            if len(pipeline.variables) == 1:
                self.set_variable(pipeline.variables[0], item, pipeline)
            elif len(pipeline.variables) == 2:
                self.set_variable(pipeline.variables[0], key, pipeline)
                self.set_variable(pipeline.variables[1], item, pipeline)
            try:
                self.scoped(node.body, item)
            except _BreakLoop:
                break
            except _ContinueLoop:
                continue
            finally:
                del self.variables[mark:]

    def set_variable(self, name: str, value: Any, pipeline: nodes.Pipeline) -> None:
        if pipeline.assign:
            for index in range(len(self.variables) - 1, -1, -1):
                if self.variables[index][0] == name:
                    self.variables[index] = (name, value)
                    return
            raise self.fail(f"undefined variable: {name}", pipeline.offset)
        self.variables.append((name, value))

    def pipeline(self, pipeline: nodes.Pipeline, dot: Any, *, declare: bool = True) -> Any:
        value: Any = MISSING
        piped = False
        for command in pipeline.commands:
            self.step(command.offset)
            value = self.command(command, dot, value if piped else None, piped)
            piped = True
        if declare:
            for name in pipeline.variables:
                self.set_variable(name, value, pipeline)
        return value

    def command(self, command: nodes.Command, dot: Any, piped_value: Any, piped: bool) -> Any:
        first, rest = command.operands[0], command.operands[1:]
        if isinstance(first, nodes.Function):
            return self.call(first, rest, dot, piped_value, piped)
        if isinstance(first, nodes.Field | nodes.Variable | nodes.Nested) and first.names and (rest or piped):
            return self.method(first, rest, dot, piped_value, piped)
        if rest or piped:
            raise self.fail(f"can't give argument to non-function {self.describe(first)}", command.offset)
        return self.operand(first, dot)

    def call(
        self,
        function: nodes.Function,
        rest: tuple[nodes.Operand, ...],
        dot: Any,
        piped_value: Any,
        piped: bool,
    ) -> Any:
        name = function.name
        if name in SHORT_CIRCUIT:
            if not rest and not piped:
                raise self.fail(f"wrong number of args for {name}: want at least 1 got 0", function.offset)
            result: Any = MISSING
            for operand in rest:
                result = self.operand(operand, dot)
                if is_true(result) == (name == "or"):
                    return result
            return piped_value if piped else result
        implementation = self.functions.get(name)
        if implementation is None:
            raise self.fail(f'function "{name}" not defined', function.offset)
        args = [self.operand(operand, dot) for operand in rest]
        if piped:
            args.append(piped_value)
        if name not in ("len", "index", "default", "empty", "coalesce"):
            args = [None if arg is MISSING else arg for arg in args]
        try:
            return implementation(*args)
        except TemplateError as error:
            message = error.message
            if not message.startswith(("error calling", "wrong number")):
                message = f"error calling {name}: {message}"
            raise self.fail(message, function.offset) from None
        except RecursionError:
            raise self.fail(f"error calling {name}: value nested too deeply", function.offset) from None

    def method(
        self,
        target: nodes.Field | nodes.Variable | nodes.Nested,
        rest: tuple[nodes.Operand, ...],
        dot: Any,
        piped_value: Any,
        piped: bool,
    ) -> Any:
        """``.a.Format "x"``: a method of a value (only time.Time has methods here)."""
        receiver_names, name = target.names[:-1], target.names[-1]
        if isinstance(target, nodes.Field):
            base = dot
        elif isinstance(target, nodes.Variable):
            base = self.variable(target)
        else:
            base = self.pipeline(target.pipeline, dot, declare=False)
        receiver = self.walk(base, receiver_names, target.offset)
        if not (isinstance(receiver, GoTime) and name in METHODS):
            raise self.fail(f"can't give argument to non-function {self.describe(target)}", target.offset)
        args = [self.operand(operand, dot) for operand in rest] + ([piped_value] if piped else [])
        try:
            return getattr(receiver, name)(*args)
        except TypeError:
            raise self.fail(f"wrong number of args for {name}: got {len(args)}", target.offset) from None

    def operand(self, operand: nodes.Operand, dot: Any) -> Any:
        if isinstance(operand, nodes.Literal):
            return operand.value
        if isinstance(operand, nodes.Field):
            return self.walk(dot, operand.names, operand.offset)
        if isinstance(operand, nodes.Variable):
            return self.walk(self.variable(operand), operand.names, operand.offset)
        if isinstance(operand, nodes.Nested):
            value = self.pipeline(operand.pipeline, dot, declare=False)
            return self.walk(value, operand.names, operand.offset)
        implementation = self.functions.get(operand.name)
        if implementation is None:
            raise self.fail(f'function "{operand.name}" not defined', operand.offset)
        return self.call(operand, (), dot, None, False)

    def variable(self, operand: nodes.Variable) -> Any:
        for name, value in reversed(self.variables):
            if name == operand.name:
                return value
        raise self.fail(f"undefined variable: {operand.name}", operand.offset)

    def walk(self, value: Any, names: tuple[str, ...], offset: int) -> Any:
        for name in names:
            if isinstance(value, Mapping):
                value = value.get(name, MISSING)
            elif value is None or value is MISSING:
                raise self.fail(f"nil pointer evaluating interface {{}}.{name}", offset)
            elif isinstance(value, GoTime) and name in METHODS:
                value = getattr(value, name)()
            else:
                raise self.fail(f"can't evaluate field {name} in type {type_name(value)}", offset)
        return value

    @staticmethod
    def describe(operand: nodes.Operand) -> str:
        if isinstance(operand, nodes.Field):
            return "." + ".".join(operand.names)
        if isinstance(operand, nodes.Variable):
            return ".".join((operand.name, *operand.names))
        if isinstance(operand, nodes.Literal):
            return go_string(operand.value)
        return "(pipeline)" if isinstance(operand, nodes.Nested) else operand.name
