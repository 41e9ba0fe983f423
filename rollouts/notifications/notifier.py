"""The imperative shell: Events in, HTTP requests out, never in the way of reconciliation.

`Notifier.notify` is called synchronously from the controller's Event path; it only puts the
(Rollout, Event) on a bounded queue and returns. One task drains the queue: it reads the
notification ConfigMap and Secret (cached for ``cache_seconds`` per namespace, so a burst of
Events costs one GET pair, and an idle controller none), plans with the pure `planning` module
and starts one task per delivery, which sends with httpx and retries per `delivery`. Nothing
raises out of here: every failure is logged and counted in ``notification_send_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import httpx

from rollouts.notifications.config import CONFIG_MAP_NAME, SECRET_NAME, NotificationConfig, parse_config
from rollouts.notifications.delivery import (
    DeliveryError,
    HttpRequest,
    backoff_seconds,
    build_request,
    retry_policy,
    should_retry,
    slack_api_error,
)
from rollouts.notifications.metrics import NotificationMetrics
from rollouts.notifications.planning import Delivery, plan_notifications

__all__ = ["ApiReader", "Notifier", "NotifierSettings"]

log = logging.getLogger(__name__)
QUEUE_SIZE: Final = 1000
MAX_CONCURRENT_SENDS: Final = 20


class ApiReader(Protocol):
    async def get(self, path: str, resource: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        """The object, or ``None`` when it does not exist; raises for other failures."""


@dataclass(frozen=True)
class NotifierSettings:
    namespace: str
    """The controller's namespace: where the ConfigMap and Secret are read."""
    self_service: bool = False
    """Also read the pair in each Rollout's own namespace (``--self-service-notification-enabled``)."""
    cache_seconds: float = 10.0


@dataclass
class _Cached:
    at: float
    config: NotificationConfig | None


@dataclass
class _Item:
    rollout: Mapping[str, Any]
    reason: str
    warning: bool


@dataclass
class Notifier:
    reader: ApiReader
    settings: NotifierSettings
    metrics: NotificationMetrics
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Callable[[float], Any] = asyncio.sleep
    _queue: asyncio.Queue[_Item] | None = None
    _worker: asyncio.Task[None] | None = None
    _sends: set[asyncio.Task[None]] = field(default_factory=set)
    _cache: dict[str, _Cached] = field(default_factory=dict)
    _clients: dict[bool, httpx.AsyncClient] = field(default_factory=dict)

    def notify(self, rollout: Mapping[str, Any], reason: str, warning: bool = False) -> None:
        """Queue one Event; returns at once (called from the reconcile path)."""
        try:
            if self._queue is None:
                self._queue = asyncio.Queue(QUEUE_SIZE)
                self._worker = asyncio.get_running_loop().create_task(self._drain())
            self._queue.put_nowait(_Item(as_go_sees_it(rollout), reason, warning))
        except asyncio.QueueFull:
            log.error("notification queue full; dropping the notification for Event %s", reason)
            self._count(self.metrics.error, rollout, reason, warning)
        except (RuntimeError, TypeError, ValueError) as error:  # never raise into the caller
            log.error("cannot queue notification for Event %s: %s", reason, error)

    async def close(self) -> None:
        tasks = [task for task in (self._worker, *self._sends) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in self._clients.values():
            await client.aclose()

    async def idle(self) -> None:
        """Wait until the queue is drained and no send is in flight (for tests and shutdown)."""
        if self._queue is not None:
            await self._queue.join()
        while self._sends:
            await asyncio.gather(*self._sends, return_exceptions=True)

    async def _drain(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            try:
                await self._handle(item)
            except Exception:  # the worker must survive anything one Event does
                log.exception("notifications for Event %s failed", item.reason)
                self._count(self.metrics.error, item.rollout, item.reason, item.warning)
            finally:
                self._queue.task_done()

    async def _handle(self, item: _Item) -> None:
        namespace = str((item.rollout.get("metadata") or {}).get("namespace") or "")
        namespaces = [self.settings.namespace]
        if self.settings.self_service and namespace and namespace != self.settings.namespace:
            namespaces.append(namespace)
        for config_namespace in namespaces:
            config = await self._config(config_namespace)
            if config is None:
                continue
            plan = plan_notifications(config, item.rollout, item.reason, self.clock)
            for problem in plan.problems:
                log.warning("notifications (%s): %s", _name(item.rollout), problem)
            for failure in plan.failures:
                log.error(
                    "notification for %s on %s to %s failed: %s",
                    _name(item.rollout),
                    failure.trigger,
                    failure.destination,
                    failure.error,
                )
                self._count(self.metrics.error, item.rollout, item.reason, item.warning)
            for delivery in plan.deliveries:
                if len(self._sends) >= MAX_CONCURRENT_SENDS:
                    await asyncio.wait(self._sends, return_when=asyncio.FIRST_COMPLETED)
                task = asyncio.get_running_loop().create_task(self._send(item, delivery))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)

    async def _config(self, namespace: str) -> NotificationConfig | None:
        cached = self._cache.get(namespace)
        if cached is not None and time.monotonic() - cached.at < self.settings.cache_seconds:
            return cached.config
        try:
            config_map = await self.reader.get(
                f"/api/v1/namespaces/{namespace}/configmaps/{CONFIG_MAP_NAME}",
                "configmaps",
                namespace,
                CONFIG_MAP_NAME,
            )
            secret = await self.reader.get(
                f"/api/v1/namespaces/{namespace}/secrets/{SECRET_NAME}", "secrets", namespace, SECRET_NAME
            )
        except Exception as error:
            log.error("cannot read notification settings in %s: %s", namespace, error)
            return cached.config if cached is not None else None
        config = parse_config(config_map, secret, namespace) if config_map is not None else None
        if config is not None and (
            cached is None or cached.config is None or cached.config.problems != config.problems
        ):
            for problem in config.problems:
                log.warning("notification settings in %s: %s", namespace, problem)
        self._cache[namespace] = _Cached(time.monotonic(), config)
        return config

    async def _send(self, item: _Item, delivery: Delivery) -> None:
        started = time.monotonic()
        namespace, name = _namespace_name(item.rollout)
        try:
            request = build_request(delivery.service, delivery.notification, delivery.destination)
            policy = retry_policy(delivery.service)
        except DeliveryError as error:
            log.error("notification %s to %s not sent: %s", delivery.trigger, delivery.destination, error)
            self._count(self.metrics.error, item.rollout, item.reason, item.warning)
            return
        attempt = 0
        while True:
            status, detail, retry_after = await self._attempt(request)
            if status is not None and 200 <= status < 300:
                log.info(
                    "notification %s sent to %s for %s (attempt %d)",
                    delivery.trigger,
                    delivery.destination,
                    _name(item.rollout),
                    attempt + 1,
                )
                self._count(self.metrics.success, item.rollout, item.reason, item.warning)
                break
            if not should_retry(status) or attempt >= policy.retries:
                log.error(
                    "notification %s to %s failed after %d attempt(s): %s",
                    delivery.trigger,
                    delivery.destination,
                    attempt + 1,
                    detail,
                )
                self._count(self.metrics.error, item.rollout, item.reason, item.warning)
                break
            wait = backoff_seconds(attempt, policy, retry_after)
            log.warning(
                "notification %s to %s: attempt %d failed (%s); retrying in %.1f s",
                delivery.trigger,
                delivery.destination,
                attempt + 1,
                detail,
                wait,
            )
            await self.sleep(wait)
            attempt += 1
        self.metrics.duration.labels(namespace=namespace, name=name).observe(time.monotonic() - started)

    async def _attempt(self, request: HttpRequest) -> tuple[int | None, str, float | None]:
        client = self._client(request.verify)
        try:
            response = await client.request(
                request.method, request.url, content=request.body or None, headers=list(request.headers)
            )
        except httpx.HTTPError as error:
            return None, f"{request.method} {request.url}: {type(error).__name__}: {error}", None
        if request.slack_api and response.is_success:
            refused = slack_api_error(response.content)
            if refused is not None:
                return 400, f"{request.method} {request.url}: {refused}", None
        retry_after = None
        header = response.headers.get("Retry-After")
        if header is not None and header.strip().isdigit():
            retry_after = float(header.strip())
        detail = f"{request.method} {request.url} answered {response.status_code}: {response.text[:200]}"
        return response.status_code, detail, retry_after

    def _client(self, verify: bool) -> httpx.AsyncClient:
        if verify not in self._clients:
            self._clients[verify] = httpx.AsyncClient(
                verify=verify, timeout=httpx.Timeout(30.0, connect=10.0), transport=self.transport
            )
        return self._clients[verify]

    @staticmethod
    def _count(counter: Any, rollout: Mapping[str, Any], reason: str, warning: bool) -> None:
        namespace, name = _namespace_name(rollout)
        counter.labels(
            namespace=namespace, name=name, type="Warning" if warning else "Normal", reason=reason
        ).inc()


def as_go_sees_it(rollout: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot of the object as Argo hands it to templates: JSON-decoded, numbers as float64
    (so ``{{.rollout.spec.replicas}}`` prints as in Argo), and safe from later mutation."""
    snapshot: dict[str, Any] = json.loads(json.dumps(rollout, default=str), parse_int=float)
    return snapshot


def _namespace_name(rollout: Mapping[str, Any]) -> tuple[str, str]:
    metadata = rollout.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")


def _name(rollout: Mapping[str, Any]) -> str:
    return "/".join(_namespace_name(rollout))
