"""A checker for the Kubernetes "structural schema" rules our generated CRDs must satisfy.

The API server refuses a non-structural ``apiextensions.k8s.io/v1`` schema, but only when the
CRD is applied; checking here lets a unit test (no cluster) catch a model that generates one.
Covers the rules that matter for what the generator can produce: every node has a ``type``
unless it is int-or-string or preserves unknown fields; no ``$ref``; ``anyOf`` only in the
int-or-string form; ``properties`` and ``additionalProperties`` never together; the root
``metadata`` carries no restrictions; only known OpenAPI keywords.
"""

from __future__ import annotations

from typing import Any

__all__ = ["structural_problems"]

_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]
_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "description",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "enum",
        "nullable",
        "default",
        "anyOf",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-validations",
        "x-kubernetes-list-type",
        "x-kubernetes-map-type",
        "x-kubernetes-embedded-resource",
    }
)
_TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean"})


def structural_problems(root: dict[str, Any]) -> list[str]:
    """Every violation found in an ``openAPIV3Schema``, as ``path: problem``; empty means structural."""
    problems: list[str] = []
    _check(root, "", problems)
    metadata = root.get("properties", {}).get("metadata")
    if metadata is not None and metadata != {"type": "object"}:
        problems.append(".metadata: only type object is allowed at the root metadata")
    return problems


def _check(node: Any, path: str, problems: list[str]) -> None:
    where = path or "<root>"
    if not isinstance(node, dict):
        problems.append(f"{where}: a schema must be a mapping, got {type(node).__name__}")
        return
    for keyword in sorted(set(node) - _KEYWORDS):
        problems.append(f"{where}: keyword {keyword!r} is not allowed")
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserves = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "anyOf" in node and not (int_or_string and node["anyOf"] == _INT_OR_STRING_ANY_OF):
        problems.append(f"{where}: anyOf is only allowed as the int-or-string pattern")
    if "type" not in node:
        if not (int_or_string or preserves):
            problems.append(f"{where}: type is missing")
    elif node["type"] not in _TYPES:
        problems.append(f"{where}: unknown type {node['type']!r}")
    elif int_or_string:
        problems.append(f"{where}: an int-or-string node must not set type")
    if "properties" in node and "additionalProperties" in node:
        problems.append(f"{where}: properties and additionalProperties are mutually exclusive")
    if ("properties" in node or "additionalProperties" in node) and node.get("type") != "object":
        problems.append(f"{where}: properties need type object")
    if "items" in node and node.get("type") != "array":
        problems.append(f"{where}: items need type array")
    if node.get("type") == "array" and "items" not in node:
        problems.append(f"{where}: an array needs items")
    for name in node.get("required", []):
        if name not in node.get("properties", {}):
            problems.append(f"{where}: required field {name!r} is not a property")
    for name, child in sorted(node.get("properties", {}).items()):
        _check(child, f"{path}.{name}", problems)
    if isinstance(node.get("additionalProperties"), dict):
        _check(node["additionalProperties"], f"{path}.*", problems)
    if "items" in node:
        _check(node["items"], f"{path}[]", problems)
