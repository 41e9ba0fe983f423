"""``successCondition`` / ``failureCondition`` of resource templates (reference §2.3). Pure.

Kubernetes label-selector syntax applied to dotted JSON paths of the live object: requirements
separated by commas, each ``path op value`` with ``op`` one of ``=``, ``==``, ``!=``, ``>``, ``<``
(integers), ``in (a, b)``, ``notin (a, b)``, or an existence test ``path`` / ``!path``. Values are
compared as text, as a selector compares label values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Requirement", "RequirementError", "matching", "parse_requirements", "path_value"]

_REQUIREMENT = re.compile(
    r"^\s*(?P<bang>!)?\s*(?P<path>[A-Za-z0-9_.\-\[\]/]+)\s*"
    r"(?:(?P<op>==|!=|=|>|<|\bnotin\b|\bin\b)\s*(?P<value>.*?))?\s*$"
)


class RequirementError(ValueError):
    """A condition that does not parse, or compares integers with something else."""


@dataclass(frozen=True)
class Requirement:
    text: str
    path: str
    op: str
    """``exists``, ``!exists``, ``=``, ``!=``, ``>``, ``<``, ``in``, ``notin``."""
    values: tuple[str, ...]


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses (``in (a, b)`` keeps its list)."""
    parts: list[str] = []
    depth, current = 0, ""
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        if character == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += character
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def parse_requirements(text: str) -> list[Requirement]:
    requirements: list[Requirement] = []
    for part in _split(text):
        match = _REQUIREMENT.match(part)
        if match is None:
            raise RequirementError(f"condition {part!r} is not of the form 'path op value'")
        path, op, value = match.group("path"), match.group("op"), match.group("value")
        if op is None:
            requirements.append(Requirement(part, path, "!exists" if match.group("bang") else "exists", ()))
            continue
        if match.group("bang"):
            raise RequirementError(f"condition {part!r}: '!' only negates an existence test")
        if op in ("in", "notin"):
            inner = (value or "").strip()
            if not (inner.startswith("(") and inner.endswith(")")):
                raise RequirementError(f"condition {part!r}: {op} needs a list in parentheses")
            values = tuple(item.strip() for item in inner[1:-1].split(",") if item.strip())
        else:
            values = ((value or "").strip(),)
        requirements.append(Requirement(part, path, "=" if op == "==" else op, values))
    if not requirements:
        raise RequirementError("condition is empty")
    return requirements


def path_value(obj: Any, path: str) -> tuple[bool, str]:
    """(found, text) of a dotted path; numbers and booleans as their JSON text."""
    current = obj
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, ""
    if isinstance(current, str):
        return True, current
    return True, json.dumps(current, separators=(",", ":"))


def _holds(requirement: Requirement, obj: Any) -> bool:
    found, text = path_value(obj, requirement.path)
    op = requirement.op
    if op == "exists":
        return found
    if op == "!exists":
        return not found
    if not found:
        return op in ("!=", "notin")
    if op == "=":
        return text == requirement.values[0]
    if op == "!=":
        return text != requirement.values[0]
    if op == "in":
        return text in requirement.values
    if op == "notin":
        return text not in requirement.values
    try:
        left, right = int(text), int(requirement.values[0])
    except ValueError:
        raise RequirementError(
            f"condition {requirement.text!r}: {op} compares integers, got {text!r}"
        ) from None
    return left > right if op == ">" else left < right


def matching(requirements: list[Requirement], obj: Any) -> list[Requirement]:
    """The requirements that hold for ``obj``."""
    return [requirement for requirement in requirements if _holds(requirement, obj)]
