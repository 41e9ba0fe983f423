"""The Rollout side of AnalysisRuns (reference §3.9): building and creating the runs it plans.

The planner decides *that* a run named ``<rollout>-<hash>-<revision>[-<step>|-pre|-post]`` of a
kind must exist (`CreateAnalysisRun`); this module does the reads and the one write that takes:
it fetches the AnalysisTemplates / ClusterAnalysisTemplates the analysis block reaches (nested
references become visible only as their parents are fetched, so it asks
`analysis.composition.missing_templates` until nothing is missing), resolves the Rollout's args
(field refs, pod-template hashes), merges everything with `analysis.composition.new_run_spec`,
and creates the run with Argo's labels, annotations and controller ownerReference.

A run that cannot be built (a template missing, args that do not resolve, conflicting metric
names) raises `RunCreationError` with the reason; the applier reports it and the pass waits.

It also adapts the controller's `KubeClient` to `analysis.controller.api.ApiCaller`, so the
AnalysisRun controller shares this process's connection pool and identity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from analysis.composition import (
    CompositionError,
    TemplateKey,
    collect_templates,
    missing_templates,
    new_run_spec,
    resolve_caller_args,
)
from analysis.controller.api import JSON, ApiCallError
from analysis.models import AnalysisTemplate, ClusterAnalysisTemplate, ManifestError
from rollouts.controller.apicalls import Request
from rollouts.controller.kube import ApiError, KubeClient
from rollouts.controller.settings import FIELD_MANAGER, INSTANCE_ID_LABEL
from rollouts.models.common import RolloutAnalysis
from rollouts.planner import CreateAnalysisRun
from rollouts.planner.inputs import RolloutView, as_mapping, as_str

__all__ = ["KubeApiCaller", "RunCreationError", "create_analysis_run", "fetch_templates", "run_manifest"]

POD_HASH_LABEL: Final = "rollouts-pod-template-hash"
ROLLOUT_TYPE_LABEL: Final = "rollout-type"
STEP_INDEX_LABEL: Final = "step-index"
REVISION_ANNOTATION: Final = "rollout.argoproj.io/revision"
_GROUP: Final = "/apis/argoproj.io/v1alpha1"

Send = Callable[[Request], Awaitable[Any]]


class RunCreationError(Exception):
    """The run cannot be built; the message says why (reported on the Rollout)."""


class KubeApiCaller:
    """`ApiCaller` over the controller's client (metrics labels derived from the path)."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = JSON,
        params: dict[str, str] | None = None,
    ) -> Any:
        parts = path.strip("/").split("/")
        namespace, resource, name = "", parts[-1], ""
        if "namespaces" in parts:
            at = parts.index("namespaces")
            namespace = parts[at + 1] if len(parts) > at + 1 else ""
            resource = parts[at + 2] if len(parts) > at + 2 else "namespaces"
            name = parts[at + 3] if len(parts) > at + 3 else ""
        request_params = dict(params or {})
        if method in ("POST", "PATCH", "PUT"):
            request_params.setdefault("fieldManager", FIELD_MANAGER)
        request = Request(method, path, resource, name, namespace, body, content_type, request_params)
        try:
            return await self._client.send(request)
        except ApiError as error:
            raise ApiCallError(error.status, error.message or error.reason) from None


def _template_path(key: TemplateKey, namespace: str) -> str:
    name, cluster = key
    if cluster:
        return f"{_GROUP}/clusteranalysistemplates/{name}"
    return f"{_GROUP}/namespaces/{namespace}/analysistemplates/{name}"


async def fetch_templates(
    send: Send, analysis: RolloutAnalysis, namespace: str
) -> tuple[list[AnalysisTemplate], list[AnalysisTemplate]]:
    """The (namespaced, cluster) templates ``analysis`` references, following nested template
    references; a missing one is left for `collect_templates` to name in its error."""
    refs = analysis.templates or []
    fetched: dict[TemplateKey, AnalysisTemplate] = {}
    tried: set[TemplateKey] = set()
    while True:
        missing = [key for key in missing_templates(refs, fetched) if key not in tried]
        if not missing:
            break
        for key in missing:
            tried.add(key)
            resource = "clusteranalysistemplates" if key[1] else "analysistemplates"
            request = Request("GET", _template_path(key, namespace), resource, key[0], namespace)
            try:
                body = await send(request)
            except ApiError as error:
                if error.status != 404:
                    raise
                continue  # collect_templates names it
            model = ClusterAnalysisTemplate if key[1] else AnalysisTemplate
            fetched[key] = model.from_dict(body)
    return collect_templates(refs, fetched)


def run_manifest(
    action: CreateAnalysisRun, rollout: Mapping[str, Any], spec: Mapping[str, Any]
) -> dict[str, Any]:
    """The AnalysisRun object: Argo's labels, annotations and controller ownerReference."""
    ro = RolloutView(rollout)
    analysis = RolloutAnalysis.from_dict(action.analysis)
    extra = analysis.analysis_run_metadata
    labels: dict[str, str] = {
        **{k: str(v) for k, v in as_mapping(as_mapping(ro.spec.get("selector")).get("matchLabels")).items()},
        **(extra.labels or {} if extra else {}),
        POD_HASH_LABEL: action.pod_hash,
        ROLLOUT_TYPE_LABEL: action.kind,
    }
    if action.step_index is not None:
        labels[STEP_INDEX_LABEL] = str(action.step_index)
    instance = as_str(as_mapping(as_mapping(rollout.get("metadata")).get("labels")).get(INSTANCE_ID_LABEL))
    if instance:
        labels[INSTANCE_ID_LABEL] = instance
    annotations = {**(extra.annotations or {} if extra else {}), REVISION_ANNOTATION: str(action.revision)}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": action.name,
            "namespace": ro.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [ro.owner_reference()],
        },
        "spec": dict(spec),
    }


async def create_analysis_run(send: Send, action: CreateAnalysisRun, rollout: Mapping[str, Any]) -> Any:
    """Build and create the run; an existing run of that name owned by this Rollout is reused."""
    ro = RolloutView(rollout)
    namespace = ro.namespace
    try:
        analysis = RolloutAnalysis.from_dict(action.analysis)
        namespaced, cluster = await fetch_templates(send, analysis, namespace)
        args = resolve_caller_args(
            analysis.args or [], rollout, stable_hash=ro.stable_rs or None, latest_hash=action.pod_hash
        )
        spec = new_run_spec(
            namespaced, cluster, args, analysis.dry_run or [], analysis.measurement_retention or []
        )
    except (CompositionError, ManifestError) as error:
        raise RunCreationError(
            f"{action.kind} AnalysisRun {action.name} cannot be created: {error}"
        ) from None
    manifest = run_manifest(action, rollout, spec.to_dict())
    path = f"{_GROUP}/namespaces/{namespace}/analysisruns"
    request = Request(
        "POST", path, "analysisruns", action.name, namespace, manifest, JSON, {"fieldManager": FIELD_MANAGER}
    )
    try:
        return await send(request)
    except ApiError as error:
        if error.status != 409:
            raise
    existing = await send(Request("GET", f"{path}/{action.name}", "analysisruns", action.name, namespace))
    owners = as_mapping(existing.get("metadata")).get("ownerReferences") or []
    if any(as_mapping(owner).get("uid") == ro.uid for owner in owners):
        return existing
    raise RunCreationError(f"AnalysisRun {action.name} already exists and is not owned by this Rollout")
