"""Managed header and mirror routes (§3.6): what the routers do with them in this pass.

Argo decides this inside ``reconcileTrafficRouting``, next to the weight: every managed route is
removed once the update is over or abandoned (fully promoted, aborted, or promoted in full while
the canary has pods), and a ``setHeaderRoute`` / ``setMirrorRoute`` step is applied for as long as
it is the current step of an update (Rollout revision above 1: the first revision never runs
steps). The step completes in the same pass (`steps.step_completed`), so the route stays in
place, set by the routing object itself, until a later step replaces it or the removal comes.

One deliberate difference: Argo removes the managed routes and then, in the same pass, applies
the current step again — after an abort the index is back at 0, so a first-step header route
would be put straight back while all other traffic returns to stable. Here a pass that removes
managed routes adds none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rollouts.planner.inputs import ReplicaSetView, RolloutView, as_mapping
from rollouts.planner.steps import current_step

__all__ = ["RouteInstructions", "route_instructions"]


@dataclass(frozen=True)
class RouteInstructions:
    """The managed-route part of a `SetTrafficWeight` action."""

    header_route: Mapping[str, Any] | None = None
    mirror_route: Mapping[str, Any] | None = None
    remove_managed_routes: bool = False


def route_instructions(
    ro: RolloutView, *, aborted: bool, new_rs: ReplicaSetView | None, revision: int
) -> RouteInstructions:
    """Remove all managed routes, or apply the current route step, or leave the routes alone.

    ``revision`` is the Rollout's revision as of this pass (a pass that creates newRS also
    raises it, and Argo reads the raised one)."""
    canary_serving = new_rs is not None and new_rs.available > 0
    if ro.is_fully_promoted or aborted or (ro.promote_full and canary_serving):
        return RouteInstructions(remove_managed_routes=True)
    step, _ = current_step(ro.steps, ro.current_step_index)
    if step is None or revision <= 1:
        return RouteInstructions()
    header, mirror = step.get("setHeaderRoute"), step.get("setMirrorRoute")
    return RouteInstructions(
        header_route=as_mapping(header) if header is not None else None,
        mirror_route=as_mapping(mirror) if mirror is not None else None,
    )
