"""Node names, IDs, display names and pod names, as Argo computes them (reference §6.4, §12.1).

They are pure functions of the workflow name and the node name, which is what makes the engine
idempotent: a restarted engine recomputes the same IDs and pod names, so it finds the pods it
already created instead of duplicating them.
"""

from __future__ import annotations

import json
import re

__all__ = ["display_name", "fnv1a_32", "loop_summary", "node_id", "pod_name"]

_FNV_OFFSET = 2166136261
_FNV_PRIME = 16777619
_POD_PREFIX_LIMIT = 242
_LEADING_GROUP = re.compile(r"^\[\d+\]\.")


def fnv1a_32(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes of ``text``."""
    value = _FNV_OFFSET
    for byte in text.encode():
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def node_id(workflow: str, name: str) -> str:
    """The root's ID is the workflow name; any other node's is ``<wf>-<fnv1a(name)>``."""
    return workflow if name == workflow else f"{workflow}-{fnv1a_32(name)}"


def pod_name(workflow: str, name: str, template: str) -> str:
    """Argo's "v2" pod name ``<wf>-<template>-<hash>``; a root pod is named after the workflow."""
    if name == workflow:
        return workflow
    prefix = f"{workflow}-{template}" if template else workflow
    return f"{prefix[:_POD_PREFIX_LIMIT]}-{fnv1a_32(name)}"


def display_name(name: str, boundary_name: str | None) -> str:
    """The node name without its boundary's name and one leading ``[N].`` or ``.``."""
    if not boundary_name or not name.startswith(boundary_name) or name == boundary_name:
        return name
    rest = name[len(boundary_name) :]
    if _LEADING_GROUP.match(rest):
        return _LEADING_GROUP.sub("", rest, count=1)
    return rest[1:] if rest.startswith(".") else rest


def loop_summary(item: object) -> str:
    """The ``(<index>:<summary>)`` part of a loop child's name: the scalar, or sorted ``k:v`` pairs."""
    if isinstance(item, dict):
        text = ",".join(f"{key}:{_scalar(item[key])}" for key in sorted(item))
    else:
        text = _scalar(item)
    return text.replace("(", "").replace(")", "")


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)
