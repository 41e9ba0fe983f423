"""The experiment step (§3.10, §3.6): the Experiment object, its traffic, termination and pruning."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from planner_world import World, apply_merge_patch, canary_rollout
from traffic_world import obj, owner, world

from rollouts.controller.apply import traffic_intent
from rollouts.controller.observe import project_child
from rollouts.planner import (
    CreateExperiment,
    DeleteExperiment,
    EmitEvent,
    SetTrafficWeight,
    TerminateExperiment,
    operations,
    plan_canary,
)
from rollouts.planner.experiments import (
    INVALID_SPEC_REF,
    ExperimentSpecError,
    experiment_destinations,
    experiment_manifest,
)
from rollouts.planner.inputs import ExperimentTemplateView, ExperimentView, ServiceView
from traffic import istio, smi
from traffic.routing import Routing

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NEW_HASH, STABLE_HASH = "6d4c8f7b9", "5f8b7c6d4"


def replica_set(pod_hash: str, image: str, *, min_ready: int = 0) -> dict[str, Any]:
    labels = {"app": "web", "rollouts-pod-template-hash": pod_hash}
    spec: dict[str, Any] = {
        "replicas": 3,
        "selector": {"matchLabels": dict(labels)},
        "template": {
            "metadata": {"labels": dict(labels), "annotations": {"team": "shop"}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        },
    }
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"web-{pod_hash}"},
        "spec": spec,
    }


NEW_RS = replica_set(NEW_HASH, "nginx:1.28", min_ready=5)
STABLE_RS = replica_set(STABLE_HASH, "nginx:1.27")


def rollout(**spec: Any) -> dict[str, Any]:
    body = canary_rollout([{"setWeight": 20}], replicas=3)
    body["metadata"].update(
        labels={"team": "shop", "argo-rollouts.argoproj.io/controller-instance-id": "blue"},
        annotations={"rollout.argoproj.io/revision": "2"},
    )
    body["spec"].update(spec)
    return body


def action(step: dict[str, Any]) -> CreateExperiment:
    return CreateExperiment(
        "web-6d4c8f7b9-2-1", 1, step, NEW_HASH, STABLE_HASH, 2, f"web-{NEW_HASH}", f"web-{STABLE_HASH}"
    )


def build(step: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return experiment_manifest(rollout(**spec), action(step), NEW_RS, STABLE_RS)


# -- the object (§3.10)


def test_metadata_carries_rollout_labels_hash_revision_and_controller_owner() -> None:
    manifest = build({"templates": [{"name": "baseline", "specRef": "stable"}]})
    assert manifest["apiVersion"] == "argoproj.io/v1alpha1"
    assert manifest["kind"] == "Experiment"
    assert manifest["metadata"] == {
        "name": "web-6d4c8f7b9-2-1",
        "namespace": "default",
        "labels": {
            "team": "shop",
            "argo-rollouts.argoproj.io/controller-instance-id": "blue",
            "rollouts-pod-template-hash": NEW_HASH,
        },
        "annotations": {"rollout.argoproj.io/revision": "2"},
        "ownerReferences": [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "name": "web",
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }


def test_spec_fields_come_from_the_step_and_the_rollout_deadline() -> None:
    step = {
        "duration": "15s",
        "templates": [{"name": "canary", "specRef": "canary"}],
        "dryRun": [{"metricName": "latency"}],
        "analysisRunMetadata": {"labels": {"run": "exp"}, "annotations": {"note": "x"}},
        "scaleDownDelaySeconds": 0,
    }
    spec = build(step, progressDeadlineSeconds=120)["spec"]
    assert spec["duration"] == "15s"
    assert spec["progressDeadlineSeconds"] == 120
    assert spec["dryRun"] == [{"metricName": "latency"}]
    assert spec["analysisRunMetadata"] == {"labels": {"run": "exp"}, "annotations": {"note": "x"}}
    assert spec["scaleDownDelaySeconds"] == 0
    assert "analyses" not in spec


def test_optional_spec_fields_are_absent_when_neither_step_nor_rollout_sets_them() -> None:
    spec = build({"templates": [{"name": "canary", "specRef": "canary"}]})["spec"]
    assert set(spec) == {"templates"}


@pytest.mark.parametrize(
    ("spec_ref", "source", "min_ready"), [("canary", NEW_RS, 5), ("stable", STABLE_RS, None)]
)
def test_spec_ref_picks_that_replica_sets_template_selector_and_min_ready(
    spec_ref: str, source: dict[str, Any], min_ready: int | None
) -> None:
    (template,) = build({"templates": [{"name": "t", "specRef": spec_ref, "replicas": 2}]})["spec"][
        "templates"
    ]
    assert template["name"] == "t"
    assert template["replicas"] == 2
    assert template["template"] == source["spec"]["template"]
    assert template["selector"] == source["spec"]["selector"]
    assert template.get("minReadySeconds") == min_ready
    assert "service" not in template


def test_step_metadata_labels_join_pod_labels_and_selector_annotations_only_the_pods() -> None:
    step = {
        "templates": [
            {
                "name": "canary",
                "specRef": "canary",
                "metadata": {"labels": {"role": "exp"}, "annotations": {"probe": "on"}},
            }
        ]
    }
    (template,) = build(step)["spec"]["templates"]
    assert template["template"]["metadata"]["labels"] == {
        "app": "web",
        "rollouts-pod-template-hash": NEW_HASH,
        "role": "exp",
    }
    assert template["template"]["metadata"]["annotations"] == {"team": "shop", "probe": "on"}
    assert template["selector"]["matchLabels"] == {
        "app": "web",
        "rollouts-pod-template-hash": NEW_HASH,
        "role": "exp",
    }
    assert NEW_RS["spec"]["template"]["metadata"]["labels"] == {  # the source is not modified
        "app": "web",
        "rollouts-pod-template-hash": NEW_HASH,
    }


def test_a_step_selector_replaces_the_replica_sets_and_still_gets_the_labels() -> None:
    selector = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}
    step = {
        "templates": [
            {"name": "b", "specRef": "stable", "selector": selector, "metadata": {"labels": {"role": "base"}}}
        ]
    }
    (template,) = build(step)["spec"]["templates"]
    assert template["selector"] == {**selector, "matchLabels": {"role": "base"}}


@pytest.mark.parametrize(
    ("fields", "service"),
    [
        ({}, None),
        ({"weight": 10}, {}),
        ({"service": {}}, {}),
        ({"service": {"name": "exp-svc"}}, {"name": "exp-svc"}),
        ({"weight": 5, "service": {"name": "exp-svc"}}, {"name": "exp-svc"}),
    ],
)
def test_a_service_is_requested_when_the_template_has_a_weight_or_a_service(
    fields: dict[str, Any], service: dict[str, Any] | None
) -> None:
    (template,) = build({"templates": [{"name": "c", "specRef": "canary", **fields}]})["spec"]["templates"]
    assert template.get("service") == service


def test_analysis_args_are_resolved_with_the_rollout_rules() -> None:
    step = {
        "templates": [{"name": "canary", "specRef": "canary"}],
        "analyses": [
            {
                "name": "smoke",
                "templateName": "job-check",
                "clusterScope": True,
                "requiredForCompletion": True,
                "args": [
                    {"name": "plain", "value": "x"},
                    {"name": "latest", "valueFrom": {"podTemplateHashValue": "Latest"}},
                    {"name": "stable", "valueFrom": {"podTemplateHashValue": "Stable"}},
                    {"name": "who", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "team", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}}},
                    {"name": "replicas", "valueFrom": {"fieldRef": {"fieldPath": "spec.replicas"}}},
                ],
            },
            {"name": "bare", "templateName": "other"},
        ],
    }
    assert build(step)["spec"]["analyses"] == [
        {
            "name": "smoke",
            "templateName": "job-check",
            "clusterScope": True,
            "args": [
                {"name": "plain", "value": "x"},
                {"name": "latest", "value": NEW_HASH},
                {"name": "stable", "value": STABLE_HASH},
                {"name": "who", "value": "web"},
                {"name": "team", "value": "shop"},
                {"name": "replicas", "value": "3"},
            ],
            "requiredForCompletion": True,
        },
        {"name": "bare", "templateName": "other"},
    ]


# -- steps it cannot be built from: a clear error, nothing else


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"templates": [{"name": "x", "specRef": "preview"}]}, INVALID_SPEC_REF),
        ({}, "templates"),
        ({"templates": "canary"}, "templates"),
        ({"templates": [{"specRef": "canary"}]}, "name"),
        (
            {
                "templates": [{"name": "c", "specRef": "canary"}],
                "analyses": [
                    {
                        "name": "a",
                        "templateName": "t",
                        "args": [{"name": "h", "valueFrom": {"podTemplateHashValue": "Old"}}],
                    }
                ],
            },
            "podTemplateHashValue",
        ),
    ],
)
def test_malformed_steps_raise_the_builders_error_with_the_reason(step: dict[str, Any], message: str) -> None:
    with pytest.raises(ExperimentSpecError, match=message):
        build(step)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
TEMPLATE = st.fixed_dictionaries(
    {"name": st.text(max_size=5), "specRef": st.sampled_from(["canary", "stable", "x"])},
    optional={"weight": JSON, "metadata": JSON, "selector": JSON, "service": JSON, "replicas": JSON},
)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "templates": st.lists(TEMPLATE, max_size=3) | JSON,
            "duration": JSON,
            "analyses": JSON,
            "dryRun": JSON,
            "analysisRunMetadata": JSON,
            "scaleDownDelaySeconds": JSON,
        },
    )
)
def test_any_step_gives_a_manifest_or_the_builders_error(step: dict[str, Any]) -> None:
    try:
        manifest = build(step)
    except ExperimentSpecError:
        return
    assert manifest["kind"] == "Experiment"
    assert len(manifest["spec"]["templates"]) == len(step["templates"])


# -- traffic destinations (§3.6)


RUNNING = ExperimentView(
    "exp",
    "Running",
    templates=(
        ExperimentTemplateView("canary", "exp-canary", NEW_HASH),
        ExperimentTemplateView("baseline", "exp-baseline", STABLE_HASH),
    ),
)
WEIGHTED_STEP = {
    "experiment": {
        "templates": [
            {"name": "canary", "specRef": "canary", "weight": 10},
            {"name": "baseline", "specRef": "stable"},
        ]
    }
}


@pytest.mark.parametrize("phase", ["", "Pending", "Successful", "Failed", "Inconclusive"])
def test_only_a_running_experiment_gets_traffic(phase: str) -> None:
    experiment = ExperimentView("exp", phase, templates=RUNNING.templates)
    assert experiment_destinations(WEIGHTED_STEP, experiment) == ()
    assert experiment_destinations(WEIGHTED_STEP, None) == ()


def test_each_weighted_template_status_is_a_destination() -> None:
    (destination,) = experiment_destinations(WEIGHTED_STEP, RUNNING)
    assert (destination.service_name, destination.pod_template_hash, destination.weight) == (
        "exp-canary",
        NEW_HASH,
        10,
    )
    assert experiment_destinations({"setWeight": 20}, RUNNING) == ()


# -- the step through the planner


def routed_world(steps: list[dict[str, Any]], routing: dict[str, Any]) -> World:
    w = World(
        canary_rollout(
            steps, replicas=4, trafficRouting=routing, canaryService="web-canary", stableService="web-stable"
        ),
        plan_canary,
    )
    w.services = {name: ServiceView(name, {"app": "web"}) for name in ("web-canary", "web-stable")}
    w.run()
    w.update_template("nginx:1.28")
    return w


def created(w: World, kind: type) -> list[Any]:
    return [a for p in w.plans for a in p.of_type(kind)]


EXPERIMENT_STEP = {
    "duration": "15s",
    "templates": [
        {"name": "canary", "specRef": "canary", "weight": 10},
        {"name": "baseline", "specRef": "stable", "weight": 5},
    ],
}
STEPS = [{"setWeight": 20}, {"experiment": EXPERIMENT_STEP}, {"setWeight": 60}, {"pause": {}}]


def running(w: World, name: str) -> None:
    w.experiments[name] = ExperimentView(
        name,
        "Running",
        templates=(
            ExperimentTemplateView("canary", f"{name}-canary", w.status["currentPodHash"]),
            ExperimentTemplateView("baseline", f"{name}-baseline", w.status["stableRS"]),
        ),
        pod_hash=w.status["currentPodHash"],
    )


@pytest.mark.parametrize("routing", [{"smi": {}}, {"istio": {"virtualService": {"name": "shop"}}}])
def test_experiment_templates_get_their_weights_while_running_and_lose_them_after(
    routing: dict[str, Any],
) -> None:
    w = routed_world(STEPS, routing)
    w.run()
    (create,) = created(w, CreateExperiment)
    assert (create.new_rs_name, create.stable_rs_name) == (
        f"web-{w.status['currentPodHash']}",
        f"web-{w.status['stableRS']}",
    )
    assert w.plans[-1].of_type(SetTrafficWeight)[0].extra == ()  # not Running yet
    running(w, create.name)
    plan = w.reconcile()
    (weights,) = plan.of_type(SetTrafficWeight)
    assert weights.weight == 20
    assert [(d.service_name, d.weight) for d in weights.extra] == [
        (f"{create.name}-canary", 10),
        (f"{create.name}-baseline", 5),
    ]
    recorded = w.status["canary"]["weights"]
    assert recorded["stable"]["weight"] == 65
    assert recorded["additional"] == [
        {"weight": 10, "serviceName": f"{create.name}-canary", "podTemplateHash": w.status["currentPodHash"]},
        {"weight": 5, "serviceName": f"{create.name}-baseline", "podTemplateHash": w.status["stableRS"]},
    ]
    (event,) = [e for e in plan.of_type(EmitEvent) if e.reason == "TrafficWeightUpdated"]
    assert event.message == (
        f"Traffic weight updated additional: [{{10 {create.name}-canary {w.status['currentPodHash']}}} "
        f"{{5 {create.name}-baseline {w.status['stableRS']}}}]"
    )
    w.experiments[create.name] = ExperimentView(
        create.name, "Successful", pod_hash=w.status["currentPodHash"]
    )
    w.run()
    assert w.status["currentStepIndex"] == 3
    final = w.plans[-1].of_type(SetTrafficWeight)[0]
    assert (final.weight, final.extra) == (60, ())
    assert "additional" not in w.status["canary"]["weights"]


def test_weights_reach_smi_and_istio_routers_with_stable_getting_the_rest() -> None:
    w = routed_world(STEPS, {"smi": {}})
    w.run()
    (create,) = created(w, CreateExperiment)
    running(w, create.name)
    intent = traffic_intent(w.reconcile().of_type(SetTrafficWeight)[0])
    split = smi.desired_spec(Routing.from_rollout(w.rollout), intent, "v1alpha4")
    assert split["backends"] == [
        {"service": "web-canary", "weight": 20},
        {"service": f"{create.name}-canary", "weight": 10},
        {"service": f"{create.name}-baseline", "weight": 5},
        {"service": "web-stable", "weight": 65},
    ]
    istio_rollout = copy.deepcopy(w.rollout)
    istio_rollout["metadata"]["namespace"] = "shop"
    istio_rollout["spec"]["strategy"]["canary"]["trafficRouting"] = {
        "istio": {"virtualService": {"name": "shop"}}
    }
    vs = obj(
        "networking.istio.io/v1alpha3",
        "VirtualService",
        "shop",
        {
            "http": [
                {"route": [{"destination": {"host": "web-canary"}}, {"destination": {"host": "web-stable"}}]}
            ]
        },
    )
    (write,) = istio.writes(Routing.from_rollout(istio_rollout), intent, world(vs), api_version="v1alpha3")
    assert write.patch["spec"]["http"][0]["route"] == [
        {"destination": {"host": "web-canary"}, "weight": 20},
        {"destination": {"host": "web-stable"}, "weight": 65},
        {"destination": {"host": f"{create.name}-baseline"}, "weight": 5},
        {"destination": {"host": f"{create.name}-canary"}, "weight": 10},
    ]


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"nginx": {"stableIngress": "web"}}, "only available for TrafficRouting with SMI, ALB, and Istio"),
        (None, "cannot be set unless TrafficRouting is enabled"),
    ],
)
def test_template_weights_without_a_router_that_supports_them_are_invalid_spec(
    routing: dict[str, Any] | None, message: str
) -> None:
    canary: dict[str, Any] = {"canaryService": "web-canary", "stableService": "web-stable"}
    if routing is not None:
        canary["trafficRouting"] = routing
    w = World(canary_rollout(STEPS, replicas=4, **canary), plan_canary)
    w.services = {name: ServiceView(name, {"app": "web"}) for name in ("web-canary", "web-stable")}
    w.run()
    invalid = next(c for c in w.status["conditions"] if c["type"] == "InvalidSpec")
    assert message in invalid["message"]
    assert created(w, CreateExperiment) == []


# -- the step's lifecycle beyond the happy path


def basic_world(steps: list[dict[str, Any]]) -> World:
    w = World(canary_rollout(steps, replicas=4), plan_canary)
    w.run()
    w.update_template("nginx:1.28")
    return w


def test_an_unfinished_experiment_left_by_a_lost_status_write_is_adopted_not_duplicated() -> None:
    w = basic_world([{"setWeight": 25}, {"experiment": {"templates": [{"name": "c", "specRef": "canary"}]}}])
    w.run()
    (create,) = created(w, CreateExperiment)
    w.status["canary"].pop("currentExperiment")  # the status patch was lost
    w.experiments[create.name] = ExperimentView(create.name, "Running", pod_hash=w.status["currentPodHash"])
    w.reconcile()
    assert len(created(w, CreateExperiment)) == 1
    assert w.status["canary"]["currentExperiment"] == create.name
    assert created(w, TerminateExperiment) == []


def test_a_finished_experiment_of_that_name_gets_a_suffixed_successor() -> None:
    w = basic_world([{"setWeight": 25}, {"experiment": {"templates": [{"name": "c", "specRef": "canary"}]}}])
    w.run()
    (first,) = created(w, CreateExperiment)
    w.experiments[first.name] = ExperimentView(first.name, "Failed", "x", pod_hash=w.status["currentPodHash"])
    w.run()  # aborted
    apply_merge_patch(w.rollout, operations.retry(w.rollout).status or {})
    w.run()
    second = created(w, CreateExperiment)[-1]
    assert second.name == f"{first.name}-1"


def test_inconclusive_experiment_pauses_and_other_experiments_are_terminated() -> None:
    w = basic_world([{"setWeight": 25}, {"experiment": {"templates": [{"name": "c", "specRef": "canary"}]}}])
    w.experiments["stray"] = ExperimentView("stray", "Running", pod_hash="gone")
    w.run()
    (create,) = created(w, CreateExperiment)
    assert TerminateExperiment("stray") in created(w, TerminateExperiment)
    w.experiments[create.name] = ExperimentView(
        create.name, "Inconclusive", pod_hash=w.status["currentPodHash"]
    )
    w.run()
    assert [c["reason"] for c in w.status["pauseConditions"]] == ["InconclusiveExperiment"]


def test_a_finished_experiment_whose_replica_set_is_gone_is_deleted() -> None:
    w = basic_world([{"setWeight": 25}, {"experiment": {"templates": [{"name": "c", "specRef": "canary"}]}}])
    w.experiments["old"] = ExperimentView("old", "Successful", pod_hash="gone")
    w.run()
    assert DeleteExperiment("old") in created(w, DeleteExperiment)
    assert "old" not in w.experiments


def test_project_child_reads_template_services_hash_and_terminate() -> None:
    body = {
        "metadata": {
            "name": "exp",
            "labels": {"rollouts-pod-template-hash": NEW_HASH},
            "creationTimestamp": "2024-05-01T12:00:00Z",
            "ownerReferences": [owner(uid="uid-1")],
        },
        "spec": {"terminate": True},
        "status": {
            "phase": "Running",
            "templateStatuses": [
                {"name": "canary", "serviceName": "exp-canary", "podTemplateHash": NEW_HASH}
            ],
        },
    }
    view = project_child(body).experiment_view()
    assert view.templates == (ExperimentTemplateView("canary", "exp-canary", NEW_HASH),)
    assert (view.pod_hash, view.created_at, view.terminating, view.phase) == (NEW_HASH, T0, True, "Running")
    bare = project_child(
        {"metadata": {"name": "r"}, "status": {"templateStatuses": "junk"}}
    ).experiment_view()
    assert (bare.templates, bare.pod_hash, bare.terminating) == ((), None, False)
