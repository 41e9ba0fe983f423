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
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from traffic.objects import ObjectRef, RoutingError, mapping
from traffic.routers import Objects, Router, TrafficSettings, configured
from traffic.routing import Intent, Routing
from traffic.writes import Create, Event, Patch, Write

__all__ = ["Outcome", "Request", "Send", "kubernetes_sender", "reconcile", "resolve_settings"]

JSON: Final = "application/json"
NOT_FOUND: Final = 404
CONFLICT: Final = 409
DEFAULT_ATTEMPTS: Final = 5
SMI_GROUP: Final = "split.smi-spec.io"


@dataclass(frozen=True)
class Request:
    """One API request; ``resource`` and ``name`` name it for request-count metrics."""

    method: str
    path: str
    resource: str
    name: str = ""
    namespace: str = ""
    body: Any = None
    content_type: str = JSON

    @classmethod
    def to(cls, method: str, ref: ObjectRef, body: Any = None, content_type: str = JSON) -> Request:
        """A request about one object (POST goes to its collection)."""
        path = ref.collection_path if method == "POST" else ref.path
        return cls(method, path, ref.plural, ref.name, ref.namespace, body, content_type)

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


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
        found = await send(Request.to("GET", ref))
    except Exception as error:
        if _status(error) == NOT_FOUND:
            return None
        raise
    if not isinstance(found, Mapping):
        raise RoutingError(f"{ref}: the API server answered with no object")
    return found


async def _write(send: Send, write: Write) -> None:
    request = (
        Request.to("POST", write.ref, dict(write.body))
        if isinstance(write, Create)
        else Request.to("PATCH", write.ref, dict(write.patch), write.content_type)
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
    resolved = await resolve_settings(send, routing, settings or TrafficSettings())
    for router in configured(routing, resolved):
        await _reconcile_router(send, router, routing, intent, outcome=outcome, attempts=attempts)
    return outcome


async def _served_version(send: Send, group: str) -> str:
    """The version of ``group`` the API server prefers (discovery), for settings left open."""
    try:
        found = await send(Request("GET", f"/apis/{group}", "apigroups", group))
    except Exception as error:
        if _status(error) == NOT_FOUND:
            raise RoutingError(
                f"the API group {group} is not served by this cluster (is its CRD installed?)"
            ) from error
        raise
    version = mapping(mapping(found).get("preferredVersion")).get("version")
    if not isinstance(version, str) or not version:
        raise RoutingError(f"the API server names no preferred version of {group}")
    return version


async def resolve_settings(send: Send, routing: Routing, settings: TrafficSettings) -> TrafficSettings:
    """``settings`` with an unset SMI version replaced by the one the cluster serves."""
    if settings.smi_api_version is None and routing.traffic_routing.get("smi") is not None:
        return replace(settings, smi_api_version=await _served_version(send, SMI_GROUP))
    return settings


def kubernetes_sender(api_client: Any) -> Send:
    """A ``send`` over the official client's ``ApiClient`` (its blocking calls run in a thread);
    a non-2xx answer raises ``kubernetes.client.ApiException`` with its ``status``."""
    from kubernetes.client.exceptions import ApiException

    def call(request: Request) -> Any:
        headers = {"Accept": JSON}
        if request.body is not None:
            headers["Content-Type"] = request.content_type
        serialized = api_client.param_serialize(
            request.method,
            request.path,
            header_params=headers,
            body=request.body,
            auth_settings=["BearerToken"],
        )
        response = api_client.call_api(*serialized)
        data = response.read()
        if not 200 <= response.status < 300:
            raise ApiException(status=response.status, reason=response.reason, body=data)
        return json.loads(data) if data else None

    async def send(request: Request) -> Any:
        return await asyncio.to_thread(call, request)

    return send
