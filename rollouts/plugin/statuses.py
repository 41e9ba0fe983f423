"""``status``'s decision, pure: from a Rollout to the line to print and whether (and how) to stop.

Uses the client-side phase (`planner.phase.client_phase`, reference §3.15), which does not trust
a phase written for an older generation, so ``status`` never reports Healthy for a spec the
controller has not seen yet. Exit codes: 0 Healthy (or Paused with ``--success-on-pause``),
1 Degraded, 2 when the watch times out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from rollouts.planner.inputs import RolloutView
from rollouts.planner.phase import client_phase

__all__ = ["DEGRADED_EXIT", "TIMEOUT_EXIT", "Verdict", "status_line", "verdict"]

DEGRADED_EXIT: Final = 1
TIMEOUT_EXIT: Final = 2


@dataclass(frozen=True)
class Verdict:
    """``line`` to print; ``exit_code`` once done (``None``: keep watching); ``error`` for stderr."""

    line: str
    exit_code: int | None = None
    error: str = ""


def status_line(phase: str, message: str) -> str:
    return f"{phase} - {message}" if message else phase


def verdict(rollout: Mapping[str, Any], *, success_on_pause: bool = False) -> Verdict:
    phase, message = client_phase(RolloutView(rollout))
    line = status_line(phase, message)
    if phase == "Healthy":
        return Verdict(line, 0)
    if phase == "Degraded":
        return Verdict(line, DEGRADED_EXIT, f"The rollout is in a degraded state with message: {message}")
    if phase == "Paused" and success_on_pause:
        return Verdict(line, 0)
    return Verdict(line)
