"""``workloadRef.scaleDown`` (§3.16): shrinking the Deployment a Rollout took its template from.

Only the migration matters here — the Rollout's first revision, when its pods replace the
Deployment's: ``progressively`` keeps the Deployment at ``replicas - ready Rollout pods`` until the
Rollout is Healthy, ``onsuccess`` leaves it alone until then; both end at 0. ``never`` (the default)
never touches it. The shell compares the target with the live Deployment and writes only on change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.planner.actions import ScaleWorkload
from rollouts.planner.inputs import RolloutView, as_int, as_mapping, as_str

__all__ = ["workload_scale"]


def workload_scale(ro: RolloutView, status: Mapping[str, Any], *, revision: int) -> ScaleWorkload | None:
    """The Deployment size the new ``status`` calls for, or ``None`` to leave it alone."""
    reference = as_mapping(ro.spec.get("workloadRef"))
    mode = as_str(reference.get("scaleDown"), "never")
    if not reference or mode == "never" or revision != 1:
        return None
    healthy = status.get("phase") == "Healthy"
    if healthy:
        replicas = 0
    elif mode == "progressively":
        replicas = max(ro.replicas - as_int(status.get("readyReplicas"), 0), 0)
    else:
        return None
    return ScaleWorkload(
        api_version=as_str(reference.get("apiVersion")),
        kind=as_str(reference.get("kind")),
        name=as_str(reference.get("name")),
        replicas=replicas,
    )
