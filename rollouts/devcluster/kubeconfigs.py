"""Reading the admin kubeconfig the supervisor writes, without the kubernetes client's loader.

The driver needs only the server and the bearer token (the CA is a file next to it), and wants a
clear error for a damaged file, so the parse is a small pure function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from rollouts.devcluster.errors import DevClusterError


@dataclass(frozen=True)
class Credentials:
    server: str
    token: str


def _named(entries: Any, name: str, key: str, what: str) -> dict[str, Any]:
    if isinstance(entries, list):
        for entry in entries:
            if isinstance(entry, dict) and entry.get("name") == name and isinstance(entry.get(key), dict):
                found: dict[str, Any] = entry[key]
                return found
    raise DevClusterError(f"kubeconfig: no {what} named {name!r}")


def parse_kubeconfig(text: str) -> Credentials:
    """Server and token of the current context of a token-authenticated kubeconfig."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DevClusterError(f"kubeconfig is not valid YAML: {error}") from error
    if not isinstance(doc, dict) or not isinstance(doc.get("current-context"), str):
        raise DevClusterError("kubeconfig: no current-context")
    context = _named(doc.get("contexts"), doc["current-context"], "context", "context")
    cluster = _named(doc.get("clusters"), str(context.get("cluster")), "cluster", "cluster")
    user = _named(doc.get("users"), str(context.get("user")), "user", "user")
    server, token = cluster.get("server"), user.get("token")
    if not isinstance(server, str) or not server.startswith("https://"):
        raise DevClusterError(f"kubeconfig: cluster server should be an https URL, got {server!r}")
    if not isinstance(token, str) or not token:
        raise DevClusterError("kubeconfig: user has no token")
    return Credentials(server=server, token=token)
