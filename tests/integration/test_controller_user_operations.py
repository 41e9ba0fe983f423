# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""No user operation is ever lost (issue 13 item 8), on the devcluster.

A user's abort, retry, promote or pause may land while a reconcile pass is computing from the
older Rollout. Every write the controller makes to the Rollout carries the ``resourceVersion``
the pass read (or its own previous write returned), so such a write fails with 409 and the
pass re-reads and plans again instead of overwriting the user's change.

* a busy canary (cycling through weights, timed and indefinite pauses, new revisions) gets the
  plugin's exact patches at random (seeded) moments over hundreds of passes; after each one the
  test waits for the controller's own reaction to it (a phase, an observed generation: fields
  only a pass that saw the operation writes) — a lost operation never shows it and fails.
  Status patches are diffs, so a stale pass only overwrites a field it changed itself, and
  random moments rarely hit one: this is the end-to-end check; the race itself is forced
  deterministically in ``test_controller_apply_conflict.py`` and the unit tests;
* the case seen on the devcluster: a blue-green Rollout aborted by a failed pre-promotion
  analysis, its args fixed and ``retry`` sent right after, is retried and promoted;
* a quiet canary update with no user about sends no Rollout read and gets no 409: guarding the
  writes costs no request in the ordinary case.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from kubernetes.client.exceptions import ApiException
from test_controller_harness import (
    GROUP,
    MERGE_PATCH,
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

CANARY = "busy"
SHOP = "shop"
SEED = 20240501
MIN_PASSES = 200
STEPS = [
    {"setWeight": 25},
    {"pause": {"duration": "1s"}},
    {"setWeight": 50},
    {"pause": {}},
    {"setWeight": 75},
    {"pause": {"duration": "1s"}},
    {"setWeight": 100},
    {"pause": {}},
]
IMAGES = ("nginx:1.27", "nginx:1.28")


def conflicts(controller: ControllerProcess, kind: str) -> int:
    """Answers 409 the controller got for requests on ``kind``."""
    return int(
        sum(
            value
            for (metric, labels), value in controller.metrics().items()
            if metric == "controller_clientset_k8s_request_total"
            and dict(labels).get("kind") == kind
            and dict(labels).get("status_code") == "409"
        )
    )


def guarded_status_patch(cluster: Cluster, name: str, patch: dict[str, Any], version: str) -> bool:
    """A status merge patch refused unless the Rollout is still at ``version`` (``False``)."""
    try:
        cluster.custom.patch_namespaced_custom_object_status(
            GROUP,
            VERSION,
            cluster.namespace,
            "rollouts",
            name,
            {**patch, "metadata": {"resourceVersion": version}},
            _content_type=MERGE_PATCH,
        )
    except ApiException as error:
        if error.status == 409:
            return False
        raise
    return True


@dataclass(frozen=True)
class Operation:
    """One user operation sent, and the controller's reaction that proves it was taken."""

    name: str
    taken: Callable[[dict[str, Any]], bool]


def observed(rollout: dict[str, Any]) -> bool:
    status = rollout.get("status") or {}
    return bool(status.get("observedGeneration") == str(rollout["metadata"]["generation"]))


def fire(cluster: Cluster, chooser: random.Random) -> Operation | None:
    """Send the plugin's patch of an operation that applies to the Rollout as it is now.

    abort/retry/pause/resume are the plugin's patches as they are (they do not depend on the
    state). promote computes ``currentStepIndex`` from the state read, so it is sent with that
    read's resourceVersion: a controller write in between would otherwise make the *test* move
    the step back; on 409 nothing was sent and another moment is picked.
    """
    rollout = cluster.rollout(CANARY)
    status = rollout.get("status") or {}
    spec = rollout["spec"]
    updating = bool(status.get("currentPodHash")) and status.get("currentPodHash") != status.get("stableRS")
    if status.get("abort"):
        cluster.patch_status(CANARY, operations.retry(rollout).status)
        return Operation(
            "retry", lambda r: not r["status"].get("abort") and r["status"].get("phase") != "Degraded"
        )
    if spec.get("paused"):
        cluster.patch_rollout(CANARY, operations.resume(rollout).spec)
        return Operation("resume", lambda r: observed(r) and r["status"].get("message") != "manually paused")
    if not updating:
        if chooser.random() < 0.5:
            image = (
                IMAGES[1] if spec["template"]["spec"]["containers"][0]["image"] == IMAGES[0] else IMAGES[0]
            )
            cluster.set_image(CANARY, image)  # not an operation under test: keeps the canary busy
            return None
        cluster.patch_rollout(CANARY, operations.pause(rollout).spec)
        return Operation("pause", lambda r: observed(r) and r["status"].get("message") == "manually paused")
    choices = ["abort", "pause"] + (["promote"] * 2 if status.get("pauseConditions") else [])
    choice = chooser.choice(choices)
    if choice == "abort":
        cluster.patch_status(CANARY, operations.abort(rollout).status)
        return Operation(
            "abort", lambda r: r["status"].get("abort") is True and r["status"].get("phase") == "Degraded"
        )
    if choice == "pause":
        cluster.patch_rollout(CANARY, operations.pause(rollout).spec)
        return Operation("pause", lambda r: observed(r) and r["status"].get("message") == "manually paused")
    index = int(status.get("currentStepIndex") or 0)
    patches = operations.promote(rollout)
    assert patches.spec is None and patches.status is not None
    if not guarded_status_patch(
        cluster, CANARY, dict(patches.status), rollout["metadata"]["resourceVersion"]
    ):
        return None

    def promoted(r: dict[str, Any]) -> bool:
        # the step after a pause is a setWeight: the controller's pass either works on it
        # (Progressing) or has already reached a later pause; never Paused at ``index`` again
        now = r["status"]
        at = int(now.get("currentStepIndex") or 0)
        if now.get("stableRS") == now.get("currentPodHash") and now.get("phase") == "Healthy":
            return True
        return at > index and (now.get("phase") != "Paused" or at > index + 1)

    return Operation("promote", promoted)


def test_user_operations_at_random_moments_are_never_lost(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    chooser = random.Random(SEED)
    manifest = rollout_manifest(CANARY, {"canary": {"steps": STEPS}}, replicas=4, image=IMAGES[0])
    cluster.create_rollout(manifest)
    stable = pod_template_hash(manifest["spec"]["template"], None)
    wait_for(settled(cluster, CANARY, "Healthy", stableRS=stable), "the initial deploy")
    cluster.set_image(CANARY, IMAGES[1])
    taken: dict[str, int] = {}
    start = controller.passes(CANARY)
    while controller.passes(CANARY) - start < MIN_PASSES or len(taken) < 5:
        time.sleep(chooser.uniform(0.0, 0.6))  # a random moment of the busy canary's passes
        operation = fire(cluster, chooser)
        if operation is None:
            continue

        def reacted(check: Callable[[dict[str, Any]], bool] = operation.taken) -> dict[str, Any] | None:
            rollout = cluster.rollout(CANARY)
            return rollout if check(rollout) else None

        wait_for(reacted, f"the controller to take {operation.name} (operation {sum(taken.values()) + 1})")
        taken[operation.name] = taken.get(operation.name, 0) + 1
    print(f"operations taken: {taken}; passes: {controller.passes(CANARY) - start}")
    refused = conflicts(controller, "rollouts/status"), conflicts(controller, "rollouts")
    print(f"409 answers (status, spec/metadata): {refused}")
    assert set(taken) == {"abort", "retry", "pause", "resume", "promote"}


# -- the case seen on the devcluster


def exit_code_template(cluster: Cluster, name: str) -> None:
    """An AnalysisTemplate whose Job exits with the ``code`` argument."""
    container = {"name": "check", "image": "busybox", "command": ["sh", "-c", "exit {{args.code}}"]}
    job = {
        "spec": {
            "backoffLimit": 0,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
        }
    }
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name},
        "spec": {"args": [{"name": "code"}], "metrics": [{"name": "smoke", "provider": {"job": job}}]},
    }
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "analysistemplates", body
    )


def pre_promotion(code: str) -> dict[str, Any]:
    return {"templates": [{"templateName": "exit-code"}], "args": [{"name": "code", "value": code}]}


def test_retry_right_after_fixing_the_failed_pre_promotion_analysis_args_is_taken(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    exit_code_template(cluster, "exit-code")
    for service in (f"{SHOP}-active", f"{SHOP}-preview"):
        cluster.create_service(service, SHOP)
    strategy = {
        "blueGreen": {
            "activeService": f"{SHOP}-active",
            "previewService": f"{SHOP}-preview",
            "prePromotionAnalysis": pre_promotion("1"),
        }
    }
    manifest = rollout_manifest(SHOP, strategy, replicas=2)
    cluster.create_rollout(manifest)
    blue = pod_template_hash(manifest["spec"]["template"], None)
    wait_for(settled(cluster, SHOP, "Healthy", stableRS=blue), "the initial deploy")
    cluster.set_image(SHOP, "nginx:1.28")
    status = wait_for(settled(cluster, SHOP, "Degraded", abort=True), "the failed pre-promotion analysis")
    failed = status["blueGreen"]["prePromotionAnalysisRunStatus"]["name"]
    green = status["currentPodHash"]

    cluster.patch_rollout(
        SHOP, {"spec": {"strategy": {"blueGreen": {"prePromotionAnalysis": pre_promotion("0")}}}}
    )
    cluster.patch_status(SHOP, operations.retry(cluster.rollout(SHOP)).status)

    status = wait_for(settled(cluster, SHOP, "Healthy", stableRS=green), "the retried promotion")
    assert not status.get("abort") and "abortedAt" not in status
    assert cluster.service_selector(f"{SHOP}-active")["rollouts-pod-template-hash"] == green
    listed = cast(
        dict[str, Any],
        cluster.custom.list_namespaced_custom_object(GROUP, VERSION, cluster.namespace, "analysisruns"),
    )
    runs = {run["metadata"]["name"]: (run["status"]["phase"], run["spec"]["args"]) for run in listed["items"]}
    assert runs == {  # the retry started a new run with the fixed args; it gated the promotion
        failed: ("Failed", [{"name": "code", "value": "1"}]),
        f"{failed}.1": ("Successful", [{"name": "code", "value": "0"}]),
    }


# -- the price: none


def promoted(cluster: Cluster, name: str, revision: int) -> Callable[[], bool]:
    def check() -> bool:
        annotations = cluster.rollout(name)["metadata"].get("annotations") or {}
        current = annotations.get("rollout.argoproj.io/revision") == str(revision)
        return current and settled(cluster, name, "Healthy")() is not None

    return check


def test_a_quiet_update_sends_no_rollout_read_and_meets_no_conflict(
    controller: ControllerProcess, cluster: Cluster
) -> None:
    """New revisions make passes that write the revision annotation and then the status: the
    status patch must be guarded by the version the annotation write returned, not 409 on it."""
    steps = [{"setWeight": 50}, {"pause": {"duration": "1s"}}]
    manifest = rollout_manifest("quiet", {"canary": {"steps": steps}}, replicas=2, image=IMAGES[0])
    cluster.create_rollout(manifest)
    wait_for(settled(cluster, "quiet", "Healthy"), "the initial deploy")
    for revision, image in enumerate((IMAGES[1], IMAGES[0], IMAGES[1]), start=2):
        cluster.set_image("quiet", image)
        wait_for(promoted(cluster, "quiet", revision), f"revision {revision} promoted")
    assert controller.requests(kind="rollouts", verb="PATCH") >= 4  # one revision annotation each
    assert controller.requests(kind="rollouts", verb="GET") == 0
    assert conflicts(controller, "rollouts") == conflicts(controller, "rollouts/status") == 0
