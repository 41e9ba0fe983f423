"""Tree-walking evaluation of a parsed expression against an environment.

One ``Evaluation`` per run holds the mutable state: the step counter, the ``let`` bindings and the
closure frames (``#``, ``#index``, ``#acc``). The tree itself is never mutated, so one compiled
program can be evaluated concurrently. Every node visit charges one step; built-ins and operators
charge extra for the elements they touch, and running out is an ``ExprError``.

Errors raised by operators and built-ins carry no position; the innermost node being evaluated
adds its own, so a runtime error points at the operator or call that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analysis.expr import nodes as n
from analysis.expr import operators
from analysis.expr.builtins import BUILTINS
from analysis.expr.errors import ExprError
from analysis.expr.limits import Limits
from analysis.expr.times import call_method
from analysis.expr.values import type_name


class _NilInChainError(Exception):
    """Raised by ``?.`` on nil; caught by the enclosing ``Chain``, which then yields nil."""


@dataclass(frozen=True)
class _Frame:
    item: Any
    index: int
    accumulator: Any


class _Closure:
    """A closure argument as built-ins see it: call it with an element to evaluate the body."""

    def __init__(self, evaluation: Evaluation, body: n.Node) -> None:
        self.evaluation = evaluation
        self.body = body

    def __call__(self, item: Any, index: int, accumulator: Any = None) -> Any:
        frames = self.evaluation.frames
        frames.append(_Frame(item, index, accumulator))
        try:
            return self.evaluation.evaluate(self.body)
        finally:
            frames.pop()


class Evaluation:
    def __init__(
        self, source: str, env: Mapping[str, Any], limits: Limits, clock: Callable[[], datetime]
    ) -> None:
        self.source = source
        self.env = env
        self.limits = limits
        self.clock = clock
        self.steps = 0
        self.variables: list[tuple[str, Any]] = []
        self.frames: list[_Frame] = []

    def charge(self, steps: int) -> None:
        self.steps += steps
        if self.steps > self.limits.max_steps:
            raise ExprError(f"evaluation exceeded its budget of {self.limits.max_steps} steps")

    def now(self) -> datetime:
        return self.clock()

    def run(self, tree: n.Node) -> Any:
        try:
            return self.evaluate(tree)
        except RecursionError:
            # The depth limits keep recursion far below Python's limit; this is the last line of defence.
            raise ExprError("expression is too complex to evaluate") from None

    def evaluate(self, node: n.Node) -> Any:
        self.charge(1)
        try:
            return _HANDLERS[type(node)](self, node)
        except ExprError as error:
            if error.line is None:
                raise ExprError.at(error.message, self.source, node.offset) from None
            raise

    def literal(self, node: n.Literal) -> Any:
        return node.value

    def identifier(self, node: n.Identifier) -> Any:
        for name, value in reversed(self.variables):
            if name == node.name:
                return value
        if node.name in self.env:
            return self.env[node.name]
        if node.name == "$env":
            return dict(self.env)
        raise ExprError(f"unknown name {node.name}")

    def pointer(self, node: n.Pointer) -> Any:
        frame = self.frames[-1]
        if node.name == "":
            return frame.item
        if node.name == "index":
            return frame.index
        if node.name == "acc":
            return frame.accumulator
        raise ExprError(f"unknown pointer #{node.name}")

    def unary(self, node: n.Unary) -> Any:
        return operators.unary(node.operator, self.evaluate(node.operand))

    def binary(self, node: n.Binary) -> Any:
        operator = node.operator
        if operator in ("&&", "and", "||", "or"):
            left = self.boolean(self.evaluate(node.left), operator)
            if left == (operator in ("||", "or")):
                return left
            return self.boolean(self.evaluate(node.right), operator)
        if operator == "??":
            left = self.evaluate(node.left)
            return left if left is not None else self.evaluate(node.right)
        return operators.binary(operator, self.evaluate(node.left), self.evaluate(node.right), self)

    @staticmethod
    def boolean(value: Any, operator: str) -> bool:
        if not isinstance(value, bool):
            raise ExprError(
                f"invalid operation: non-bool value (type {type_name(value)}) used with {operator}"
            )
        return value

    def conditional(self, node: n.Conditional) -> Any:
        condition = self.evaluate(node.condition)
        if not isinstance(condition, bool):
            raise ExprError(f"non-bool expression (type {type_name(condition)}) used as condition")
        return self.evaluate(node.then if condition else node.otherwise)

    def member(self, node: n.Member) -> Any:
        obj = self.evaluate(node.obj)
        if obj is None and node.optional:
            raise _NilInChainError
        return operators.fetch(obj, self.evaluate(node.key), self)

    def slice(self, node: n.Slice) -> Any:
        obj = self.evaluate(node.obj)
        start = None if node.start is None else self.evaluate(node.start)
        stop = None if node.stop is None else self.evaluate(node.stop)
        return operators.slice_of(obj, start, stop, self)

    def chain(self, node: n.Chain) -> Any:
        try:
            return self.evaluate(node.node)
        except _NilInChainError:
            return None

    def call(self, node: n.Call) -> Any:
        args = [
            _Closure(self, arg.body) if isinstance(arg, n.Closure) else self.evaluate(arg)
            for arg in node.args
        ]
        builtin = BUILTINS.get(node.name)
        if builtin is not None:
            return builtin(self, args)
        function = self.env.get(node.name)
        if function is None:
            raise ExprError(f"unknown func {node.name}")
        if not callable(function):
            raise ExprError(f"{node.name} is not a function (type {type_name(function)})")
        try:
            return function(*args)
        except ExprError:
            raise
        except Exception as error:  # a foreign function from the environment: keep our one error type
            raise ExprError(f"{node.name}: {error}") from None

    def method_call(self, node: n.MethodCall) -> Any:
        obj = self.evaluate(node.obj)
        if obj is None and node.optional:
            raise _NilInChainError
        return call_method(obj, node.name, [self.evaluate(arg) for arg in node.args])

    def closure(self, node: n.Closure) -> Any:
        raise ExprError("a closure can only be an argument of a built-in function")

    def array(self, node: n.ArrayLiteral) -> list[Any]:
        operators.checked_size(len(node.items), self)
        return [self.evaluate(item) for item in node.items]

    def map(self, node: n.MapLiteral) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.pairs:
            key = self.evaluate(key_node)
            if not isinstance(key, str):
                raise ExprError(f"map key must be a string, got {type_name(key)}")
            result[key] = self.evaluate(value_node)
        operators.checked_size(len(result), self)
        return result

    def let(self, node: n.Let) -> Any:
        self.variables.append((node.name, self.evaluate(node.value)))
        try:
            return self.evaluate(node.body)
        finally:
            self.variables.pop()


_HANDLERS: dict[type[n.Node], Callable[[Evaluation, Any], Any]] = {
    n.Literal: Evaluation.literal,
    n.Identifier: Evaluation.identifier,
    n.Pointer: Evaluation.pointer,
    n.Unary: Evaluation.unary,
    n.Binary: Evaluation.binary,
    n.Conditional: Evaluation.conditional,
    n.Member: Evaluation.member,
    n.Slice: Evaluation.slice,
    n.Chain: Evaluation.chain,
    n.Call: Evaluation.call,
    n.MethodCall: Evaluation.method_call,
    n.Closure: Evaluation.closure,
    n.ArrayLiteral: Evaluation.array,
    n.MapLiteral: Evaluation.map,
    n.Let: Evaluation.let,
}
