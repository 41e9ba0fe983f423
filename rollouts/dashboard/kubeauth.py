"""``--auth kubernetes``: ask the API server who a token is and what that user may do.

TokenReview and SubjectAccessReview are created with the dashboard's own identity (which needs
``create`` on both, see ``deploy/dashboard/``), their answers cached briefly (`access.TtlCache`).
Actions are then sent with the user's own token, not the dashboard's: the API server applies
the user's RBAC a second time and records the user as the writer, and the dashboard's
identity needs no write rights at all.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from rollouts.dashboard.access import (
    ResourceCheck,
    TtlCache,
    UserInfo,
    denial,
    parse_access_review,
    parse_token_review,
    required_denials,
    subject_access_review,
    token_key,
    token_review,
)
from rollouts.dashboard.rawapi import request_json
from rollouts.plugin.kube import ApiError, Cluster

__all__ = ["AccessError", "KubernetesAccess"]

TOKEN_TTL = 10.0
REFUSED_TOKEN_TTL = 2.0
DECISION_TTL = 5.0


class AccessError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class KubernetesAccess:
    def __init__(self, cluster: Cluster, clock: Callable[[], float] = time.monotonic) -> None:
        self.cluster = cluster
        self._lock = threading.Lock()
        self._users: TtlCache[str, UserInfo | str] = TtlCache(size=1024, clock=clock)
        self._decisions: TtlCache[tuple[UserInfo, ResourceCheck], tuple[bool, str]] = TtlCache(
            size=4096, clock=clock
        )

    def _create(self, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        try:
            return request_json(self.cluster.api_client, "POST", path, body=body, timeout=30)
        except ApiError as error:
            raise AccessError(502, f"the Kubernetes API refused the dashboard's {what}: {error}") from None

    def authenticate(self, token: str) -> UserInfo:
        """The user behind ``token``; `AccessError` 401 when the API server does not know it."""
        if not token:
            raise AccessError(401, "missing token: sign in with a Kubernetes bearer token")
        key = token_key(token)
        with self._lock:
            found = self._users.get(key)
        if found is None:
            found = parse_token_review(
                self._create(
                    "/apis/authentication.k8s.io/v1/tokenreviews", token_review(token), "TokenReview"
                )
            )
            with self._lock:
                self._users.put(key, found, TOKEN_TTL if isinstance(found, UserInfo) else REFUSED_TOKEN_TTL)
        if isinstance(found, str):
            raise AccessError(401, f"invalid token: {found}")
        return found

    def allowed(self, user: UserInfo, check: ResourceCheck) -> tuple[bool, str]:
        with self._lock:
            found = self._decisions.get((user, check))
        if found is None:
            review = subject_access_review(user, dataclasses.replace(check, required=True))
            found = parse_access_review(
                self._create(
                    "/apis/authorization.k8s.io/v1/subjectaccessreviews", review, "SubjectAccessReview"
                )
            )
            with self._lock:
                self._decisions.put((user, check), found, DECISION_TTL)
        return found

    def authorize(self, user: UserInfo, checks: Iterable[ResourceCheck]) -> set[str]:
        """Raise 403 on the first required check refused; return the optional resources refused."""
        results = [(check, *self.allowed(user, check)) for check in checks]
        refused = required_denials(results)
        if refused:
            check, reason = refused[0]
            raise AccessError(403, denial(user, check, reason))
        return {check.resource for check, allowed, _ in results if not allowed}

    def as_user(self, token: str) -> Cluster:
        """The dashboard's connection with the user's bearer token as its only credential."""
        from kubernetes import client

        configuration = copy.deepcopy(self.cluster.api_client.configuration)
        configuration.api_key = {"authorization": token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        # anything else that would authenticate the request as the dashboard must go
        configuration.cert_file = configuration.key_file = None
        configuration.username = configuration.password = None
        configuration.refresh_api_key_hook = None
        return dataclasses.replace(self.cluster, api_client=client.ApiClient(configuration))
