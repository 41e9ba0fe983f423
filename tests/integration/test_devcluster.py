"""The devcluster's control plane behaves like a real cluster, and starts and stops cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from rollouts.devcluster import DevCluster, DevClusterError, addons, processes

T = TypeVar("T")
WAIT = 120.0  # generous: the machine is shared; nothing here measures speed


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; last seen: {last!r}")


def labels(name: str) -> dict[str, str]:
    return {"app": name}


def pod_template(name: str) -> client.V1PodTemplateSpec:
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels(name)),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx:1.27")]),
    )


def create_replica_set(api_client: Any, namespace: str, name: str, replicas: int) -> None:
    client.AppsV1Api(api_client).create_namespaced_replica_set(
        namespace,
        client.V1ReplicaSet(
            metadata=client.V1ObjectMeta(name=name), spec=replicated(client.V1ReplicaSetSpec, name, replicas)
        ),
    )


def replicated(spec_class: Callable[..., T], name: str, replicas: int) -> T:
    """The spec of a Deployment or ReplicaSet of ``replicas`` pods labelled ``app=name``."""
    return spec_class(
        replicas=replicas,
        selector=client.V1LabelSelector(match_labels=labels(name)),
        template=pod_template(name),
    )


def absent(read: Callable[[], object]) -> bool:
    """Whether reading the object answers 404."""
    try:
        read()
    except ApiException as error:
        if error.status == 404:
            return True
        raise
    return False


def ready_pods(core: client.CoreV1Api, namespace: str, name: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app={name}").items
    return [
        pod
        for pod in pods
        if pod.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))
    ]


def test_api_answers_with_the_pinned_version(devcluster: DevCluster, api_client: Any) -> None:
    version = client.VersionApi(api_client).get_code()
    state = devcluster.state()
    assert state is not None
    assert version.git_version == state.versions["kubernetes"]
    assert state.versions["kubernetes"].startswith("v1.")
    # /readyz is public (system:public-info-viewer), as in any cluster.
    readyz = api_client.call_api("GET", f"{api_client.configuration.host}/readyz")
    assert (readyz.status, readyz.read()) == (200, b"ok")
    assert state.server.startswith("https://127.0.0.1:")


def test_rbac_is_enforced(devcluster: DevCluster, api_client: Any, namespace: str) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="nobody"))
    )
    request = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600)
    )
    token = core.create_namespaced_service_account_token("nobody", namespace, request).status.token
    with devcluster.api_client(token=token) as as_nobody:
        with pytest.raises(ApiException) as denied:
            client.CoreV1Api(as_nobody).list_namespaced_pod(namespace)
        assert denied.value.status == 403
        assert "forbidden" in denied.value.body
        # A binding to the aggregated `view` role grants it: RBAC decides, not a blanket deny.
        client.RbacAuthorizationV1Api(api_client).create_namespaced_role_binding(
            namespace,
            client.V1RoleBinding(
                metadata=client.V1ObjectMeta(name="nobody-views"),
                role_ref=client.V1RoleRef(
                    api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="view"
                ),
                subjects=[client.RbacV1Subject(kind="ServiceAccount", name="nobody", namespace=namespace)],
            ),
        )

        def can_list() -> bool:
            try:
                client.CoreV1Api(as_nobody).list_namespaced_pod(namespace)
            except ApiException as error:
                if error.status != 403:
                    raise
                return False
            return True

        wait_for("the RoleBinding to take effect", can_list)
    assert core.list_namespaced_pod(namespace).items == []  # the admin could all along


def test_deployment_of_three_gets_three_ready_pods_behind_its_service(
    api_client: Any, namespace: str
) -> None:
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(
        namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web"), spec=replicated(client.V1DeploymentSpec, "web", 3)
        ),
    )
    core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(selector=labels("web"), ports=[client.V1ServicePort(port=80)]),
        ),
    )
    pods = wait_for("3 Ready pods", lambda: len(ready := ready_pods(core, namespace, "web")) == 3 and ready)
    assert len({pod.spec.node_name for pod in pods}) >= 1
    assert all(pod.status.pod_ip for pod in pods)
    deployment = wait_for(
        "the Deployment to report 3 available replicas",
        lambda: (d := apps.read_namespaced_deployment("web", namespace)).status.available_replicas == 3 and d,
    )
    assert deployment.status.ready_replicas == 3
    service = core.read_namespaced_service("web", namespace)
    assert service.spec.cluster_ip.startswith("10.96.")

    def slice_addresses() -> set[str]:
        slices = client.DiscoveryV1Api(api_client).list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=web"
        )
        return {
            address
            for endpoint_slice in slices.items
            for endpoint in endpoint_slice.endpoints or []
            if endpoint.conditions and endpoint.conditions.ready
            for address in endpoint.addresses
        }

    wanted = {pod.status.pod_ip for pod in pods}
    wait_for("the EndpointSlice to list the 3 ready pods", lambda: slice_addresses() == wanted)


def test_deleting_a_replicaset_garbage_collects_its_pods(api_client: Any, namespace: str) -> None:
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    create_replica_set(api_client, namespace, "rs", 3)
    pods = wait_for(
        "3 pods of the ReplicaSet", lambda: len(p := core.list_namespaced_pod(namespace).items) == 3 and p
    )
    assert all(pod.metadata.owner_references[0].kind == "ReplicaSet" for pod in pods)
    apps.delete_namespaced_replica_set("rs", namespace, propagation_policy="Background")
    wait_for(
        "the garbage collector to delete the pods", lambda: core.list_namespaced_pod(namespace).items == []
    )


def test_namespace_deletion_completes(api_client: Any) -> None:
    core = client.CoreV1Api(api_client)
    name = core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(generate_name="doomed-"))
    ).metadata.name
    wait_for("the default ServiceAccount", lambda: core.list_namespaced_service_account(name).items)
    core.create_namespaced_config_map(
        name, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"), data={"k": "v"})
    )
    create_replica_set(api_client, name, "rs", 2)
    wait_for("2 pods", lambda: len(core.list_namespaced_pod(name).items) == 2)
    core.delete_namespace(name)
    wait_for(f"namespace {name} to be deleted", lambda: absent(lambda: core.read_namespace(name)))


def test_third_party_crds_are_installed_and_validate(api_client: Any, namespace: str) -> None:
    custom = client.CustomObjectsApi(api_client)
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "route"},
        "spec": {"rules": [{"backendRefs": [{"name": "stable", "port": 80, "weight": 100}]}]},
    }
    virtual_service = {
        "apiVersion": "networking.istio.io/v1beta1",
        "kind": "VirtualService",
        "metadata": {"name": "vs"},
        "spec": {
            "hosts": ["app"],
            "http": [{"name": "primary", "route": [{"destination": {"host": "stable"}}]}],
        },
    }
    split = {
        "apiVersion": "split.smi-spec.io/v1alpha4",
        "kind": "TrafficSplit",
        "metadata": {"name": "split"},
        "spec": {"service": "root", "backends": [{"service": "stable", "weight": 100}]},
    }
    for group, version, plural, body in (
        ("gateway.networking.k8s.io", "v1", "httproutes", route),
        ("networking.istio.io", "v1beta1", "virtualservices", virtual_service),
        ("split.smi-spec.io", "v1alpha4", "trafficsplits", split),
    ):
        created = custom.create_namespaced_custom_object(group, version, namespace, plural, body)
        assert created["metadata"]["uid"]
    # The real schemas validate: a TrafficSplit without backends is rejected.
    invalid = {**split, "metadata": {"name": "bad"}, "spec": {"service": "root"}}
    with pytest.raises(ApiException) as rejected:
        custom.create_namespaced_custom_object(
            "split.smi-spec.io", "v1alpha4", namespace, "trafficsplits", invalid
        )
    assert rejected.value.status == 422
    assert "backends" in rejected.value.body
    # Installing again replaces the CRDs in place; the objects stay.
    assert addons.install(api_client, ["smi"]) == ["trafficsplits.split.smi-spec.io"]
    kept = custom.get_namespaced_custom_object(
        "split.smi-spec.io", "v1alpha4", namespace, "trafficsplits", "split"
    )
    assert kept["spec"]["backends"] == split["spec"]["backends"]


def test_requesting_a_taken_port_is_a_clear_error(devcluster: DevCluster, tmp_path: Path) -> None:
    state = devcluster.state()
    assert state is not None
    taken = state.ports["apiserver"]
    other = DevCluster(tmp_path / "second")
    with pytest.raises(DevClusterError) as error:
        other.up(nodes=1, apiserver_port=taken)
    message = str(error.value)
    assert f"port {taken}" in message
    assert "already in use" in message
    assert not other.is_running()
    assert other.state() is None  # it stopped before starting any part


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_down_leaves_no_process(tmp_path: Path) -> None:
    cluster = DevCluster(tmp_path / "c")
    cluster.up(nodes=1)
    state = cluster.state()
    assert state is not None
    assert len(state.children) == 5
    assert processes.alive(state.pids, cluster.directory) == list(state.pids)
    assert cluster.down() is True
    assert processes.alive(state.pids, cluster.directory) == []
    stopped = cluster.state()
    assert stopped is not None
    assert stopped.phase == "stopped"
    assert not cluster.layout.ready_file.exists()
    assert port_is_free(state.ports["apiserver"])
    assert cluster.down() is False  # a second down is harmless


def test_a_dying_part_stops_the_whole_cluster(tmp_path: Path) -> None:
    cluster = DevCluster(tmp_path / "c")
    cluster.up(nodes=1)
    try:
        state = cluster.state()
        assert state is not None
        scheduler = next(child for child in state.children if child.part == "scheduler")
        processes.signal_all([scheduler.pid], cluster.directory, signal.SIGKILL)
        failed = wait_for(
            "the supervisor to record the failure",
            lambda: (s := cluster.state()) is not None and s.phase == "failed" and s,
        )
        assert failed.failed_part == "scheduler"
        assert "exited unexpectedly" in failed.error
        wait_for("every process to exit", lambda: processes.alive(state.pids, cluster.directory) == [])
        assert not cluster.layout.ready_file.exists()
        assert not cluster.is_running()
    finally:
        cluster.down()


def test_a_cluster_stops_when_its_owner_process_is_gone(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    owner = (
        "import os, sys\n"
        "from rollouts.devcluster import DevCluster\n"
        "DevCluster(sys.argv[1]).up(nodes=1, owner_pid=os.getpid())\n"
        "os._exit(0)  # no down(): the supervisor must notice on its own\n"
    )
    subprocess.run([sys.executable, "-c", owner, str(directory)], check=True, timeout=WAIT)
    cluster = DevCluster(directory)
    state = cluster.state()
    assert state is not None
    try:
        wait_for("every process to exit", lambda: processes.alive(state.pids, cluster.directory) == [])
        stopped = cluster.state()
        assert stopped is not None
        assert stopped.phase == "stopped"
        assert "owner process" in cluster.layout.log_file("supervisor").read_text()
    finally:
        cluster.down()
