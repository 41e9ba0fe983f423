# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""Two ``rollouts controller`` processes with ``--leader-elect`` on the devcluster.

Both watch the test's namespace and campaign for the Lease ``argo-rollouts-controller-lock`` in
it (short durations: lease 4s, renew 3s, retry 1s). Exactly one leads; the other stays healthy
but sends nothing except reading the Lease. A SIGKILLed leader is replaced once its Lease
expires and the canary carries on; a SIGTERMed leader releases the Lease so the other takes over
without waiting for expiry (checked with a Lease far longer than the wait); a leader whose Lease
is taken from under it, or that cannot renew within the deadline (a ValidatingAdmissionPolicy
refuses its updates), stops with a non-zero exit, as client-go's ``OnStoppedLeading`` does.
Last, the deploy/ RBAC is enough to campaign in the controller's own namespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from test_controller_deploy import forbidden, rendered, service_account_kubeconfig
from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    rollout_crds,
    rollout_manifest,
    settled,
    wait_for,
)

from rollouts.devcluster import DevCluster
from rollouts.manifests import apply_documents
from rollouts.planner import operations

LEASE = "argo-rollouts-controller-lock"
NAME = "web"
SHORT = (
    "--leader-election-lease-duration=4s",
    "--leader-election-renew-deadline=3s",
    "--leader-election-retry-period=1s",
)
# For the release check: a Lease nobody could take over by expiry within the test's wait.
LONG = (
    "--leader-election-lease-duration=600s",
    "--leader-election-renew-deadline=300s",
    "--leader-election-retry-period=1s",
)
IDENTITY = re.compile(r"attempting to acquire Lease \S+ as (\S+)")

Candidates = Callable[..., ControllerProcess]


@pytest.fixture
def candidates(
    devcluster: DevCluster, namespace: str, rollout_crds: list[str], tmp_path: Path
) -> Iterator[Candidates]:
    started: list[ControllerProcess] = []

    def start(label: str, timings: tuple[str, ...] = SHORT) -> ControllerProcess:
        args = ("--leader-elect=true", f"--leader-election-namespace={namespace}", *timings)
        process = ControllerProcess(devcluster.kubeconfig, namespace, tmp_path / f"{label}.log", args)
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        for process in started:
            process.stop()
            print(f"--- {process.log_path.name} (tail) ---\n{process.log_tail(80)}")


def identity(process: ControllerProcess) -> str:
    found = IDENTITY.search(process.log_path.read_text(errors="replace"))
    assert found, "the controller logged no election identity"
    return found.group(1)


def leading(process: ControllerProcess) -> bool:
    return process.metrics().get(("leader_election_master_status", frozenset({("name", LEASE)}))) == 1.0


def lease(api_client: Any, namespace: str) -> Any:
    return client.CoordinationV1Api(api_client).read_namespaced_lease(LEASE, namespace)


def held_by(api_client: Any, namespace: str, holder: str) -> Callable[[], Any]:
    def check() -> Any:
        try:
            found = lease(api_client, namespace)
        except client.ApiException:
            return None
        return found if found.spec.holder_identity == holder else None

    return check


def elect_first(
    start: Candidates, api_client: Any, namespace: str, timings: tuple[str, ...] = SHORT
) -> tuple[ControllerProcess, ControllerProcess]:
    """Start one candidate, let it lead, then start the second: which one leads is known."""
    leader = start("first", timings)
    wait_for(lambda: leading(leader), "the first controller to lead")
    follower = start("second", timings)
    wait_for(held_by(api_client, namespace, identity(leader)), "the Lease to name the first controller")
    assert not leading(follower)
    return leader, follower


def rollout_writes(process: ControllerProcess) -> int:
    return process.writes(kind="rollouts") + process.writes(kind="rollouts/status")


def canary() -> dict[str, Any]:
    steps = [{"setWeight": 40}, {"pause": {}}, {"setWeight": 80}, {"pause": {"duration": 1}}]
    return rollout_manifest(NAME, {"canary": {"steps": steps}}, replicas=5)


def promote(cluster: Cluster) -> None:
    cluster.patch_status(NAME, operations.promote(cluster.rollout(NAME)).status)


def test_one_leads_the_follower_writes_nothing_and_takes_over_when_the_leader_is_killed(
    candidates: Candidates, cluster: Cluster, api_client: Any, namespace: str
) -> None:
    leader, follower = elect_first(candidates, api_client, namespace)
    assert (
        wait_for(
            held_by(api_client, namespace, identity(leader)), "the leader's Lease"
        ).spec.lease_duration_seconds
        == 4
    )

    cluster.create_rollout(canary())
    wait_for(settled(cluster, NAME, "Healthy"), "the initial deploy")
    cluster.set_image(NAME, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Paused", currentStepIndex=1), "the first pause")

    # The follower only reads the Lease: no watch-driven writes, no Events, no Lease writes.
    assert follower.writes() == 0, follower.metrics()
    assert follower.requests(kind="leases", verb="GET") > 0
    assert follower.requests() == follower.requests(kind="leases")
    assert follower.passes(NAME) == 0
    assert rollout_writes(leader) > 0 and leader.writes(kind="replicasets") > 0
    assert not leading(follower)

    transitions = lease(api_client, namespace).spec.lease_transitions
    leader.kill()
    wait_for(held_by(api_client, namespace, identity(follower)), "the follower to take the expired Lease")
    wait_for(lambda: leading(follower), "the follower to report leading")
    assert lease(api_client, namespace).spec.lease_transitions == transitions + 1
    wait_for(follower._healthy, "/healthz from the new leader (now kopf's endpoint)")

    promote(cluster)
    status = wait_for(settled(cluster, NAME, "Healthy"), "the canary to finish under the new leader")
    assert status["currentStepIndex"] == 4
    assert rollout_writes(follower) > 0 and follower.writes(kind="replicasets") > 0


def test_a_stopped_leader_releases_the_lease_and_the_other_takes_over_at_once(
    candidates: Candidates, cluster: Cluster, api_client: Any, namespace: str
) -> None:
    leader, follower = elect_first(candidates, api_client, namespace, LONG)
    cluster.create_rollout(rollout_manifest(NAME, {"canary": {}}, replicas=3))
    wait_for(settled(cluster, NAME, "Healthy"), "the deploy under the first leader")

    leader.stop()  # SIGTERM
    assert leader.process is not None and leader.process.returncode == 0, leader.log_tail()
    assert "released Lease" in leader.log_tail(200)
    # Without the release this would take the 600s lease duration, far beyond the wait.
    wait_for(held_by(api_client, namespace, identity(follower)), "the follower to take the released Lease")
    wait_for(lambda: leading(follower), "the follower to report leading")

    cluster.set_image(NAME, "nginx:1.28")
    wait_for(settled(cluster, NAME, "Healthy"), "the update under the second leader")
    assert rollout_writes(follower) > 0

    # A follower stopped while campaigning holds nothing: it exits cleanly and wrote nothing.
    standby = candidates("third", LONG)
    assert not leading(standby) and standby.writes() == 0
    standby.stop()
    assert standby.process is not None and standby.process.returncode == 0, standby.log_tail()
    assert lease(api_client, namespace).spec.holder_identity == identity(follower)


def test_a_leader_whose_lease_is_taken_stops_with_a_non_zero_exit(
    candidates: Candidates, api_client: Any, namespace: str
) -> None:
    leader = candidates("only")
    wait_for(lambda: leading(leader), "the controller to lead")
    wait_for(held_by(api_client, namespace, identity(leader)), "its Lease")

    def take_lease() -> bool:
        current = lease(api_client, namespace)
        current.spec.holder_identity = "intruder"
        current.spec.lease_duration_seconds = 600
        try:  # the leader renews every second: a 409 just means read again
            client.CoordinationV1Api(api_client).replace_namespaced_lease(LEASE, namespace, current)
        except client.ApiException as error:
            if error.status != 409:
                raise
            return False
        return True

    wait_for(take_lease, "the Lease to be taken from the leader")

    assert leader.process is not None
    assert leader.process.wait(timeout=60) == 1
    assert "leader election lost" in leader.log_tail(200)
    assert lease(api_client, namespace).spec.holder_identity == "intruder"  # a lost leader releases nothing


def test_the_deploy_rbac_lets_the_controller_campaign_in_its_own_namespace(
    devcluster: DevCluster, api_client: Any, rollout_crds: list[str], namespace: str, tmp_path: Path
) -> None:
    apply_documents(api_client, rendered(), "argo-rollouts")
    kubeconfig = service_account_kubeconfig(devcluster, api_client, tmp_path / "sa-kubeconfig")
    args = ("--leader-elect=true", "--leader-election-namespace=argo-rollouts", *SHORT)
    controller = ControllerProcess(kubeconfig, namespace, tmp_path / "sa.log", args).start()
    try:
        wait_for(lambda: leading(controller), "the controller to lead as the argo-rollouts ServiceAccount")
        wait_for(held_by(api_client, "argo-rollouts", identity(controller)), "the Lease in argo-rollouts")
        assert controller.writes(kind="leases") > 0
        assert forbidden(controller) == []
    finally:
        controller.stop()
        print(f"--- sa.log (tail) ---\n{controller.log_tail(80)}")
    assert controller.process is not None and controller.process.returncode == 0
    assert lease(api_client, "argo-rollouts").spec.holder_identity == ""  # released on SIGTERM


def deny_lease_updates(api_client: Any, namespace: str) -> Callable[[], None]:
    """A ValidatingAdmissionPolicy refusing every Lease update in ``namespace``; returns its undo."""
    name = f"deny-lease-updates-{namespace}"
    custom = client.CustomObjectsApi(api_client)
    group, version = "admissionregistration.k8s.io", "v1"
    custom.create_cluster_custom_object(
        group,
        version,
        "validatingadmissionpolicies",
        {
            "apiVersion": f"{group}/{version}",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {
                    "resourceRules": [
                        {
                            "apiGroups": ["coordination.k8s.io"],
                            "apiVersions": ["v1"],
                            "operations": ["UPDATE"],
                            "resources": ["leases"],
                        }
                    ]
                },
                "validations": [{"expression": "false", "message": "renewals refused by the test"}],
            },
        },
    )
    custom.create_cluster_custom_object(
        group,
        version,
        "validatingadmissionpolicybindings",
        {
            "apiVersion": f"{group}/{version}",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {
                "policyName": name,
                "validationActions": ["Deny"],
                "matchResources": {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                },
            },
        },
    )

    def undo() -> None:
        custom.delete_cluster_custom_object(group, version, "validatingadmissionpolicybindings", name)
        custom.delete_cluster_custom_object(group, version, "validatingadmissionpolicies", name)

    return undo


def test_a_leader_that_cannot_renew_within_the_deadline_stops_with_a_non_zero_exit(
    candidates: Candidates, api_client: Any, namespace: str
) -> None:
    leader = candidates("only")
    wait_for(lambda: leading(leader), "the controller to lead")
    holder = identity(leader)
    undo = deny_lease_updates(api_client, namespace)
    try:
        assert leader.process is not None
        assert leader.process.wait(timeout=60) == 1
    finally:
        undo()
    log = leader.log_tail(400)
    assert "renewals refused by the test" in log and "leader election lost" in log
    # It stopped on its own deadline: the Lease still names it (nobody took it, nothing released).
    assert lease(api_client, namespace).spec.holder_identity == holder
