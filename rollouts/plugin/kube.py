"""The plugin's only door to the Kubernetes API: connect as kubectl would, read and patch objects.

Everything is read and written as plain camelCase dicts (the form the pure planner and the
renderers take), never as the kubernetes client's generated classes. API failures become a
`PluginError` worded like kubectl's (``rollouts.argoproj.io "web" not found``), so each command
only decides what to do, not how to report a 404 or an unreachable server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from rollouts.plugin.errors import PluginError

__all__ = ["ARGO_KINDS", "ApiError", "Cluster", "connect", "connect_from"]

GROUP = "argoproj.io"
VERSION = "v1alpha1"
FIELD_MANAGER = "kubectl-rollouts"

# kind -> plural; all namespaced except ClusterAnalysisTemplate
ARGO_KINDS: Mapping[str, str] = {
    "Rollout": "rollouts",
    "Experiment": "experiments",
    "AnalysisRun": "analysisruns",
    "AnalysisTemplate": "analysistemplates",
    "ClusterAnalysisTemplate": "clusteranalysistemplates",
}

T = TypeVar("T")


class ApiError(PluginError):
    """The API server refused a request; ``status`` is the HTTP status (0 when unreachable)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _status_message(error: Any) -> str:
    try:
        body = json.loads(error.body)
        return str(body.get("message") or error.reason)
    except (TypeError, ValueError, AttributeError):
        return f"{error.status} {error.reason}"


@contextmanager
def api_errors(resource: str = "", name: str = "") -> Iterator[None]:
    """Turn client exceptions into `PluginError`; ``resource``/``name`` word a 404 like kubectl."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        yield
    except ApiException as error:
        if error.status == 404 and resource and name:
            raise ApiError(f'{resource} "{name}" not found', 404) from None
        if error.status == 404 and resource:
            message = (
                f"the server doesn't have a resource type {resource.split('.', maxsplit=1)[0]!r} "
                "(are the Argo Rollouts CRDs installed?)"
            )
            raise ApiError(message, 404) from None
        if error.status == 409 and resource and name:
            raise ApiError(f'{resource} "{name}" already exists or was changed meanwhile', 409) from None
        raise ApiError(_status_message(error), int(error.status or 0)) from None
    except HTTPError as error:
        raise ApiError(f"cannot reach the Kubernetes API: {error}", 0) from None


@dataclass
class Cluster:
    """A connection plus the namespace commands act in."""

    api_client: Any
    namespace: str

    # -- argoproj.io custom resources
    def _objects(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self.api_client)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        plural = ARGO_KINDS[kind]
        with api_errors(f"{plural}.{GROUP}", name):
            if kind == "ClusterAnalysisTemplate":
                found: dict[str, Any] = self._objects().get_cluster_custom_object(
                    GROUP, VERSION, plural, name
                )
            else:
                found = self._objects().get_namespaced_custom_object(
                    GROUP, VERSION, namespace or self.namespace, plural, name
                )
        return found

    def list_objects(self, kind: str, *, all_namespaces: bool = False) -> list[dict[str, Any]]:
        plural = ARGO_KINDS[kind]
        with api_errors(f"{plural}.{GROUP}"):
            if all_namespaces or kind == "ClusterAnalysisTemplate":
                listed = self._objects().list_cluster_custom_object(GROUP, VERSION, plural)
            else:
                listed = self._objects().list_namespaced_custom_object(GROUP, VERSION, self.namespace, plural)
        return list(listed.get("items") or [])

    def merge_patch(self, kind: str, name: str, body: Mapping[str, Any], *, status: bool = False) -> None:
        """Merge patch the object, or its ``status`` subresource (falling back to the main
        resource for CRDs without one, as Argo's CLI does)."""
        plural = ARGO_KINDS[kind]
        api = self._objects()
        with api_errors(f"{plural}.{GROUP}", name):
            if status:
                from kubernetes.client.exceptions import ApiException

                try:
                    api.patch_namespaced_custom_object_status(
                        GROUP, VERSION, self.namespace, plural, name, body
                    )
                    return
                except ApiException as error:
                    if error.status != 404:
                        raise
                    self.get(kind, name)  # a missing object is still reported as "not found"
            api.patch_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name, body)

    def json_patch(self, kind: str, name: str, operations: Sequence[Mapping[str, Any]]) -> None:
        plural = ARGO_KINDS[kind]
        with api_errors(f"{plural}.{GROUP}", name):
            self._objects().patch_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                plural,
                name,
                [dict(op) for op in operations],
                _content_type="application/json-patch+json",
            )

    def replace(self, kind: str, body: Mapping[str, Any]) -> None:
        plural = ARGO_KINDS[kind]
        name = str(body["metadata"]["name"])
        with api_errors(f"{plural}.{GROUP}", name):
            self._objects().replace_namespaced_custom_object(
                GROUP, VERSION, self.namespace, plural, name, dict(body)
            )

    def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        kind = str(body["kind"])
        plural = ARGO_KINDS[kind]
        name = str(body.get("metadata", {}).get("name") or body.get("metadata", {}).get("generateName"))
        try:
            with api_errors(f"{plural}.{GROUP}"):
                if kind == "ClusterAnalysisTemplate":
                    created: dict[str, Any] = self._objects().create_cluster_custom_object(
                        GROUP, VERSION, plural, dict(body), field_manager=FIELD_MANAGER
                    )
                else:
                    created = self._objects().create_namespaced_custom_object(
                        GROUP, VERSION, self.namespace, plural, dict(body), field_manager=FIELD_MANAGER
                    )
        except ApiError as error:
            if error.status == 409:
                raise ApiError(f'{plural}.{GROUP} "{name}" already exists', 409) from None
            raise
        return created

    # -- core objects, read raw so they stay camelCase dicts
    def _raw_list(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        with api_errors():
            response = call(*args, _preload_content=False, **kwargs)
        items: list[dict[str, Any]] = json.loads(response.data).get("items") or []
        return items

    def replica_sets(self, namespace: str | None = None) -> list[dict[str, Any]]:
        from kubernetes import client

        return self._raw_list(
            client.AppsV1Api(self.api_client).list_namespaced_replica_set, namespace or self.namespace
        )

    def pods(self, namespace: str | None = None) -> list[dict[str, Any]]:
        from kubernetes import client

        return self._raw_list(
            client.CoreV1Api(self.api_client).list_namespaced_pod, namespace or self.namespace
        )

    def jobs(self, namespace: str | None = None) -> list[dict[str, Any]]:
        from kubernetes import client

        return self._raw_list(
            client.BatchV1Api(self.api_client).list_namespaced_job, namespace or self.namespace
        )

    def read_workload(self, kind: str, name: str) -> dict[str, Any]:
        """A ``workloadRef`` target: apps/v1 Deployment or ReplicaSet, or a v1 PodTemplate."""
        from kubernetes import client

        calls: dict[str, tuple[Callable[..., Any], str]] = {
            "Deployment": (client.AppsV1Api(self.api_client).read_namespaced_deployment, "deployments.apps"),
            "ReplicaSet": (client.AppsV1Api(self.api_client).read_namespaced_replica_set, "replicasets.apps"),
            "PodTemplate": (client.CoreV1Api(self.api_client).read_namespaced_pod_template, "podtemplates"),
        }
        if kind not in calls:
            raise PluginError(
                f"workloadRef kind {kind!r} is not supported (Deployment, ReplicaSet, PodTemplate)"
            )
        call, resource = calls[kind]
        with api_errors(resource, name):
            response = call(name, self.namespace, _preload_content=False)
        found: dict[str, Any] = json.loads(response.data)
        return found

    def patch_workload(self, kind: str, name: str, body: Any) -> None:
        """Patch a ``workloadRef`` target: a list is a JSON patch, a mapping a merge patch."""
        from kubernetes import client

        calls: dict[str, tuple[Callable[..., Any], str]] = {
            "Deployment": (client.AppsV1Api(self.api_client).patch_namespaced_deployment, "deployments.apps"),
            "ReplicaSet": (
                client.AppsV1Api(self.api_client).patch_namespaced_replica_set,
                "replicasets.apps",
            ),
            "PodTemplate": (client.CoreV1Api(self.api_client).patch_namespaced_pod_template, "podtemplates"),
        }
        call, resource = calls[kind]
        content_type = (
            "application/json-patch+json" if isinstance(body, list) else "application/merge-patch+json"
        )
        with api_errors(resource, name):
            call(name, self.namespace, body, _content_type=content_type)

    def retry_on_conflict(self, attempt: Callable[[], T], attempts: int = 5) -> T:
        """Run a read-modify-update ``attempt`` again when the write lost a race (HTTP 409)."""
        for remaining in range(attempts - 1, -1, -1):
            try:
                return attempt()
            except ApiError as error:
                if not remaining or error.status != 409:
                    raise
        raise AssertionError("unreachable")


def connect(kubeconfig: str | None, context: str | None, namespace: str | None) -> Cluster:
    """Load the kubeconfig as kubectl does and pick the namespace (flag, context, ``default``)."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        load_client: Any = config.new_client_from_config
        api_client = load_client(config_file=kubeconfig, context=context)
        if namespace is None:
            list_contexts: Any = config.list_kube_config_contexts
            contexts, active = list_contexts(config_file=kubeconfig)
            chosen = next((c for c in contexts if c.get("name") == context), None) if context else active
            namespace = str((chosen or {}).get("context", {}).get("namespace") or "default")
    except ConfigException as error:
        raise PluginError(f"cannot load the kubeconfig: {error}") from None
    except OSError as error:
        raise PluginError(f"cannot read the kubeconfig: {error}") from None
    return Cluster(api_client=api_client, namespace=namespace)


def connect_from(args: Any) -> Cluster:
    return connect(args.kubeconfig, args.context, args.namespace)
