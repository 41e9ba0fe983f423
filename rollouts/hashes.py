"""The pod-template hash and the canary step hash, byte-compatible with Argo Rollouts.

Both are FNV-1a 32 over Go ``encoding/json`` bytes, printed in decimal and
re-spelled with Kubernetes' "safe" alphabet (reference §0.5). The bytes come
from ``rollouts.gojson`` replaying the generated Go type tables, and are
checked against vectors produced by Go itself (``hack/gojson``).

Which object is hashed (reference §3.2): the newRS is "the RS whose hash label
equals the computed pod-template hash", and a new RS gets "template =
``spec.template`` + hash label". So the hash is taken over the Rollout's
``spec.template`` exactly as stored -- before the ``rollouts-pod-template-hash``
label is added, with nothing stripped -- plus ``status.collisionCount`` when
set. Callers with a ``workloadRef`` pass the referenced template.

Which bytes: Argo Rollouts v1.10 hashes plain ``encoding/json`` output of the k8s.io/api v0.34
types it pins (``hack/gojson`` generates the table from exactly those), where
``ObjectMeta.creationTimestamp`` carries ``omitzero`` (kubernetes/kubernetes#130989), so a zero
timestamp is not written. Releases up to 1.8 (and this controller before it followed v1.10) built
with older apimachinery and hashed ``"creationTimestamp":null`` in its declared position in every
ObjectMeta of the template: ``legacy_pod_template_hash`` reproduces that, so ReplicaSets they made
are found and adopted without new pods (§3.2's second lookup).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from rollouts.gojson import TypeTable, load_table, marshal

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_OBJECT_META = "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta"


def fnv1a_32(data: bytes, seed: int = _FNV_OFFSET) -> int:
    """FNV-1a, 32 bits; pass a previous result as ``seed`` to continue hashing."""
    value = seed
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Kubernetes' rand.SafeEncodeString: each character mapped into a vowel-free alphabet."""
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in text)


@cache
def _pod_template_table() -> TypeTable:
    return load_table("gojson_podtemplatespec.json")


@cache
def _legacy_pod_template_table() -> TypeTable:
    return _pod_template_table().without_omitzero(_OBJECT_META, "creationTimestamp")


@cache
def _steps_table() -> TypeTable:
    return load_table("gojson_canarysteps.json")


def pod_template_json(template: Mapping[str, object]) -> bytes:
    """The bytes Argo Rollouts v1.10 hashes for ``spec.template``."""
    return marshal(template, _pod_template_table())


def legacy_pod_template_json(template: Mapping[str, object]) -> bytes:
    """The bytes Argo Rollouts up to 1.8 hashed (``"creationTimestamp":null`` kept)."""
    return marshal(template, _legacy_pod_template_table())


def _template_hash(encoded: bytes, collision_count: int | None) -> str:
    """FNV-1a of the bytes; with a collision count, eight more bytes are hashed: the count as a
    little-endian uint32 (negative counts wrap, as Go's conversion does) and four zero bytes."""
    value = fnv1a_32(encoded)
    if collision_count is not None:
        value = fnv1a_32((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4), value)
    return safe_encode(str(value))


def pod_template_hash(template: Mapping[str, object], collision_count: int | None) -> str:
    """The ``rollouts-pod-template-hash`` of a pod template, as Argo Rollouts v1.10 computes it."""
    return _template_hash(pod_template_json(template), collision_count)


def legacy_pod_template_hash(template: Mapping[str, object], collision_count: int | None) -> str:
    """The hash releases up to 1.8 gave the same template: how their ReplicaSets are recognised."""
    return _template_hash(legacy_pod_template_json(template), collision_count)


def steps_json(steps: Sequence[Mapping[str, object]] | None) -> bytes:
    """The bytes Argo Rollouts hashes for ``spec.strategy.canary.steps``.

    ``None`` (no steps field) is Go's nil slice and hashes ``null``; an empty
    list hashes ``[]``.
    """
    return marshal(steps, _steps_table())


def step_hash(steps: Sequence[Mapping[str, object]] | None) -> str:
    """``status.currentStepHash`` for a canary rollout (blue-green uses the empty string)."""
    return safe_encode(str(fnv1a_32(steps_json(steps))))
