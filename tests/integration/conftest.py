"""Integration-test fixtures: one real devcluster for the whole test session.

Fixtures other test modules rely on (keep the names):

``devcluster`` (session)
    A running ``rollouts.devcluster.DevCluster``: 3 fake nodes, Gateway API / Istio / SMI CRDs
    installed, in a temporary directory on free loopback ports, so it never collides with a
    demo cluster in ``.devcluster``. If it cannot be built or started every test that uses it
    **fails** with the reason (log tails included); nothing is skipped. Stopped at session end,
    and by itself if the test process is killed before its teardown.
    Set ``ROLLOUTS_TEST_DEVCLUSTER_DIR`` to a directory holding a cluster you started with
    ``rollouts dev-cluster up --dir DIR`` to reuse it (it is then left running).
``api_client`` (session)
    A ``kubernetes.client.ApiClient`` authenticated as the cluster admin.
``namespace`` (function)
    The name of a fresh namespace whose ``default`` ServiceAccount already exists (so pods can
    be created at once); deleted after the test without waiting for it to go.

Every test collected under ``tests/integration`` is marked ``integration``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from rollouts.devcluster import ADDON_PINS, DevCluster, DevClusterError, addons

REUSE_ENV = "ROLLOUTS_TEST_DEVCLUSTER_DIR"
NODES = 3
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


def _progress(message: str) -> None:
    print(f"devcluster: {message}", flush=True)


@pytest.fixture(scope="session")
def devcluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCluster]:
    reuse = os.environ.get(REUSE_ENV)
    if reuse:
        cluster = DevCluster(reuse, progress=_progress)
        if not cluster.is_running():
            pytest.fail(f"{REUSE_ENV}={reuse} holds no running devcluster", pytrace=False)
        with cluster.api_client() as api:
            addons.install(api, list(ADDON_PINS))
        yield cluster
        return
    cluster = DevCluster(tmp_path_factory.mktemp("devcluster"), progress=_progress)
    try:
        cluster.up(nodes=NODES, with_=tuple(ADDON_PINS), owner_pid=os.getpid())
    except DevClusterError as error:
        pytest.fail(f"the devcluster could not start:\n{error}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.down()


@pytest.fixture(scope="session")
def api_client(devcluster: DevCluster) -> Iterator[Any]:
    with devcluster.api_client() as api:
        yield api


@pytest.fixture
def namespace(api_client: Any) -> Iterator[str]:
    core = client.CoreV1Api(api_client)
    created = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(generate_name="test-")))
    name: str = created.metadata.name
    deadline = time.monotonic() + 60
    while True:  # the serviceaccount controller creates `default`; pod admission needs it
        try:
            core.read_namespaced_service_account("default", name)
            break
        except ApiException as error:
            if error.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background")
