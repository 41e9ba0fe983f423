"""Rollouts and their children as the JSON the page draws, built from the plugin's own model.

The overview row and the detail come from `rollouts.plugin.info.rollout_info` — the data behind
``kubectl rollouts get`` — so the page and the CLI never disagree on a phase, a step or a
weight. What the terminal cannot show is added here: the steps as a timeline (done, current,
to come; pauses and analyses marked) and each AnalysisRun metric with its measurements, their
numeric values for a chart and the conditions they were judged by. Pure: objects in, dicts out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rollouts.planner.inputs import RolloutView, as_int, as_list, as_mapping, as_str
from rollouts.plugin.ages import age
from rollouts.plugin.info import Children, Node, RolloutInfo, rollout_info

__all__ = [
    "analysis_run_view",
    "event_views",
    "live_overview",
    "overview",
    "rollout_detail",
    "rollout_row",
    "step_views",
    "traffic_view",
]


def _summary(info: RolloutInfo) -> dict[str, Any]:
    replicas = dict(info.replicas)
    return {
        "name": info.name,
        "namespace": info.namespace,
        "status": info.status,
        "message": info.message,
        "strategy": info.strategy,
        "step": info.step,
        "setWeight": info.set_weight,
        "actualWeight": info.actual_weight,
        "replicas": {key.lower(): value for key, value in replicas.items()},
        "images": [{"image": image, "roles": list(roles)} for image, roles in info.images],
    }


def _template_images(rollout: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The spec's images, for a Rollout with no ReplicaSet yet (or a ``workloadRef`` one)."""
    pod_spec = as_mapping(as_mapping(as_mapping(rollout.get("spec")).get("template")).get("spec"))
    containers = [*as_list(pod_spec.get("initContainers")), *as_list(pod_spec.get("containers"))]
    images = dict.fromkeys(as_str(as_mapping(c).get("image")) for c in containers)
    return [{"image": image, "roles": []} for image in images if image]


def rollout_row(
    rollout: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """One overview line: name, strategy, phase, step of N, weights, pods, images, age."""
    info = rollout_info(rollout, Children(replica_sets=replica_sets), now)
    created = as_mapping(rollout.get("metadata")).get("creationTimestamp")
    row = {**_summary(info), "age": age(created, now), "created": as_str(created)}
    return row if row["images"] else {**row, "images": _template_images(rollout)}


def overview(
    rollouts: Sequence[Mapping[str, Any]], replica_sets: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """The overview: rows sorted by namespace then name, and the namespaces seen (for the filter)."""
    rows = [rollout_row(rollout, replica_sets, now) for rollout in rollouts]
    rows.sort(key=lambda row: (row["namespace"], row["name"]))
    return {"rollouts": rows, "namespaces": sorted({row["namespace"] for row in rows})}


def live_overview(view: Mapping[str, Any]) -> dict[str, Any]:
    """The overview as streamed: rows without ``age`` (the page counts it from ``created``), so
    a row changes only when its rollout does and updates can carry just the changed rows."""
    rows = [{key: value for key, value in row.items() if key != "age"} for row in view["rollouts"]]
    return {**view, "rollouts": rows}


def _step_text(step: Mapping[str, Any]) -> tuple[str, str]:
    """``(kind, text)`` for one canary step, worded as Argo's dashboard lists them."""
    if "setWeight" in step:
        return "setWeight", f"Set weight {as_int(step.get('setWeight'), 0)}%"
    if "pause" in step:
        duration = as_mapping(step.get("pause")).get("duration")
        return "pause", f"Pause {duration}" if duration not in (None, "") else "Pause (until promoted)"
    if "analysis" in step:
        names = [
            as_str(as_mapping(t).get("templateName"))
            for t in as_list(as_mapping(step["analysis"]).get("templates"))
        ]
        return "analysis", f"Analysis {', '.join(names)}".strip()
    if "experiment" in step:
        templates = as_list(as_mapping(step["experiment"]).get("templates"))
        names = [as_str(as_mapping(t).get("name")) for t in templates]
        return "experiment", f"Experiment {', '.join(names)}".strip()
    if "setCanaryScale" in step:
        scale = as_mapping(step.get("setCanaryScale"))
        detail = ", ".join(f"{key} {value}" for key, value in scale.items())
        return "setCanaryScale", f"Set canary scale ({detail})"
    if "setHeaderRoute" in step:
        return "setHeaderRoute", f"Header route {as_str(as_mapping(step['setHeaderRoute']).get('name'))}"
    if "setMirrorRoute" in step:
        return "setMirrorRoute", f"Mirror route {as_str(as_mapping(step['setMirrorRoute']).get('name'))}"
    if "plugin" in step:
        return "plugin", f"Plugin {as_str(as_mapping(step['plugin']).get('name'))}"
    return "unknown", json.dumps(dict(step), sort_keys=True)


def step_views(rollout: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The canary steps with their state: ``done``, ``current`` or ``pending``."""
    ro = RolloutView(rollout)
    current = ro.current_step_index if ro.current_step_index is not None else 0
    views = []
    for index, step in enumerate(ro.steps):
        kind, text = _step_text(as_mapping(step))
        state = "done" if index < current else "current" if index == current else "pending"
        views.append({"index": index, "kind": kind, "text": text, "state": state})
    return views


def _number(value: object) -> float | None:
    """A measurement's value as a number for the chart (Argo stores ``"[0.98]"`` for vectors)."""
    text = as_str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        inner = [part for part in text[1:-1].split(",") if part.strip()]
        text = inner[0].strip() if len(inner) == 1 else ""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def analysis_run_view(run: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """A run with, per metric, its conditions and every measurement (value, phase, times)."""
    metadata, status = as_mapping(run.get("metadata")), as_mapping(run.get("status"))
    specs = {
        as_str(as_mapping(m).get("name")): as_mapping(m)
        for m in as_list(as_mapping(run.get("spec")).get("metrics"))
    }
    results = {as_str(as_mapping(r).get("name")): as_mapping(r) for r in as_list(status.get("metricResults"))}
    metrics = []
    for name in [*specs, *(n for n in results if n not in specs)]:
        spec, result = specs.get(name, {}), results.get(name, {})
        measurements = [
            {
                "phase": as_str(as_mapping(m).get("phase")),
                "value": as_str(as_mapping(m).get("value")),
                "number": _number(as_mapping(m).get("value")),
                "startedAt": as_str(as_mapping(m).get("startedAt")),
                "finishedAt": as_str(as_mapping(m).get("finishedAt")),
                "message": as_str(as_mapping(m).get("message")),
            }
            for m in as_list(result.get("measurements"))
        ]
        metrics.append(
            {
                "name": name,
                "phase": as_str(result.get("phase"), "Pending"),
                "successCondition": as_str(spec.get("successCondition")),
                "failureCondition": as_str(spec.get("failureCondition")),
                "provider": sorted(as_mapping(spec.get("provider"))),
                "message": as_str(result.get("message")),
                "counts": {
                    key: as_int(result.get(key), 0)
                    for key in ("successful", "failed", "inconclusive", "error")
                },
                "measurements": measurements,
            }
        )
    return {
        "name": as_str(metadata.get("name")),
        "phase": as_str(status.get("phase"), "Pending"),
        "message": as_str(status.get("message")),
        "revision": as_str(as_mapping(metadata.get("annotations")).get("rollout.argoproj.io/revision")),
        "age": age(metadata.get("creationTimestamp"), now),
        "metrics": metrics,
    }


def _tree(node: Node) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "name": node.name,
        "status": node.status,
        "health": node.health,
        "age": node.age,
        "info": list(node.info),
        "children": [_tree(child) for child in node.children],
    }


def traffic_view(rollout: Mapping[str, Any]) -> dict[str, Any]:
    """The routers configured and the weights last applied to them (``status.canary.weights``)."""
    ro = RolloutView(rollout)
    routing = as_mapping(ro.traffic_routing)
    routers = sorted(key for key in routing if key not in ("managedRoutes", "maxTrafficWeight", "plugins"))
    routers += sorted(f"plugin:{name}" for name in as_mapping(routing.get("plugins")))
    weights = as_mapping(ro.recorded_weights)

    def destination(entry: object) -> dict[str, Any]:
        found = as_mapping(entry)
        return {
            "weight": as_int(found.get("weight"), 0),
            "serviceName": as_str(found.get("serviceName")),
            "podTemplateHash": as_str(found.get("podTemplateHash")),
        }

    return {
        "routers": routers,
        "maxWeight": ro.max_traffic_weight,
        "weights": None
        if not weights
        else {
            "canary": destination(weights.get("canary")),
            "stable": destination(weights.get("stable")),
            "additional": [destination(entry) for entry in as_list(weights.get("additional"))],
        },
    }


def event_views(events: Sequence[Mapping[str, Any]], now: datetime, limit: int = 20) -> list[dict[str, Any]]:
    """The newest ``limit`` Events, newest first (``lastTimestamp``, else ``eventTime``)."""

    def when(event: Mapping[str, Any]) -> str:
        metadata = as_mapping(event.get("metadata"))
        return (
            as_str(event.get("lastTimestamp"))
            or as_str(event.get("eventTime"))
            or as_str(metadata.get("creationTimestamp"))
        )

    def order(event: Mapping[str, Any]) -> tuple[str, int]:
        # timestamps have whole seconds; within one, the API's write order breaks the tie
        version = as_str(as_mapping(event.get("metadata")).get("resourceVersion"))
        return when(event), int(version) if version.isdigit() else 0

    newest = sorted(events, key=order, reverse=True)[:limit]
    return [
        {
            "type": as_str(event.get("type"), "Normal"),
            "reason": as_str(event.get("reason")),
            "message": as_str(event.get("message")),
            "count": as_int(event.get("count"), 1),
            "age": age(when(event)[:19] + "Z" if when(event) else None, now),
        }
        for event in newest
    ]


def _owned(objects: Sequence[Mapping[str, Any]], uid: str) -> list[Mapping[str, Any]]:
    return [
        obj
        for obj in objects
        if uid
        and any(
            as_mapping(ref).get("uid") == uid
            for ref in as_list(as_mapping(obj.get("metadata")).get("ownerReferences"))
        )
    ]


def rollout_detail(
    rollout: Mapping[str, Any],
    children: Children,
    now: datetime,
    events: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The detail page: summary, steps, traffic, the revision tree, AnalysisRuns with
    measurements, and the Rollout's recent Events."""
    info = rollout_info(rollout, children, now)
    runs = sorted(
        _owned(children.analysis_runs, RolloutView(rollout).uid),
        key=lambda run: as_str(as_mapping(run.get("metadata")).get("creationTimestamp")),
    )
    ro = RolloutView(rollout)
    summary = _summary(info)
    return {
        **summary,
        "images": summary["images"] or _template_images(rollout),
        "age": age(ro.metadata.get("creationTimestamp"), now),
        "revision": ro.revision,
        "paused": ro.paused,
        "aborted": ro.aborted,
        "steps": step_views(rollout),
        "tree": _tree(info.tree),
        "analysisRuns": [analysis_run_view(run, now) for run in runs],
        "traffic": traffic_view(rollout),
        "events": event_views(events, now),
    }
