"""The variables in scope at each stage of a run (reference §4.2, §4.3, §3.2). Pure.

* :func:`global_scope`: ``workflow.*`` from the Workflow object and its status;
* :func:`bind_inputs`: a template's inputs bound from a caller's arguments (Argo's order:
  template value, else default; the caller's value wins; still nothing is an error);
* :func:`input_variables` / :func:`leaf_variables`: what a template body sees;
* :func:`node_variables`: what later siblings see about a finished step or task
  (``steps.S.*`` / ``tasks.T.*``), loops aggregated, skipped producers handled per §4.4.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from analysis.workflows.loops import aggregate_outputs
from analysis.workflows.spec import Arguments, Artifact, Inputs, Outputs, Parameter, Template, Workflow
from analysis.workflows.status import NodeStatus, WorkflowStatus
from analysis.workflows.substitution import Scope, SubstitutionError, substitute

__all__ = [
    "BindError",
    "bind_inputs",
    "global_scope",
    "input_variables",
    "leaf_variables",
    "node_variables",
    "parameters_json",
]

_STRFTIME_CHARACTERS = "aAbBcdHIjmMpSUwWxXyYZz"


class BindError(ValueError):
    """Inputs that cannot be bound: a required parameter or artifact nobody supplied."""


def parameters_json(parameters: Sequence[Parameter]) -> str:
    """The JSON array of parameter objects Argo exposes as ``workflow.parameters`` / ``inputs.parameters``."""
    return json.dumps(
        [parameter.model_dump(by_alias=True, exclude_none=True) for parameter in parameters],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def global_scope(workflow: Workflow, status: WorkflowStatus, now: datetime) -> Scope:
    metadata = workflow.metadata
    spec = workflow.spec
    values: dict[str, str] = {
        "workflow.name": metadata.name or "",
        "workflow.namespace": metadata.namespace or "default",
        "workflow.uid": metadata.uid or "",
        "workflow.serviceAccountName": spec.service_account_name or "",
        "workflow.mainEntrypoint": spec.entrypoint or "",
        "workflow.priority": str(spec.priority or 0),
    }
    parameters = list(spec.arguments.parameters or []) if spec.arguments else []
    for parameter in parameters:
        if parameter.value is not None:
            values[f"workflow.parameters.{parameter.name}"] = parameter.value
    values["workflow.parameters.json"] = values["workflow.parameters"] = parameters_json(parameters)
    for kind, mapping in (("labels", metadata.labels), ("annotations", metadata.annotations)):
        for key, value in (mapping or {}).items():
            values[f"workflow.{kind}.{key}"] = value
        values[f"workflow.{kind}.json"] = json.dumps(mapping or {}, separators=(",", ":"), sort_keys=True)
    created = _parse(metadata.creation_timestamp) or _parse(status.started_at) or now
    values["workflow.creationTimestamp"] = values["workflow.creationTimestamp.RFC3339"] = _rfc3339(created)
    for character in _STRFTIME_CHARACTERS:
        values[f"workflow.creationTimestamp.{character}"] = created.strftime(f"%{character}")
    started = _parse(status.started_at)
    if started is not None:
        values["workflow.duration"] = f"{(now - started).total_seconds():f}"
    scheduled = (metadata.annotations or {}).get("workflows.argoproj.io/scheduled-time")
    if scheduled:
        values["workflow.scheduledTime"] = scheduled
    scope = Scope(values)
    outputs = status.outputs
    for parameter in (outputs.parameters or []) if outputs else []:
        if parameter.value is not None:
            scope.values[f"workflow.outputs.parameters.{parameter.name}"] = parameter.value
    for artifact in (outputs.artifacts or []) if outputs else []:
        scope.artifacts[f"workflow.outputs.artifacts.{artifact.name}"] = artifact.model_dump(
            by_alias=True, exclude_none=True
        )
    return scope


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def bind_inputs(template: Template, arguments: Arguments | None, scope: Scope) -> Inputs:
    """The template's inputs with values, per §3.2; raises :class:`BindError`.

    ``scope`` substitutes variables in the template's own values and defaults (globals only:
    a default cannot see the caller's steps).
    """
    declared = template.inputs or Inputs()
    given_parameters = (
        {parameter.name: parameter for parameter in (arguments.parameters or [])} if arguments else {}
    )
    parameters: list[Parameter] = []
    for parameter in declared.parameters or []:
        value = parameter.value if parameter.value is not None else parameter.default
        given = given_parameters.get(parameter.name)
        if given is not None and given.value is not None:
            value = given.value
        if value is None:
            raise BindError(f"inputs.parameters.{parameter.name} was not supplied")
        try:
            value = substitute(value, scope)
        except SubstitutionError as error:
            raise BindError(str(error)) from None
        parameters.append(parameter.model_copy(update={"value": value, "default": None}))
    given_artifacts = (
        {artifact.name: artifact for artifact in (arguments.artifacts or [])} if arguments else {}
    )
    artifacts: list[Artifact] = []
    for artifact in declared.artifacts or []:
        given_artifact = given_artifacts.get(artifact.name)
        if given_artifact is not None:
            merged = given_artifact.model_copy(
                update={"path": artifact.path, "mode": artifact.mode, "name": artifact.name, "from_": None}
            )
            artifacts.append(merged)
        elif _has_location(artifact) or artifact.optional:
            artifacts.append(artifact)
        else:
            raise BindError(f"inputs.artifacts.{artifact.name} was not supplied")
    return Inputs(parameters=parameters or None, artifacts=artifacts or None)


def _has_location(artifact: Artifact) -> bool:
    return artifact.raw is not None or artifact.local is not None or bool(artifact.model_extra)


def input_variables(inputs: Inputs | None) -> Scope:
    scope = Scope()
    parameters = list(inputs.parameters or []) if inputs else []
    for parameter in parameters:
        scope.values[f"inputs.parameters.{parameter.name}"] = parameter.value or ""
    scope.values["inputs.parameters"] = parameters_json(parameters)
    for artifact in (inputs.artifacts or []) if inputs else []:
        scope.artifacts[f"inputs.artifacts.{artifact.name}"] = artifact.model_dump(
            by_alias=True, exclude_none=True
        )
        if artifact.path:
            scope.values[f"inputs.artifacts.{artifact.name}.path"] = artifact.path
    return scope


def leaf_variables(template: Template, pod: str, node_name: str) -> dict[str, str]:
    values = {"pod.name": pod, "node.name": node_name}
    outputs = template.outputs
    for parameter in (outputs.parameters or []) if outputs else []:
        if parameter.value_from and parameter.value_from.path:
            values[f"outputs.parameters.{parameter.name}.path"] = parameter.value_from.path
    for artifact in (outputs.artifacts or []) if outputs else []:
        if artifact.path:
            values[f"outputs.artifacts.{artifact.name}.path"] = artifact.path
    return values


def node_variables(
    prefix: str,
    node: NodeStatus,
    declared: Outputs | None,
    iterations: Sequence[NodeStatus] | None = None,
) -> Scope:
    """``<prefix>.*`` (``steps.S`` or ``tasks.T``) about a fulfilled invocation node.

    ``declared`` are the outputs the invoked template declares (for defaults of skipped
    producers); ``iterations`` the loop children, when the invocation was a loop.
    """
    scope = Scope()
    values = scope.values
    values[f"{prefix}.id"] = node.id
    values[f"{prefix}.status"] = node.phase
    for key, value in (
        ("startedAt", node.started_at),
        ("finishedAt", node.finished_at),
        ("hostNodeName", node.host_node_name),
        ("ip", node.pod_ip),
    ):
        if value:
            values[f"{prefix}.{key}"] = value
    if iterations is not None:
        succeeded = [
            child.outputs.model_dump(by_alias=True, exclude_none=True)
            for child in iterations
            if child.phase == "Succeeded" and child.outputs
        ]
        values.update(aggregate_outputs(prefix, succeeded))
        return scope
    outputs = node.outputs
    if node.phase in ("Skipped", "Omitted"):
        for parameter in (declared.parameters or []) if declared else []:
            default = parameter.value_from.default if parameter.value_from else None
            if default is not None:
                values[f"{prefix}.outputs.parameters.{parameter.name}"] = default
            else:
                scope.objects[f"{prefix}.outputs.parameters.{parameter.name}"] = None
        return scope
    if outputs is None:
        return scope
    if outputs.exit_code is not None:
        values[f"{prefix}.exitCode"] = outputs.exit_code
    if outputs.result is not None:
        values[f"{prefix}.outputs.result"] = outputs.result
    for parameter in outputs.parameters or []:
        if parameter.value is not None:
            values[f"{prefix}.outputs.parameters.{parameter.name}"] = parameter.value
    for artifact in outputs.artifacts or []:
        scope.artifacts[f"{prefix}.outputs.artifacts.{artifact.name}"] = artifact.model_dump(
            by_alias=True, exclude_none=True
        )
    return scope


def merge(target: Scope, source: Scope) -> Scope:
    target.values.update(source.values)
    target.artifacts.update(source.artifacts)
    target.objects.update(source.objects)
    return target


def absent_names(scope: Scope) -> Mapping[str, Any]:
    """Names known to be absent (outputs of skipped producers without defaults)."""
    return {name: None for name, value in scope.objects.items() if value is None}
