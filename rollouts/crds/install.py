"""Apply the CRDs to a cluster with server-side apply and wait until they are Established.

Server-side apply (field manager ``rollouts``, forced) makes install idempotent and lets an
upgrade take over fields another manager (an earlier ``kubectl apply``, a real Argo Rollouts
install) set, without the size-limited ``last-applied`` annotation of client-side apply.
A CRD is usable only once the API server reports it ``Established``; ``NamesAccepted=False``
(e.g. a short name another CRD already claims) fails at once with the server's message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from kubernetes.client import ApiClient, ApiextensionsV1Api
from kubernetes.client.exceptions import ApiException

from rollouts.crds.generate import all_crds

__all__ = ["FIELD_MANAGER", "CrdInstallError", "install_crds", "wait_established"]

FIELD_MANAGER = "rollouts"


class CrdInstallError(RuntimeError):
    """A CRD the API server refused or that did not become Established in time."""


def install_crds(
    api_client: ApiClient,
    crds: Sequence[dict[str, Any]] | None = None,
    *,
    timeout: float = 60.0,
    poll_interval: float = 0.2,
) -> list[str]:
    """Apply ``crds`` (default: all five) and wait until each is Established; return their names."""
    documents = list(crds) if crds is not None else all_crds()
    api = ApiextensionsV1Api(api_client)
    names = []
    for document in documents:
        name = document["metadata"]["name"]
        try:
            api.patch_custom_resource_definition(
                name,
                document,
                field_manager=FIELD_MANAGER,
                force=True,
                _content_type="application/apply-patch+yaml",
            )
        except ApiException as error:
            raise CrdInstallError(f"applying CRD {name} failed: {_server_message(error)}") from None
        names.append(name)
    wait_established(api_client, names, timeout=timeout, poll_interval=poll_interval)
    return names


def wait_established(
    api_client: ApiClient,
    names: Sequence[str],
    *,
    timeout: float = 60.0,
    poll_interval: float = 0.2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Block until every named CRD reports ``Established=True``; raise :class:`CrdInstallError` otherwise."""
    api = ApiextensionsV1Api(api_client)
    deadline = clock() + timeout
    pending = list(names)
    while True:
        still_pending = []
        for name in pending:
            conditions = _conditions(api, name)
            accepted, message = conditions.get("NamesAccepted", ("Unknown", ""))
            if accepted == "False":
                raise CrdInstallError(f"CRD {name}: names not accepted: {message}")
            if conditions.get("Established", ("Unknown", ""))[0] != "True":
                still_pending.append(name)
        if not still_pending:
            return
        if clock() >= deadline:
            raise CrdInstallError(f"CRDs not Established after {timeout:g}s: {', '.join(still_pending)}")
        pending = still_pending
        sleep(poll_interval)


def _conditions(api: ApiextensionsV1Api, name: str) -> dict[str, tuple[str, str]]:
    """Condition type → (status, message) of one CRD."""
    try:
        definition = api.read_custom_resource_definition(name)
    except ApiException as error:
        raise CrdInstallError(f"reading CRD {name} failed: {_server_message(error)}") from None
    conditions = definition.status.conditions if definition.status else None
    return {condition.type: (condition.status, condition.message or "") for condition in conditions or []}


def _server_message(error: ApiException) -> str:
    """The API server's Status message when there is one, else the HTTP reason."""
    try:
        status = json.loads(error.body or "")
    except (TypeError, ValueError):
        return f"{error.status} {error.reason}"
    message = status.get("message") if isinstance(status, dict) else None
    return str(message) if message else f"{error.status} {error.reason}"
