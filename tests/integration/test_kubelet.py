"""The devcluster's fake kubelet, seen from the API as a client sees a real kubelet.

Long-running pods are simulated (Running/Ready by the rules of probes, hooks and readiness gates);
pods of Jobs and other run-to-completion pods really run their command as a local process in a
private mount namespace. Every assertion here is on objects read back from the real API server,
or on the container log the kubelet keeps under ``<cluster dir>/kubelet``. Timing is judged from
the timestamps in pod statuses, never from how fast the test ran.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from rollouts.devcluster import DevCluster

PATIENCE = 120.0  # an upper bound for a broken kubelet, never a speed requirement
GATE = "rollouts.dev/test-gate"


def until(what: str, read: Callable[[], Any], holds: Callable[[Any], bool], timeout: float = PATIENCE) -> Any:
    """Read repeatedly until ``holds`` accepts the value; fail naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    value = read()
    while not holds(value):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}; last seen:\n{value}")
        time.sleep(0.25)
        value = read()
    return value


def condition(pod: client.V1Pod, kind: str) -> client.V1PodCondition | None:
    return next((c for c in pod.status.conditions or [] if c.type == kind), None)


def is_ready(pod: client.V1Pod) -> bool:
    ready = condition(pod, "Ready")
    return ready is not None and ready.status == "True"


def container_state(pod: client.V1Pod, index: int = 0) -> Any:
    statuses = pod.status.container_statuses or []
    return statuses[index].state if len(statuses) > index else None


def waiting_reason(pod: client.V1Pod) -> str | None:
    state = container_state(pod)
    return state.waiting.reason if state is not None and state.waiting is not None else None


def terminated(pod: client.V1Pod) -> Any:
    state = container_state(pod)
    return state.terminated if state is not None else None


def container(name: str = "main", image: str = "nginx:1.27", **fields: Any) -> client.V1Container:
    return client.V1Container(name=name, image=image, **fields)


def pod_manifest(name: str, *containers: client.V1Container, **spec: Any) -> client.V1Pod:
    annotations = spec.pop("annotations", None)
    labels = spec.pop("labels", None)
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels, annotations=annotations),
        spec=client.V1PodSpec(containers=list(containers), **spec),
    )


class Pods:
    """The pods of one test namespace."""

    def __init__(self, api_client: Any, namespace: str):
        self.core = client.CoreV1Api(api_client)
        self.namespace = namespace

    def create(self, pod: client.V1Pod) -> client.V1Pod:
        return self.core.create_namespaced_pod(self.namespace, pod)

    def read(self, name: str) -> client.V1Pod:
        return self.core.read_namespaced_pod(name, self.namespace)

    def until(self, name: str, what: str, holds: Callable[[client.V1Pod], bool]) -> client.V1Pod:
        return until(f"pod {name} {what}", lambda: self.read(name), holds)

    def gone(self, name: str) -> bool:
        try:
            self.read(name)
        except ApiException as error:
            if error.status == 404:
                return True
            raise
        return False

    def labelled(self, selector: str) -> list[client.V1Pod]:
        return self.core.list_namespaced_pod(self.namespace, label_selector=selector).items


@pytest.fixture
def pods(api_client: Any, namespace: str) -> Pods:
    return Pods(api_client, namespace)


def state_dir(devcluster: DevCluster) -> Path:
    """Where the kubelet keeps container logs (the supervisor's layout: <dir>/kubelet)."""
    return Path(devcluster.directory) / "kubelet"


# --- long-running pods: simulated ------------------------------------------------------------


def test_replicaset_pods_become_ready_with_distinct_addresses(
    api_client: Any, namespace: str, pods: Pods
) -> None:
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_replica_set(
        namespace,
        client.V1ReplicaSet(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ReplicaSetSpec(
                replicas=3,
                selector=client.V1LabelSelector(match_labels={"app": "web"}),
                template=client.V1PodTemplateSpec(
                    metadata=client.V1ObjectMeta(labels={"app": "web"}),
                    spec=client.V1PodSpec(containers=[container("app")]),
                ),
            ),
        ),
    )
    ready = until(
        "3 ready pods of the ReplicaSet",
        lambda: [pod for pod in pods.labelled("app=web") if is_ready(pod)],
        lambda found: len(found) == 3,
    )
    ips = {pod.status.pod_ip for pod in ready}
    assert len(ips) == 3, f"pod IPs must be distinct: {ips}"
    assert all(ip.startswith("10.244.") for ip in ips)
    nodes = {node.metadata.name: node for node in client.CoreV1Api(api_client).list_node().items}
    for pod in ready:
        assert pod.status.phase == "Running"
        node_ip = nodes[pod.spec.node_name].status.addresses[0].address
        assert pod.status.host_ip == node_ip
        status = pod.status.container_statuses[0]
        assert status.ready and status.started and status.restart_count == 0
        assert status.container_id.startswith("containerd://") and status.image == "nginx:1.27"
        assert status.image_id.startswith("nginx@sha256:")
        assert status.state.running.started_at >= pod.status.start_time
        kinds = {c.type: c.status for c in pod.status.conditions}
        assert kinds == {
            "PodReadyToStartContainers": "True",
            "Initialized": "True",
            "Ready": "True",
            "ContainersReady": "True",
            "PodScheduled": "True",
        }


def test_readiness_gate_holds_ready_until_a_client_sets_it(pods: Pods) -> None:
    pods.create(
        pod_manifest("gated", container(), readiness_gates=[client.V1PodReadinessGate(condition_type=GATE)])
    )
    pod = pods.until(
        "gated",
        "running with containers ready",
        lambda p: (c := condition(p, "ContainersReady")) is not None and c.status == "True",
    )
    time.sleep(2)  # give a wrong kubelet the chance to mark it Ready anyway
    pod = pods.read("gated")
    ready = condition(pod, "Ready")
    assert ready is not None and ready.status == "False" and ready.reason == "ReadinessGatesNotReady", ready
    assert condition(pod, GATE) is None, "the kubelet must never set a readiness gate's condition"

    now = pod.status.start_time + timedelta(seconds=1)
    gate = {"type": GATE, "status": "True", "lastTransitionTime": now.isoformat()}
    pods.core.patch_namespaced_pod_status("gated", pods.namespace, {"status": {"conditions": [gate]}})
    pod = pods.until("gated", "Ready after its gate is True", is_ready)
    assert condition(pod, GATE).status == "True"

    gate["status"] = "False"
    pods.core.patch_namespaced_pod_status("gated", pods.namespace, {"status": {"conditions": [gate]}})
    pods.until("gated", "unready again after its gate turned False", lambda p: not is_ready(p))


def test_readiness_probe_delay_is_honoured(pods: Pods) -> None:
    probe = client.V1Probe(initial_delay_seconds=5, http_get=client.V1HTTPGetAction(path="/", port=80))
    pods.create(pod_manifest("slow", container(readiness_probe=probe)))
    early = pods.until("slow", "running", lambda p: p.status.phase == "Running")
    pod = pods.until("slow", "Ready", is_ready)
    started = pod.status.container_statuses[0].state.running.started_at
    became_ready = condition(pod, "Ready").last_transition_time
    assert became_ready - pod.status.start_time >= timedelta(seconds=5)
    assert became_ready - started >= timedelta(seconds=5)
    if not is_ready(early):  # seen running before Ready: it was then not Ready, as it must be
        assert early.status.container_statuses[0].ready is False


def test_denied_image_never_pulls(pods: Pods) -> None:
    pods.create(pod_manifest("denied", container(image="registry.example/denied/app:1")))
    reasons: set[str] = set()

    def seen_both(pod: client.V1Pod) -> bool:
        if reason := waiting_reason(pod):
            reasons.add(reason)
        return {"ErrImagePull", "ImagePullBackOff"} <= reasons

    pod = pods.until("denied", "ErrImagePull then ImagePullBackOff", seen_both)
    assert pod.status.phase == "Pending"
    assert not is_ready(pod)
    assert "registry.example/denied/app:1" in pod.status.container_statuses[0].state.waiting.message


def test_missing_command_crash_loops_with_restarts(pods: Pods) -> None:
    pods.create(pod_manifest("crasher", container(command=["/no/such/server", "--port=80"])))
    pod = pods.until("crasher", "in CrashLoopBackOff", lambda p: waiting_reason(p) == "CrashLoopBackOff")
    first = pod.status.container_statuses[0].restart_count
    pod = pods.until(
        "crasher",
        "restarted again",
        lambda p: (
            p.status.container_statuses[0].restart_count > first and waiting_reason(p) == "CrashLoopBackOff"
        ),
    )
    status = pod.status.container_statuses[0]
    assert status.last_state.terminated.exit_code in (127, 128)
    assert "/no/such/server" in status.last_state.terminated.message
    assert not status.ready and not is_ready(pod)


def test_prestop_sleep_delays_deletion(pods: Pods) -> None:
    hook = client.V1Lifecycle(
        pre_stop=client.V1LifecycleHandler(_exec=client.V1ExecAction(command=["sh", "-c", "sleep 4"]))
    )
    pods.create(pod_manifest("draining", container(lifecycle=hook), termination_grace_period_seconds=30))
    pods.until("draining", "Ready", is_ready)
    requested = time.monotonic()
    pods.core.delete_namespaced_pod("draining", pods.namespace)
    until("the pod to be deleted", lambda: pods.gone("draining"), bool)
    assert time.monotonic() - requested >= 4, "deletion completed before the preStop hook's sleep ended"


def test_service_endpoints_list_only_ready_pods(api_client: Any, namespace: str, pods: Pods) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1ServiceSpec(selector={"app": "web"}, ports=[client.V1ServicePort(port=80)]),
        ),
    )
    gates = [client.V1PodReadinessGate(condition_type=GATE)]
    pods.create(pod_manifest("ready", container(), labels={"app": "web"}))
    pods.create(pod_manifest("held", container(), labels={"app": "web"}, readiness_gates=gates))
    ready_ip = pods.until("ready", "Ready", is_ready).status.pod_ip
    held = pods.until("held", "running", lambda p: p.status.phase == "Running" and bool(p.status.pod_ip))
    discovery = client.DiscoveryV1Api(api_client)

    def slice_endpoints() -> dict[str, bool]:
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=web"
        ).items
        return {ep.addresses[0]: bool(ep.conditions.ready) for s in slices for ep in s.endpoints or []}

    until("EndpointSlice with both pods", slice_endpoints, lambda eps: len(eps) == 2)
    assert slice_endpoints() == {ready_ip: True, held.status.pod_ip: False}
    endpoints = core.read_namespaced_endpoints("web", namespace)
    subset = endpoints.subsets[0]
    assert [a.ip for a in subset.addresses] == [ready_ip]
    assert [a.ip for a in subset.not_ready_addresses] == [held.status.pod_ip]

    gate = {"type": GATE, "status": "True", "lastTransitionTime": held.status.start_time.isoformat()}
    core.patch_namespaced_pod_status("held", namespace, {"status": {"conditions": [gate]}})
    until("both endpoints ready", slice_endpoints, lambda eps: list(eps.values()) == [True, True])


# --- run-to-completion pods: really run --------------------------------------------------------


def job(name: str, *command: str, **pod_spec: Any) -> client.V1Job:
    return client.V1Job(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1JobSpec(
            backoff_limit=0,
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[container(image="python:3.12", command=list(command))],
                    **pod_spec,
                )
            ),
        ),
    )


def job_condition(api_client: Any, namespace: str, name: str) -> str | None:
    status = client.BatchV1Api(api_client).read_namespaced_job(name, namespace).status
    return next(
        (c.type for c in status.conditions or [] if c.status == "True" and c.type in ("Complete", "Failed")),
        None,
    )


def test_job_exit_code_fails_the_job(
    devcluster: DevCluster, api_client: Any, namespace: str, pods: Pods
) -> None:
    client.BatchV1Api(api_client).create_namespaced_job(
        namespace, job("exit3", "sh", "-c", "echo about to fail; exit 3")
    )
    until("the Job to fail", lambda: job_condition(api_client, namespace, "exit3"), lambda c: c == "Failed")
    [pod] = pods.labelled("job-name=exit3")
    state = terminated(pod)
    assert state.exit_code == 3 and state.reason == "Error"
    assert pod.status.phase == "Failed"
    log = state_dir(devcluster) / f"{namespace}_{pod.metadata.name}_{pod.metadata.uid}" / "main.log"
    assert log.read_text() == "about to fail\n"
    api_log = pods.core.read_namespaced_pod_log(pod.metadata.name, namespace, container="main")
    assert api_log == "about to fail\n", "the pod log API reads the same log through the node"


def test_job_termination_message(api_client: Any, namespace: str, pods: Pods) -> None:
    script = (
        "import json; "
        "open('/dev/termination-log', 'w').write(json.dumps({'ok': True}, separators=(',', ':')))"
    )
    client.BatchV1Api(api_client).create_namespaced_job(namespace, job("report", "python3", "-c", script))
    until(
        "the Job to complete",
        lambda: job_condition(api_client, namespace, "report"),
        lambda c: c == "Complete",
    )
    [pod] = pods.labelled("job-name=report")
    state = terminated(pod)
    assert state.message == '{"ok":true}'
    assert state.exit_code == 0 and state.reason == "Completed"
    assert pod.status.phase == "Succeeded"


def test_denied_image_of_a_job_pod_never_runs(
    devcluster: DevCluster, api_client: Any, namespace: str, pods: Pods
) -> None:
    # As for long-running pods, an image matching the deny pattern never pulls, so the command of
    # a run-to-completion pod never runs: Argo's job provider reads these waiting reasons.
    manifest = job("denied", "sh", "-c", "echo ran")
    manifest.spec.template.spec.containers[0].image = "registry.example/denied/app:1"
    client.BatchV1Api(api_client).create_namespaced_job(namespace, manifest)
    reasons: set[str] = set()

    def seen_both(found: list[client.V1Pod]) -> bool:
        if found and (reason := waiting_reason(found[0])):
            reasons.add(reason)
        return {"ErrImagePull", "ImagePullBackOff"} <= reasons

    [pod] = until("ErrImagePull then ImagePullBackOff", lambda: pods.labelled("job-name=denied"), seen_both)
    assert pod.status.phase == "Pending"
    assert not is_ready(pod)
    waiting = pod.status.container_statuses[0].state.waiting
    assert "registry.example/denied/app:1" in waiting.message
    assert pod.status.container_statuses[0].container_id is None
    pod_dir = state_dir(devcluster) / f"{namespace}_{pod.metadata.name}_{pod.metadata.uid}"
    assert not (pod_dir / "main.log").exists(), "the command must never have been started"
    assert job_condition(api_client, namespace, "denied") is None


def test_each_pod_has_its_own_tmp(pods: Pods) -> None:
    names = ("left", "right")
    for name in names:  # both write /tmp/out, wait for the other to have written, read back
        script = f"echo {name} > /tmp/out && sleep 2 && cat /tmp/out > /dev/termination-log"
        pods.create(
            pod_manifest(
                name, container(image="busybox", command=["sh", "-c", script]), restart_policy="Never"
            )
        )
    for name in names:
        pod = until(
            f"pod {name} to succeed", lambda n=name: pods.read(n), lambda p: p.status.phase == "Succeeded"
        )
        assert terminated(pod).message == f"{name}\n"
    host_tmp = Path("/tmp/out")
    assert not host_tmp.exists() or host_tmp.read_text() not in ("left\n", "right\n"), (
        "a pod wrote the host's /tmp"
    )


def test_env_workdir_and_fallback_message(pods: Pods) -> None:
    script = "import os, sys; print(os.getcwd(), os.environ['POD'], os.environ['GREETING']); sys.exit(2)"
    main = container(
        image="python:3.12",
        command=["python3", "-c", script],
        working_dir="/tmp/work",
        termination_message_policy="FallbackToLogsOnError",
        env=[
            client.V1EnvVar(
                name="POD",
                value_from=client.V1EnvVarSource(
                    field_ref=client.V1ObjectFieldSelector(field_path="metadata.name")
                ),
            ),
            client.V1EnvVar(name="GREETING", value="hello $(POD)"),
        ],
    )
    pods.create(pod_manifest("envy", main, restart_policy="Never"))
    pod = pods.until("envy", "Failed", lambda p: p.status.phase == "Failed")
    state = terminated(pod)
    assert state.exit_code == 2
    assert state.message == "/tmp/work envy hello envy\n", "empty termination file on failure: the log's tail"


def test_volumes_of_a_run_pod(pods: Pods) -> None:
    pods.core.create_namespaced_config_map(
        pods.namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"mode": "fast"}),
    )
    mounts = [
        client.V1VolumeMount(name="work", mount_path="/work"),
        client.V1VolumeMount(name="settings", mount_path="/etc/settings", read_only=True),
    ]
    stage = container("stage", image="busybox", command=["sh", "-c", "echo staged > /work/input"])
    stage.volume_mounts = mounts[:1]
    script = (
        "cat /work/input /etc/settings/mode > /dev/termination-log; if touch /etc/settings/x; then exit 9; fi"
    )
    main = container(image="busybox", command=["sh", "-c", script], volume_mounts=mounts)
    pods.create(
        pod_manifest(
            "staged",
            main,
            init_containers=[stage],
            restart_policy="Never",
            volumes=[
                client.V1Volume(name="work", empty_dir=client.V1EmptyDirVolumeSource()),
                client.V1Volume(name="settings", config_map=client.V1ConfigMapVolumeSource(name="settings")),
            ],
        )
    )
    pod = pods.until("staged", "finished", lambda p: p.status.phase in ("Succeeded", "Failed"))
    assert pod.status.phase == "Succeeded", "the ConfigMap volume must be read-only"
    assert pod.status.init_container_statuses[0].state.terminated.reason == "Completed"
    assert terminated(pod).message == "staged\nfast"


def test_active_deadline_kills_a_job_pod(pods: Pods) -> None:
    pods.create(
        pod_manifest(
            "overdue",
            container(image="busybox", command=["sleep", "1000"]),
            restart_policy="Never",
            active_deadline_seconds=2,
            termination_grace_period_seconds=1,
        )
    )
    pod = pods.until("overdue", "Failed", lambda p: p.status.phase == "Failed")
    assert pod.status.reason == "DeadlineExceeded"
    assert terminated(pod).exit_code in (137, 143)


def test_in_cluster_api_access_from_a_job_pod(pods: Pods) -> None:
    script = """
import json, os, ssl, urllib.request, urllib.error
base = '/var/run/secrets/kubernetes.io/serviceaccount/'
host, port = os.environ['KUBERNETES_SERVICE_HOST'], os.environ['KUBERNETES_SERVICE_PORT']
url = 'https://%s:%s/api/v1/namespaces/%s/pods' % (host, port, open(base + 'namespace').read())
request = urllib.request.Request(url, headers={'Authorization': 'Bearer ' + open(base + 'token').read()})
try:
    urllib.request.urlopen(request, context=ssl.create_default_context(cafile=base + 'ca.crt'))
except urllib.error.HTTPError as error:
    report = {'code': error.code, 'body': json.loads(error.read())['message']}
    open('/dev/termination-log', 'w').write(json.dumps(report))
"""
    pods.create(
        pod_manifest(
            "insider",
            container(image="python:3.12", command=["python3", "-c", script]),
            restart_policy="Never",
        )
    )
    pod = pods.until("insider", "finished", lambda p: p.status.phase in ("Succeeded", "Failed"))
    report = json.loads(terminated(pod).message)
    # The default service account may not list pods, so the API knows exactly who asked.
    assert report["code"] == 403
    assert f"system:serviceaccount:{pods.namespace}:default" in report["body"]


def test_deleting_a_running_job_pod_kills_its_process(devcluster: DevCluster, pods: Pods) -> None:
    script = "trap 'echo got TERM; exit 0' TERM; echo started; while true; do sleep 0.1; done"
    pods.create(
        pod_manifest(
            "worker", container(image="busybox", command=["sh", "-c", script]), restart_policy="Never"
        )
    )
    pod = pods.until("worker", "running", lambda p: p.status.phase == "Running")
    pods.core.delete_namespaced_pod("worker", pods.namespace)
    until("the pod to be deleted", lambda: pods.gone("worker"), bool)
    log = state_dir(devcluster) / f"{pods.namespace}_worker_{pod.metadata.uid}" / "main.log"
    assert log.read_text() == "started\ngot TERM\n"
