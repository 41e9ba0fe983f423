"""Text for ``list rollouts`` and ``list experiments``: kubectl-style column tables, pure.

Columns follow Argo's plugin (reference §9); a NAMESPACE column leads with ``-A``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from rollouts.planner.inputs import RolloutView, as_int, as_mapping, as_str, parse_time
from rollouts.planner.phase import client_phase
from rollouts.planner.steps import current_set_weight
from rollouts.planner.units import go_duration_seconds
from rollouts.plugin.ages import age, human_duration
from rollouts.plugin.icons import status_cell

__all__ = ["experiment_table", "format_table", "rollout_table"]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = [
        "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    return "\n".join(lines) + "\n"


def _rollout_row(rollout: Mapping[str, Any]) -> list[str]:
    ro = RolloutView(rollout)
    phase, _ = client_phase(ro)
    status = ro.status
    step = weight = "-"
    if ro.blue_green is not None:
        strategy = "BlueGreen"
    elif ro.canary is not None:
        strategy = "Canary"
        if ro.steps:
            index = ro.current_step_index
            step = f"{index if index is not None else 0}/{len(ro.steps)}"
        weight = str(
            current_set_weight(
                ro.steps, ro.current_step_index, aborted=ro.aborted, max_weight=ro.max_traffic_weight
            )
        )
    else:
        strategy = "-"
    return [
        ro.name,
        strategy,
        status_cell(phase),
        step,
        weight,
        f"{as_int(status.get('readyReplicas'), 0)}/{as_int(status.get('replicas'), 0)}",
        str(ro.replicas),
        str(as_int(status.get("updatedReplicas"), 0)),
        str(as_int(status.get("availableReplicas"), 0)),
    ]


def rollout_table(rollouts: Sequence[Mapping[str, Any]], *, with_namespace: bool) -> str:
    headers = [
        "NAME",
        "STRATEGY",
        "STATUS",
        "STEP",
        "SET-WEIGHT",
        "READY",
        "DESIRED",
        "UP-TO-DATE",
        "AVAILABLE",
    ]
    rows = [_rollout_row(r) for r in rollouts]
    if with_namespace:
        headers = ["NAMESPACE", *headers]
        rows = [[RolloutView(r).namespace, *row] for r, row in zip(rollouts, rows, strict=True)]
    return format_table(headers, rows)


def _remaining(experiment: Mapping[str, Any], now: datetime) -> str:
    text = as_str(as_mapping(experiment.get("spec")).get("duration"))
    available_at = parse_time(as_mapping(experiment.get("status")).get("availableAt"))
    phase = as_str(as_mapping(experiment.get("status")).get("phase"))
    if not text or available_at is None or phase not in ("Pending", "Running"):
        return "-"
    try:
        seconds = go_duration_seconds(text)
    except ValueError:
        return "-"
    left = available_at + timedelta(seconds=seconds) - now
    return human_duration(max(left, timedelta(0)))


def _experiment_row(experiment: Mapping[str, Any], now: datetime) -> list[str]:
    metadata = as_mapping(experiment.get("metadata"))
    phase = as_str(as_mapping(experiment.get("status")).get("phase"), "Pending")
    return [
        as_str(metadata.get("name")),
        status_cell(phase),
        as_str(as_mapping(experiment.get("spec")).get("duration"), "-"),
        _remaining(experiment, now),
        age(metadata.get("creationTimestamp"), now),
    ]


def experiment_table(experiments: Sequence[Mapping[str, Any]], *, with_namespace: bool, now: datetime) -> str:
    headers = ["NAME", "STATUS", "DURATION", "REMAINING", "AGE"]
    rows = [_experiment_row(e, now) for e in experiments]
    if with_namespace:
        headers = ["NAMESPACE", *headers]
        rows = [
            [as_str(as_mapping(e.get("metadata")).get("namespace")), *row]
            for e, row in zip(experiments, rows, strict=True)
        ]
    return format_table(headers, rows)
