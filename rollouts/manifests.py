"""Apply manifests (any kind, including our CRs) with server-side apply.

Used by the demo, the plugin's ``create -f`` and tests. Server-side apply lets the API server
merge our intent with fields owned by others (HPA, Argo CD) instead of us overwriting them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

FIELD_MANAGER = "rollouts"


class ManifestFileError(ValueError):
    """A manifest file that is not a stream of Kubernetes objects."""


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The objects in a YAML file; blank documents are skipped, anything else is an error."""
    try:
        documents = list(yaml.safe_load_all(path.read_text()))
    except yaml.YAMLError as error:
        raise ManifestFileError(f"{path}: not valid YAML: {error}") from None
    return list(_objects(documents, str(path)))


def _objects(documents: Iterable[Any], source: str) -> Iterator[dict[str, Any]]:
    for index, document in enumerate(documents):
        if document is None:
            continue
        if not isinstance(document, dict) or not document.get("apiVersion") or not document.get("kind"):
            raise ManifestFileError(f"{source}: document {index + 1} is not a Kubernetes object")
        yield document


def apply_documents(api_client: Any, documents: Iterable[dict[str, Any]], namespace: str) -> list[str]:
    """Server-side apply each object (namespaced ones into ``namespace``); return ``kind/name``s."""
    from kubernetes.dynamic import DynamicClient

    dynamic = DynamicClient(api_client)  # type: ignore[no-untyped-call]
    applied = []
    for document in documents:
        resource = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
        name = document["metadata"]["name"]
        target_namespace = namespace if resource.namespaced else None
        resource.server_side_apply(
            body=document,
            name=name,
            namespace=target_namespace,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        )
        applied.append(f"{document['kind']}/{name}")
    return applied
