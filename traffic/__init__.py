"""Traffic routers: pure functions from (routing objects, desired weights and routes) to writes.

Never imports ``rollouts`` or ``analysis``: it reads the Rollout as the raw manifest and is told
what to do by an `Intent` (the planner's decision for the pass). One module per router —
`nginx`, `istio` (with `istio_routes`), `gatewayapi`, `smi` — plus `services` (selectors and
ping-pong roles), `routers` (which routers a Rollout configures), and `apply`, the only module
that performs I/O. Routers return `Create`/`Patch` writes carrying Argo's Events; a routing
object that cannot reach the desired state raises `RoutingError` with Argo's message.
"""

from traffic.apply import Outcome, Request, Send, kubernetes_sender, reconcile, resolve_settings
from traffic.objects import ObjectRef, RoutingError
from traffic.routers import Router, TrafficSettings, configured
from traffic.routing import Destination, Intent, Routing
from traffic.writes import Create, Event, Patch, Write

__all__ = [
    "Create",
    "Destination",
    "Event",
    "Intent",
    "ObjectRef",
    "Outcome",
    "Patch",
    "Request",
    "Router",
    "Routing",
    "RoutingError",
    "Send",
    "TrafficSettings",
    "Write",
    "configured",
    "kubernetes_sender",
    "reconcile",
    "resolve_settings",
]
