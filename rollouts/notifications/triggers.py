"""Which trigger an Event fires, and whether a trigger's conditions hold.

Argo turns every Event reason into a trigger name with two regular expressions
(``(.)([A-Z][a-z]+)`` then ``([a-z0-9])([A-Z])``, each replaced by ``$1-$2``, lowercased,
prefixed ``on-``); we apply the same two rewrites so odd reasons such as
``Updated VirtualService`` map exactly as upstream (``on-updated -virtual-service``).
A trigger is a list of conditions ``{when?, send}``; a condition without ``when`` always fires,
one with ``when`` fires when our safe expr evaluator says true (never ``eval``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from analysis.expr import ExprError, Program, compile_expression

__all__ = ["Condition", "ConditionResult", "run_trigger", "trigger_name"]

FIRST_CAPITAL: Final = re.compile(r"(.)([A-Z][a-z]+)")
ALL_CAPITALS: Final = re.compile(r"([a-z0-9])([A-Z])")


def trigger_name(reason: str) -> str:
    """``RolloutStepCompleted`` → ``on-rollout-step-completed`` (Argo's rule)."""
    kebab = ALL_CAPITALS.sub(r"\1-\2", FIRST_CAPITAL.sub(r"\1-\2", reason))
    return "on-" + kebab.lower()


@dataclass(frozen=True)
class Condition:
    send: tuple[str, ...]
    when: str = ""
    program: Program | None = None

    @classmethod
    def parse(cls, raw: Any) -> Condition:
        """One entry of ``trigger.<name>``; raises ``ValueError`` with what is wrong."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"a trigger condition must be a mapping with 'send', got {type(raw).__name__}")
        send = raw.get("send")
        if not isinstance(send, list) or not send or not all(isinstance(name, str) for name in send):
            raise ValueError("'send' must be a non-empty list of template names")
        when = raw.get("when", "")
        if not isinstance(when, str):
            raise ValueError(f"'when' must be an expression string, got {type(when).__name__}")
        program = None
        if when.strip():
            try:
                program = compile_expression(when)
            except ExprError as error:
                raise ValueError(f"'when' does not compile: {error}") from None
        return cls(tuple(send), when, program)


@dataclass(frozen=True)
class ConditionResult:
    templates: tuple[str, ...]
    triggered: bool
    error: str = ""


def run_trigger(conditions: tuple[Condition, ...], variables: Mapping[str, Any]) -> list[ConditionResult]:
    """Each condition's verdict; an expression failing is that condition's error, not an exception."""
    results: list[ConditionResult] = []
    for condition in conditions:
        if condition.program is None:
            results.append(ConditionResult(condition.send, True))
            continue
        try:
            value = condition.program.evaluate(variables)
        except ExprError as error:
            results.append(ConditionResult(condition.send, False, f"when {condition.when!r}: {error}"))
            continue
        if not isinstance(value, bool):
            results.append(
                ConditionResult(
                    condition.send, False, f"when {condition.when!r}: expected bool, got {value!r}"
                )
            )
            continue
        results.append(ConditionResult(condition.send, value))
    return results
