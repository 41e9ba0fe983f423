"""``plan``'s core, pure: the table of states a Rollout goes through during an update.

No cluster: the table is computed from the manifest alone with the controller's own functions,
so it shows the numbers the controller will produce. Canary rows use `planner.replicas`
(``canary_target``, then ``approximate_split`` for a basic canary — the split the replica math
converges to at each step — or ``traffic_routed_counts`` with a router, with the weights already
recorded so ``dynamicStableScale`` shows its settled size); blue-green rows follow §3.7
(``previewReplicaCount``, the promotion pause, pre/post-promotion analysis, the scale-down delay).

Each row is the steady state while that step is current: how many pods the new (canary/preview)
and the stable (active) ReplicaSets run, the share of traffic the new version gets, what the
rollout waits for, and which analysis or experiment runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from rollouts.planner.inputs import RolloutView, as_bool, as_int, as_list, as_mapping, as_str
from rollouts.planner.replicas import approximate_split, canary_target, traffic_routed_counts
from rollouts.planner.steps import current_set_weight, step_description, step_kind
from rollouts.planner.units import pause_duration_seconds, surge_and_unavailable

__all__ = ["PlanError", "PlanRow", "RolloutPlan", "plan_rollout_steps", "render_plan"]

DEFAULT_SCALE_DOWN_DELAY: Final = 30
_NEW_HASH: Final = "new"  # stand-ins: only "stable exists and differs from new" matters
_STABLE_HASH: Final = "stable"


class PlanError(ValueError):
    """The manifest cannot be planned (the message says which field)."""


@dataclass(frozen=True)
class PlanRow:
    step: str
    action: str
    new: int
    stable: int
    weight: str
    waits_for: str = "-"
    analysis: str = "-"


@dataclass(frozen=True)
class RolloutPlan:
    name: str
    strategy: str
    summary: str
    new_label: str
    stable_label: str
    rows: tuple[PlanRow, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _templates(analysis: Mapping[str, Any]) -> str:
    names = [as_str(as_mapping(t).get("templateName")) for t in as_list(analysis.get("templates"))]
    return "+".join(name for name in names if name) or "(no templates)"


def _pause_text(step: Mapping[str, Any]) -> str:
    duration = as_mapping(step.get("pause")).get("duration")
    seconds = pause_duration_seconds(duration)
    if seconds is None:
        return "promote"
    if seconds < 0:
        raise PlanError(f"pause duration {duration!r} is not a duration")
    return f"{duration}s" if isinstance(duration, int) or str(duration).isdigit() else str(duration)


def _experiment_text(step: Mapping[str, Any]) -> str:
    experiment = as_mapping(step.get("experiment"))
    templates = ",".join(as_str(as_mapping(t).get("name")) for t in as_list(experiment.get("templates")))
    analyses = ",".join(
        as_str(as_mapping(a).get("templateName")) for a in as_list(experiment.get("analyses"))
    )
    duration = as_str(experiment.get("duration"))
    text = f"experiment {templates}" + (f" for {duration}" if duration else "")
    return text + (f", analysis {analyses}" if analyses else "")


def _counts(ro: RolloutView, index: int, surge: int) -> tuple[int, int, int]:
    """(new, stable, traffic weight) while step ``index`` is current."""
    canary = as_mapping(ro.canary)
    routed = ro.traffic_routing is not None
    max_weight = ro.max_traffic_weight
    target = canary_target(
        steps=ro.steps,
        step_index=index,
        stable_rs=_STABLE_HASH,
        current_pod_hash=_NEW_HASH,
        promote_full=False,
        aborted=False,
        traffic_routed=routed,
        abort_scale_down_delay_seconds=None,
        max_weight=max_weight,
    )
    weight = current_set_weight(ro.steps, index, aborted=False, max_weight=max_weight)
    if not routed:
        new, stable = approximate_split(ro.replicas, target.weight, surge, max_weight)
        return new, stable, weight
    settled = {"canary": {"weight": weight}, "stable": {"weight": max_weight - weight}}
    min_pods = canary.get("minPodsPerReplicaSet")
    new, stable = traffic_routed_counts(
        replicas=ro.replicas,
        target=target,
        dynamic_stable_scale=ro.dynamic_stable_scale,
        recorded_weights=settled,
        aborted=False,
        min_pods_per_replica_set=as_int(min_pods, 0) if min_pods is not None else None,
        max_weight=max_weight,
    )
    return new, stable, weight


def _weight_text(ro: RolloutView, new: int, stable: int, weight: int) -> str:
    if ro.traffic_routing is not None or new + stable == 0:
        return str(weight)
    share = round(new * ro.max_traffic_weight / (new + stable))
    return str(weight) if share == weight else f"{share} (set {weight})"


def _canary_plan(ro: RolloutView) -> RolloutPlan:
    canary = as_mapping(ro.canary)
    replicas = ro.replicas
    try:
        surge, unavailable = surge_and_unavailable(
            canary.get("maxSurge", "25"), canary.get("maxUnavailable", "25"), replicas
        )
    except (TypeError, ValueError) as error:
        raise PlanError(f"spec.strategy.canary.maxSurge/maxUnavailable: {error}") from None
    routed = ro.traffic_routing is not None
    rows = [PlanRow("-", "before the update", 0, replicas, "0")]
    for index, step in enumerate(ro.steps):
        kind = step_kind(step)
        if not kind:
            raise PlanError(f"spec.strategy.canary.steps[{index}] has no known step kind")
        new, stable, weight = _counts(ro, index, surge)
        waits = _pause_text(step) if kind == "pause" else "-"
        analysis = "-"
        if kind == "analysis":
            analysis, waits = _templates(as_mapping(step.get("analysis"))), "analysis"
        elif kind == "experiment":
            analysis, waits = _experiment_text(step), "experiment"
        rows.append(
            PlanRow(
                str(index),
                step_description(step),
                new,
                stable,
                _weight_text(ro, new, stable, weight),
                waits,
                analysis,
            )
        )
    delay = as_int(canary.get("scaleDownDelaySeconds"), DEFAULT_SCALE_DOWN_DELAY) if routed else 0
    rows.append(
        PlanRow(
            "done",
            "promoted: new becomes stable",
            replicas,
            replicas if delay else 0,
            str(ro.max_traffic_weight),
        )
    )
    if delay:
        rows.append(
            PlanRow("", f"old stable scaled down after {delay}s", replicas, 0, str(ro.max_traffic_weight))
        )
    notes = []
    background = canary.get("analysis")
    if background is not None:
        start = as_int(as_mapping(background).get("startingStep"), 0)
        notes.append(
            f"background analysis {_templates(as_mapping(background))} runs from step {start} until promoted"
        )
    if routed:
        routers = sorted(
            k for k in ro.traffic_routing or {} if k not in ("maxTrafficWeight", "managedRoutes")
        )
        routing = f"traffic routing ({', '.join(routers)})"
    else:
        routing = "no traffic routing: the weight is approximated with pod counts"
    summary = f"{replicas} replicas, maxSurge {surge} pods, maxUnavailable {unavailable} pods, {routing}"
    return RolloutPlan(ro.name, "Canary", summary, "CANARY", "STABLE", tuple(rows), tuple(notes))


def _bluegreen_plan(ro: RolloutView) -> RolloutPlan:
    strategy = as_mapping(ro.blue_green)
    replicas = ro.replicas
    preview_count = strategy.get("previewReplicaCount")
    preview = replicas if preview_count is None else min(as_int(preview_count, replicas), replicas)
    rows = [
        PlanRow("-", "before the update", 0, replicas, "0"),
        PlanRow("0", "preview ReplicaSet up (preview Service)", preview, replicas, "0"),
    ]
    pre = strategy.get("prePromotionAnalysis")
    if pre is not None:
        rows.append(
            PlanRow(
                str(len(rows) - 1),
                "pre-promotion analysis",
                preview,
                replicas,
                "0",
                "analysis",
                _templates(as_mapping(pre)),
            )
        )
    auto = strategy.get("autoPromotionEnabled")
    seconds = as_int(strategy.get("autoPromotionSeconds"), 0)
    if auto is not None and not as_bool(auto):
        rows.append(PlanRow(str(len(rows) - 1), "pause (BlueGreenPause)", preview, replicas, "0", "promote"))
    elif seconds > 0:
        rows.append(
            PlanRow(str(len(rows) - 1), "pause (BlueGreenPause)", preview, replicas, "0", f"{seconds}s")
        )
    if preview != replicas:
        rows.append(PlanRow(str(len(rows) - 1), "preview scaled to full size", replicas, replicas, "0"))
    rows.append(PlanRow(str(len(rows) - 1), "switch the active Service", replicas, replicas, "100"))
    post = strategy.get("postPromotionAnalysis")
    if post is not None:
        rows.append(
            PlanRow(
                str(len(rows) - 1),
                "post-promotion analysis",
                replicas,
                replicas,
                "100",
                "analysis",
                _templates(as_mapping(post)),
            )
        )
    delay = as_int(strategy.get("scaleDownDelaySeconds"), DEFAULT_SCALE_DOWN_DELAY)
    rows.append(PlanRow("done", f"promoted; old active scaled down after {delay}s", replicas, 0, "100"))
    summary = f"{replicas} replicas, active Service {as_str(strategy.get('activeService'))!s}" + (
        f", preview Service {as_str(strategy.get('previewService'))}"
        if strategy.get("previewService")
        else ""
    )
    return RolloutPlan(ro.name, "BlueGreen", summary, "PREVIEW", "ACTIVE", tuple(rows))


def plan_rollout_steps(rollout: Mapping[str, Any]) -> RolloutPlan:
    """The plan of a Rollout manifest; `PlanError` when it has no usable strategy."""
    ro = RolloutView(rollout)
    if ro.spec.get("workloadRef") is None and ro.replicas < 0:
        raise PlanError("spec.replicas must not be negative")
    if ro.blue_green is not None and ro.canary is not None:
        raise PlanError("spec.strategy has both canary and blueGreen")
    if ro.blue_green is not None:
        return _bluegreen_plan(ro)
    if ro.canary is not None:
        return _canary_plan(ro)
    raise PlanError("spec.strategy needs canary or blueGreen")


def render_plan(plan: RolloutPlan) -> str:
    headers = ("STEP", "ACTION", plan.new_label, plan.stable_label, "WEIGHT", "WAITS FOR", "ANALYSIS")
    rows = [
        (r.step, r.action, str(r.new), str(r.stable), r.weight, r.waits_for, r.analysis) for r in plan.rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    lines = [f"Rollout {plan.name} ({plan.strategy}): {plan.summary}", ""]
    lines += [
        "  ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)).rstrip() for row in [headers, *rows]
    ]
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines) + "\n"
