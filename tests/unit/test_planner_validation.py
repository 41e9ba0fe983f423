"""§3.21 / §1.4 validation: every message, worded and located exactly, first error wins."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from planner_world import blue_green_rollout, canary_rollout

from rollouts.planner.inputs import Observed, RolloutView, ServiceView
from rollouts.planner.validation import FieldError, first_error, validate_spec

Mutation = Callable[[dict[str, Any]], None]


def canary(**fields: Any) -> Mutation:
    return lambda r: r["spec"]["strategy"]["canary"].update(fields)


def blue_green(**fields: Any) -> Mutation:
    def mutate(rollout: dict[str, Any]) -> None:
        rollout["spec"]["strategy"] = {"blueGreen": {"activeService": "active", **fields}}

    return mutate


def spec(**fields: Any) -> Mutation:
    return lambda r: r["spec"].update(fields)


def steps(*entries: Any, **canary_fields: Any) -> Mutation:
    return canary(steps=list(entries), **canary_fields)


ISTIO = {"istio": {"virtualService": {"name": "vs"}}}
NGINX = {"nginx": {"stableIngress": "web"}}
SERVICES = {"stableService": "stable", "canaryService": "canary"}
ANY_STEP_NONE = (
    '"step.Experiment: true step.Pause: true step.SetWeight: true '
    "step.Analysis: true step.SetCanaryScale: true "
    'step.SetHeaderRoute: true step.SetMirrorRoutes: true step.Plugin: true"'
)
STEP_MESSAGE = (
    "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause"
)

CASES: list[tuple[str, Mutation, str]] = [
    (
        "negative replicas",
        spec(replicas=-1),
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "replicas not a number",
        spec(replicas="abc"),
        'spec.replicas: Invalid value: "abc": must be an integer',
    ),
    (
        "missing selector",
        lambda r: r["spec"].pop("selector"),
        "spec.selector: Required value: Rollout has missing field '.spec.selector'",
    ),
    (
        "empty selector",
        spec(selector={}),
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment",
    ),
    (
        "selector does not match labels",
        spec(selector={"matchLabels": {"app": "other"}}),
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`",
    ),
    (
        "bad selector operator",
        spec(
            selector={"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "a", "operator": "Near"}]}
        ),
        'spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
    ),
    (
        "template with workloadRef",
        spec(workloadRef={"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}),
        "spec.template: Internal error: template must be empty for workload reference rollout",
    ),
    (
        "no containers",
        lambda r: r["spec"]["template"]["spec"].update(containers=[]),
        "spec.template.spec.containers: Required value",
    ),
    (
        "container without image",
        lambda r: r["spec"]["template"]["spec"]["containers"][0].pop("image"),
        "spec.template.spec.containers[0].image: Required value",
    ),
    (
        "restart policy",
        lambda r: r["spec"]["template"]["spec"].update(restartPolicy="Never"),
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ),
    (
        "negative minReadySeconds",
        spec(minReadySeconds=-1),
        "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "negative revisionHistoryLimit",
        spec(revisionHistoryLimit=-2),
        "spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
    ),
    (
        "negative progressDeadlineSeconds",
        spec(progressDeadlineSeconds=-5),
        "spec.progressDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
    ),
    (
        "deadline not after minReadySeconds",
        spec(minReadySeconds=30, progressDeadlineSeconds=30),
        "spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds",
    ),
    (
        "no strategy",
        spec(strategy={}),
        "spec.strategy.strategy: Required value: "
        "Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'",
    ),
    (
        "two strategies",
        spec(strategy={"canary": {}, "blueGreen": {"activeService": "a"}}),
        'spec.strategy.strategy: Invalid value: "blueGreen: true canary: '
        'true": Multiple Strategies can not be listed',
    ),
    (
        "active equals preview",
        blue_green(previewService="active"),
        'spec.strategy.activeService: Invalid value: "active": This '
        "rollout uses the same service for the active "
        "and preview services, but two different services are required.",
    ),
    (
        "scale down limit above history",
        blue_green(previewService="preview", scaleDownDelayRevisionLimit=11),
        "spec.strategy.scaleDownDelayRevisionLimit: Invalid value: 11: "
        "This rollout's revision history limit can not "
        "be smaller than the rollout's scale down limit",
    ),
    (
        "anti-affinity with both",
        blue_green(
            previewService="preview",
            antiAffinity={
                "preferredDuringSchedulingIgnoredDuringExecution": {"weight": 10},
                "requiredDuringSchedulingIgnoredDuringExecution": {},
            },
        ),
        "spec.strategy.antiAffinity: Invalid value: "
        '"antiAffinity.PreferredDuringSchedulingIgnoredDuringExecution: '
        'true antiAffinity.RequiredDuringSchedulingIgnoredDuringExecution: true": '
        "AntiAffinity must have exactly one strategy listed",
    ),
    (
        "anti-affinity weight",
        canary(antiAffinity={"preferredDuringSchedulingIgnoredDuringExecution": {"weight": 0}}),
        "spec.strategy.antiAffinity.weight: Invalid value: 0: AntiAffinity weight must be between 1-100",
    ),
    (
        "surge and unavailable both zero",
        canary(maxSurge=0, maxUnavailable=0),
        'spec.strategy.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: '
        "MaxSurge and MaxUnavailable both can not be zero",
    ),
    (
        "surge and unavailable both zero percent",
        canary(maxSurge="0%", maxUnavailable="0"),
        'spec.strategy.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: '
        "MaxSurge and MaxUnavailable both can not be zero",
    ),
    (
        "surge not a percentage",
        canary(maxSurge="lots"),
        'spec.strategy.maxSurge: Invalid value: "lots": must be an '
        "integer or a percentage string such as '25%'",
    ),
    (
        "stable equals canary",
        canary(stableService="svc", canaryService="svc"),
        'spec.strategy.stableService: Invalid value: "svc": This '
        "rollout uses the same service for the stable and "
        "canary services, but two different services are required.",
    ),
    (
        "traffic routing without services",
        canary(trafficRouting=NGINX),
        'spec.strategy.stableService: Invalid value: "": '
        "Canary service and Stable service must to be set to use Traffic Routing",
    ),
    (
        "traffic routing without canary service",
        canary(trafficRouting=NGINX, stableService="stable"),
        'spec.strategy.canaryService: Invalid value: "": '
        "Canary service and Stable service must to be set to use Traffic Routing",
    ),
    (
        "scale down delay needs routing",
        canary(scaleDownDelaySeconds=30),
        "spec.strategy.scaleDownDelaySeconds: Invalid value: 30: "
        "Canary scaleDownDelaySeconds can only be used with traffic routing",
    ),
    (
        "dynamic stable scale needs routing",
        canary(dynamicStableScale=True),
        "spec.strategy.dynamicStableScale: Invalid value: true: "
        "Canary dynamicStableScale can only be used with traffic routing",
    ),
    (
        "dynamic stable scale with delay",
        canary(trafficRouting=NGINX, dynamicStableScale=True, scaleDownDelaySeconds=5, **SERVICES),
        "spec.strategy.dynamicStableScale: Invalid value: true: "
        "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds",
    ),
    (
        "max traffic weight only for nginx and plugins",
        canary(trafficRouting={**ISTIO, "maxTrafficWeight": 1000}, **SERVICES),
        "spec.strategy.trafficRouting.maxTrafficWeight: Invalid value: 1000: "
        "MaxTrafficWeight can only be used with nginx or plugins traffic routing",
    ),
    (
        "ping pong needs both services",
        canary(pingPong={"pingService": "ping"}, trafficRouting=ISTIO),
        'spec.strategy.pingPong.pongService: Invalid value: "": '
        "Ping service and Pong service must to be set to use Ping-Pong feature",
    ),
    (
        "ping pong services differ",
        canary(pingPong={"pingService": "p", "pongService": "p"}, trafficRouting=ISTIO),
        'spec.strategy.pingPong.pingService: Invalid value: "p": This '
        "rollout uses the same service for the ping "
        "and pong services, but two different services are required.",
    ),
    (
        "ping pong router",
        canary(pingPong={"pingService": "a", "pongService": "b"}, trafficRouting=NGINX),
        "spec.strategy.trafficRouting.alb: Invalid value: null: Ping-pong feature works with the ALB traffic "
        "routing only",
    ),
    (
        "ping pong alb root service",
        canary(pingPong={"pingService": "a", "pongService": "b"}, trafficRouting={"alb": {"ingress": "i"}}),
        'spec.strategy.trafficRouting.alb.rootService: Invalid value: "": '
        "Root service field is required for the configuration with ALB and ping-pong feature enabled",
    ),
    (
        "step with nothing",
        steps({}),
        f"spec.strategy.steps[0]: Invalid value: {ANY_STEP_NONE}: {STEP_MESSAGE}",
    ),
    (
        "step with two kinds",
        steps({"setWeight": 10, "pause": {}}),
        'spec.strategy.steps[0]: Invalid value: "step.Experiment: '
        "false step.Pause: true step.SetWeight: true "
        f'step.Analysis: false": {STEP_MESSAGE}',
    ),
    (
        "setWeight above 100",
        steps({"setWeight": 10}, {"setWeight": 101}),
        "spec.strategy.steps[1].setWeight: Invalid value: 101: SetWeight needs to be between 0 and 100",
    ),
    (
        "setWeight negative",
        steps({"setWeight": -1}),
        "spec.strategy.steps[0].setWeight: Invalid value: -1: SetWeight needs to be between 0 and 100",
    ),
    (
        "setWeight above maxTrafficWeight",
        steps({"setWeight": 1001}, trafficRouting={**NGINX, "maxTrafficWeight": 1000}, **SERVICES),
        "spec.strategy.steps[0].setWeight: Invalid value: 1001: SetWeight needs to be between 0 and 1000",
    ),
    (
        "negative pause",
        steps({"pause": {"duration": -5}}),
        "spec.strategy.steps[0].pause.duration: Invalid value: -5: Duration needs to be greater than 0",
    ),
    (
        "unparsable pause",
        steps({"pause": {"duration": "soon"}}),
        "spec.strategy.steps[0].pause.duration: Invalid value: -1: Duration needs to be greater than 0",
    ),
    (
        "setCanaryScale without routing",
        steps({"setCanaryScale": {"replicas": 1}}),
        "spec.strategy.trafficRouting: Required value: SetCanaryScale requires TrafficRouting to be set",
    ),
    (
        "header route router",
        steps({"setHeaderRoute": {"name": "h"}}, trafficRouting=NGINX, **SERVICES),
        'spec.strategy.steps[0].setHeaderRoute: Invalid value: "h": '
        "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix",
    ),
    (
        "header match with two values",
        steps(
            {
                "setHeaderRoute": {
                    "name": "h",
                    "match": [{"headerName": "x", "headerValue": {"exact": "a", "regex": "b"}}],
                }
            },
            trafficRouting={**ISTIO, "managedRoutes": [{"name": "h"}]},
            **SERVICES,
        ),
        'spec.strategy.steps[0].setHeaderRoute.match[0]: Invalid value: {"exact":"a","regex":"b"}: '
        "StringMatch match value must have exactly one of the following: exact, regex, prefix",
    ),
    (
        "header match without value",
        steps(
            {"setHeaderRoute": {"name": "h", "match": [{"headerName": "x"}]}},
            trafficRouting={**ISTIO, "managedRoutes": [{"name": "h"}]},
            **SERVICES,
        ),
        "spec.strategy.steps[0].setHeaderRoute.match[0]: Invalid value: null: "
        "StringMatch value missed, match value must have one of the following: exact, regex, prefix",
    ),
    (
        "alb header match must be exact",
        steps(
            {"setHeaderRoute": {"name": "h", "match": [{"headerName": "x", "headerValue": {"prefix": "a"}}]}},
            trafficRouting={"alb": {"ingress": "i"}, "managedRoutes": [{"name": "h"}]},
            **SERVICES,
        ),
        'spec.strategy.steps[0].setHeaderRoute.match[0]: Invalid value: {"prefix":"a"}: '
        "SetHeaderRoute match value invalid. ALB supports 'exact' value only",
    ),
    (
        "mirror route router",
        steps({"setMirrorRoute": {"name": "m"}}, trafficRouting=NGINX, **SERVICES),
        'spec.strategy.steps[0].setMirrorRoute: Invalid value: "m": '
        "SetMirrorRoute requires TrafficRouting, supports Istio only",
    ),
    (
        "managed routes missing",
        steps({"setHeaderRoute": {"name": "h"}}, trafficRouting=ISTIO, **SERVICES),
        "spec.strategy.trafficRouting.managedRoutes: Required value: "
        "Rollout has missing field 'spec.strategy.canary.trafficRouting.managedRoutes'",
    ),
    (
        "route not managed",
        steps(
            {"setMirrorRoute": {"name": "m"}},
            trafficRouting={**ISTIO, "managedRoutes": [{"name": "h"}]},
            **SERVICES,
        ),
        'spec.strategy.steps[0].setMirrorRoute: Invalid value: "m": '
        "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes",
    ),
    (
        "experiment weight without routing",
        steps({"experiment": {"templates": [{"name": "t", "specRef": "canary", "weight": 10}]}}),
        "spec.strategy.steps[0].experiment.templates[0].weight: Invalid value: 10: "
        "Experiment template weight cannot be set unless TrafficRouting is enabled",
    ),
    (
        "experiment weight router",
        steps(
            {"experiment": {"templates": [{"name": "t", "specRef": "canary", "weight": 10}]}},
            trafficRouting=NGINX,
            **SERVICES,
        ),
        "spec.strategy.steps[0].experiment.templates[0].weight: Invalid value: 10: "
        "Experiment template weight is only available for "
        "TrafficRouting with SMI, ALB, and Istio at this time",
    ),
    (
        "analysis fieldRef not downward API",
        steps(
            {
                "analysis": {
                    "templates": [{"templateName": "t"}],
                    "args": [{"name": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.generation"}}}],
                }
            }
        ),
        'spec.strategy.steps[0].analyses: Invalid value: ["x"]: '
        "Analyses arguments must refer to valid object metadata supported by downwardAPI",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_first_error_message(mutate: Mutation, expected: str) -> None:
    rollout = canary_rollout([{"setWeight": 20}])
    mutate(rollout)
    services = {name: ServiceView(name, {"app": "web"}) for name in ("stable", "canary", "active", "preview")}
    assert first_error(RolloutView(rollout), Observed(services=services)) == expected


@pytest.mark.parametrize(
    "rollout",
    [
        canary_rollout([{"setWeight": 20}, {"pause": {"duration": "1h30m"}}, {"pause": {"duration": 10}}]),
        canary_rollout(None),
        canary_rollout(
            [
                {
                    "analysis": {
                        "templates": [{"templateName": "t"}],
                        "args": [
                            {"name": "ns", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}
                        ],
                    }
                }
            ]
        ),
        blue_green_rollout(previewService="preview"),
    ],
)
def test_valid_rollouts_have_no_error(rollout: dict[str, Any]) -> None:
    services = {name: ServiceView(name, {"app": "web"}) for name in ("active", "preview", "web-active")}
    assert first_error(RolloutView(rollout), Observed(services=services)) is None


def test_workload_ref_rollout_needs_no_selector_or_template() -> None:
    rollout = canary_rollout([{"setWeight": 20}])
    rollout["spec"].pop("selector")
    rollout["spec"]["template"] = {}
    rollout["spec"]["workloadRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert validate_spec(RolloutView(rollout)) == []


SERVICE_CASES = [
    (
        "canary service missing",
        {"stable": ServiceView("stable", {"app": "web"})},
        'spec.strategy.canary.canaryService: Invalid value: "canary": services "canary" not found',
    ),
    (
        "managed by another rollout",
        {
            "stable": ServiceView("stable", {"app": "web"}, "other"),
            "canary": ServiceView("canary", {"app": "web"}),
        },
        'spec.strategy.canary.stableService: Invalid value: "stable": '
        'Service "stable" is managed by another Rollout',
    ),
    (
        "selector label not in template",
        {
            "stable": ServiceView("stable", {"app": "web", "tier": "x"}),
            "canary": ServiceView("canary", {"app": "web"}),
        },
        'spec.strategy.canary.stableService: Invalid value: "stable": '
        'Service "stable" has unmatch label "tier" in '
        "rollout",
    ),
]


@pytest.mark.parametrize(
    ("services", "expected"), [case[1:] for case in SERVICE_CASES], ids=[case[0] for case in SERVICE_CASES]
)
def test_referenced_services(services: dict[str, ServiceView], expected: str) -> None:
    rollout = canary_rollout([{"setWeight": 20}], stableService="stable", canaryService="canary")
    assert first_error(RolloutView(rollout), Observed(services=services)) == expected


def test_hash_key_in_service_selector_is_ignored() -> None:
    rollout = canary_rollout([{"setWeight": 20}], stableService="stable", canaryService="canary")
    selector = {"app": "web", "rollouts-pod-template-hash": "abc"}
    services = {name: ServiceView(name, selector) for name in ("stable", "canary")}
    assert first_error(RolloutView(rollout), Observed(services=services)) is None


def test_field_error_rendering() -> None:
    assert str(FieldError("a.b", "Required value")) == "a.b: Required value"
    assert str(FieldError("a", "Invalid value", "bad", 'x"y')) == 'a: Invalid value: "x\\"y": bad'


def test_malformed_objects_never_raise() -> None:
    garbage: list[Any] = [
        {},
        {"spec": None},
        {"spec": {"strategy": "canary"}},
        {"spec": {"strategy": {"canary": {"steps": "many"}}, "selector": "app=web"}},
        {"spec": {"strategy": {"canary": {"steps": [None, 3, "x"]}}}},
        {"spec": {"strategy": {"blueGreen": []}}, "metadata": []},
    ]
    for rollout in garbage:
        error = first_error(RolloutView(copy.deepcopy(rollout)), Observed())
        assert error, rollout
