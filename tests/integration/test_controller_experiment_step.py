# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""The canary ``experiment`` step on the devcluster (§3.10, §3.6).

One ``rollouts controller`` process runs the Rollout, Experiment and AnalysisRun controllers:
the Rollout's pass creates the step's Experiment from its new and stable ReplicaSets, the
Experiment controller runs the template ReplicaSets and the analyses (a Job whose exit code
decides), and the Rollout reacts to the Experiment's phase — proceeds when it is Successful,
aborts with Argo's message when it fails, terminates it when the user aborts. With SMI traffic
routing the experiment's template Services get their weights in the TrafficSplit while the
Experiment runs, and lose them when the step ends.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException
from test_controller_harness import (
    GROUP,
    VERSION,
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.hashes import pod_template_hash
from rollouts.planner import operations

NAME = "web"
REPLICAS = 2
LONG = 180.0  # templates must become available and a Job must run: generous, never asserted


def job_template(cluster: Cluster, name: str, exit_code: int) -> None:
    """An AnalysisTemplate whose one metric is a Job exiting with ``exit_code``."""
    container = {"name": "check", "image": "busybox", "command": ["sh", "-c", f"exit {exit_code}"]}
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name},
        "spec": {
            "args": [{"name": "canary-hash"}],
            "metrics": [
                {
                    "name": "smoke",
                    "provider": {
                        "job": {
                            "spec": {
                                "backoffLimit": 0,
                                "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
                            }
                        }
                    },
                }
            ],
        },
    }
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysistemplates", body
    )


def experiment_step(template: str | None, duration: str = "15s", **templates: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "duration": duration,
        "templates": [
            {
                "name": "canary",
                "specRef": "canary",
                "metadata": {"labels": {"variant": "canary"}},
                **templates,
            },
            {
                "name": "baseline",
                "specRef": "stable",
                "metadata": {"labels": {"variant": "baseline"}},
                **templates,
            },
        ],
    }
    if template is not None:
        step["analyses"] = [
            {
                "name": "smoke",
                "templateName": template,
                "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
            }
        ]
    return step


def canary(step: dict[str, Any], *, hold: bool = False, **canary_fields: Any) -> dict[str, Any]:
    """setWeight 20, the experiment, setWeight 60 (then, with ``hold``, a pause until promoted)."""
    steps = [{"setWeight": 20}, {"experiment": step}, {"setWeight": 60}, *([{"pause": {}}] if hold else [])]
    rollout = rollout_manifest(NAME, {"canary": {"steps": steps, **canary_fields}}, replicas=REPLICAS)
    rollout["metadata"]["labels"] = {"team": "shop"}
    return rollout


def hash_of(rollout: dict[str, Any], image: str) -> str:
    template = copy.deepcopy(rollout["spec"]["template"])
    template["spec"]["containers"][0]["image"] = image
    return pod_template_hash(template, None)


def experiments(cluster: Cluster) -> dict[str, dict[str, Any]]:
    listed = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, cluster.namespace, "experiments")
    return {item["metadata"]["name"]: item for item in listed["items"]}


def experiment_in_phase(cluster: Cluster, name: str, *phases: str) -> Any:
    def check() -> dict[str, Any] | None:
        found = experiments(cluster).get(name)
        phase = ((found or {}).get("status") or {}).get("phase")
        return found if phase in phases else None

    return check


def start_update(cluster: Cluster, rollout: dict[str, Any]) -> tuple[str, str]:
    cluster.create_rollout(rollout)
    stable_hash, canary_hash = hash_of(rollout, "nginx:1.27"), hash_of(rollout, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy", stableRS=stable_hash), "the initial deploy")
    owned = [e for e in experiments(cluster).values() if e["metadata"].get("ownerReferences")]
    assert owned == []  # the initial deploy skips the steps
    cluster.set_image(NAME, "nginx:1.28")
    return stable_hash, canary_hash


def test_a_successful_experiment_step_lets_the_canary_complete(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    job_template(cluster, "smoke-pass", 0)
    stable_hash, canary_hash = start_update(cluster, canary(experiment_step("smoke-pass")))
    name = f"{NAME}-{canary_hash}-2-1"
    experiment = wait_for(lambda: experiments(cluster).get(name), "the step's Experiment")
    rollout = cluster.rollout(NAME)
    assert experiment["metadata"]["labels"] == {"team": "shop", "rollouts-pod-template-hash": canary_hash}
    assert experiment["metadata"]["annotations"]["rollout.argoproj.io/revision"] == "2"
    (owner,) = experiment["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Rollout",
        NAME,
        rollout["metadata"]["uid"],
        True,
    )
    spec = experiment["spec"]
    assert spec["duration"] == "15s"
    templates = {t["name"]: t for t in spec["templates"]}
    for template, pod_hash, image in (
        ("canary", canary_hash, "nginx:1.28"),
        ("baseline", stable_hash, "nginx:1.27"),
    ):
        pod = templates[template]["template"]
        assert pod["spec"]["containers"][0]["image"] == image
        assert pod["metadata"]["labels"] == {
            "app": NAME,
            "rollouts-pod-template-hash": pod_hash,
            "variant": template,
        }
        assert templates[template]["selector"]["matchLabels"]["variant"] == template
        assert "service" not in templates[template]
    assert spec["analyses"] == [
        {
            "name": "smoke",
            "templateName": "smoke-pass",
            "args": [{"name": "canary-hash", "value": canary_hash}],
        }
    ]
    wait_for(
        lambda: (cluster.status(NAME).get("canary") or {}).get("currentExperiment") == name,
        "status.canary.currentExperiment",
    )
    wait_for(experiment_in_phase(cluster, name, "Successful"), "the Experiment to succeed", LONG)
    status = wait_for(
        settled(cluster, NAME, "Healthy", stableRS=canary_hash, currentPodHash=canary_hash),
        "the promotion after the experiment",
        LONG,
    )
    assert "currentExperiment" not in (status.get("canary") or {})
    assert [e.message for e in cluster.events("ExperimentCreated")] == [f"Created Experiment '{name}'"]


def test_a_failing_experiment_analysis_aborts_the_rollout(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    job_template(cluster, "smoke-fail", 1)
    stable_hash, canary_hash = start_update(cluster, canary(experiment_step("smoke-fail", duration="5m")))
    name = f"{NAME}-{canary_hash}-2-1"
    failed = wait_for(experiment_in_phase(cluster, name, "Failed", "Error"), "the Experiment to fail", LONG)
    status = wait_for(settled(cluster, NAME, "Degraded", stableRS=stable_hash), "the abort", LONG)
    assert status["abort"] is True
    phase = failed["status"]["phase"].lower()
    assert f"Experiment analysis phase is {phase}: " in status["message"], status["message"]
    wait_for(
        lambda: cluster.counts().get(f"{NAME}-{canary_hash}") == (0, 0),
        "the canary scaled away after the abort",
        LONG,
    )


def test_aborting_during_the_experiment_terminates_it(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    _, canary_hash = start_update(cluster, canary(experiment_step(None, duration="10m")))
    name = f"{NAME}-{canary_hash}-2-1"
    wait_for(experiment_in_phase(cluster, name, "Running"), "the Experiment to run", LONG)
    cluster.patch_status(NAME, operations.abort(cluster.rollout(NAME)).status)
    terminated = wait_for(
        lambda: experiments(cluster)[name] if experiments(cluster)[name]["spec"].get("terminate") else None,
        "spec.terminate on the Experiment",
    )
    assert terminated["spec"]["terminate"] is True
    wait_for(
        experiment_in_phase(cluster, name, "Successful", "Failed", "Error", "Inconclusive"), "its end", LONG
    )
    status = wait_for(settled(cluster, NAME, "Degraded"), "the aborted Rollout")
    assert "currentExperiment" not in (status.get("canary") or {})


def custom_object(
    cluster: Cluster, group: str, version: str, plural: str, name: str
) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = cluster.custom.get_namespaced_custom_object(
            group, version, cluster.namespace, plural, name
        )
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return found


def split_weights(cluster: Cluster) -> dict[str, int] | None:
    """SMI: the TrafficSplit's backends (the controller creates it)."""
    split = custom_object(cluster, "split.smi-spec.io", "v1alpha4", "trafficsplits", NAME)
    return None if split is None else {b["service"]: int(b["weight"]) for b in split["spec"]["backends"]}


def create_virtual_service(cluster: Cluster) -> None:
    route = [
        {"destination": {"host": f"{NAME}-{role}"}, "weight": w}
        for role, w in (("stable", 100), ("canary", 0))
    ]
    body = {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "VirtualService",
        "metadata": {"name": "shop"},
        "spec": {"hosts": ["shop"], "http": [{"name": "primary", "route": route}]},
    }
    cluster.custom.create_namespaced_custom_object(
        "networking.istio.io", "v1alpha3", cluster.namespace, "virtualservices", body
    )


def route_weights(cluster: Cluster) -> dict[str, int] | None:
    """Istio (host level): the destinations of the VirtualService's one HTTP route."""
    found = custom_object(cluster, "networking.istio.io", "v1alpha3", "virtualservices", "shop")
    if found is None:
        return None
    return {d["destination"]["host"]: int(d.get("weight", 0)) for d in found["spec"]["http"][0]["route"]}


ROUTERS = {
    "smi": ({"smi": {}}, lambda cluster: None, split_weights),
    "istio": ({"istio": {"virtualService": {"name": "shop"}}}, create_virtual_service, route_weights),
}


@pytest.mark.parametrize("router", sorted(ROUTERS))
def test_experiment_services_are_weighted_by_the_router_while_it_runs(
    controller: ControllerProcess, cluster: Cluster, router: str
) -> None:
    routing, setup, weights = ROUTERS[router]
    for service in (NAME, f"{NAME}-canary", f"{NAME}-stable"):
        cluster.create_service(service, NAME)
    setup(cluster)
    step = experiment_step(None, duration="20s", weight=5)
    step["templates"][0]["service"] = {"name": "exp-canary"}
    rollout = canary(
        step,
        hold=True,
        canaryService=f"{NAME}-canary",
        stableService=f"{NAME}-stable",
        trafficRouting=routing,
    )
    # an experiment Service exposes the container ports: without any, none is created (as Argo)
    rollout["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": 80}]
    _, canary_hash = start_update(cluster, rollout)
    name = f"{NAME}-{canary_hash}-2-1"
    wait_for(experiment_in_phase(cluster, name, "Running"), "the Experiment to run", LONG)
    experiment = experiments(cluster)[name]
    services = {t["name"]: t.get("serviceName") for t in experiment["status"]["templateStatuses"]}
    assert services["canary"] == "exp-canary"
    assert services["baseline"]
    expected = {f"{NAME}-canary": 20, "exp-canary": 5, services["baseline"]: 5, f"{NAME}-stable": 70}
    wait_for(lambda: weights(cluster) == expected, f"the {router} weights at {expected}", LONG)
    # the routing object is written before the status patch of the same pass
    additional = wait_for(
        lambda: cluster.status(NAME)["canary"]["weights"].get("additional"), "weights.additional in status"
    )
    assert [(d["serviceName"], d["weight"]) for d in additional] == [
        ("exp-canary", 5),
        (services["baseline"], 5),
    ]
    after = {f"{NAME}-canary": 60, f"{NAME}-stable": 40}
    wait_for(lambda: weights(cluster) == after, "the experiment weights removed at the next step", LONG)
    wait_for(
        lambda: "additional" not in cluster.status(NAME)["canary"]["weights"], "weights.additional dropped"
    )


def test_a_step_that_cannot_become_an_experiment_is_reported_and_waits(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    step = {"duration": "15s", "templates": [{"name": "preview", "specRef": "preview"}]}
    start_update(cluster, canary(step))
    event = wait_for(
        lambda: next(iter(cluster.events("ReconciliationError")), None), "a ReconciliationError Event", LONG
    )
    assert event.type == "Warning"
    assert "Invalid template step SpecRef: must be canary or stable" in event.message
    assert cluster.status(NAME)["currentStepIndex"] == 1
    assert experiments(cluster) == {}


def test_an_experiment_name_held_by_another_object_is_reported_not_taken_over(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    rollout = canary(experiment_step(None))
    canary_hash = hash_of(rollout, "nginx:1.28")
    name = f"{NAME}-{canary_hash}-2-1"
    labels = {"app": "someone-else"}
    foreign = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "templates": [
                {
                    "name": "other",
                    "replicas": 0,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                    },
                }
            ]
        },
    }
    cluster.custom.create_namespaced_custom_object(GROUP, VERSION, cluster.namespace, "experiments", foreign)
    start_update(cluster, rollout)
    event = wait_for(
        lambda: next(iter(cluster.events("ReconciliationError")), None), "a ReconciliationError Event", LONG
    )
    assert event.message == f"Experiment {name} already exists and is not owned by this Rollout"
    assert "ownerReferences" not in experiments(cluster)[name]["metadata"]
    assert "currentExperiment" not in (cluster.status(NAME).get("canary") or {})


def test_finished_experiments_beyond_the_history_limit_are_deleted(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    rollout = canary(experiment_step(None, duration="5s"))
    rollout["spec"]["analysis"] = {"successfulRunHistoryLimit": 0}
    _, canary_hash = start_update(cluster, rollout)
    name = f"{NAME}-{canary_hash}-2-1"
    wait_for(lambda: name in experiments(cluster), "the step's Experiment")
    # the step completes only on a Successful Experiment; with limit 0 it is deleted right after
    wait_for(settled(cluster, NAME, "Healthy", stableRS=canary_hash), "the promotion", LONG)
    wait_for(lambda: name not in experiments(cluster), "the finished Experiment deleted (limit 0)", LONG)
    assert controller.requests(kind="experiments", verb="DELETE") == 1
    assert any(e.involved_object.name == name for e in cluster.events("ExperimentSuccessful"))
