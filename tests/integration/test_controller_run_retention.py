# ruff: noqa: F401, F811 - pytest fixtures imported from other modules are parameters by design
"""AnalysisRun retention on the devcluster (§3.9): old runs go, the newest are kept, once each.

A canary with an analysis step (a Job that exits 0, so every run is Successful) is updated
through several revisions with ``successfulRunHistoryLimit: 1``. Once a revision is promoted its
run is no longer current, so only the newest finished run may stay; every older one is deleted
with exactly one DELETE (the controller remembers its deletions until the watch catches up), and
a Rollout with nothing left to do sends no DELETE however often it is reconciled.
"""

from __future__ import annotations

from typing import Any

from test_controller_experiment_step import hash_of, job_template
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

NAME = "kept"
LONG = 180.0  # pods must start and a Job must run per revision: generous, never asserted
IMAGES = ("nginx:1.28", "nginx:1.29", "nginx:1.30")


def analysis_runs(cluster: Cluster) -> dict[str, dict[str, Any]]:
    listed = cluster.custom.list_namespaced_custom_object(GROUP, VERSION, cluster.namespace, "analysisruns")
    return {item["metadata"]["name"]: item for item in listed["items"]}


def test_only_the_newest_successful_run_is_kept_and_each_old_one_is_deleted_once(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    job_template(cluster, "smoke", 0)
    analysis = {
        "templates": [{"templateName": "smoke"}],
        "args": [{"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}],
    }
    rollout = rollout_manifest(
        NAME, {"canary": {"steps": [{"setWeight": 50}, {"analysis": analysis}]}}, replicas=1
    )
    rollout["spec"]["analysis"] = {"successfulRunHistoryLimit": 1}
    cluster.create_rollout(rollout)
    wait_for(settled(cluster, NAME, "Healthy", stableRS=hash_of(rollout, "nginx:1.27")), "the initial deploy")

    names = []
    for revision, image in enumerate(IMAGES, start=2):
        cluster.set_image(NAME, image)
        pod_hash = hash_of(rollout, image)
        wait_for(settled(cluster, NAME, "Healthy", stableRS=pod_hash), f"revision {revision} promoted", LONG)
        names.append(f"{NAME}-{pod_hash}-{revision}-1")
        run = analysis_runs(cluster).get(names[-1])
        assert run is None or run["status"]["phase"] == "Successful", run

    newest = names[-1]
    wait_for(lambda: set(analysis_runs(cluster)) == {newest}, "only the newest run left", LONG)
    run = analysis_runs(cluster)[newest]
    assert run["status"]["phase"] == "Successful"
    assert run["metadata"]["labels"]["rollouts-pod-template-hash"] == hash_of(rollout, IMAGES[-1])
    assert controller.requests(kind="analysisruns", verb="DELETE") == len(names) - 1
    for name in names[:-1]:
        assert controller.requests(kind="analysisruns", verb="DELETE", name=name) == 1, name

    # Idle: more passes (nudged by annotation edits) find nothing more to delete.
    for nudge in range(3):
        before = controller.passes(NAME)
        cluster.patch_rollout(NAME, {"metadata": {"annotations": {"test.rollouts.dev/nudge": str(nudge)}}})
        wait_for(lambda before=before: controller.passes(NAME) > before, "another pass")
    assert controller.requests(kind="analysisruns", verb="DELETE") == len(names) - 1
    assert set(analysis_runs(cluster)) == {newest}
