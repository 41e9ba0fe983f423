"""The controller's own asynchronous Kubernetes client: send an `apicalls.Request`, get JSON back.

kopf runs on asyncio, and the official ``kubernetes`` client blocks; calling it from a reconcile
loop would stall every other Rollout. So the writes go through a small ``httpx.AsyncClient``
whose credentials come from the official client's configuration loaders (kubeconfig files with
client certificates, tokens or exec plugins, and the in-cluster service account with its
rotating token) — the same loaders kopf's login uses, so both speak as the same identity.

Every response is reported to ``observer`` (the request-count metric), and a non-2xx answer
becomes `ApiError` with the status code and the server's message, which the apply layer maps
to Argo's reactions (AlreadyExists, Conflict, NotFound, TooManyRequests).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import kopf
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from rollouts.controller.apicalls import Request

__all__ = ["ApiError", "KubeClient", "connection_info", "load_configuration"]

Observer = Callable[[Request, int], None]


@dataclass
class ApiError(Exception):
    """A non-2xx answer of the API server."""

    status: int
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}"


def load_configuration(kubeconfig: str | None = None, context: str | None = None) -> k8s_client.Configuration:
    """Credentials from ``kubeconfig`` (or ``$KUBECONFIG``/``~/.kube/config``), else in-cluster."""
    configuration = k8s_client.Configuration()
    if kubeconfig is None and context is None:
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return configuration
        except k8s_config.ConfigException:
            pass
    k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=kubeconfig, context=context, client_configuration=configuration
    )
    return configuration


def _authorization(configuration: k8s_client.Configuration) -> str | None:
    """The ``Authorization`` header value (refreshing an expiring token first, as the client does)."""
    value = configuration.get_api_key_with_prefix("BearerToken", alias="authorization")
    return str(value) if value else None


def connection_info(configuration: k8s_client.Configuration, namespace: str | None) -> kopf.ConnectionInfo:
    """The same identity for kopf's watches (``@kopf.on.login``)."""
    authorization = _authorization(configuration)
    scheme, token = None, None
    if authorization:
        scheme, _, token = authorization.partition(" ")
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
        default_namespace=namespace,
    )


class KubeClient:
    """Sends `Request`s; one connection pool for the whole controller."""

    def __init__(self, configuration: k8s_client.Configuration, *, observer: Observer | None = None) -> None:
        self._configuration = configuration
        self._observer = observer
        verify: ssl.SSLContext | bool = False
        if configuration.verify_ssl:
            verify = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
            if configuration.cert_file:
                verify.load_cert_chain(configuration.cert_file, configuration.key_file)
        self._http = httpx.AsyncClient(
            base_url=configuration.host, verify=verify, timeout=httpx.Timeout(30.0, connect=10.0)
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def send(self, request: Request) -> Any:
        """Send ``request``; the decoded JSON body of a 2xx answer, else `ApiError`."""
        headers = {"Accept": "application/json"}
        authorization = _authorization(self._configuration)
        if authorization:
            headers["Authorization"] = authorization
        if request.body is not None:
            headers["Content-Type"] = request.content_type
        response = await self._http.request(
            request.method,
            request.path,
            params=dict(request.params),
            json=request.body,
            headers=headers,
        )
        if self._observer is not None:
            self._observer(request, response.status_code)
        if response.is_success:
            return response.json() if response.content else None
        raise _error(response)


def _error(response: httpx.Response) -> ApiError:
    try:
        status = response.json()
    except ValueError:
        return ApiError(response.status_code, response.reason_phrase, response.text[:500])
    if not isinstance(status, dict):
        return ApiError(response.status_code, response.reason_phrase, str(status)[:500])
    return ApiError(
        response.status_code,
        str(status.get("reason") or response.reason_phrase),
        str(status.get("message") or ""),
    )
