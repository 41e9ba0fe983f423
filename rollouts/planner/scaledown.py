"""Old ReplicaSets (§3.13, §3.2): how far to shrink them, when their scale-down delay ends, which
ones to delete beyond ``revisionHistoryLimit``.

Everything here is a decision about *other* ReplicaSets (neither newRS nor stableRS) and returns
`OldReplicaSetDecision` values; the pipelines turn them into writes. The delay rule is shared by
blue-green and traffic-routed canary: a scaled-up old ReplicaSet first gets a
``scale-down-deadline`` annotation (``now + scaleDownDelaySeconds``) and keeps its pods; once
the deadline passes it goes to zero. Only ``scaleDownDelayRevisionLimit`` ReplicaSets may wait at
once — older ones go to zero immediately. A delay of 0 scales down at once (upstream would keep
such a ReplicaSet up without ever annotating it, which never ends).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rollouts.planner.inputs import ReplicaSetView, ServiceView, as_mapping, as_str, format_time

__all__ = [
    "OldReplicaSetDecision",
    "aborted_new_rs_decision",
    "blue_green_old_rs_decisions",
    "canary_old_rs_decisions",
    "is_referenced",
    "revision_history_deletions",
    "unhealthy_cleanup",
]

UNLIMITED = sys.maxsize


@dataclass(frozen=True)
class OldReplicaSetDecision:
    """Size an old ReplicaSet to ``replicas``; first annotate it with ``deadline`` if set."""

    rs: ReplicaSetView
    replicas: int
    deadline: str | None = None
    requeue_at: datetime | None = None


def _by_revision_newest_first(replica_sets: Iterable[ReplicaSetView]) -> list[ReplicaSetView]:
    """Argo's ``ReplicaSetsByRevisionNumber`` reversed: revision, then creation time, newest first."""
    return sorted(replica_sets, key=lambda rs: (rs.revision or 0, rs.created_at), reverse=True)


def is_referenced(
    rs: ReplicaSetView,
    status: Mapping[str, Any],
    services: Mapping[str, ServiceView],
    service_names: Sequence[str],
) -> bool:
    """Something still routes to ``rs`` (§3.2 ``isReplicaSetReferenced``), so it must not go to zero."""
    if not rs.pod_hash:
        return False
    blue_green = as_mapping(status.get("blueGreen"))
    weights = as_mapping(as_mapping(status.get("canary")).get("weights"))
    references = {
        as_str(status.get("stableRS")),
        as_str(status.get("currentPodHash")),
        as_str(blue_green.get("activeSelector")),
        as_str(blue_green.get("previewSelector")),
        as_str(as_mapping(weights.get("canary")).get("podTemplateHash")),
        as_str(as_mapping(weights.get("stable")).get("podTemplateHash")),
    }
    if rs.pod_hash in references:
        return True
    return any(
        name in services and services[name].selected_hash == rs.pod_hash for name in service_names if name
    )


def _delayed(
    rs: ReplicaSetView, annotated: int, *, limit: int, delay_seconds: int, keep: int, now: datetime
) -> tuple[int, OldReplicaSetDecision]:
    """Argo's ``scaleDownDelayHelper``: ``(annotated so far, decision)`` for one old ReplicaSet."""
    if not rs.has_scale_down_deadline and rs.spec_replicas > 0:
        if annotated < limit and delay_seconds > 0:
            deadline = now + timedelta(seconds=delay_seconds)
            decision = OldReplicaSetDecision(rs, rs.spec_replicas, format_time(deadline), deadline)
            return annotated + 1, decision
        return annotated, OldReplicaSetDecision(rs, 0)
    if rs.has_scale_down_deadline:
        annotated += 1
        until = rs.scale_down_deadline
        if annotated <= limit and until is not None and until > now:
            return annotated, OldReplicaSetDecision(rs, keep, requeue_at=until)
    return annotated, OldReplicaSetDecision(rs, 0)


def unhealthy_cleanup(other_rss: Sequence[ReplicaSetView]) -> list[OldReplicaSetDecision]:
    """Shrink old ReplicaSets to their available pods first, so broken pods never block a rollout."""
    return [
        OldReplicaSetDecision(rs, rs.available)
        for rs in sorted(other_rss, key=lambda rs: rs.created_at)
        if rs.spec_replicas not in (0, rs.available) and rs.available <= rs.spec_replicas
    ]


def canary_old_rs_decisions(
    *,
    other_rss: Sequence[ReplicaSetView],
    available_total: int,
    replicas: int,
    max_unavailable: int,
    traffic_routed: bool,
    fully_promoted: bool,
    dynamic_stable_scale: bool,
    scale_down_delay_seconds: int,
    revision_limit: int | None,
    referenced: Sequence[str],
    now: datetime,
) -> list[OldReplicaSetDecision]:
    """§3.13 for canary: drain old ReplicaSets within ``available - (replicas - maxUnavailable)``.

    ``other_rss`` must already reflect `unhealthy_cleanup`. Basic canary shrinks them all (their
    pods would take traffic); with traffic routing, the previous stable waits out its delay, and
    intermediate ReplicaSets of an interrupted update go straight to zero. ``referenced`` lists the
    pod hashes that must not be touched (traffic routing only).
    """
    budget = available_total - (replicas - max_unavailable)
    if budget <= 0:
        return []
    limit = UNLIMITED if revision_limit is None else revision_limit
    decisions: list[OldReplicaSetDecision] = []
    annotated = 0
    for rs in _by_revision_newest_first(other_rss):
        if traffic_routed and rs.pod_hash in referenced:
            continue
        if budget <= 0:
            break
        if rs.spec_replicas == 0:
            continue
        if not traffic_routed:
            decision = OldReplicaSetDecision(rs, max(rs.spec_replicas - budget, 0))
        elif (fully_promoted or rs.has_scale_down_deadline) and not dynamic_stable_scale:
            annotated, decision = _delayed(
                rs,
                annotated,
                limit=limit,
                delay_seconds=scale_down_delay_seconds,
                keep=rs.spec_replicas,
                now=now,
            )
        else:  # previous stable with dynamic scaling, or an intermediate ReplicaSet: no traffic, no delay
            decision = OldReplicaSetDecision(rs, 0)
        if decision.replicas != rs.spec_replicas or decision.deadline or decision.requeue_at:
            decisions.append(decision)
        budget -= rs.spec_replicas - decision.replicas
    return decisions


def blue_green_old_rs_decisions(
    *,
    other_rss: Sequence[ReplicaSetView],
    replicas: int,
    scale_down_delay_seconds: int,
    revision_limit: int | None,
    referenced: Sequence[str],
    now: datetime,
) -> list[OldReplicaSetDecision]:
    """§3.7/§3.13 for blue-green: every unreferenced old ReplicaSet waits its delay, then goes to 0."""
    limit = UNLIMITED if revision_limit is None else revision_limit
    decisions: list[OldReplicaSetDecision] = []
    annotated = 0
    for rs in _by_revision_newest_first(other_rss):
        if rs.pod_hash in referenced or rs.spec_replicas == 0:
            continue
        annotated, decision = _delayed(
            rs, annotated, limit=limit, delay_seconds=scale_down_delay_seconds, keep=replicas, now=now
        )
        if (
            decision.replicas != rs.spec_replicas
            or decision.deadline is not None
            or decision.requeue_at is not None
        ):
            decisions.append(decision)
    return decisions


def revision_history_deletions(other_rss: Sequence[ReplicaSetView], limit: int) -> list[ReplicaSetView]:
    """Oldest fully scaled-down ReplicaSets beyond ``revisionHistoryLimit`` (§3.2)."""
    cleanable = sorted((rs for rs in other_rss if not rs.deleting), key=lambda rs: (rs.created_at, rs.name))
    excess = len(cleanable) - limit
    if excess <= 0:
        return []
    return [
        rs
        for rs in cleanable[:excess]
        if rs.replicas == 0 and rs.spec_replicas == 0 and rs.generation <= rs.observed_generation
    ]


def aborted_new_rs_decision(
    new_rs: ReplicaSetView, *, stable_available: int, replicas: int, delay_seconds: int, now: datetime
) -> OldReplicaSetDecision | None:
    """The aborted canary/preview waits ``abortScaleDownDelaySeconds`` before going to zero (§3.5, §3.7).

    The delay starts only once stable is fully available again; until then, and until the deadline,
    the ReplicaSet keeps its size. ``None`` (an unreadable deadline) means: size it as usual.
    """
    if new_rs.has_scale_down_deadline:
        deadline = new_rs.scale_down_deadline
        if deadline is None:
            return None
        if deadline > now:
            return OldReplicaSetDecision(new_rs, new_rs.spec_replicas, requeue_at=deadline)
        return OldReplicaSetDecision(new_rs, 0)
    if stable_available != replicas:
        return OldReplicaSetDecision(new_rs, new_rs.spec_replicas)
    until = now + timedelta(seconds=delay_seconds)
    return OldReplicaSetDecision(new_rs, new_rs.spec_replicas, format_time(until), until)
