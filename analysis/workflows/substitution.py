"""``{{...}}`` substitution with Argo's variable catalogue (reference §4).

Two tag forms: simple tags ``{{name}}`` (whitespace inside the braces tolerated) look a name up in
a flat map of strings, as Argo does; expression tags ``{{=expr}}`` are expr-lang, evaluated by our
safe evaluator (``analysis.expr``) over the same variables arranged as nested maps, with Argo's
extra functions (``asInt``, ``asFloat``, ``toJson``, ``jsonpath``). A string result is inserted as
is, anything else as compact JSON.

Substitution walks strings inside a decoded structure instead of rewriting JSON text: the effect
on values is the same as Argo's JSON-text replacement, and no escaping can go wrong.

Strictness follows the stages of §4.3. A tag whose root is one Argo validates (``inputs.``,
``steps.``, ``tasks.``, ``item``, ``workflow.`` ...) and that cannot be resolved raises
``SubstitutionError("failed to resolve {{tag}}")`` in strict mode and is kept in lenient mode
(used for a steps/dag body whose ``steps.*`` references are resolved later, step by step). Tags
with any other root (Helm or Jinja leftovers) always pass through. ``workflow.status`` and
``workflow.failures`` are only set inside exit handlers; elsewhere they stay as written, as in Argo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.expr import ExprError, compile_expression
from analysis.expr.conditions import as_float, as_int

__all__ = [
    "Scope",
    "SubstitutionError",
    "expression_environment",
    "find_tags",
    "is_validated",
    "substitute",
    "substitute_tree",
]

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_VALIDATED_ROOTS = (
    "workflow.",
    "inputs.",
    "outputs.",
    "steps.",
    "tasks.",
    "item.",
    "pod.",
    "node.",
    "lastRetry.",
)
_VALIDATED_NAMES = frozenset({"item", "retries", "inputs.parameters"})
_EXIT_HANDLER_ONLY = frozenset({"workflow.status", "workflow.failures"})
_SKIPPED_KEYS = frozenset({"inline"})
"""Keys whose subtree belongs to another template and is substituted when that one runs."""


class SubstitutionError(ValueError):
    """A tag that cannot be resolved, or an expression tag that fails."""


@dataclass
class Scope:
    """Variables visible at one point: flat strings, artifact objects, raw values for expressions."""

    values: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    """Values expressions should see as they are (``item`` as a map), keyed by flat name."""

    def child(self) -> Scope:
        return Scope(dict(self.values), dict(self.artifacts), dict(self.objects))

    def update(self, values: Mapping[str, str]) -> Scope:
        self.values.update(values)
        return self


def find_tags(text: str) -> list[str]:
    """The inner text of every ``{{...}}`` tag, in order."""
    return [match.group(1) for match in _TAG.finditer(text)]


def is_validated(name: str) -> bool:
    """Is ``name`` a variable Argo checks (``inputs.``, ``steps.``, ``item``...), not a foreign tag?"""
    return name in _VALIDATED_NAMES or name.startswith(_VALIDATED_ROOTS)


def substitute(text: str, scope: Scope, *, strict: bool = True) -> str:
    """Replace every tag of ``text`` by its value (module docstring for the strictness rules)."""
    if "{{" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("="):
            return _expression_tag(inner[1:], match.group(0), scope, strict)
        name = inner.strip()
        if name in scope.values:
            return scope.values[name]
        if strict and is_validated(name) and name not in _EXIT_HANDLER_ONLY:
            raise SubstitutionError(f"failed to resolve {{{{{name}}}}}")
        return match.group(0)

    return _TAG.sub(replace, text)


def _expression_tag(source: str, original: str, scope: Scope, strict: bool) -> str:
    try:
        value = evaluate_expression(source, scope)
    except SubstitutionError:
        if strict:
            raise
        return original
    if value is None:
        if strict:
            raise SubstitutionError(f"failed to evaluate expression {source!r}: result is nil")
        return original
    return value if isinstance(value, str) else _compact_json(value)


def evaluate_expression(source: str, scope: Scope) -> Any:
    """Evaluate an expr-lang expression over the scope; any failure is a ``SubstitutionError``."""
    try:
        return compile_expression(source.strip()).evaluate(expression_environment(scope))
    except ExprError as error:
        raise SubstitutionError(f"failed to evaluate expression {source.strip()!r}: {error}") from None


def substitute_tree(value: Any, scope: Scope, *, strict: bool = True) -> Any:
    """``substitute`` applied to every string of a decoded JSON structure (keys are left alone)."""
    if isinstance(value, str):
        return substitute(value, scope, strict=strict)
    if isinstance(value, list):
        return [substitute_tree(item, scope, strict=strict) for item in value]
    if isinstance(value, dict):
        return {
            key: item if key in _SKIPPED_KEYS else substitute_tree(item, scope, strict=strict)
            for key, item in value.items()
        }
    return value


def _compact_json(value: Any) -> str:
    """Go's ``json.Marshal``: compact, and whole floats without a fraction (``3``, not ``3.0``)."""
    return json.dumps(_go_numbers(value), separators=(",", ":"), ensure_ascii=False)


def _go_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list | tuple):
        return [_go_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: _go_numbers(item) for key, item in value.items()}
    return value


def expression_environment(scope: Scope) -> dict[str, Any]:
    """Nested maps of the scope's variables plus Argo's expression functions.

    Where a name is both a value and a prefix (``workflow.parameters`` is a JSON string and
    ``workflow.parameters.env`` a value), the map wins, as Argo's expansion does.
    """
    tree: dict[str, Any] = {}
    names = sorted({**scope.values, **scope.objects}, key=lambda key: key.count("."))
    for name in names:
        value = scope.objects.get(name, scope.values.get(name))
        _place(tree, name.split("."), value)
    return {**tree, **_FUNCTIONS}


def _place(tree: dict[str, Any], parts: list[str], value: Any) -> None:
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    if not isinstance(node.get(parts[-1]), dict):
        node[parts[-1]] = value


def _to_json(*args: Any) -> str:
    if len(args) != 1:
        raise ExprError(f"toJson expects 1 argument, got {len(args)}")
    try:
        return _compact_json(args[0])
    except (TypeError, ValueError) as error:
        raise ExprError(f"toJson: {error}") from None


_JSONPATH_STEP = re.compile(r"\.([A-Za-z_][-\w]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def _jsonpath(*args: Any) -> Any:
    """``jsonpath(jsonText, '$.a.b[0]')``: fields and indexes, the forms Argo's examples use."""
    if len(args) != 2 or not all(isinstance(arg, str) for arg in args):
        raise ExprError("jsonpath expects a JSON string and a path string")
    text, path = args
    try:
        current: Any = json.loads(text)
    except json.JSONDecodeError as error:
        raise ExprError(f"jsonpath: invalid JSON: {error}") from None
    if not path.startswith("$"):
        raise ExprError(f"jsonpath: path {path!r} must start with $")
    position = 1
    while position < len(path):
        step = _JSONPATH_STEP.match(path, position)
        if step is None:
            raise ExprError(f"jsonpath: cannot parse {path!r} at {position}")
        key = step.group(1) or step.group(3) or step.group(4)
        if step.group(2) is not None:
            index = int(step.group(2))
            if not isinstance(current, list) or index >= len(current):
                raise ExprError(f"jsonpath: index {index} out of range in {path!r}")
            current = current[index]
        elif isinstance(current, dict) and key in current:
            current = current[key]
        else:
            raise ExprError(f"jsonpath: unknown key {key!r} in {path!r}")
        position = step.end()
    return current


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "asInt": as_int,
    "asFloat": as_float,
    "toJson": _to_json,
    "jsonpath": _jsonpath,
}
