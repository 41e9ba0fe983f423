"""``lint``'s core, pure: from the text of a manifest file to a list of findings with lines.

Three checks, each reported with the field path and the line in the file:

1. schema: every ``argoproj.io`` object must fit our pydantic models (wrong types, missing
   required fields) and may not carry fields no model declares (a typo such as ``setWieght``
   would otherwise be silently ignored by the controller);
2. Rollout rules: the §3.21 validation the controller runs (`planner.validation.validate_spec`),
   worded exactly as the ``InvalidSpec`` condition would word it;
3. references: Services the Rollout names that are *in the same file* must select its pods and
   not be managed by another Rollout; Services not in the file are assumed to exist in the
   cluster (lint is offline).

Objects of other kinds (Services, Ingresses...) are read for (3) and otherwise left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from analysis.models import AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, KubeModel
from rollouts.models import Experiment, Rollout
from rollouts.planner.inputs import Observed, RolloutView, ServiceView, as_mapping, as_str
from rollouts.planner.validation import referenced_services, validate_references, validate_spec
from rollouts.plugin.linemaps import Document, YamlError, parse_documents, resolve_line, resolve_path

__all__ = ["MODELS", "Finding", "lint_text", "split_path"]

MODELS: Mapping[str, type[KubeModel]] = {
    "Rollout": Rollout,
    "Experiment": Experiment,
    "AnalysisTemplate": AnalysisTemplate,
    "ClusterAnalysisTemplate": ClusterAnalysisTemplate,
    "AnalysisRun": AnalysisRun,
}
MANAGED_BY_ANNOTATION = "argo-rollouts.argoproj.io/managed-by-rollouts"
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class Finding:
    """One problem: where (line, object, field path) and what."""

    line: int
    subject: str  # "Rollout/web", or "document 3" when the object has no kind or name
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path and not self.message.startswith(self.path) else ""
        return f"{self.line}: {self.subject}: {where}{self.message}"


def split_path(text: str) -> tuple[str | int, ...]:
    """``spec.steps[0].setWeight`` -> ``("spec", "steps", 0, "setWeight")``."""
    return tuple(int(index) if index else name for name, index in _SEGMENT.findall(text))


def _join(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def _data_path(data: Any, location: tuple[str | int, ...], missing: bool) -> tuple[str | int, ...]:
    """The part of a pydantic error location that names fields of the data (dropping union
    branch tags such as ``int``/``str``); a missing required field keeps its own name."""
    path: list[str | int] = []
    current = data
    for position, part in enumerate(location):
        in_mapping = isinstance(current, Mapping) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_mapping or in_list:
            current = current[part]
        elif missing and position == len(location) - 1 and isinstance(current, Mapping):
            path.append(part)
            break
        else:
            break
        path.append(part)
    return tuple(path)


def _schema_findings(document: Document, kind: str, subject: str) -> Iterator[Finding]:
    model = MODELS[kind]
    try:
        parsed = model.model_validate(document.value)
    except ValidationError as error:
        grouped: dict[tuple[str | int, ...], list[str]] = {}
        for issue in error.errors():
            path = _data_path(document.value, tuple(issue["loc"]), issue["type"] == "missing")
            messages = grouped.setdefault(path, [])
            if issue["msg"] not in messages:
                messages.append(issue["msg"])
        for path, messages in grouped.items():
            # union branches (IntOrString): "Input should be a valid integer or a valid string"
            text = messages[0] + "".join(f" or {m.removeprefix('Input should be ')}" for m in messages[1:])
            yield Finding(resolve_line(document, path), subject, _join(path), text)
        return
    for unknown in parsed.unknown_fields():
        if unknown.startswith(("metadata.", "status.")) or unknown in ("status",):
            continue
        path = split_path(unknown)
        yield Finding(resolve_line(document, path), subject, unknown, "unknown field (a typo?)")


def _services_in(documents: list[Document]) -> dict[str, ServiceView]:
    services = {}
    for document in documents:
        value = as_mapping(document.value)
        if value.get("kind") != "Service" or as_str(value.get("apiVersion")) != "v1":
            continue
        metadata = as_mapping(value.get("metadata"))
        name = as_str(metadata.get("name"))
        selector = {
            k: v
            for k, v in as_mapping(as_mapping(value.get("spec")).get("selector")).items()
            if isinstance(v, str)
        }
        managed_by = as_str(as_mapping(metadata.get("annotations")).get(MANAGED_BY_ANNOTATION))
        services[name] = ServiceView(name=name, selector=selector, managed_by=managed_by)
    return services


def _rollout_findings(
    document: Document, subject: str, services: Mapping[str, ServiceView], reported: set[str]
) -> Iterator[Finding]:
    view = RolloutView(document.value)
    for error in validate_spec(view):
        # a field the schema check already reported (e.g. a list where an integer belongs)
        if _join(resolve_path(document, split_path(error.path))) not in reported:
            yield Finding(resolve_line(document, split_path(error.path)), subject, error.path, str(error))
    # Services not in the file cannot be checked offline: stand-ins that select nothing pass.
    known = dict(services)
    for _, name in referenced_services(view):
        known.setdefault(name, ServiceView(name=name))
    for error in validate_references(view, Observed(services=known)):
        yield Finding(resolve_line(document, split_path(error.path)), subject, error.path, str(error))


def lint_text(text: str) -> list[Finding]:
    """Every finding in a manifest file's text, in file order."""
    try:
        documents = parse_documents(text)
    except YamlError as error:
        return [Finding(error.line, "file", "", str(error))]
    services = _services_in(documents)
    findings: list[Finding] = []
    for number, document in enumerate(documents, start=1):
        if document.value is None:
            continue
        value = document.value
        if not isinstance(value, Mapping) or not value.get("apiVersion") or not value.get("kind"):
            findings.append(
                Finding(
                    document.line,
                    f"document {number}",
                    "",
                    "not a Kubernetes object (apiVersion and kind are required)",
                )
            )
            continue
        kind = as_str(value.get("kind"))
        if not as_str(value.get("apiVersion")).startswith("argoproj.io/") or kind not in MODELS:
            continue
        name = as_str(as_mapping(value.get("metadata")).get("name"))
        subject = f"{kind}/{name}" if name else f"{kind} (document {number})"
        if not name:
            findings.append(Finding(document.line, subject, "metadata.name", "metadata.name: Required value"))
        schema = list(_schema_findings(document, kind, subject))
        findings += schema
        if kind == "Rollout":
            reported = {finding.path for finding in schema}
            findings += _rollout_findings(document, subject, services, reported)
    return sorted(findings, key=lambda finding: finding.line)
