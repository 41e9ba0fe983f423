"""Raw requests to the Kubernetes API through the client's connection (TLS, credentials).

The watches and the reviews need paths the generated API classes word awkwardly (a watch as a
line stream of camelCase JSON, a review as a plain POST), so they go through the client's own
``param_serialize`` + ``call_api``: the kubeconfig's server, CA and credentials apply, and a
refusal becomes the plugin's `ApiError` with the API server's message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rollouts.plugin.kube import ApiError, api_errors

__all__ = ["request", "request_json"]


def request(
    api_client: Any,
    method: str,
    path: str,
    *,
    query: Sequence[tuple[str, str]] = (),
    body: Any = None,
    timeout: float | tuple[float, float] = 60.0,
) -> Any:
    """The urllib3 response, unread (a watch streams it); `ApiError` for a status of 400 or more."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    with api_errors():
        method, url, headers, serialized, _ = api_client.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        answer = api_client.call_api(
            method, url, header_params=headers, body=serialized, _request_timeout=timeout
        )
    raw = answer.response
    if answer.status >= 400:
        text = raw.data.decode(errors="replace")
        try:
            message = str(json.loads(text).get("message") or text)
        except ValueError:
            message = text or f"{answer.status} {answer.reason}"
        raise ApiError(message, int(answer.status))
    return raw


def request_json(api_client: Any, method: str, path: str, **options: Any) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(request(api_client, method, path, **options).data)
    return answer
