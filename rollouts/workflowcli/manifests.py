"""Reading what ``rollouts workflow run`` is given: a Workflow manifest and its parameters.

Everything the user typed is checked before anything is created or run: the file (exists, is
YAML: the parser's line is named), the document (one ``argoproj.io/v1alpha1`` ``Workflow``), the
``-p name=value`` flags and the ``--parameter-file`` (a flat YAML/JSON map, applied like ``-p``:
strings as is, other values as their JSON text, as ``argo submit`` does), then the engine's
validation with every problem listed. Each failure is a `BadInputError`, which the command
turns into ``error: ...`` and exit code 2.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from analysis.models.base import ManifestError
from analysis.workflows.spec import Workflow
from analysis.workflows.validation import Library, workflow_problems
from rollouts.plugin.errors import PluginError
from rollouts.plugin.linemaps import YamlError, parse_documents
from rollouts.plugin.lint import read_manifest

__all__ = [
    "BAD_INPUT",
    "BadInputError",
    "apply_parameters",
    "load_workflow",
    "parameter_file",
    "parse_parameter",
]

BAD_INPUT = 2
API_VERSION = "argoproj.io/v1alpha1"


class BadInputError(PluginError):
    """Bad input: the message says what and where; nothing was created."""

    def __init__(self, message: str) -> None:
        super().__init__(message, BAD_INPUT)


def parse_parameter(text: str) -> tuple[str, str]:
    """``name=value`` split at the first ``=`` (the value may be empty, the name may not)."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise BadInputError(f'invalid parameter "{text}": expected name=value')
    return name.strip(), value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def parameter_file(name: str, text: str) -> list[tuple[str, str]]:
    """The entries of a ``--parameter-file`` (a flat map of name to value)."""
    try:
        documents = parse_documents(text)
    except YamlError as error:
        where = f" (line {error.line})" if error.line else ""
        raise BadInputError(f"{name}{where}: {error}") from None
    values = [document.value for document in documents if document.value is not None]
    if len(values) != 1 or not isinstance(values[0], dict):
        raise BadInputError(f"{name}: a parameter file must be one map of name: value")
    return [(str(key), _as_text(value)) for key, value in values[0].items()]


def apply_parameters(manifest: dict[str, Any], parameters: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A copy of ``manifest`` with each parameter replacing the argument of its name, or added."""
    copied = json.loads(json.dumps(manifest))
    spec = copied.setdefault("spec", {})
    if not isinstance(spec, dict):
        return cast(dict[str, Any], copied)  # validation reports it
    arguments = spec.setdefault("arguments", {}) or {}
    spec["arguments"] = arguments
    listed = arguments.setdefault("parameters", []) or []
    arguments["parameters"] = listed
    for name, value in parameters:
        found = next((item for item in listed if isinstance(item, dict) and item.get("name") == name), None)
        if found is None:
            listed.append({"name": name, "value": value})
        else:
            found["value"] = value
            found.pop("valueFrom", None)
    return cast(dict[str, Any], copied)


def _document(name: str, text: str) -> dict[str, Any]:
    try:
        documents = [document for document in parse_documents(text) if document.value is not None]
    except YamlError as error:
        where = f" (line {error.line})" if error.line else ""
        raise BadInputError(f"{name}{where}: {error}") from None
    if len(documents) != 1:
        raise BadInputError(f"{name}: expected one Workflow manifest, found {len(documents)} documents")
    value = documents[0].value
    if not isinstance(value, dict):
        raise BadInputError(f"{name}: not a Kubernetes object (expected a mapping)")
    kind, version = value.get("kind"), value.get("apiVersion")
    if kind != "Workflow" or version != API_VERSION:
        raise BadInputError(
            f"{name}: not an Argo Workflow (kind {kind!r}, apiVersion {version!r}; "
            f"expected kind 'Workflow', apiVersion '{API_VERSION}')"
        )
    return value


def load_workflow(
    name: str,
    parameters: Sequence[tuple[str, str]] = (),
    *,
    text: str | None = None,
    library: Library | None = None,
) -> Workflow:
    """The validated Workflow of file ``name`` (``-``: stdin) with ``parameters`` applied."""
    try:
        manifest = _document(name, read_manifest(name) if text is None else text)
    except BadInputError:
        raise
    except PluginError as error:
        raise BadInputError(error.message) from None
    try:
        workflow = Workflow.from_dict(apply_parameters(manifest, parameters))
    except ManifestError as error:
        raise BadInputError(f"{name}: {error}") from None
    problems = workflow_problems(workflow, library, strict=True)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise BadInputError(f"{name}: the workflow is invalid:\n{listed}")
    return workflow
