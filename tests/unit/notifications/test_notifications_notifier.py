"""The notifier shell without a cluster: settings come from a reader function, deliveries go to a
real loopback port nobody listens on, and waits between retries are skipped (``sleep``)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry

from rollouts.notifications import NotificationMetrics, Notifier, NotifierSettings
from rollouts.notifications.notifier import as_go_sees_it

SUBSCRIBE = "notifications.argoproj.io/subscribe"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Settings:
    """What a namespace holds; counts the reads."""

    def __init__(self, data: dict[str, str] | None) -> None:
        self.data = data
        self.reads: list[str] = []

    async def get(self, path: str, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        self.reads.append(f"{resource}/{namespace}")
        if resource == "configmaps":
            return None if self.data is None else {"data": self.data}
        return None


def rollout(namespace: str = "shop") -> dict[str, Any]:
    return {
        "metadata": {
            "name": "web",
            "namespace": namespace,
            "annotations": {f"{SUBSCRIBE}.on-rollout-completed.hook": ""},
        },
        "spec": {"replicas": 1000000},
    }


def sample(registry: CollectorRegistry, name: str) -> float:
    return (
        registry.get_sample_value(
            name, {"namespace": "shop", "name": "web", "type": "Normal", "reason": "RolloutCompleted"}
        )
        or 0.0
    )


async def run(notifier: Notifier, events: int) -> None:
    for _ in range(events):
        notifier.notify(rollout(), "RolloutCompleted")
    await notifier.idle()
    await notifier.close()


def test_a_refused_connection_is_retried_then_counted_as_one_error() -> None:
    settings = Settings({"service.webhook.hook": f"url: http://127.0.0.1:{closed_port()}/\nretryMax: 2\n"})
    registry = CollectorRegistry()
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    notifier = Notifier(
        settings, NotifierSettings("argo-rollouts"), NotificationMetrics(registry), sleep=no_wait
    )
    asyncio.run(run(notifier, events=3))
    assert sorted(waits) == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]  # three deliveries, each waiting 1 s then 2 s
    assert sample(registry, "notification_send_error_total") == 3
    assert sample(registry, "notification_send_success_total") == 0
    # three Events within the cache time: the ConfigMap and Secret were read once
    assert settings.reads == ["configmaps/argo-rollouts", "secrets/argo-rollouts"]


def test_without_a_config_map_nothing_is_sent_or_counted() -> None:
    settings = Settings(None)
    registry = CollectorRegistry()
    asyncio.run(run(Notifier(settings, NotifierSettings("argo-rollouts"), NotificationMetrics(registry)), 2))
    assert sample(registry, "notification_send_error_total") == 0
    assert settings.reads == ["configmaps/argo-rollouts", "secrets/argo-rollouts"]


def test_self_service_also_reads_the_rollouts_namespace() -> None:
    settings = Settings({})
    registry = CollectorRegistry()
    notifier = Notifier(
        settings, NotifierSettings("argo-rollouts", self_service=True), NotificationMetrics(registry)
    )
    asyncio.run(run(notifier, 1))
    assert settings.reads == [
        "configmaps/argo-rollouts",
        "secrets/argo-rollouts",
        "configmaps/shop",
        "secrets/shop",
    ]


def test_a_reader_failure_is_logged_and_nothing_raises() -> None:
    class Failing(Settings):
        async def get(self, path: str, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
            raise OSError("connection reset")

    registry = CollectorRegistry()
    asyncio.run(
        run(Notifier(Failing(None), NotifierSettings("argo-rollouts"), NotificationMetrics(registry)), 1)
    )
    assert sample(registry, "notification_send_error_total") == 0


def test_the_snapshot_is_json_with_go_numbers_and_detached() -> None:
    original = rollout()
    snapshot = as_go_sees_it(original)
    original["metadata"]["name"] = "changed"
    assert snapshot["metadata"]["name"] == "web"
    assert snapshot["spec"]["replicas"] == 1e6 and isinstance(snapshot["spec"]["replicas"], float)
