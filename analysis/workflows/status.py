"""The status of a workflow run, shaped as Argo's ``status`` (reference §6) so its readers work.

``WorkflowStatus.nodes`` is keyed by node ID; every ``NodeStatus`` carries the names, types,
phases, messages and graph edges Argo writes. The scheduler builds these objects; the engine
stores them in the status of our own ``WorkflowRun`` kind (group ``workflows.rollouts.dev``),
never in an ``argoproj.io`` object, so a real Argo Workflows can be installed beside us.

There are no bookkeeping fields of our own: everything the scheduler needs (attempt counts,
backoff starts, group progress) is derived from the nodes, as in Argo, so an Argo-reading tool
sees nothing unexpected and a restarted engine resumes from the status alone.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from analysis.models.base import KubeModel, ObjectMeta, OpaqueObject
from analysis.workflows.spec import Inputs, Outputs, TemplateRef

__all__ = [
    "FINAL_PHASES",
    "FULFILLED_PHASES",
    "GROUP",
    "KIND",
    "NodeFlag",
    "NodeStatus",
    "WorkflowCondition",
    "WorkflowRun",
    "WorkflowStatus",
]

GROUP = "workflows.rollouts.dev"
VERSION = "v1alpha1"
KIND = "WorkflowRun"

FULFILLED_PHASES = frozenset({"Succeeded", "Failed", "Error", "Skipped", "Omitted"})
"""Node phases after which nothing more happens to the node."""

FINAL_PHASES = frozenset({"Succeeded", "Failed", "Error"})
"""Workflow phases that end a run."""


class WorkflowCondition(KubeModel):
    """A workflow condition (``PodRunning``, ``Completed``, ``SpecError``...): no timestamps in Argo."""

    type: str
    status: str
    message: str | None = None


class NodeFlag(KubeModel):
    hooked: bool | None = None
    """Created by a hook (exit handlers included)."""
    retried: bool | None = None
    """An attempt of a Retry node."""


class NodeStatus(KubeModel):
    """One entry of ``status.nodes``."""

    id: str
    name: str
    display_name: str
    type: str
    """Pod, Steps, StepGroup, DAG, TaskGroup, Retry, Skipped, Suspend."""
    template_name: str | None = None
    template_ref: TemplateRef | None = None
    template_scope: str | None = None
    phase: str = "Pending"
    message: str | None = None
    boundary_id: str | None = Field(default=None, alias="boundaryID")
    started_at: str | None = None
    finished_at: str | None = None
    progress: str | None = None
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    children: list[str] | None = None
    outbound_nodes: list[str] | None = None
    pod_ip: str | None = Field(default=None, alias="podIP")
    host_node_name: str | None = None
    node_flag: NodeFlag | None = None

    @property
    def fulfilled(self) -> bool:
        return self.phase in FULFILLED_PHASES

    def add_child(self, child_id: str) -> None:
        if self.children is None:
            self.children = []
        if child_id not in self.children:
            self.children.append(child_id)


class WorkflowStatus(KubeModel):
    """``status`` of a run: Argo's Workflow status fields."""

    phase: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    message: str | None = None
    progress: str | None = None
    nodes: dict[str, NodeStatus] = Field(default_factory=dict)
    outputs: Outputs | None = None
    conditions: list[WorkflowCondition] | None = None
    stored_templates: dict[str, OpaqueObject] | None = None
    """Templates resolved through ``templateRef``, keyed ``namespaced/<wftmpl>/<template>``."""


class WorkflowRun(KubeModel):
    """A run of an Argo-style workflow by our engine: the Argo Workflow ``spec`` and its ``status``.

    The spec is stored as written (an Argo WorkflowSpec); the engine validates it, so the API
    server keeps it without a schema of its own.
    """

    api_version: str = f"{GROUP}/{VERSION}"
    kind: str = KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: OpaqueObject
    """An Argo WorkflowSpec (entrypoint, arguments, templates, onExit, ...)."""
    status: WorkflowStatus | None = None


def node_map(raw: dict[str, Any]) -> dict[str, NodeStatus]:
    """Decode ``status.nodes`` read from the API."""
    return {key: NodeStatus.model_validate(value) for key, value in raw.items()}
