"""NGINX Ingress (``trafficRouting.nginx``, §5.1): a canary Ingress per stable Ingress.

Reproduces Argo's nginx reconciler. For each stable Ingress (``stableIngress`` or every entry of
``stableIngresses``) the Rollout owns ``<rollout>-<stableIngress>-canary``, rebuilt from the stable
Ingress on every pass:

* ``spec.tls`` and ``spec.ingressClassName`` copied, and the ``kubernetes.io/ingress.class``
  annotation if present;
* every rule with a path whose backend is ``stableService`` copied whole, those backends renamed
  to ``canaryService``; rules without one are dropped, and an Ingress with none is an error;
* annotations: ``additionalIngressAnnotations`` (each key prefixed with ``annotationPrefix``, default
  ``nginx.ingress.kubernetes.io``, unless it already starts with it), then
  ``canaryIngressAnnotations`` verbatim (they win), then ``<prefix>/canary: "true"``,
  ``<prefix>/canary-weight: "<weight>"`` and, when ``maxTrafficWeight`` is set,
  ``<prefix>/canary-weight-total: "<maxTrafficWeight>"``;
* a controller reference to the Rollout. A canary Ingress another object controls is an error.

A missing canary Ingress is created; an existing one is patched only where it differs. Labels
and annotations someone else put on the live canary Ingress are kept (only the keys above are
managed), the spec is the stable Ingress's. Argo never deletes it: after promotion its weight is
0 and the canary Service selects the new stable pods. There are no header or mirror routes here
(``canary-by-header`` and friends go through ``additionalIngressAnnotations``), so route steps are
no-ops, as upstream.

Only ``networking.k8s.io/v1`` is spoken: ``extensions/v1beta1`` Ingresses are no longer served by
any supported Kubernetes version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from traffic.objects import (
    INGRESS,
    ObjectRef,
    RoutingError,
    annotations_of,
    deep_copy,
    guarded,
    items,
    mapping,
    merge_patch,
    text,
)
from traffic.routing import Intent, Routing
from traffic.writes import Create, Event, Patch, Write

__all__ = ["canary_ingress_name", "desired_canary_ingress", "reads", "stable_ingresses", "writes"]

DEFAULT_PREFIX: Final = "nginx.ingress.kubernetes.io"
CLASS_ANNOTATION: Final = "kubernetes.io/ingress.class"
CANARY_SUFFIX: Final = "-canary"
MAX_NAME: Final = 253


def _config(routing: Routing) -> Mapping[str, Any]:
    return mapping(routing.traffic_routing.get("nginx"))


def stable_ingresses(routing: Routing) -> list[str]:
    """``stableIngresses`` if set, else ``[stableIngress]``; an error when neither names one."""
    config = _config(routing)
    names = [text(name) for name in items(config.get("stableIngresses"))] or [
        text(config.get("stableIngress"))
    ]
    if not all(names):
        raise RoutingError("nginx traffic routing needs stableIngress or stableIngresses")
    return names


def canary_ingress_name(rollout: str, stable_ingress: str) -> str:
    """``<rollout>-<stableIngress>-canary``, the prefix cut so the name stays within 253 characters."""
    prefix = f"{rollout}-{stable_ingress}"[: MAX_NAME - len(CANARY_SUFFIX)]
    return prefix + CANARY_SUFFIX


def reads(routing: Routing) -> list[ObjectRef]:
    refs = []
    for stable in stable_ingresses(routing):
        refs.append(INGRESS.ref(routing.namespace, stable))
        refs.append(INGRESS.ref(routing.namespace, canary_ingress_name(routing.name, stable)))
    return refs


def _prefix(routing: Routing) -> str:
    return text(_config(routing).get("annotationPrefix")) or DEFAULT_PREFIX


def _canary_annotations(routing: Routing, stable: Mapping[str, Any], weight: int) -> dict[str, str]:
    prefix = _prefix(routing)
    result: dict[str, str] = {}
    if CLASS_ANNOTATION in annotations_of(stable):
        result[CLASS_ANNOTATION] = annotations_of(stable)[CLASS_ANNOTATION]
    for key, value in mapping(_config(routing).get("additionalIngressAnnotations")).items():
        result[key if key.startswith(prefix) else f"{prefix}/{key}"] = text(value)
    for key, value in mapping(_config(routing).get("canaryIngressAnnotations")).items():
        result[key] = text(value)
    result[f"{prefix}/canary"] = "true"
    result[f"{prefix}/canary-weight"] = str(weight)
    if routing.max_traffic_weight is not None:
        result[f"{prefix}/canary-weight-total"] = str(routing.max_traffic_weight)
    return result


def _canary_rules(routing: Routing, stable_name: str, stable: Mapping[str, Any]) -> list[Any]:
    rules = []
    for rule in items(mapping(stable.get("spec")).get("rules")):
        copied = deep_copy(rule)
        if not isinstance(copied, dict):
            continue
        uses_stable = False
        for path in items(mapping(copied.get("http")).get("paths")):
            service = mapping(mapping(mapping(path).get("backend")).get("service"))
            if isinstance(service, dict) and service.get("name") == routing.stable_service:
                service["name"] = routing.canary_service
                uses_stable = True
        if uses_stable:
            rules.append(copied)
    if not rules:
        raise RoutingError(
            f"ingress `{stable_name}` has no rules using service {routing.stable_service} backend"
        )
    return rules


def desired_canary_ingress(
    routing: Routing, stable_name: str, stable: Mapping[str, Any], weight: int
) -> dict[str, Any]:
    """The canary Ingress Argo builds from ``stable`` for ``weight``."""
    stable_spec = mapping(stable.get("spec"))
    spec: dict[str, Any] = {}
    if stable_spec.get("ingressClassName") is not None:
        spec["ingressClassName"] = stable_spec["ingressClassName"]
    spec["rules"] = _canary_rules(routing, stable_name, stable)
    if stable_spec.get("tls") is not None:
        spec["tls"] = deep_copy(stable_spec["tls"])
    return {
        "apiVersion": INGRESS.api_version,
        "kind": INGRESS.kind,
        "metadata": {
            "name": canary_ingress_name(routing.name, stable_name),
            "namespace": routing.namespace,
            "annotations": _canary_annotations(routing, stable, weight),
            "ownerReferences": [routing.owner_reference()],
        },
        "spec": spec,
    }


def _update(
    routing: Routing, live: Mapping[str, Any], desired: Mapping[str, Any], weight: int
) -> Patch | None:
    name = desired["metadata"]["name"]
    if not routing.controls(live):
        raise RoutingError(f"canary ingress `{name}` controlled by different object")
    wanted_annotations = {**annotations_of(live), **desired["metadata"]["annotations"]}
    patch = merge_patch(
        {"metadata": {"annotations": annotations_of(live)}, "spec": mapping(live.get("spec"))},
        {"metadata": {"annotations": wanted_annotations}, "spec": desired["spec"]},
    )
    if not patch:
        return None
    event = Event("PatchingCanaryIngress", f"Updating Ingress `{name}` to desiredWeight '{weight}'")
    return Patch(INGRESS.ref(routing.namespace, name), guarded(patch, live), (event,))


def writes(
    routing: Routing, intent: Intent, objects: Mapping[ObjectRef, Mapping[str, Any] | None]
) -> list[Write]:
    """Create or patch each canary Ingress for ``intent.weight`` (route instructions do not apply)."""
    result: list[Write] = []
    for stable_name in stable_ingresses(routing):
        stable = objects.get(INGRESS.ref(routing.namespace, stable_name))
        if stable is None:
            raise RoutingError(f"error retrieving stableIngress `{stable_name}`: ingress not found")
        desired = desired_canary_ingress(routing, stable_name, stable, intent.weight)
        canary_ref = INGRESS.ref(routing.namespace, desired["metadata"]["name"])
        live = objects.get(canary_ref)
        if live is None:
            message = f"Creating canary ingress `{canary_ref.name}` with weight `{intent.weight}`"
            result.append(Create(canary_ref, desired, (Event("CreatingCanaryIngress", message),)))
            continue
        update = _update(routing, live, desired, intent.weight)
        if update is not None:
            result.append(update)
    return result
