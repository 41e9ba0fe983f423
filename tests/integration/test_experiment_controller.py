# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""The Experiment controller on the devcluster (reference §8), driven through ``rollouts controller``.

Experiments run for real: template ReplicaSets get pods from the fake kubelet, the analysis is a
Job metric whose command really runs, and the controller is a separate process (SIGKILL is a
node dying). Waiting is polling with the harness's generous timeout; nothing asserts a duration.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException
from plugin_helpers import Plugin
from test_controller_deploy import forbidden, rendered, service_account_kubeconfig
from test_controller_harness import (
    GROUP,
    MERGE_PATCH,
    VERSION,
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    wait_for,
)

from rollouts.devcluster import DevCluster
from rollouts.hashes import pod_template_hash
from rollouts.manifests import apply_documents

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "experiment.yaml"
POD_HASH = "rollouts-pod-template-hash"


def example() -> tuple[dict[str, Any], dict[str, Any]]:
    """(AnalysisTemplate, Experiment) of ``examples/experiment.yaml``."""
    template, experiment = (d for d in yaml.safe_load_all(EXAMPLE.read_text()) if d)
    return template, experiment


def job_template(name: str, exit_code: int) -> dict[str, Any]:
    template, _ = example()
    template = copy.deepcopy(template)
    template["metadata"]["name"] = name
    container = template["spec"]["metrics"][0]["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["sh", "-c", f"echo {{{{args.candidate-hash}}}}; exit {exit_code}"]
    return template


def experiment_manifest(name: str, **spec: Any) -> dict[str, Any]:
    _, experiment = example()
    experiment = copy.deepcopy(experiment)
    experiment["metadata"]["name"] = name
    for template in experiment["spec"]["templates"]:
        template["service"] = {}  # named after the ReplicaSet: unique per test
    experiment["spec"].update(spec)
    return {key: value for key, value in experiment.items()}


class Experiments:
    """Experiment-specific helpers over the harness's `Cluster`."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.namespace = cluster.namespace

    def create(self, body: dict[str, Any], plural: str = "experiments") -> None:
        self.cluster.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, body)

    def get(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.cluster.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "experiments", name
        )
        return found

    def status(self, name: str) -> dict[str, Any]:
        return self.get(name).get("status") or {}

    def patch(self, name: str, patch: dict[str, Any]) -> None:
        self.cluster.custom.patch_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "experiments", name, patch, _content_type=MERGE_PATCH
        )

    def phase_is(self, name: str, phase: str) -> Any:
        def check() -> dict[str, Any] | None:
            status = self.status(name)
            return status if status.get("phase") == phase else None

        return check

    def runs(self) -> dict[str, Any]:
        items = self.cluster.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "analysisruns"
        )
        return {item["metadata"]["name"]: item for item in items["items"]}

    def services(self) -> set[str]:
        return {svc.metadata.name for svc in self.cluster.core.list_namespaced_service(self.namespace).items}

    def scaled_down(self, *names: str) -> bool:
        counts = self.cluster.counts()
        return all(counts.get(name, (1, 1))[0] == 0 for name in names)

    def reasons(self, kind: str = "Experiment") -> list[str]:
        return [e.reason for e in self.cluster.events() if e.involved_object.kind == kind]


@pytest.fixture
def experiments(cluster: Cluster) -> Experiments:
    return Experiments(cluster)


def test_an_experiment_runs_its_templates_and_analysis_to_success_then_scales_down(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    experiments.create(job_template("experiment-smoke", 0), "analysistemplates")
    manifest = experiment_manifest(
        "demo",  # the example's 20 s
        scaleDownDelaySeconds=3,
        analysisRunMetadata={"labels": {"team": "checkout"}, "annotations": {"ticket": "EX-1"}},
        measurementRetention=[{"metricName": "smoke", "limit": 2}],
    )
    experiments.create(manifest)

    running = wait_for(experiments.phase_is("demo", "Running"), "the experiment to run")
    assert running["availableAt"]
    statuses = {s["name"]: s for s in running["templateStatuses"]}
    assert {s["status"] for s in statuses.values()} == {"Running"}
    replica_sets = experiments.cluster.replica_sets()
    for template in manifest["spec"]["templates"]:
        rs = replica_sets[f"demo-{template['name']}"]
        expected = pod_template_hash(template["template"], None)
        assert rs.metadata.labels == {POD_HASH: expected}
        assert rs.spec.selector.match_labels[POD_HASH] == expected
        assert rs.metadata.annotations["experiment.argoproj.io/template-name"] == template["name"]
        assert rs.metadata.owner_references[0].kind == "Experiment"
        assert statuses[template["name"]]["serviceName"] == f"demo-{template['name']}"
        assert statuses[template["name"]]["podTemplateHash"] == expected
    assert {"demo-baseline", "demo-candidate"} <= experiments.services()

    done = wait_for(experiments.phase_is("demo", "Successful"), "the experiment to succeed")
    assert {s["status"] for s in done["templateStatuses"]} == {"Successful"}
    [smoke] = done["analysisRuns"]
    assert (smoke["name"], smoke["analysisRun"], smoke["phase"]) == ("smoke", "demo-smoke", "Successful")
    progressing = next(c for c in done["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ExperimentCompleted")
    run = experiments.runs()["demo-smoke"]
    candidate_hash = pod_template_hash(manifest["spec"]["templates"][1]["template"], None)
    assert run["spec"]["args"] == [{"name": "candidate-hash", "value": candidate_hash}]
    assert run["metadata"]["ownerReferences"][0]["name"] == "demo"
    assert run["metadata"]["labels"]["team"] == "checkout"
    assert run["metadata"]["annotations"]["ticket"] == "EX-1"
    assert run["spec"]["measurementRetention"] == [{"metricName": "smoke", "limit": 2}]

    wait_for(lambda: experiments.scaled_down("demo-baseline", "demo-candidate"), "the scale-down")
    wait_for(lambda: not {"demo-baseline", "demo-candidate"} & experiments.services(), "Services deleted")
    reasons = experiments.reasons()
    for reason in ("NewReplicaSetCreated", "TemplateRunning", "ExperimentRunning", "AnalysisRunSuccessful",
                   "TemplateSuccessful", "ExperimentSuccessful", "ScalingReplicaSet"):  # fmt: skip
        assert reason in reasons, reasons

    # Finished and idle: nothing more is written.
    wait_for(
        lambda: all(rs.status.replicas in (0, None) for rs in experiments.cluster.replica_sets().values()),
        "pods gone",
    )
    experiment_kinds = ("experiments", "replicasets", "services")  # not the Job metric's clean-up

    def experiment_writes() -> int:
        return sum(controller.writes(kind=kind) for kind in experiment_kinds)

    time.sleep(1)
    before = experiment_writes()
    time.sleep(4)
    assert experiment_writes() == before
    assert controller.requests(kind="replicasets", verb="POST") == 2
    assert controller.requests(kind="analysisruns", verb="POST") == 1

    # §10.1 metrics, read at scrape time.
    samples = controller.metrics()
    labels = {("namespace", experiments.namespace), ("name", "demo")}
    assert samples[("experiment_info", frozenset({*labels, ("phase", "Successful")}))] == 1
    assert samples[("experiment_phase", frozenset({*labels, ("phase", "Successful")}))] == 1
    assert samples[("experiment_phase", frozenset({*labels, ("phase", "Running")}))] == 0
    assert samples[("experiment_reconcile_count", frozenset(labels))] > 0
    assert samples.get(("experiment_reconcile_error_total", frozenset(labels)), 0) == 0


def test_a_failing_analysis_fails_the_experiment_and_scales_it_down(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    experiments.create(job_template("experiment-smoke", 1), "analysistemplates")
    experiments.create(experiment_manifest("bad", duration="5m", scaleDownDelaySeconds=0))

    failed = wait_for(experiments.phase_is("bad", "Failed"), "the experiment to fail")
    [run] = failed["analysisRuns"]
    assert (run["analysisRun"], run["phase"]) == ("bad-smoke", "Failed")
    assert failed["message"] == run.get("message", "")
    wait_for(lambda: experiments.scaled_down("bad-baseline", "bad-candidate"), "the scale-down")
    wait_for(lambda: not {"bad-baseline", "bad-candidate"} & experiments.services(), "Services deleted")
    assert "AnalysisRunFailed" in experiments.reasons()
    assert "ExperimentFailed" in experiments.reasons()
    assert {s["status"] for s in experiments.status("bad")["templateStatuses"]} == {"Successful"}


def test_terminate_ends_an_experiment_early_and_successfully(
    experiments: Experiments, controller: ControllerProcess, devcluster: DevCluster, capsys: Any
) -> None:
    plugin = Plugin(capsys, str(devcluster.kubeconfig), experiments.namespace)
    manifest = experiment_manifest("stop", scaleDownDelaySeconds=1)
    del manifest["spec"]["duration"]  # indefinite
    del manifest["spec"]["analyses"]
    experiments.create(manifest)
    wait_for(experiments.phase_is("stop", "Running"), "the experiment to run")

    code, out, _ = plugin("terminate", "experiment", "stop")
    assert (code, out.strip()) == (0, "experiment 'stop' terminated")
    done = wait_for(experiments.phase_is("stop", "Successful"), "the experiment to end")
    code, out, _ = plugin("get", "experiment", "stop")
    assert code == 0 and "Successful" in out, out
    assert {s["status"] for s in done["templateStatuses"]} == {"Successful"}
    wait_for(lambda: experiments.scaled_down("stop-baseline", "stop-candidate"), "the scale-down")
    deadline = experiments.cluster.replica_sets()["stop-baseline"].metadata.annotations["scale-down-deadline"]
    assert deadline.endswith("Z")


def test_an_invalid_spec_gets_the_condition_and_a_warning(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    manifest = experiment_manifest("twins")
    manifest["spec"]["templates"][1]["name"] = "baseline"
    experiments.create(manifest)

    message = "Experiment twins has repeated template name 'baseline' in templates"

    def invalid() -> dict[str, Any] | None:
        conditions = experiments.status("twins").get("conditions") or []
        return next((c for c in conditions if c["type"] == "InvalidSpec"), None)

    condition = wait_for(invalid, "the InvalidSpec condition")
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "True",
        "InvalidSpec",
        message,
    )

    def warnings() -> list[tuple[str, str, str]]:
        events = [e for e in experiments.cluster.events("InvalidSpec") if e.involved_object.name == "twins"]
        return [(e.type, e.message, e.involved_object.kind) for e in events]

    assert wait_for(warnings, "the InvalidSpec Event") == [("Warning", message, "Experiment")]
    assert experiments.cluster.replica_sets() == {}

    # Fixed: the condition goes and the experiment starts.
    experiments.patch("twins", {"spec": {"templates": experiment_manifest("twins")["spec"]["templates"]}})
    wait_for(
        lambda: invalid() is None and experiments.status("twins").get("phase"), "the fixed spec to start"
    )


def test_a_killed_controller_resumes_without_duplicates(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    experiments.create(job_template("experiment-smoke", 0), "analysistemplates")
    experiments.create(experiment_manifest("durable", duration="12s", scaleDownDelaySeconds=2))
    wait_for(lambda: experiments.status("durable").get("availableAt"), "the experiment to be available")
    wait_for(lambda: "durable-smoke" in experiments.runs(), "the AnalysisRun")
    controller.kill()
    controller.start()

    wait_for(experiments.phase_is("durable", "Successful"), "the experiment to succeed after the restart")
    wait_for(lambda: experiments.scaled_down("durable-baseline", "durable-candidate"), "the scale-down")
    assert set(experiments.cluster.replica_sets()) == {"durable-baseline", "durable-candidate"}
    assert set(experiments.runs()) == {"durable-smoke"}
    # The new process sent no create for what the old one had made.
    assert controller.requests(kind="replicasets", verb="POST") == 0
    assert controller.requests(kind="analysisruns", verb="POST") == 0


def test_the_deploy_rbac_is_enough_for_experiments(
    devcluster: DevCluster, api_client: Any, rollout_crds: list[str], experiments: Experiments, tmp_path: Path
) -> None:
    """Run as the ``argo-rollouts`` ServiceAccount of ``deploy/``: every write an experiment needs
    (ReplicaSets, Services created and deleted, AnalysisRuns, the status, Events) is allowed."""
    apply_documents(api_client, rendered(), "argo-rollouts")
    kubeconfig = service_account_kubeconfig(devcluster, api_client, tmp_path / "sa-kubeconfig")
    controller = ControllerProcess(kubeconfig, experiments.namespace, tmp_path / "controller.log").start()
    try:
        experiments.create(job_template("experiment-smoke", 0), "analysistemplates")
        experiments.create(experiment_manifest("rbac", duration="3s", scaleDownDelaySeconds=0))
        wait_for(experiments.phase_is("rbac", "Successful"), "the experiment to succeed")
        wait_for(lambda: not {"rbac-baseline", "rbac-candidate"} & experiments.services(), "Services deleted")
        assert forbidden(controller) == []
        assert controller.requests(kind="services", verb="DELETE") == 2
        assert controller.requests(kind="experiments", verb="PATCH") > 0
    finally:
        controller.stop()
        print(controller.log_tail(100))


def test_retry_runs_a_finished_experiment_again_with_a_new_run(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    experiments.create(job_template("experiment-smoke", 1), "analysistemplates")
    manifest = experiment_manifest("again", duration="1h", scaleDownDelaySeconds=60)
    manifest["spec"]["analyses"][0]["requiredForCompletion"] = True  # the run decides, not the hour
    experiments.create(manifest)
    wait_for(experiments.phase_is("again", "Failed"), "the first attempt to fail")

    def deadlines() -> dict[str, str] | None:
        found = {
            name: (rs.metadata.annotations or {}).get("scale-down-deadline")
            for name, rs in experiments.cluster.replica_sets().items()
        }
        return found if all(found.values()) else None

    first = wait_for(deadlines, "the first attempt's scale-down deadlines")

    fixed = job_template("experiment-smoke", 0)
    experiments.cluster.custom.patch_namespaced_custom_object(
        GROUP, VERSION, experiments.namespace, "analysistemplates", "experiment-smoke",
        {"spec": fixed["spec"]}, _content_type=MERGE_PATCH,
    )  # fmt: skip
    experiments.patch("again", {"status": None})  # what `kubectl rollouts retry experiment` sends

    done = wait_for(experiments.phase_is("again", "Successful"), "the retried experiment to succeed")
    assert done["analysisRuns"][0]["analysisRun"] == "again-smoke.1"
    assert {name: run["status"]["phase"] for name, run in experiments.runs().items()} == {
        "again-smoke": "Failed",
        "again-smoke.1": "Successful",
    }
    # The first attempt's deadlines were dropped when it ran again; the end set new ones.
    second = wait_for(deadlines, "the second attempt's scale-down deadlines")
    assert all(second[name] > first[name] for name in first), (first, second)
    assert all(spec == 1 for spec, _ in experiments.cluster.counts().values())  # waiting for them


def test_a_replica_set_name_taken_by_another_object_ends_the_experiment_in_error(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    manifest = experiment_manifest("clash", duration="1m")
    del manifest["spec"]["analyses"]
    foreign = copy.deepcopy(manifest["spec"]["templates"][0])
    experiments.cluster.apps.create_namespaced_replica_set(
        experiments.namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "clash-baseline", "labels": {POD_HASH: "someone-else"}},
            "spec": {"replicas": 0, "selector": foreign["selector"], "template": foreign["template"]},
        },
    )
    experiments.create(manifest)

    failed = wait_for(experiments.phase_is("clash", "Error"), "the experiment to end in Error")
    baseline = next(s for s in failed["templateStatuses"] if s["name"] == "baseline")
    assert baseline["status"] == "Error"
    assert baseline["collisionCount"] == 1
    assert "clash-baseline" in baseline["message"]
    assert "ReplicaSetCreateError" in experiments.reasons()
    wait_for(lambda: experiments.scaled_down("clash-candidate"), "the other template scaled down")
    assert experiments.cluster.replica_sets()["clash-baseline"].metadata.owner_references is None


def test_a_template_short_of_its_size_past_the_progress_deadline_fails_the_experiment(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    manifest = experiment_manifest("late", progressDeadlineSeconds=10)
    del manifest["spec"]["duration"]
    del manifest["spec"]["analyses"]
    # The fake kubelet keeps a container whose command does not exist in CrashLoopBackOff: never Ready.
    manifest["spec"]["templates"][1]["template"]["spec"]["containers"][0]["command"] = ["/no/such/command"]
    experiments.create(manifest)

    failed = wait_for(experiments.phase_is("late", "Failed"), "the progress deadline to fail it")
    assert failed["message"] == "Template 'candidate' exceeded its progressDeadlineSeconds (10)"
    assert {s["name"]: s["status"] for s in failed["templateStatuses"]}["candidate"] == "Failed"

    def statuses() -> dict[str, str]:
        return {s["name"]: s["status"] for s in experiments.status("late")["templateStatuses"]}

    # the next pass sees the experiment terminating: the healthy template ends Successful
    wait_for(lambda: statuses() == {"baseline": "Successful", "candidate": "Failed"}, "the final statuses")
    assert "TemplateFailed" in experiments.reasons()
    assert "availableAt" not in failed


def test_experiments_of_another_controller_instance_are_left_alone(
    experiments: Experiments, controller: ControllerProcess
) -> None:
    foreign = experiment_manifest("theirs")
    del foreign["spec"]["analyses"]
    foreign["metadata"]["labels"] = {"argo-rollouts.argoproj.io/controller-instance-id": "other"}
    experiments.create(foreign)
    ours = experiment_manifest("ours")
    del ours["spec"]["analyses"]
    experiments.create(ours)

    wait_for(experiments.phase_is("ours", "Running"), "our experiment to run")  # events were processed
    assert experiments.status("theirs") == {}
    assert not any(name.startswith("theirs-") for name in experiments.cluster.replica_sets())
