"""The one I/O step of `traffic`: read the routing objects, ask the routers, send their writes.

Everything else in the package is pure; this driver is the loop around it, in the sans-I/O style
of httpx's auth flows. It does not own an HTTP client: it is handed a ``send`` coroutine taking a
`Request` and returning the decoded JSON answer, raising for a non-2xx answer an exception whose
``status`` attribute is the HTTP code (``kubernetes.client.ApiException`` and the controller's
``ApiError`` both are). The controller passes its own asynchronous client; `kubernetes_sender`
adapts the official client's dynamic client for scripts, tests and the benchmark.

Per router and pass: GET every object the router reads (404 = absent), compute the writes, send
them in order. A 409 (a patch's ``resourceVersion`` precondition failed, or a create found the
object already there) means someone changed the object since it was read: read again and
recompute, up to ``attempts`` times — writes already sent are then seen in the new reads, so
nothing is written twice. Any other refusal becomes a `RoutingError` naming the object, which the
controller reports as Argo's ``TrafficRoutingError`` Warning Event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from traffic.objects import ObjectRef, RoutingError
from traffic.routers import Objects, Router, TrafficSettings, configured
from traffic.routing import Intent, Routing
from traffic.writes import Create, Event, Patch, Write

__all__ = ["Outcome", "Request", "Send", "kubernetes_sender", "reconcile"]

JSON: Final = "application/json"
NOT_FOUND: Final = 404
CONFLICT: Final = 409
DEFAULT_ATTEMPTS: Final = 5


@dataclass(frozen=True)
class Request:
    """One API request (the ``resource``/``name`` pair names it for request-count metrics)."""

    method: str
    ref: ObjectRef
    body: Any = None
    content_type: str = JSON

    @property
    def path(self) -> str:
        return self.ref.collection_path if self.method == "POST" else self.ref.path

    @property
    def resource(self) -> str:
        return self.ref.plural

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def namespace(self) -> str:
        return self.ref.namespace


Send = Callable[[Request], Awaitable[Any]]


@dataclass
class Outcome:
    """What one pass over a Rollout's routers did."""

    writes: int = 0
    events: list[Event] = field(default_factory=list)


class _ConflictError(Exception):
    """The object moved on since it was read."""


def _status(error: BaseException) -> int | None:
    status = getattr(error, "status", None)
    return status if isinstance(status, int) else None


async def _read(send: Send, ref: ObjectRef) -> Mapping[str, Any] | None:
    try:
        found = await send(Request("GET", ref))
    except Exception as error:
        if _status(error) == NOT_FOUND:
            return None
        raise
    if not isinstance(found, Mapping):
        raise RoutingError(f"{ref}: the API server answered with no object")
    return found


async def _write(send: Send, write: Write) -> None:
    request = (
        Request("POST", write.ref, dict(write.body))
        if isinstance(write, Create)
        else Request("PATCH", write.ref, dict(write.patch), write.content_type)
    )
    try:
        await send(request)
    except Exception as error:
        status = _status(error)
        if status == CONFLICT or (status == NOT_FOUND and isinstance(write, Patch)):
            raise _ConflictError from error
        if status is not None:
            verb = "creating" if isinstance(write, Create) else "patching"
            raise RoutingError(f"error {verb} {write.ref}: {error}") from error
        raise


async def _reconcile_router(
    send: Send, router: Router, routing: Routing, intent: Intent, *, outcome: Outcome, attempts: int
) -> None:
    for _ in range(attempts):
        objects: Objects = {ref: await _read(send, ref) for ref in router.reads(routing)}
        try:
            for write in router.writes(routing, intent, objects):
                await _write(send, write)
                outcome.writes += 1
                outcome.events.extend(write.events)
        except _ConflictError:
            continue
        return
    raise RoutingError(
        f"{router.name}: the routing objects kept changing while being written ({attempts} tries)"
    )


async def reconcile(
    send: Send,
    rollout: Mapping[str, Any],
    intent: Intent,
    settings: TrafficSettings | None = None,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
) -> Outcome:
    """Bring every router ``rollout`` configures to ``intent``; `RoutingError` says what failed."""
    routing = Routing.from_rollout(rollout)
    outcome = Outcome()
    for router in configured(routing, settings or TrafficSettings()):
        await _reconcile_router(send, router, routing, intent, outcome=outcome, attempts=attempts)
    return outcome


def kubernetes_sender(api_client: Any) -> Send:
    """A ``send`` over the official client's dynamic client (blocking calls run in a thread)."""
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    dynamic: Any = DynamicClient(api_client)  # type: ignore[no-untyped-call]

    def call(request: Request) -> Any:
        ref = request.ref
        try:
            resource = dynamic.resources.get(api_version=ref.api_version, kind=ref.kind)
        except ResourceNotFoundError as error:
            raise RoutingError(f"{ref.kind} {ref.api_version} is not served by the API server") from error
        if request.method == "GET":
            return resource.get(name=ref.name, namespace=ref.namespace).to_dict()
        if request.method == "POST":
            return resource.create(body=request.body, namespace=ref.namespace).to_dict()
        return resource.patch(
            body=request.body, name=ref.name, namespace=ref.namespace, content_type=request.content_type
        ).to_dict()

    async def send(request: Request) -> Any:
        return await asyncio.to_thread(call, request)

    return send
