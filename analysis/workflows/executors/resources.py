"""Resource templates: create, apply, get, replace, patch or delete one object, then wait on conditions.

Argo runs these in a pod with kubectl; we run them in the engine's process with the dynamic
client, which needs no image and no RBAC for a pod (the engine's own identity acts). The node is
still a ``Pod`` node, as in Argo. After the action, with no conditions the node succeeds at once;
otherwise the object is re-read on every poll: any failure requirement that holds fails the node
(``failure condition '<requirement>' evaluated true``), all success requirements holding succeeds
it. Output parameters use ``valueFrom.jsonPath`` (kubectl's JSONPath) on the object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError

from analysis.providers.jsonpath import JSONPathError
from analysis.providers.jsonpath import parse as parse_jsonpath
from analysis.workflows.actions import PodReport, StartPod
from analysis.workflows.requirements import RequirementError, matching, parse_requirements
from analysis.workflows.spec import Outputs, Parameter

__all__ = ["ResourceStep"]

_PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
_FIELD_MANAGER = "rollouts-workflows"


def _manifest(text: str) -> Any:
    documents = [document for document in yaml.safe_load_all(text) if document is not None]
    if len(documents) != 1:
        raise ValueError(f"resource.manifest must hold exactly one object, found {len(documents)}")
    return documents[0]


@dataclass
class ResourceStep:
    """One resource node: acts on the first ``advance``, then checks conditions on each one."""

    dynamic: DynamicClient
    action: StartPod
    namespace: str
    owner: dict[str, Any] | None
    target: tuple[Any, str, str | None] | None = None
    """(API resource, name, namespace) once the action was done."""
    reported_running: bool = False
    done: bool = False
    spec: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.spec = self.action.template["resource"]

    def report(self, phase: str, message: str | None = None, outputs: Outputs | None = None) -> PodReport:
        if phase != "Running":
            self.done = True
        return PodReport(self.action.node_id, phase, message, outputs)

    def advance(self) -> PodReport | None:
        try:
            if self.target is None:
                found = self._act()
                if self.spec["action"] == "delete":
                    return self.report("Succeeded")
            else:
                resource, name, namespace = self.target
                found = resource.get(name=name, namespace=namespace).to_dict()
            return self._assess(found)
        except (ValueError, RequirementError, JSONPathError) as error:
            return self.report("Error", str(error))
        except (ApiException, DynamicApiError, ResourceNotFoundError) as error:
            reason = getattr(error, "reason", None) or str(error)
            return self.report("Error", f"{self.spec['action']} failed: {reason}")

    def _act(self) -> dict[str, Any]:
        verb = self.spec["action"]
        body = _manifest(self.spec.get("manifest") or "")
        if verb == "patch" and isinstance(body, list):
            raise ValueError(
                "a json patch needs the object it applies to: give kind and name in the manifest"
            )
        if not isinstance(body, dict) or not body.get("kind") or not body.get("apiVersion"):
            raise ValueError("resource.manifest must be an object with apiVersion and kind")
        metadata = body.setdefault("metadata", {})
        if not (metadata.get("name") or metadata.get("generateName")):
            raise ValueError("resource.manifest must set metadata.name or metadata.generateName")
        resource = self.dynamic.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        namespace = (metadata.get("namespace") or self.namespace) if resource.namespaced else None
        if namespace:
            metadata["namespace"] = namespace
        if self.spec.get("setOwnerReference") and self.owner is not None:
            metadata.setdefault("ownerReferences", []).append(self.owner)
        name = metadata.get("name")
        if verb == "create":
            found = resource.create(body=body, namespace=namespace)
        elif verb == "apply":
            found = resource.server_side_apply(
                body=body, name=name, namespace=namespace, field_manager=_FIELD_MANAGER, force_conflicts=True
            )
        elif verb == "replace":
            found = resource.replace(body=body, name=name, namespace=namespace)
        elif verb == "patch":
            content_type = _PATCH_TYPES.get(self.spec.get("mergeStrategy") or "strategic")
            if content_type is None:
                raise ValueError("resource.mergeStrategy must be strategic, merge or json")
            found = resource.patch(body=body, name=name, namespace=namespace, content_type=content_type)
        elif verb == "delete":
            resource.delete(name=name, namespace=namespace)
            return {}
        else:
            found = resource.get(name=name, namespace=namespace)
        result: dict[str, Any] = found.to_dict()
        self.target = (resource, result["metadata"]["name"], namespace)
        return result

    def _assess(self, found: dict[str, Any]) -> PodReport | None:
        failure = self.spec.get("failureCondition")
        if failure:
            holding = matching(parse_requirements(failure), found)
            if holding:
                return self.report("Failed", f"failure condition '{holding[0].text}' evaluated true")
        success = self.spec.get("successCondition")
        if success:
            requirements = parse_requirements(success)
            if len(matching(requirements, found)) != len(requirements):
                if self.reported_running:
                    return None
                self.reported_running = True
                return self.report("Running")
        return self.report("Succeeded", outputs=self._outputs(found))

    def _outputs(self, found: dict[str, Any]) -> Outputs:
        parameters: list[Parameter] = []
        for raw in (self.action.template.get("outputs") or {}).get("parameters") or []:
            source = raw.get("valueFrom") or {}
            if source.get("jqFilter"):
                raise ValueError(f"output parameter {raw['name']}: jqFilter is not supported; use jsonPath")
            value = raw.get("value")
            if source.get("jsonPath"):
                present, extracted = parse_jsonpath(source["jsonPath"]).first(found)
                if present:
                    value = (
                        extracted
                        if isinstance(extracted, str)
                        else json.dumps(extracted, separators=(",", ":"))
                    )
                elif source.get("default") is not None:
                    value = source["default"]
                else:
                    raise ValueError(f"output parameter {raw['name']}: {source['jsonPath']} is not found")
            parameters.append(Parameter(name=raw["name"], value=value, global_name=raw.get("globalName")))
        return Outputs(parameters=parameters or None, exit_code="0")
