"""The one seam between the AnalysisRun controller and the Kubernetes API.

`analysis` may not import `rollouts`, yet both controllers should share one connection pool
and one identity. So this package names only what it needs — an `ApiCaller` that sends a
request and returns decoded JSON or raises `ApiCallError` — and whoever starts the controller
(``rollouts controller``) passes in an adapter over its own client. Tests pass the same
adapter, so nothing here is faked.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

__all__ = [
    "ANALYSIS_RUNS_PATH",
    "JSON",
    "MERGE_PATCH",
    "ApiCallError",
    "ApiCaller",
    "run_path",
]

JSON: Final = "application/json"
MERGE_PATCH: Final = "application/merge-patch+json"
ANALYSIS_RUNS_PATH: Final = "/apis/argoproj.io/v1alpha1/namespaces/{namespace}/analysisruns"


class ApiCallError(Exception):
    """A non-2xx answer; ``status`` is the HTTP code (404, 409, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ApiCaller(Protocol):
    """Sends one request to the API server."""

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = JSON,
        params: dict[str, str] | None = None,
    ) -> Any:
        """The decoded JSON answer; raises :class:`ApiCallError` for a non-2xx answer."""
        ...


def run_path(namespace: str, name: str) -> str:
    return f"{ANALYSIS_RUNS_PATH.format(namespace=namespace)}/{name}"
