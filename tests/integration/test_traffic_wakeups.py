# ruff: noqa: F401, F811 - pytest fixtures imported from the harness are parameters by design
"""A routing object created or edited after its Rollout wakes the Rollout (`controller.wakeups`).

The Rollout is created first, naming a stable Ingress / VirtualService that does not exist yet:
its first pass fails with ``TrafficRoutingError`` and the loop would look again only after
``UNSUPPORTED_RETRY`` (60 s). Creating the object must wake it at once. The wait below is
bounded by half that retry — not a speed limit on the controller, but the only thing that tells
the watch's wake-up apart from the retry that would also, eventually, make progress. (While the object
is missing the ReplicaSet is created at 0 replicas: Argo routes before it scales.)
"""

from __future__ import annotations

import pytest
from test_controller_harness import (
    Cluster,
    ControllerProcess,
    cluster,
    controller,
    rollout_crds,
    settled,
    wait_for,
)
from test_traffic_apply import Objects, objects
from test_traffic_controller import CASES, NAME, REPLICAS, RouterCase, hash_of, routed_rollout

from rollouts.controller.schedule import UNSUPPORTED_RETRY

LATE_CASES = [case for case in CASES if case.name in ("nginx", "istio")]


@pytest.mark.parametrize("case", LATE_CASES, ids=[case.name for case in LATE_CASES])
def test_a_routing_object_created_after_its_rollout_wakes_it(
    controller: ControllerProcess, cluster: Cluster, objects: Objects, case: RouterCase
) -> None:
    cluster.create_service(f"{NAME}-canary", NAME)
    cluster.create_service(f"{NAME}-stable", NAME)
    cluster.create_rollout(routed_rollout(case.traffic_routing))
    stable_hash = hash_of("nginx:1.27")
    wait_for(lambda: cluster.events("TrafficRoutingError"), "the missing routing object to be reported")
    stable_rs = f"{NAME}-{stable_hash}"
    assert cluster.counts() == {stable_rs: (0, 0)}, "not scaled up while the routing object is missing"
    passes_before = controller.passes(NAME)

    case.setup(objects)
    wait_for(
        lambda: cluster.counts()[stable_rs][0] == REPLICAS,
        "the update to proceed without waiting for the retry",
        timeout=UNSUPPORTED_RETRY / 2,
    )
    wait_for(settled(cluster, NAME, "Healthy", stableRS=stable_hash), "the initial deploy")
    assert case.weight(objects) == 0
    assert controller.passes(NAME) > passes_before
    reported = cluster.events("TrafficRoutingError")
    assert [(event.count, event.type) for event in reported] == [(1, "Warning")]
