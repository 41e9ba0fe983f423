"""Spec validation (§3.21, §1.4): the first problem, worded exactly as Argo words it.

Argo reports only the *first* error, as ``The Rollout "<name>" is invalid: <field error>``, where a
field error reads like Kubernetes' ``field.Error``: ``<path>: <Type>[: <value>][: <detail>]``
(``Required value``, ``Invalid value``, ``Internal error``). Clients and dashboards show that text,
so the paths keep upstream's quirks: the canary and blue-green checks hang off ``spec.strategy``
directly (``spec.strategy.steps[0].setWeight``, ``spec.strategy.activeService``) and a missing
strategy is reported at ``spec.strategy.strategy``. Bad values are printed the way Go's ``%v``/
``%q``/``%#v`` print them (ints bare, strings quoted, IntOrString as its Go struct).

Checks run in upstream's order. Beyond upstream we also reject a maxSurge/maxUnavailable string
that is not a percentage (upstream silently treats it as 0), since a clear error beats a stuck
rollout. Pod-template validation is limited to what a Rollout-specific check needs (labels
match the selector, at least one container with a name and an image, ``restartPolicy: Always``);
anything else the API server rejects when the ReplicaSet is created (``ReplicaSetCreateError``).

Referenced resources: only Services are checked here (they are part of `Observed`); analysis
templates, ingresses and meshes are validated by their own packages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from rollouts.planner.inputs import (
    POD_HASH_LABEL,
    Observed,
    RolloutView,
    as_bool,
    as_int,
    as_list,
    as_mapping,
    as_str,
)
from rollouts.planner.units import pause_duration_seconds, scaled_count

__all__ = [
    "TEMPLATE_RESOLVED_FROM_REF",
    "FieldError",
    "Messages",
    "first_error",
    "validate_references",
    "validate_spec",
]

TEMPLATE_RESOLVED_FROM_REF: Final = "templateResolvedFromRef"
"""In-memory ``spec`` key the shell sets after putting a workloadRef's template into the dict."""


class Messages:
    """The detail texts of Argo's validation errors."""

    MISSING_FIELD: Final = "Rollout has missing field '{field}'"
    INVALID_SET_WEIGHT: Final = "SetWeight needs to be between 0 and {max_weight}"
    EXPERIMENT_WEIGHT_WITHOUT_ROUTING: Final = (
        "Experiment template weight cannot be set unless TrafficRouting is enabled"
    )
    EXPERIMENT_WEIGHT_ROUTERS: Final = (
        "Experiment template weight is only available for TrafficRouting with SMI, ALB, and Istio "
        "at this time"
    )
    SET_CANARY_SCALE_NEEDS_ROUTING: Final = "SetCanaryScale requires TrafficRouting to be set"
    SET_HEADER_ROUTE_ROUTERS: Final = (
        "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix"
    )
    SET_MIRROR_ROUTE_ROUTERS: Final = "SetMirrorRoute requires TrafficRouting, supports Istio only"
    STRING_MATCH_MULTIPLE: Final = (
        "StringMatch match value must have exactly one of the following: exact, regex, prefix"
    )
    STRING_MATCH_MISSING: Final = (
        "StringMatch value missed, match value must have one of the following: exact, regex, prefix"
    )
    HEADER_ROUTE_ALB_EXACT: Final = "SetHeaderRoute match value invalid. ALB supports 'exact' value only"
    INVALID_DURATION: Final = "Duration needs to be greater than 0"
    SURGE_AND_UNAVAILABLE_ZERO: Final = "MaxSurge and MaxUnavailable both can not be zero"
    NOT_A_PERCENTAGE: Final = "must be an integer or a percentage string such as '25%'"
    INVALID_STEP: Final = (
        "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause"
    )
    MULTIPLE_STRATEGIES: Final = "Multiple Strategies can not be listed"
    DUPLICATE_BLUE_GREEN_SERVICES: Final = (
        "This rollout uses the same service for the active and preview services, "
        "but two different services are required."
    )
    DUPLICATE_CANARY_SERVICES: Final = (
        "This rollout uses the same service for the stable and canary services, "
        "but two different services are required."
    )
    ANTI_AFFINITY_ONE_STRATEGY: Final = "AntiAffinity must have exactly one strategy listed"
    ANTI_AFFINITY_WEIGHT: Final = "AntiAffinity weight must be between 1-100"
    SCALE_DOWN_LIMIT: Final = (
        "This rollout's revision history limit can not be smaller than the rollout's scale down limit"
    )
    ROUTING_NEEDS_SERVICES: Final = "Canary service and Stable service must to be set to use Traffic Routing"
    ANALYSIS_ARGS_FIELD_REF: Final = (
        "Analyses arguments must refer to valid object metadata supported by downwardAPI"
    )
    SCALE_DOWN_DELAY_NEEDS_ROUTING: Final = (
        "Canary scaleDownDelaySeconds can only be used with traffic routing"
    )
    DYNAMIC_SCALE_NEEDS_ROUTING: Final = "Canary dynamicStableScale can only be used with traffic routing"
    DYNAMIC_SCALE_WITH_DELAY: Final = "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
    PING_PONG_SERVICES: Final = "Ping service and Pong service must to be set to use Ping-Pong feature"
    DUPLICATE_PING_PONG: Final = (
        "This rollout uses the same service for the ping and pong services, "
        "but two different services are required."
    )
    PING_PONG_ALB_ROOT_SERVICE: Final = (
        "Root service field is required for the configuration with ALB and ping-pong feature enabled"
    )
    PING_PONG_ROUTERS: Final = "Ping-pong feature works with the ALB traffic routing only"
    ROUTE_NOT_MANAGED: Final = (
        "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes"
    )
    MAX_TRAFFIC_WEIGHT_ROUTERS: Final = (
        "MaxTrafficWeight can only be used with nginx or plugins traffic routing"
    )
    NON_NEGATIVE: Final = "must be greater than or equal to 0"
    DEADLINE_AFTER_MIN_READY: Final = "must be greater than minReadySeconds"
    EMPTY_SELECTOR: Final = "empty selector is invalid for deployment"
    INVALID_SELECTOR: Final = "invalid label selector"
    SELECTOR_MISMATCH: Final = "`selector` does not match template `labels`"
    TEMPLATE_NOT_EMPTY: Final = "template must be empty for workload reference rollout"
    SERVICE_NOT_FOUND: Final = 'services "{name}" not found'
    SERVICE_MANAGED_ELSEWHERE: Final = 'Service "{name}" is managed by another Rollout'
    SERVICE_LABEL_MISMATCH: Final = 'Service "{name}" has unmatch label "{label}" in rollout'


_OMIT: Final = object()
_SELECTOR_OPERATORS: Final = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
_DOWNWARD_API_PATH: Final = re.compile(
    r"metadata\.(name|namespace|uid|labels|annotations)(\[['\"][^'\"]+['\"]\])?"
)


@dataclass(frozen=True)
class FieldError:
    """One error in Kubernetes ``field.Error`` form; ``str()`` gives Argo's text."""

    path: str
    kind: str  # "Required value" | "Invalid value" | "Internal error"
    detail: str = ""
    value: object = _OMIT

    def __str__(self) -> str:
        body = self.kind
        if self.kind == "Invalid value" and self.value is not _OMIT:
            body = f"{body}: {go_value(self.value)}"
        return f"{self.path}: {body}: {self.detail}" if self.detail else f"{self.path}: {body}"


def _required(path: str, detail: str = "") -> FieldError:
    return FieldError(path, "Required value", detail)


def _invalid(path: str, value: object, detail: str) -> FieldError:
    return FieldError(path, "Invalid value", detail, value)


def _int_or_string_repr(value: int | str) -> str:
    """``%#v`` of ``intstr.IntOrString`` (its ``String()`` has a pointer receiver, so Go uses %#v)."""
    if isinstance(value, str):
        return f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{json.dumps(value)}}}"
    return f'intstr.IntOrString{{Type:0, IntVal:{value}, StrVal:""}}'


@dataclass(frozen=True)
class GoRepr:
    """A value already rendered the way Go's ``%#v`` would render it."""

    text: str


def go_value(value: object) -> str:
    """Render a bad value as ``field.Error`` does: numbers/bools ``%v``, strings ``%q``."""
    if isinstance(value, GoRepr):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _string_map_repr(labels: Mapping[str, Any] | None) -> GoRepr:
    if labels is None:
        return GoRepr("map[string]string(nil)")
    items = ", ".join(f"{json.dumps(k)}:{json.dumps(str(v))}" for k, v in sorted(labels.items()))
    return GoRepr(f"map[string]string{{{items}}}")


def _selector_repr(selector: Mapping[str, Any]) -> GoRepr:
    labels = selector.get("matchLabels")
    match_labels = _string_map_repr(as_mapping(labels) if labels is not None else None).text
    expressions = "[]v1.LabelSelectorRequirement(nil)"
    if selector.get("matchExpressions") is not None:
        expressions = "[]v1.LabelSelectorRequirement{}"
    return GoRepr(f"v1.LabelSelector{{MatchLabels:{match_labels}, MatchExpressions:{expressions}}}")


def validate_spec(ro: RolloutView) -> list[FieldError]:
    """Every spec error, in upstream's order (Argo reports the first one)."""
    errors: list[FieldError] = []
    spec = ro.spec
    if isinstance(spec.get("replicas"), bool) or not isinstance(spec.get("replicas", 1), int):
        errors.append(_invalid("spec.replicas", spec.get("replicas"), "must be an integer"))
    elif ro.replicas < 0:
        errors.append(_invalid("spec.replicas", ro.replicas, Messages.NON_NEGATIVE))
    errors += _selector_errors(ro)
    errors += _template_errors(ro)
    for key, value in (
        ("minReadySeconds", ro.min_ready_seconds),
        ("revisionHistoryLimit", ro.revision_history_limit),
        ("progressDeadlineSeconds", ro.progress_deadline_seconds),
    ):
        if value < 0:
            errors.append(_invalid(f"spec.{key}", value, Messages.NON_NEGATIVE))
    if ro.progress_deadline_seconds <= ro.min_ready_seconds:
        errors.append(
            _invalid(
                "spec.progressDeadlineSeconds",
                ro.progress_deadline_seconds,
                Messages.DEADLINE_AFTER_MIN_READY,
            )
        )
    errors += _strategy_errors(ro)
    return errors


def _selector_errors(ro: RolloutView) -> list[FieldError]:
    if ro.spec.get("workloadRef") is not None:
        return []
    selector = ro.spec.get("selector")
    if selector is None:
        return [_required("spec.selector", Messages.MISSING_FIELD.format(field=".spec.selector"))]
    selector = as_mapping(selector)
    errors = []
    for index, entry in enumerate(as_list(selector.get("matchExpressions"))):
        expression = as_mapping(entry)
        if as_str(expression.get("operator")) not in _SELECTOR_OPERATORS:
            path = f"spec.selector.matchExpressions[{index}].operator"
            errors.append(_invalid(path, as_str(expression.get("operator")), "not a valid selector operator"))
    if len(as_mapping(selector.get("matchLabels"))) + len(as_list(selector.get("matchExpressions"))) == 0:
        errors.append(_invalid("spec.selector", _selector_repr(selector), Messages.EMPTY_SELECTOR))
    return errors


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    for key, value in as_mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for entry in as_list(selector.get("matchExpressions")):
        expression = as_mapping(entry)
        key, values = as_str(expression.get("key")), as_list(expression.get("values"))
        operator = expression.get("operator")
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and key in labels and labels.get(key) in values)
            or (operator == "Exists" and key not in labels)
            or (operator == "DoesNotExist" and key in labels)
        ):
            return False
    return True


def _template_errors(ro: RolloutView) -> list[FieldError]:
    template = as_mapping(ro.spec.get("template"))
    # The shell resolves the referenced template into the dict and marks it (Argo's in-memory
    # ``TemplateResolvedFromRef``); only an unresolved workloadRef Rollout must have no template.
    if ro.spec.get("workloadRef") is not None and ro.spec.get(TEMPLATE_RESOLVED_FROM_REF) is not True:
        metadata = as_mapping(template.get("metadata"))
        if metadata.get("labels") or metadata.get("annotations") or template.get("spec"):
            return [FieldError("spec.template", "Internal error", Messages.TEMPLATE_NOT_EMPTY)]
        return []
    selector = ro.spec.get("selector")
    labels = as_mapping(as_mapping(template.get("metadata")).get("labels"))
    errors: list[FieldError] = []
    if isinstance(selector, Mapping) and not _selector_matches(selector, labels):
        labels_value = _string_map_repr(labels if "labels" in as_mapping(template.get("metadata")) else None)
        errors.append(_invalid("spec.template.metadata.labels", labels_value, Messages.SELECTOR_MISMATCH))
    pod_spec = as_mapping(template.get("spec"))
    containers = as_list(pod_spec.get("containers"))
    if not containers:
        errors.append(_required("spec.template.spec.containers"))
    for index, entry in enumerate(containers):
        container = as_mapping(entry)
        if not as_str(container.get("name")):
            errors.append(_required(f"spec.template.spec.containers[{index}].name"))
        if not as_str(container.get("image")):
            errors.append(_required(f"spec.template.spec.containers[{index}].image"))
    restart_policy = as_str(pod_spec.get("restartPolicy"), "Always")
    if restart_policy != "Always":
        errors.append(
            FieldError(
                "spec.template.spec.restartPolicy",
                "Unsupported value",
                f'{json.dumps(restart_policy)}: supported values: "Always"',
            )
        )
    return errors


def _strategy_errors(ro: RolloutView) -> list[FieldError]:
    has_blue_green = ro.strategy.get("blueGreen") is not None
    has_canary = ro.strategy.get("canary") is not None
    if not has_blue_green and not has_canary:
        field = ".spec.strategy.canary or .spec.strategy.blueGreen"
        return [_required("spec.strategy.strategy", Messages.MISSING_FIELD.format(field=field))]
    if has_blue_green and has_canary:
        return [
            _invalid("spec.strategy.strategy", "blueGreen: true canary: true", Messages.MULTIPLE_STRATEGIES)
        ]
    if ro.blue_green is not None:
        return _blue_green_errors(ro, ro.blue_green)
    return _canary_errors(ro, as_mapping(ro.canary))


def _blue_green_errors(ro: RolloutView, blue_green: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    active, preview = as_str(blue_green.get("activeService")), as_str(blue_green.get("previewService"))
    if active == preview:
        errors.append(_invalid("spec.strategy.activeService", active, Messages.DUPLICATE_BLUE_GREEN_SERVICES))
    limit = blue_green.get("scaleDownDelayRevisionLimit")
    if limit is not None and ro.revision_history_limit < as_int(limit, 0):
        errors.append(_invalid("spec.strategy.scaleDownDelayRevisionLimit", limit, Messages.SCALE_DOWN_LIMIT))
    errors += _anti_affinity_errors(blue_green.get("antiAffinity"))
    return errors


def _anti_affinity_errors(value: object) -> list[FieldError]:
    if value is None:
        return []
    anti_affinity = as_mapping(value)
    preferred = anti_affinity.get("preferredDuringSchedulingIgnoredDuringExecution")
    required = anti_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    errors = []
    if (preferred is None) == (required is None):
        has_preferred, has_required = str(preferred is not None).lower(), str(required is not None).lower()
        shown = (
            f"antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: {has_preferred} "
            f"antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: {has_required}"
        )
        errors.append(_invalid("spec.strategy.antiAffinity", shown, Messages.ANTI_AFFINITY_ONE_STRATEGY))
    if preferred is not None:
        weight = as_int(as_mapping(preferred).get("weight"), 0)
        if not 1 <= weight <= 100:
            errors.append(
                _invalid("spec.strategy.antiAffinity.weight", weight, Messages.ANTI_AFFINITY_WEIGHT)
            )
    return errors


def _surge_errors(canary: Mapping[str, Any]) -> list[FieldError]:
    values = {key: canary.get(key, "25") for key in ("maxSurge", "maxUnavailable")}
    resolved = {}
    for key, value in values.items():
        try:
            resolved[key] = scaled_count(value, 100, round_up=key == "maxSurge")
        except (TypeError, ValueError):
            return [_invalid(f"spec.strategy.{key}", value, Messages.NOT_A_PERCENTAGE)]
    if resolved["maxSurge"] == 0 and resolved["maxUnavailable"] == 0:
        shown = GoRepr(_int_or_string_repr(values["maxSurge"]))
        return [_invalid("spec.strategy.maxSurge", shown, Messages.SURGE_AND_UNAVAILABLE_ZERO)]
    return []


def _requires_canary_and_stable_services(canary: Mapping[str, Any]) -> bool:
    routing = canary.get("trafficRouting")
    if routing is None or canary.get("pingPong") is not None:
        return False
    istio = as_mapping(as_mapping(routing).get("istio"))
    return not (istio and istio.get("destinationRule") is not None)


def _canary_errors(ro: RolloutView, canary: Mapping[str, Any]) -> list[FieldError]:
    errors = _surge_errors(canary)
    stable, canary_service = as_str(canary.get("stableService")), as_str(canary.get("canaryService"))
    if stable and canary_service and stable == canary_service:
        errors.append(_invalid("spec.strategy.stableService", stable, Messages.DUPLICATE_CANARY_SERVICES))
    routing = canary.get("trafficRouting")
    routing_map = as_mapping(routing)
    errors += _ping_pong_errors(canary, routing_map if routing is not None else None)
    if _requires_canary_and_stable_services(canary):
        if not stable:
            errors.append(_invalid("spec.strategy.stableService", stable, Messages.ROUTING_NEEDS_SERVICES))
        if not canary_service:
            errors.append(
                _invalid("spec.strategy.canaryService", canary_service, Messages.ROUTING_NEEDS_SERVICES)
            )
    delay, dynamic = canary.get("scaleDownDelaySeconds"), as_bool(canary.get("dynamicStableScale"))
    if routing is None:
        if delay is not None:
            errors.append(
                _invalid(
                    "spec.strategy.scaleDownDelaySeconds", delay, Messages.SCALE_DOWN_DELAY_NEEDS_ROUTING
                )
            )
        if dynamic:
            errors.append(
                _invalid("spec.strategy.dynamicStableScale", True, Messages.DYNAMIC_SCALE_NEEDS_ROUTING)
            )
    elif delay is not None and dynamic:
        errors.append(_invalid("spec.strategy.dynamicStableScale", True, Messages.DYNAMIC_SCALE_WITH_DELAY))
    if (
        routing is not None
        and routing_map.get("maxTrafficWeight") is not None
        and routing_map.get("nginx") is None
        and routing_map.get("plugins") is None
    ):
        weight = routing_map.get("maxTrafficWeight")
        errors.append(
            _invalid(
                "spec.strategy.trafficRouting.maxTrafficWeight",
                weight,
                Messages.MAX_TRAFFIC_WEIGHT_ROUTERS,
            )
        )
    for index, step in enumerate(ro.steps):
        errors += _step_errors(ro, canary, routing_map if routing is not None else None, index, step)
    errors += _anti_affinity_errors(canary.get("antiAffinity"))
    return errors


def _ping_pong_errors(canary: Mapping[str, Any], routing: Mapping[str, Any] | None) -> list[FieldError]:
    if canary.get("pingPong") is None:
        return []
    ping_pong = as_mapping(canary.get("pingPong"))
    ping, pong = as_str(ping_pong.get("pingService")), as_str(ping_pong.get("pongService"))
    errors = []
    if routing is not None and all(routing.get(router) is None for router in ("alb", "istio", "plugins")):
        errors.append(_invalid("spec.strategy.trafficRouting.alb", None, Messages.PING_PONG_ROUTERS))
    if not ping:
        errors.append(_invalid("spec.strategy.pingPong.pingService", ping, Messages.PING_PONG_SERVICES))
    if not pong:
        errors.append(_invalid("spec.strategy.pingPong.pongService", pong, Messages.PING_PONG_SERVICES))
    if ping == pong:
        errors.append(_invalid("spec.strategy.pingPong.pingService", ping, Messages.DUPLICATE_PING_PONG))
    alb = routing.get("alb") if routing is not None else None
    if alb is not None and not as_str(as_mapping(alb).get("rootService")):
        errors.append(
            _invalid("spec.strategy.trafficRouting.alb.rootService", "", Messages.PING_PONG_ALB_ROOT_SERVICE)
        )
    return errors


_STEP_KIND_FLAGS: Final = (
    ("Experiment", "experiment"),
    ("Pause", "pause"),
    ("SetWeight", "setWeight"),
    ("Analysis", "analysis"),
    ("SetCanaryScale", "setCanaryScale"),
    ("SetHeaderRoute", "setHeaderRoute"),
    ("SetMirrorRoutes", "setMirrorRoute"),
    ("Plugin", "plugin"),
)


def _step_errors(
    ro: RolloutView,
    canary: Mapping[str, Any],
    routing: Mapping[str, Any] | None,
    index: int,
    step: Mapping[str, Any],
) -> list[FieldError]:
    path = f"spec.strategy.steps[{index}]"
    errors: list[FieldError] = []
    exclusive = [step.get(key) is not None for _, key in _STEP_KIND_FLAGS[:4]]
    if sum(exclusive) > 1:
        shown = " ".join(
            f"step.{name}: {str(step.get(key) is not None).lower()}" for name, key in _STEP_KIND_FLAGS[:4]
        )
        errors.append(_invalid(path, shown, Messages.INVALID_STEP))
    if all(step.get(key) is None for _, key in _STEP_KIND_FLAGS):
        shown = " ".join(
            f"step.{name}: {str(step.get(key) is None).lower()}" for name, key in _STEP_KIND_FLAGS
        )
        errors.append(_invalid(path, shown, Messages.INVALID_STEP))
    max_weight = ro.max_traffic_weight
    weight = step.get("setWeight")
    if weight is not None and not (0 <= as_int(weight, -1) <= max_weight):
        errors.append(
            _invalid(f"{path}.setWeight", weight, Messages.INVALID_SET_WEIGHT.format(max_weight=max_weight))
        )
    if step.get("pause") is not None:
        seconds = pause_duration_seconds(as_mapping(step.get("pause")).get("duration"))
        if seconds is not None and seconds < 0:
            errors.append(_invalid(f"{path}.pause.duration", seconds, Messages.INVALID_DURATION))
    if step.get("setCanaryScale") is not None and routing is None:
        errors.append(_required("spec.strategy.trafficRouting", Messages.SET_CANARY_SCALE_NEEDS_ROUTING))
    errors += _route_step_errors(routing, path, step)
    errors += _experiment_and_analysis_errors(routing, path, step)
    return errors


def _route_step_errors(
    routing: Mapping[str, Any] | None, path: str, step: Mapping[str, Any]
) -> list[FieldError]:
    errors: list[FieldError] = []
    header, mirror = step.get("setHeaderRoute"), step.get("setMirrorRoute")
    routers = routing or {}
    if header is not None:
        name = as_str(as_mapping(header).get("name"))
        if all(routers.get(r) is None for r in ("istio", "alb", "apisix", "plugins")):
            errors.append(_invalid(f"{path}.setHeaderRoute", name, Messages.SET_HEADER_ROUTE_ROUTERS))
        else:
            for position, match in enumerate(as_list(as_mapping(header).get("match"))):
                match_path = f"{path}.setHeaderRoute.match[{position}]"
                value = as_mapping(match).get("headerValue")
                if routers.get("alb") is not None:
                    errors += _alb_match_errors(value, match_path)
                else:
                    errors += _string_match_errors(value, match_path)
    if mirror is not None:
        name = as_str(as_mapping(mirror).get("name"))
        if all(routers.get(r) is None for r in ("istio", "plugins")):
            errors.append(_invalid(f"{path}.setMirrorRoute", name, Messages.SET_MIRROR_ROUTE_ROUTERS))
        for position, entry in enumerate(as_list(as_mapping(mirror).get("match"))):
            match = as_mapping(entry)
            for key in ("method", "path"):
                if match.get(key) is not None:
                    errors += _string_match_errors(match.get(key), f"{path}.setMirrorRoute.match[{position}]")
    if routing is not None and (header is not None or mirror is not None):
        managed = [as_str(as_mapping(route).get("name")) for route in as_list(routing.get("managedRoutes"))]
        if routing.get("managedRoutes") is None:
            field = "spec.strategy.canary.trafficRouting.managedRoutes"
            errors.append(
                _required(
                    "spec.strategy.trafficRouting.managedRoutes", Messages.MISSING_FIELD.format(field=field)
                )
            )
        else:
            for kind, value in (("setHeaderRoute", header), ("setMirrorRoute", mirror)):
                name = as_str(as_mapping(value).get("name"))
                if value is not None and name not in managed:
                    errors.append(_invalid(f"{path}.{kind}", name, Messages.ROUTE_NOT_MANAGED))
    return errors


def _string_match_errors(value: object, path: str) -> list[FieldError]:
    if value is None:
        return [_invalid(path, None, Messages.STRING_MATCH_MISSING)]
    match = as_mapping(value)
    present = [bool(as_str(match.get(key))) for key in ("exact", "regex", "prefix")]
    if sum(present) > 1:
        return [_invalid(path, dict(match), Messages.STRING_MATCH_MULTIPLE)]
    if not any(present):
        return [_invalid(path, dict(match), Messages.STRING_MATCH_MISSING)]
    return []


def _alb_match_errors(value: object, path: str) -> list[FieldError]:
    if value is None:
        return [_invalid(path, None, Messages.STRING_MATCH_MISSING)]
    match = as_mapping(value)
    if not as_str(match.get("exact")) or as_str(match.get("regex")) or as_str(match.get("prefix")):
        return [_invalid(path, dict(match), Messages.HEADER_ROUTE_ALB_EXACT)]
    return []


def _experiment_and_analysis_errors(
    routing: Mapping[str, Any] | None, path: str, step: Mapping[str, Any]
) -> list[FieldError]:
    errors: list[FieldError] = []
    arguments: list[Mapping[str, Any]] = []
    experiment = as_mapping(step.get("experiment"))
    for position, template in enumerate(as_list(experiment.get("templates"))):
        weight = as_mapping(template).get("weight")
        if weight is None:
            continue
        weight_path = f"{path}.experiment.templates[{position}].weight"
        if routing is None:
            errors.append(_invalid(weight_path, weight, Messages.EXPERIMENT_WEIGHT_WITHOUT_ROUTING))
        elif all(routing.get(r) is None for r in ("alb", "smi", "istio", "plugins")):
            errors.append(_invalid(weight_path, weight, Messages.EXPERIMENT_WEIGHT_ROUTERS))
    for analysis in as_list(experiment.get("analyses")):
        arguments += [as_mapping(a) for a in as_list(as_mapping(analysis).get("args"))]
    arguments += [as_mapping(a) for a in as_list(as_mapping(step.get("analysis")).get("args"))]
    for argument in arguments:
        field_path = as_str(
            as_mapping(as_mapping(argument.get("valueFrom")).get("fieldRef")).get("fieldPath")
        )
        if field_path.startswith("metadata") and not _DOWNWARD_API_PATH.fullmatch(field_path):
            names = [as_str(a.get("name")) for a in arguments]
            errors.append(_invalid(f"{path}.analyses", names, Messages.ANALYSIS_ARGS_FIELD_REF))
            break
    return errors


_SERVICE_FIELDS: Final = {
    "activeService": "spec.strategy.blueGreen.activeService",
    "previewService": "spec.strategy.blueGreen.previewService",
    "stableService": "spec.strategy.canary.stableService",
    "canaryService": "spec.strategy.canary.canaryService",
    "pingService": "spec.strategy.canary.pingPong.pingService",
    "pongService": "spec.strategy.canary.pingPong.pongService",
}


def referenced_services(ro: RolloutView) -> list[tuple[str, str]]:
    """``(field key, service name)`` of every Service the Rollout names, in upstream's order."""
    if ro.blue_green is not None:
        keys, source = ("activeService", "previewService"), ro.blue_green
        return [(key, as_str(source.get(key))) for key in keys if as_str(source.get(key))]
    canary = as_mapping(ro.canary)
    found = [
        (key, as_str(canary.get(key)))
        for key in ("stableService", "canaryService")
        if as_str(canary.get(key))
    ]
    ping_pong = as_mapping(canary.get("pingPong"))
    found += [
        (key, as_str(ping_pong.get(key)))
        for key in ("pingService", "pongService")
        if as_str(ping_pong.get(key))
    ]
    return found


def validate_references(ro: RolloutView, observed: Observed) -> list[FieldError]:
    """Referenced Services must exist, not be managed by another Rollout, and select our pods."""
    services = referenced_services(ro)
    for key, name in services:
        if name not in observed.services:
            return [_invalid(_SERVICE_FIELDS[key], name, Messages.SERVICE_NOT_FOUND.format(name=name))]
    errors: list[FieldError] = []
    labels = ro.pod_template_labels
    for key, name in services:
        service = observed.services[name]
        path = _SERVICE_FIELDS[key]
        if service.managed_by and service.managed_by != ro.name:
            errors.append(_invalid(path, name, Messages.SERVICE_MANAGED_ELSEWHERE.format(name=name)))
        for label, value in sorted(service.selector.items()):
            if label != POD_HASH_LABEL and labels.get(label) != value:
                errors.append(
                    _invalid(path, name, Messages.SERVICE_LABEL_MISMATCH.format(name=name, label=label))
                )
    return errors


def first_error(ro: RolloutView, observed: Observed) -> str | None:
    """The text Argo puts after ``is invalid:``, or ``None`` when the Rollout is valid."""
    for check in (validate_spec(ro), validate_references(ro, observed)):
        if check:
            return str(check[0])
    return None
