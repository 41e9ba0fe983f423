"""The notifier as the controller runs it: reading through the controller's own API client.

Kept apart from `notifier` so the shell itself depends only on a small reader protocol (tests
give it a plain function), while the controller hands it its `KubeClient` — the same identity,
connection pool and request metric as every other request the controller sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rollouts.controller.apicalls import get_object
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.controller.metrics import ControllerMetrics
from rollouts.controller.settings import ControllerConfig
from rollouts.notifications.notifier import Notifier, NotifierSettings

__all__ = ["KubeReader", "Notifier", "start_notifier"]

NOT_FOUND = 404


class KubeReader:
    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def get(self, path: str, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        try:
            found = await self._client.send(get_object(path, resource, namespace, name))
        except ApiError as error:
            if error.status == NOT_FOUND:
                return None
            raise
        return found if isinstance(found, Mapping) else None


def start_notifier(
    config: ControllerConfig, client: KubeClient, metrics: ControllerMetrics
) -> Notifier | None:
    """The controller's notifier, or ``None`` with ``--no-notifications``."""
    if not config.notifications:
        return None
    settings = NotifierSettings(config.notifications_namespace, config.self_service_notifications)
    return Notifier(KubeReader(client), settings, metrics.notifications)
