"""Real third-party CRDs (Gateway API, Istio networking, SMI, Argo Workflows) from their Go modules.

The CRDs are not copied into this repository: ``go mod download`` fetches the pinned module
versions (through the Go module proxy and cache, like the devcluster build) and the YAML is read
from the module directory. ``PINS`` is the one place the versions live.

SMI's module ships only an ``apiextensions.k8s.io/v1beta1`` CRD, which Kubernetes no longer
serves; ``v1beta1_to_v1`` converts it the way the API server's own conversion did (top-level
schema, subresources and printer columns copied into every version) and makes the root schema
structural, which v1 requires.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rollouts.devcluster.builds import build_env, find_go, tail
from rollouts.devcluster.errors import DevClusterError

CRD_KIND = "CustomResourceDefinition"


@dataclass(frozen=True)
class Addon:
    name: str
    module: str
    version: str
    # YAML files (relative to the module directory) or directories of YAML files.
    paths: tuple[str, ...]
    # Keep only CRDs of these API groups; empty keeps every CRD in the files.
    groups: frozenset[str] = frozenset()


PINS: dict[str, Addon] = {
    addon.name: addon
    for addon in (
        Addon("gateway-api", "sigs.k8s.io/gateway-api", "v1.6.3", ("config/crd/standard",)),
        Addon(
            "istio",
            "istio.io/api",
            "v1.31.1",
            ("kubernetes/customresourcedefinitions.gen.yaml",),
            frozenset({"networking.istio.io"}),
        ),
        Addon("smi", "github.com/servicemeshinterface/smi-sdk-go", "v0.5.0", ("crds/split.yaml",)),
        # The schema-less CRDs Argo Workflows installs by default: enough to serve the
        # WorkflowTemplates a workflow metric references and Workflows of ``executor: argo``.
        Addon(
            "argo-workflows",
            "github.com/argoproj/argo-workflows/v3",
            "v3.6.10",
            (
                "manifests/base/crds/minimal/argoproj.io_workflows.yaml",
                "manifests/base/crds/minimal/argoproj.io_workflowtemplates.yaml",
                "manifests/base/crds/minimal/argoproj.io_clusterworkflowtemplates.yaml",
            ),
        ),
    )
}


def parse_addon_names(text: str) -> tuple[str, ...]:
    """``gateway-api,istio`` → the names, validated, in the order given, without repeats."""
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            continue
        if name not in PINS:
            raise DevClusterError(f"unknown add-on {name!r}; choose from {', '.join(sorted(PINS))}")
        if name not in names:
            names.append(name)
    return tuple(names)


def select_crds(documents: Iterable[Any], groups: frozenset[str]) -> list[dict[str, Any]]:
    """The CRDs among parsed YAML documents (other kinds, e.g. admission policies, are skipped)."""
    crds = []
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != CRD_KIND:
            continue
        if groups and doc.get("spec", {}).get("group") not in groups:
            continue
        crds.append(doc)
    return crds


def v1beta1_to_v1(crd: dict[str, Any]) -> dict[str, Any]:
    """Convert an apiextensions.k8s.io/v1beta1 CRD to v1; v1 documents pass through unchanged."""
    if crd.get("apiVersion") == "apiextensions.k8s.io/v1":
        return crd
    if crd.get("apiVersion") != "apiextensions.k8s.io/v1beta1":
        raise DevClusterError(f"unsupported CRD apiVersion {crd.get('apiVersion')!r}")
    out = copy.deepcopy(crd)
    out["apiVersion"] = "apiextensions.k8s.io/v1"
    spec = out["spec"]
    schema = spec.pop("validation", {}).get("openAPIV3Schema")
    subresources = spec.pop("subresources", None)
    columns = spec.pop("additionalPrinterColumns", None)
    single = spec.pop("version", None)
    spec.pop("preserveUnknownFields", None)
    versions = spec.get("versions") or [{"name": single, "served": True, "storage": True}]
    if schema is None:
        schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    schema = dict(schema)
    schema.setdefault("type", "object")  # v1 requires a structural schema, rooted at an object
    converted = []
    for version in versions:
        entry = dict(version)
        entry.setdefault("schema", {"openAPIV3Schema": copy.deepcopy(schema)})
        if subresources is not None:
            entry.setdefault("subresources", copy.deepcopy(subresources))
        if columns is not None:
            entry.setdefault("additionalPrinterColumns", [_v1_column(column) for column in columns])
        converted.append(entry)
    spec["versions"] = converted
    return out


def _v1_column(column: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in column.items() if k != "JSONPath"}
    out["jsonPath"] = column["JSONPath"]
    return out


def yaml_files(module_dir: Path, paths: Sequence[str]) -> Iterator[Path]:
    for relative in paths:
        path = module_dir / relative
        if path.is_dir():
            yield from sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            yield path
        else:
            raise DevClusterError(f"{relative} is missing from {module_dir}")


def download_module(module: str, version: str) -> Path:
    """The directory of module@version in the Go module cache (downloading it if needed)."""
    go = find_go()
    # An empty working directory, so no go.mod (and no go.sum) around us is consulted or edited.
    with tempfile.TemporaryDirectory() as empty:
        result = subprocess.run(
            [go, "mod", "download", "-json", f"{module}@{version}"],
            cwd=empty,
            capture_output=True,
            text=True,
            env={**build_env(os.environ), "GO111MODULE": "on"},
            check=False,
        )
    try:
        info = json.loads(result.stdout) if result.stdout.strip() else {}
    except json.JSONDecodeError:
        info = {}
    if result.returncode != 0 or "Dir" not in info:
        detail = info.get("Error") or tail(result.stderr) or f"exit code {result.returncode}"
        raise DevClusterError(f"cannot download Go module {module}@{version}: {detail}")
    return Path(info["Dir"])


def load_crds(addon: Addon) -> list[dict[str, Any]]:
    module_dir = download_module(addon.module, addon.version)
    crds: list[dict[str, Any]] = []
    for path in yaml_files(module_dir, addon.paths):
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        documents = yaml.load_all(path.read_text(), Loader=loader)
        crds += [v1beta1_to_v1(crd) for crd in select_crds(documents, addon.groups)]
    if not crds:
        raise DevClusterError(f"no CRDs found for {addon.name} in {module_dir} ({', '.join(addon.paths)})")
    return crds


def install(api_client: Any, names: Sequence[str], timeout: float = 60.0) -> list[str]:
    """Create or replace the add-ons' CRDs and wait until each is Established; return their names."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    # Bodies are plain dicts straight from the module's YAML; the client accepts them at runtime.
    api: Any = client.ApiextensionsV1Api(api_client)
    installed: list[str] = []
    for name in names:
        for crd in load_crds(PINS[name]):
            crd_name = crd["metadata"]["name"]
            try:
                _create_or_replace(api, crd)
            except ApiException as error:
                raise DevClusterError(
                    f"installing CRD {crd_name} ({name}) failed: {error.status} {error.reason}: {error.body}"
                ) from error
            installed.append(crd_name)
    deadline = time.monotonic() + timeout
    for crd_name in installed:
        while not _established(api.read_custom_resource_definition(crd_name)):
            if time.monotonic() > deadline:
                raise DevClusterError(f"CRD {crd_name} is not Established after {timeout:.0f}s")
            time.sleep(0.2)
    return installed


def _create_or_replace(api: Any, crd: dict[str, Any]) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        api.create_custom_resource_definition(body=crd)
    except ApiException as error:
        if error.status != 409:
            raise
        name = crd["metadata"]["name"]
        replacement = copy.deepcopy(crd)
        existing = api.read_custom_resource_definition(name)
        replacement["metadata"]["resourceVersion"] = existing.metadata.resource_version
        api.replace_custom_resource_definition(name, body=replacement)


def _established(crd: Any) -> bool:
    conditions = (crd.status and crd.status.conditions) or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)
