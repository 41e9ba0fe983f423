"""Per-user access off loopback: which SubjectAccessReviews each request needs, and their bodies.

With ``--auth kubernetes`` the server reads with its own credentials (one shared watch per kind
serves every page) and so must ask the API server, for each request, whether *this user* may
see or change what is asked: a TokenReview says who the bearer token belongs to, then one
SubjectAccessReview per resource the answer is built from. The decisions — which checks for
which route, and how a denial is worded — are pure and live here; `kubeauth` sends them.
Results are cached briefly in a bounded `TtlCache` so a page's stream or a burst of clicks does
not become a burst of reviews, while a revoked token or RoleBinding stops working in seconds.

Checks marked ``required=False`` (Events, Jobs) only thin the answer: a user who may not list
Events still sees the rest of the rollout, as with ``kubectl rollouts get``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rollouts.planner.inputs import as_list, as_mapping, as_str
from rollouts.planner.operations import Patches

__all__ = [
    "ResourceCheck",
    "TtlCache",
    "UserInfo",
    "action_read_checks",
    "action_write_checks",
    "denial",
    "parse_access_review",
    "parse_token_review",
    "read_checks",
    "required_denials",
    "subject_access_review",
    "token_key",
    "token_review",
]

ARGO = "argoproj.io"
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True)
class UserInfo:
    """Who a token belongs to, as the TokenReview said (passed on to each SubjectAccessReview)."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ResourceCheck:
    """One SubjectAccessReview's resource attributes; namespace "" means every namespace."""

    verb: str
    resource: str
    group: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    required: bool = True

    def describe(self) -> str:
        what = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.subresource:
            what += f"/{self.subresource}"
        if self.name:
            what += f' "{self.name}"'
        where = f'in namespace "{self.namespace}"' if self.namespace else "in all namespaces"
        return f"{self.verb} {what} {where}"


def read_checks(view: str, namespace: str, name: str = "") -> list[ResourceCheck]:
    """What a read (or a live stream) of ``view`` — ``list`` or ``detail`` — is built from."""
    if view == "list":
        return [
            ResourceCheck("list", "rollouts", ARGO, namespace),
            ResourceCheck("list", "replicasets", "apps", namespace),
        ]
    if view == "detail":
        return [
            ResourceCheck("get", "rollouts", ARGO, namespace, name),
            ResourceCheck("list", "replicasets", "apps", namespace),
            ResourceCheck("list", "pods", "", namespace),
            ResourceCheck("list", "analysisruns", ARGO, namespace),
            ResourceCheck("list", "experiments", ARGO, namespace),
            ResourceCheck("list", "events", "", namespace, required=False),
            ResourceCheck("list", "jobs", "batch", namespace, required=False),
        ]
    raise ValueError(f"no read checks for view {view!r}")


def action_read_checks(namespace: str, name: str, action: str) -> list[ResourceCheck]:
    """Before an action is worked out: the Rollout is read (and, for undo, its ReplicaSets)."""
    checks = [ResourceCheck("get", "rollouts", ARGO, namespace, name)]
    if action == "undo":
        checks.append(ResourceCheck("list", "replicasets", "apps", namespace))
    return checks


def action_write_checks(namespace: str, name: str, patches: Patches) -> list[ResourceCheck]:
    """The writes an action's patches make, exactly as the plugin's `apply_patches` sends them."""
    checks = []
    if patches.spec is not None or patches.json_patch is not None:
        checks.append(ResourceCheck("patch", "rollouts", ARGO, namespace, name))
    if patches.status is not None:
        checks.append(ResourceCheck("patch", "rollouts", ARGO, namespace, name, subresource="status"))
    return checks


def denial(user: UserInfo, check: ResourceCheck, reason: str) -> str:
    """The 403 message: who, what, and the authorizer's reason when it gave one."""
    message = f'user "{user.username}" may not {check.describe()}'
    return f"{message}: {reason}" if reason else message


def token_key(token: str) -> str:
    """The cache key of a token: its digest, so the cache never holds a usable credential."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_review(token: str) -> dict[str, Any]:
    return {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token},
    }


def parse_token_review(answer: Mapping[str, Any]) -> UserInfo | str:
    """The user, or why the token was refused (a string)."""
    status = as_mapping(answer.get("status"))
    if status.get("authenticated") is not True:
        return as_str(status.get("error")) or "the token was not accepted by the Kubernetes API"
    user = as_mapping(status.get("user"))
    username = as_str(user.get("username"))
    if not username:
        return "the Kubernetes API accepted the token but named no user"
    extra = tuple(
        sorted(
            (str(key), tuple(as_str(v) for v in as_list(values)))
            for key, values in as_mapping(user.get("extra")).items()
        )
    )
    groups = tuple(as_str(group) for group in as_list(user.get("groups")))
    return UserInfo(username, as_str(user.get("uid")), groups, extra)


def subject_access_review(user: UserInfo, check: ResourceCheck) -> dict[str, Any]:
    attributes = {"verb": check.verb, "resource": check.resource, "group": check.group}
    for key, value in (
        ("namespace", check.namespace),
        ("name", check.name),
        ("subresource", check.subresource),
    ):
        if value:
            attributes[key] = value
    spec: dict[str, Any] = {
        "user": user.username,
        "groups": list(user.groups),
        "resourceAttributes": attributes,
    }
    if user.uid:
        spec["uid"] = user.uid
    if user.extra:
        spec["extra"] = {key: list(values) for key, values in user.extra}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}


def parse_access_review(answer: Mapping[str, Any]) -> tuple[bool, str]:
    """``(allowed, reason)``; an explicit ``denied`` wins, as the API documents."""
    status = as_mapping(answer.get("status"))
    allowed = status.get("allowed") is True and status.get("denied") is not True
    reason = as_str(status.get("reason")) or as_str(status.get("evaluationError"))
    return allowed, reason


@dataclass
class TtlCache(Generic[K, V]):
    """At most ``size`` entries, each kept until its own deadline; the oldest go first."""

    size: int = 1024
    clock: Callable[[], float] = field(default=lambda: 0.0)
    _entries: OrderedDict[K, tuple[float, V]] = field(default_factory=OrderedDict)

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if self.clock() >= found[0]:
            del self._entries[key]
            return None
        return found[1]

    def put(self, key: K, value: V, ttl: float) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self.clock() + ttl, value)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def required_denials(results: Sequence[tuple[ResourceCheck, bool, str]]) -> list[tuple[ResourceCheck, str]]:
    """The required checks that were refused, with their reasons (empty: go ahead)."""
    return [(check, reason) for check, allowed, reason in results if check.required and not allowed]
