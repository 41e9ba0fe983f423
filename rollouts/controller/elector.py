"""The imperative half of leader election: read and write the Lease, hold the operator back.

`LeaderElector.run` wraps the kopf operator coroutine. Until this process holds the Lease the
operator is not even started — no watches, no writes — while a small ``/healthz`` server keeps
the Pod live (client-go's followers stay healthy too). Once leading, the Lease is renewed every
retry period next to the running operator; if renewals keep failing past the renew deadline, or
another holder shows up, the operator is cancelled and `LeadershipLost` ends the process with a
non-zero exit (client-go's ``OnStoppedLeading``: the Pod restarts and campaigns again). A clean
stop (SIGTERM/SIGINT) releases the Lease so another replica takes over at once instead of
waiting for it to expire. The decisions themselves are in `rollouts.controller.leadership`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge

from rollouts.controller.apicalls import JSON, Request
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.controller.leadership import (
    Action,
    Observation,
    ObservedLease,
    decide,
    lease_object,
    observe,
    read_lease,
    release_spec,
    retry_delay,
)
from rollouts.controller.settings import LeaderElection

__all__ = ["LeaderElector", "LeadershipLost", "lease_request", "new_identity"]

log = logging.getLogger(__name__)

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"


class LeadershipLost(RuntimeError):  # noqa: N818 - named for what happened, like client-go's OnStoppedLeading
    """The Lease could not be renewed within the renew deadline, or someone else holds it."""


def lease_request(method: str, namespace: str, name: str, body: Any = None) -> Request:
    """GET, POST (create) or PUT (update, with the body's ``resourceVersion``) of the Lease."""
    path = LEASES.format(namespace=namespace)
    if method != "POST":
        path = f"{path}/{name}"
    return Request(method, path, "leases", name, namespace, body, JSON)


def new_identity() -> str:
    """client-go's candidate identity: the hostname plus a uniquifier for this process."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


def _wall() -> datetime:
    return datetime.now(UTC)


class LeaderElector:
    def __init__(
        self,
        client: KubeClient,
        election: LeaderElection,
        registry: CollectorRegistry,
        *,
        identity: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = _wall,
    ) -> None:
        self.client = client
        self.namespace = election.namespace
        self.name = election.lease_name
        self.timings = election.timings
        self.identity = identity or new_identity()
        self._monotonic = monotonic
        self._wall = wall
        self._observation: Observation | None = None
        self._leader_seen = ""
        self._status = Gauge(
            "leader_election_master_status",
            "Whether this process holds the leader-election Lease (1) or not (0)",
            ["name"],
            registry=registry,
        )
        self._status.labels(name=self.name).set(0)

    def _request(self, method: str, body: Any = None) -> Request:
        return lease_request(method, self.namespace, self.name, body)

    async def _read(self) -> ObservedLease | None:
        try:
            return read_lease(await self.client.send(self._request("GET")))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    async def try_acquire_or_renew(self) -> bool:
        """One election step; True when this process holds the Lease afterwards."""
        try:
            lease = await self._read()
            now = self._monotonic()
            if lease is not None:
                self._observation = observe(self._observation, lease.record, now)
            decision = decide(
                self._observation if lease is not None else None,
                self.identity,
                now,
                self._wall(),
                self.timings,
            )
            if decision.action is Action.WAIT:
                self._note_leader(decision.holder)
                return False
            assert decision.spec is not None
            body = lease_object(self.namespace, self.name, decision.spec, lease)
            written = await self.client.send(
                self._request("POST" if decision.action is Action.CREATE else "PUT", body)
            )
        except (ApiError, httpx.HTTPError, ValueError) as error:
            # A 409 means another candidate wrote first: read again next period, never retry blindly.
            # (ValueError: an answer that is not JSON.)
            log.info("leader election: Lease %s/%s not acquired: %r", self.namespace, self.name, error)
            return False
        self._observation = Observation(read_lease(written).record, self._monotonic())
        self._note_leader(self.identity)
        return True

    def _note_leader(self, holder: str) -> None:
        if holder != self._leader_seen:
            self._leader_seen = holder
            if holder == self.identity:
                log.info("leader election: I am the new leader: %s", holder)
            else:
                log.info("leader election: new leader elected: %s", holder)

    async def acquire(self) -> None:
        """Campaign until this process holds the Lease."""
        log.info(
            "leader election: attempting to acquire Lease %s/%s as %s",
            self.namespace,
            self.name,
            self.identity,
        )
        while not await self.try_acquire_or_renew():
            await asyncio.sleep(retry_delay(self.timings.retry_period, random.random()))
        self._status.labels(name=self.name).set(1)

    async def keep_leading(self) -> None:
        """Renew every retry period; raise `LeadershipLost` when that fails for the renew deadline."""
        last_renewal = self._monotonic()
        while True:
            await asyncio.sleep(self.timings.retry_period)
            remaining = self.timings.renew_deadline - (self._monotonic() - last_renewal)
            renewed = False
            if remaining > 0:
                with contextlib.suppress(TimeoutError):
                    renewed = await asyncio.wait_for(self.try_acquire_or_renew(), timeout=remaining)
            if renewed:
                last_renewal = self._monotonic()
                continue
            if self._observation is not None and self._observation.record.holder not in ("", self.identity):
                break  # someone else holds it now: stop at once
            if self._monotonic() - last_renewal >= self.timings.renew_deadline:
                break
        self._status.labels(name=self.name).set(0)
        raise LeadershipLost(f"failed to renew Lease {self.namespace}/{self.name}")

    async def release(self) -> None:
        """Give the Lease up (only if still ours) so another replica need not wait for expiry."""
        if self._observation is None:
            return
        spec = release_spec(self._observation.record, self.identity, self._wall())
        if spec is None:
            return
        self._status.labels(name=self.name).set(0)
        try:
            lease = await self._read()
            if lease is None or lease.record.holder != self.identity:
                return
            await self.client.send(self._request("PUT", lease_object(self.namespace, self.name, spec, lease)))
            log.info("leader election: released Lease %s/%s", self.namespace, self.name)
        except (ApiError, httpx.HTTPError, ValueError) as error:
            log.warning(
                "leader election: could not release Lease %s/%s: %s", self.namespace, self.name, error
            )

    async def run(self, operator: Coroutine[Any, Any, None], health: tuple[str, int] | None) -> None:
        """Campaign (healthy but idle), then run ``operator`` while renewing; release on a clean stop."""
        try:
            campaigned = await _until_signalled(self.acquire(), health)
        except BaseException:
            operator.close()
            raise
        if not campaigned:
            operator.close()
            return
        operating = asyncio.create_task(operator, name="operator")
        renewing = asyncio.create_task(self.keep_leading(), name="leader election renewal")
        try:
            await asyncio.wait({operating, renewing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not operating.done():
                operating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await operating
            if not renewing.done():
                renewing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewing
        lost = renewing.exception() if renewing.done() and not renewing.cancelled() else None
        if lost is not None:
            raise lost
        await self.release()
        operating.result()


async def _until_signalled(campaign: Coroutine[Any, Any, None], health: tuple[str, int] | None) -> bool:
    """Run ``campaign`` with a follower's ``/healthz`` up; False if SIGTERM/SIGINT came first.

    kopf installs its own signal handlers only once the operator starts, so until then a stop
    request is handled here (a follower holds nothing and just exits cleanly).
    """
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = threading.current_thread() is threading.main_thread()
    if handled:
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(number, stopping.set)
    runner = await _serve_health(health) if health is not None else None
    campaigning = asyncio.create_task(campaign, name="leader election campaign")
    waiting = asyncio.create_task(stopping.wait(), name="stop signal")
    try:
        await asyncio.wait({campaigning, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (campaigning, waiting):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if runner is not None:
            await runner.cleanup()
        if handled:
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)
    if not campaigning.done() or campaigning.cancelled():
        return False
    campaigning.result()  # an unexpected failure of the campaign propagates
    return True


async def _serve_health(health: tuple[str, int]) -> web.AppRunner:
    """``/healthz`` answering 200 while this process waits for the Lease."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, health[0], health[1], reuse_address=True).start()
    return runner
