"""Is a ReplicaSet's pod template the Rollout's ``spec.template``? (§3.2 newRS fallback, AlreadyExists)

The hash label normally answers this, but a ReplicaSet whose hash we cannot reproduce (made by
another Argo version, or hashed differently) must still be recognised, or a migrated Rollout
would start a second ReplicaSet with new pods. Argo compares the templates after running the
Rollout's through the API defaulting; we do the converse, which needs no API machinery: both
templates are *normalised* — the hash label, the injected anti-affinity term and the recorded
ephemeral metadata removed, every field that holds the value the API server would default it to
dropped, empty values dropped — and the results compared. A field the user set to its default
and the same field defaulted by the server both vanish, so they compare equal; a field only one
side has (a real difference) survives and makes them differ.

The normalised form is reduced to a short digest so that the ReplicaSet projections kept in
memory never hold whole pod specs.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from rollouts.planner.inputs import POD_HASH_LABEL, as_list, as_mapping

__all__ = ["normalized_template", "template_digest"]

_POD_DEFAULTS: Final = {
    "restartPolicy": "Always",
    "dnsPolicy": "ClusterFirst",
    "schedulerName": "default-scheduler",
    "terminationGracePeriodSeconds": 30,
    "enableServiceLinks": True,
}
_CONTAINER_DEFAULTS: Final = {
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
_PROBE_DEFAULTS: Final = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
_MODE_DEFAULT: Final = 420  # 0644, the default mode of configMap/secret/downwardAPI/projected volumes
_EMPTY: Final[tuple[object, ...]] = (None, {}, [], "")


def _drop_defaults(obj: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    for key, default in defaults.items():
        if key in obj and obj[key] == default:
            del obj[key]


def _default_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged image, else ``IfNotPresent`` (digests count as tags)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _normalize_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    _drop_defaults(probe, _PROBE_DEFAULTS)
    http_get = probe.get("httpGet")
    if isinstance(http_get, dict):
        _drop_defaults(http_get, {"scheme": "HTTP"})


def _normalize_env(env: Any) -> None:
    for entry in as_list(env):
        field_ref = as_mapping(as_mapping(entry).get("valueFrom")).get("fieldRef")
        if isinstance(field_ref, dict):
            _drop_defaults(field_ref, {"apiVersion": "v1"})


def _normalize_container(container: Any) -> None:
    if not isinstance(container, dict):
        return
    _drop_defaults(container, _CONTAINER_DEFAULTS)
    image = container.get("image")
    if isinstance(image, str) and container.get("imagePullPolicy") == _default_pull_policy(image):
        del container["imagePullPolicy"]
    for port in as_list(container.get("ports")):
        if isinstance(port, dict):
            _drop_defaults(port, {"protocol": "TCP"})
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        _normalize_probe(container.get(probe))
    _normalize_env(container.get("env"))


def _normalize_volume(volume: Any) -> None:
    if not isinstance(volume, dict):
        return
    for source in ("configMap", "secret", "downwardAPI", "projected"):
        body = volume.get(source)
        if isinstance(body, dict):
            _drop_defaults(body, {"defaultMode": _MODE_DEFAULT})
            for item in as_list(body.get("items")):
                field_ref = as_mapping(item).get("fieldRef")
                if isinstance(field_ref, dict):
                    _drop_defaults(field_ref, {"apiVersion": "v1"})
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        _drop_defaults(host_path, {"type": ""})


def _strip_anti_affinity(spec: dict[str, Any]) -> None:
    """Remove the term Argo injects against the stable pods (§3.18): it keys on the hash label."""
    anti = as_mapping(as_mapping(spec.get("affinity")).get("podAntiAffinity"))
    if not isinstance(anti, dict):
        return

    def injected(term: Any) -> bool:
        selector = as_mapping(as_mapping(term).get("labelSelector"))
        if "podAffinityTerm" in as_mapping(term):
            selector = as_mapping(as_mapping(as_mapping(term)["podAffinityTerm"]).get("labelSelector"))
        return any(
            as_mapping(e).get("key") == POD_HASH_LABEL for e in as_list(selector.get("matchExpressions"))
        )

    for key in (
        "requiredDuringSchedulingIgnoredDuringExecution",
        "preferredDuringSchedulingIgnoredDuringExecution",
    ):
        if key in anti:
            anti[key] = [term for term in as_list(anti[key]) if not injected(term)]


def _prune(value: Any) -> Any:
    """Drop empty values recursively (Go's ``omitempty`` makes them indistinguishable from absent)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in _EMPTY}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def normalized_template(
    template: Mapping[str, Any], ephemeral: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``template`` without what defaulting, hashing and ephemeral metadata add (see module doc)."""
    result = copy.deepcopy(dict(template))
    metadata = dict(as_mapping(result.get("metadata")))
    metadata.pop("creationTimestamp", None)
    injected = as_mapping(ephemeral)
    for key in ("labels", "annotations"):
        values = {k: v for k, v in as_mapping(metadata.get(key)).items() if k != POD_HASH_LABEL}
        for injected_key in as_mapping(injected.get(key)):
            values.pop(injected_key, None)
        metadata[key] = values
    result["metadata"] = metadata
    spec = result.get("spec")
    if isinstance(spec, dict):
        spec.pop("serviceAccount", None)  # deprecated alias the server fills from serviceAccountName
        _drop_defaults(spec, _POD_DEFAULTS)
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for container in as_list(spec.get(key)):
                _normalize_container(container)
        for volume in as_list(spec.get("volumes")):
            _normalize_volume(volume)
        _strip_anti_affinity(spec)
    pruned: dict[str, Any] = _prune(result)
    return pruned


def template_digest(template: Mapping[str, Any], ephemeral: Mapping[str, Any] | None = None) -> str:
    """A short digest of `normalized_template` (equal digests mean semantically equal templates)."""
    text = json.dumps(normalized_template(template, ephemeral), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def ephemeral_metadata(annotations: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """What Argo recorded in ``rollout.argoproj.io/ephemeral-metadata`` (§3.17), if readable."""
    text = annotations.get("rollout.argoproj.io/ephemeral-metadata")
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
