"""Loops (``withItems``, ``withParam``, ``withSequence``) and the aggregation of their outputs (§5.2).

Expansion turns one step or task into a list of elements; each element becomes a child named
``<name>(<index>:<summary>)`` with ``item`` (and ``item.<key>`` for maps) in scope. Aggregation
builds the ``steps.S.outputs...`` variables of a finished loop from its successful iterations.

Two places where Argo itself fails or leaves a value unresolved are decided here, as the
reference recommends and ``docs/workflows.md`` documents: an iteration whose ``result`` is not JSON
is aggregated as a JSON string, and an empty loop aggregates to ``[]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.workflows.names import loop_summary

__all__ = [
    "LoopError",
    "aggregate_outputs",
    "item_variables",
    "iteration_name",
    "param_items",
    "sequence_items",
    "value_text",
]

_PRINTF = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?[dioxXeEfFgGsv]")


class LoopError(ValueError):
    """A loop source that does not expand: bad ``withParam`` JSON, bad ``withSequence`` numbers."""


def value_text(value: Any) -> str:
    """How a JSON value is written into a ``{{...}}`` tag: strings as is, others as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, separators=(",", ":"), sort_keys=isinstance(value, dict), ensure_ascii=False)


def param_items(text: str) -> list[Any]:
    """The elements of a substituted ``withParam``; it must be a JSON array."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise LoopError(f"withParam value could not be parsed as a JSON list: {text}: {error}") from None
    if not isinstance(value, list):
        raise LoopError(f"withParam value could not be parsed as a JSON list: {text}: not a list")
    return value


def _sequence_number(value: object, field: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise LoopError(f"withSequence.{field} {value!r} is not an integer") from None


def sequence_items(count: object, start: object, end: object, format_: str | None) -> list[str]:
    """``withSequence`` elements (strings): ``count`` from ``start``, or ``start``..``end`` inclusive."""
    if count is not None and end is not None:
        raise LoopError("withSequence: only one of count or end can be defined")
    first = _sequence_number(start, "start") if start not in (None, "") else 0
    if count is not None:
        total = _sequence_number(count, "count")
        if total < 0:
            raise LoopError(f"withSequence.count {total} must not be negative")
        numbers = list(range(first, first + total))
    elif end is not None:
        last = _sequence_number(end, "end")
        numbers = list(range(first, last + 1)) if last >= first else list(range(first, last - 1, -1))
    else:
        raise LoopError("withSequence: one of count or end must be defined")
    return [_format_number(number, format_) for number in numbers]


def _format_number(number: int, format_: str | None) -> str:
    if not format_:
        return str(number)
    verbs = _PRINTF.findall(format_)
    if len(verbs) != 1:
        raise LoopError(f"withSequence.format {format_!r} must contain exactly one printf verb")
    verb = verbs[0]
    converted: object = number
    if verb[-1] in "eEfFgG":
        converted = float(number)
    elif verb[-1] in "sv":
        verb = verb[:-1] + "s"
        converted = str(number)
    return format_.replace(verbs[0], verb % converted, 1)


def iteration_name(base: str, index: int, item: Any) -> str:
    return f"{base}({index}:{loop_summary(item)})"


def item_variables(item: Any) -> dict[str, str]:
    """``item`` and, for a map element, ``item.<key>`` per field."""
    variables = {"item": value_text(item)}
    if isinstance(item, Mapping):
        for key, value in item.items():
            variables[f"item.{key}"] = value_text(value)
    return variables


def _parse_json(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return False, text


def aggregate_outputs(prefix: str, iterations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``<prefix>.outputs.result``, ``.parameters.<P>`` and ``.parameters`` of a finished loop.

    ``iterations`` are the outputs (``{"result": ..., "parameters": [{name, value}]}``) of the
    iterations that succeeded, in index order.
    """
    variables: dict[str, str] = {}
    results = [outputs["result"] for outputs in iterations if outputs.get("result") is not None]
    variables[f"{prefix}.outputs.result"] = _json([_parse_json(text)[1] for text in results])
    per_name: dict[str, list[str]] = {}
    rows: list[dict[str, str]] = []
    for outputs in iterations:
        row: dict[str, str] = {}
        for parameter in outputs.get("parameters") or []:
            if parameter.get("value") is None:
                continue
            row[parameter["name"]] = parameter["value"]
            per_name.setdefault(parameter["name"], []).append(parameter["value"])
        if row:
            rows.append(row)
    for name, values in per_name.items():
        parsed = [_parse_json(value) for value in values]
        structured = all(ok and isinstance(value, dict | list) for ok, value in parsed)
        variables[f"{prefix}.outputs.parameters.{name}"] = _json(
            [value for _, value in parsed] if structured else values
        )
    variables[f"{prefix}.outputs.parameters"] = _json(rows)
    return variables


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
