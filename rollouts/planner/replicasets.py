"""The manifest of a new ReplicaSet (§3.2 "Creating newRS", §3.17, §3.18).

Built whole by the planner so that creation is one action the shell sends as-is: name
``<rollout>-<hash>``, the hash in labels, selector and pod template, the Rollout's annotations
(minus the ones never copied) plus revision and desired-replicas, a controller ownerReference,
``replicas: 0``, the ephemeral metadata that fits its role (canary/preview while a distinct stable
exists, else stable/active) remembered in ``rollout.argoproj.io/ephemeral-metadata``, and the
anti-affinity term against the stable pods when one is configured and an update is under way.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, Final

from rollouts.planner.actions import CreateReplicaSet
from rollouts.planner.conditions import PROGRESSING, Reason, find_condition, new_condition, set_condition
from rollouts.planner.context import ANNOTATIONS_NOT_COPIED, PassContext, max_revision
from rollouts.planner.inputs import (
    DESIRED_REPLICAS_ANNOTATION,
    POD_HASH_LABEL,
    REVISION_ANNOTATION,
    ReplicaSetView,
    RolloutView,
    as_mapping,
)

__all__ = [
    "EPHEMERAL_METADATA_ANNOTATION",
    "ensure_new_rs",
    "ephemeral_metadata_for",
    "new_replica_set_manifest",
]

EPHEMERAL_METADATA_ANNOTATION: Final = "rollout.argoproj.io/ephemeral-metadata"


def ephemeral_metadata_for(ro: RolloutView, *, distinct_stable: bool) -> Mapping[str, Any] | None:
    """Canary/preview metadata while a distinct stable exists, else stable/active metadata."""
    if ro.canary is not None:
        key = "canaryMetadata" if distinct_stable else "stableMetadata"
        value = ro.canary.get(key)
    else:
        key = "previewMetadata" if distinct_stable else "activeMetadata"
        value = as_mapping(ro.blue_green).get(key)
    return value if isinstance(value, Mapping) else None


def _go_json_metadata(metadata: Mapping[str, Any]) -> str:
    """``PodTemplateMetadata`` as Go marshals it: labels then annotations, empty ones omitted."""
    parts = []
    for key in ("labels", "annotations"):
        values = as_mapping(metadata.get(key))
        if values:
            parts.append(f'"{key}":{json.dumps(dict(sorted(values.items())), separators=(",", ":"))}')
    return "{" + ",".join(parts) + "}"


def _anti_affinity(
    ro: RolloutView, affinity: Mapping[str, Any] | None, pod_hash: str
) -> dict[str, Any] | None:
    strategy = ro.canary if ro.canary is not None else as_mapping(ro.blue_green)
    anti = as_mapping(strategy.get("antiAffinity"))
    result = copy.deepcopy(dict(affinity)) if affinity is not None else None
    preferred = anti.get("preferredDuringSchedulingIgnoredDuringExecution")
    required = anti.get("requiredDuringSchedulingIgnoredDuringExecution")
    if (preferred is None and required is None) or not ro.stable_rs or ro.stable_rs == pod_hash:
        return result
    term = {
        "labelSelector": {
            "matchExpressions": [{"key": POD_HASH_LABEL, "operator": "In", "values": [ro.stable_rs]}]
        },
        "namespaces": [ro.namespace],
        "topologyKey": "kubernetes.io/hostname",
    }
    result = result or {}
    pod_anti_affinity = result.setdefault("podAntiAffinity", {})
    if preferred is not None:
        weighted = {"weight": as_mapping(preferred).get("weight"), "podAffinityTerm": term}
        pod_anti_affinity.setdefault("preferredDuringSchedulingIgnoredDuringExecution", []).append(weighted)
    else:
        pod_anti_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", []).append(term)
    return result


def new_replica_set_manifest(
    ro: RolloutView, *, pod_hash: str, revision: int, distinct_stable: bool
) -> dict[str, Any]:
    """The complete ``apps/v1`` ReplicaSet body for newRS (created with ``replicas: 0``)."""
    template = copy.deepcopy(dict(as_mapping(ro.spec.get("template"))))
    metadata = dict(as_mapping(template.get("metadata")))
    labels = {**as_mapping(metadata.get("labels")), POD_HASH_LABEL: pod_hash}
    metadata["labels"] = labels
    annotations = {key: value for key, value in ro.annotations.items() if key not in ANNOTATIONS_NOT_COPIED}
    annotations[REVISION_ANNOTATION] = str(revision)
    annotations[DESIRED_REPLICAS_ANNOTATION] = str(ro.replicas)
    ephemeral = ephemeral_metadata_for(ro, distinct_stable=distinct_stable)
    if ephemeral is not None and (ephemeral.get("labels") or ephemeral.get("annotations")):
        metadata["labels"] = {**labels, **as_mapping(ephemeral.get("labels"))}
        if ephemeral.get("annotations"):
            metadata["annotations"] = {**as_mapping(metadata.get("annotations")), **ephemeral["annotations"]}
        annotations[EPHEMERAL_METADATA_ANNOTATION] = _go_json_metadata(ephemeral)
    template["metadata"] = metadata
    pod_spec = dict(as_mapping(template.get("spec")))
    affinity = _anti_affinity(ro, as_mapping(pod_spec.get("affinity")) or None, pod_hash)
    if affinity is not None:
        pod_spec["affinity"] = affinity
    template["spec"] = pod_spec
    selector = copy.deepcopy(dict(as_mapping(ro.spec.get("selector"))))
    selector["matchLabels"] = {**as_mapping(selector.get("matchLabels")), POD_HASH_LABEL: pod_hash}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{ro.name}-{pod_hash}",
            "namespace": ro.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [ro.owner_reference()],
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": ro.min_ready_seconds,
            "selector": selector,
            "template": template,
        },
    }


def ensure_new_rs(ctx: PassContext) -> None:
    """Create newRS (with 0 pods) when missing, else keep its revision and annotations in sync."""
    if ctx.new_rs is not None:
        ctx.sync_new_rs_revision()
        if find_condition(ctx.ro.conditions, PROGRESSING) is None:
            message = Reason.FOUND_NEW_RS_MESSAGE.format(rs=ctx.new_rs.name)
            condition = new_condition(PROGRESSING, "True", Reason.FOUND_NEW_RS, message, ctx.now)
            ctx.conditions, _ = set_condition(ctx.conditions, condition)
        return
    ro = ctx.ro
    pod_hash = ctx.observed.desired_pod_hash
    revision = max_revision(ctx.older_rss) + 1
    manifest = new_replica_set_manifest(
        ro, pod_hash=pod_hash, revision=revision, distinct_stable=ctx.distinct_stable
    )
    name = manifest["metadata"]["name"]
    ctx.actions.append(CreateReplicaSet(name, manifest))
    ctx.set_rollout_revision(revision)
    ctx.event("NewReplicaSetCreated", f"Created ReplicaSet {name} (revision {revision})", with_write=True)
    message = Reason.NEW_RS_CREATED_MESSAGE.format(rs=name)
    condition = new_condition(PROGRESSING, "True", Reason.NEW_RS_CREATED, message, ctx.now)
    ctx.conditions, _ = set_condition(ctx.conditions, condition)
    created = ReplicaSetView(
        name=name,
        pod_hash=pod_hash,
        spec_replicas=0,
        created_at=ctx.now,
        annotations=dict(manifest["metadata"]["annotations"]),
        min_ready_seconds=ro.min_ready_seconds,
    )
    ctx.all_rss.append(created)
    ctx.new_rs = created
