"""What an invocation resolves to and how it is called: shared by the scheduling modules.

``Target`` (a template and where its own references resolve), ``Context`` (the workflow's own
templates or a library's), ``Call`` (how a node is invoked) and the helpers that tell whether a
caller reads a step's ``outputs.result``. Kept apart from ``executions`` so ``steps``, ``dags`` and
``invocations`` can use them without importing the pass itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from analysis.workflows.spec import Template, TemplateRef, WorkflowSpec

__all__ = ["Call", "Context", "ResolveError", "Target", "references_result", "template_text"]


class ResolveError(ValueError):
    """A template reference that does not resolve at run time."""


@dataclass(frozen=True)
class Context:
    """Where template names resolve: the workflow's own templates or one library's."""

    spec: WorkflowSpec
    label: str
    """``local/<wf>``, ``namespaced/<wftmpl>`` or ``cluster/<cwft>`` (a node's ``templateScope``)."""


@dataclass(frozen=True)
class Target:
    """A resolved invocation: the template, where its own references resolve, how it was named."""

    template: Template
    context: Context
    template_ref: TemplateRef | None = None

    @property
    def template_name(self) -> str | None:
        return self.template_ref.template if self.template_ref else self.template.name


@dataclass(frozen=True)
class Call:
    """How a node is invoked, beyond its template and arguments."""

    capture_result: bool = False
    exit_handler: bool = False
    """Inside the workflow exit handler: deadlines do not apply."""
    hooked: bool = False


def references_result(text: str, prefix: str, name: str) -> bool:
    """Does a template body read ``<prefix>.<name>.outputs.result`` (so the pod must capture stdout)?"""
    return any(
        form in text
        for form in (
            f"{prefix}.{name}.outputs.result",
            f"{prefix}['{name}'].outputs.result",
            f'{prefix}["{name}"].outputs.result',
        )
    )


def template_text(template: Template) -> str:
    return json.dumps(template.model_dump(by_alias=True, exclude_none=True), ensure_ascii=False)
